"""Pseudonymised copies of the tidy tables, for sharing outside the clinic.

* **Patient IDs** become keyed pseudonyms ``P-`` + the first 12 hex digits
  of HMAC-SHA-256(key, ID). The same key always gives the same pseudonym,
  so repeated exports can be linked by whoever holds them; without the key
  an ID cannot be checked against a pseudonym (unlike a plain hash, which
  anyone can compute for a guessed ID). Keep the key file (32 random bytes,
  written as hex with mode 0600) away from the shared data.
* **Dates** become whole days relative to the patient's own anchor: the
  diagnosis date, else the first therapy start, else the first sample (else
  the earliest date known for the patient). ``sample_date`` becomes
  ``sample_day`` and so on; ``date_of_birth`` is dropped (``age_days`` stays).
* **Free text** (issue values and messages, file, sheet and column names,
  therapy labels as written) is scrubbed: every original patient ID is
  replaced by its pseudonym and every date-looking text by ``[date]``.

**Input files** are named by a label (``input-1.csv``, in the order given)
and their SHA-256, never by their name, in every table, message and
provenance record (:func:`input_label`, :func:`pseudonymous_provenance`): a
file name often carries an ID or a date.

What is *not* removed: sheet names are kept apart from any patient ID or
date inside them; result values, ages in days, sex and therapy events are kept, because they
are the content being shared. Columns other than the documented schema
(e.g. a name column a site added) are not recognised as identifying and must
be removed before sharing. Excel date serial numbers inside issue values
(such as ``45361``) cannot be told apart from numbers and are not scrubbed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace

import pandas as pd

from markers.errors import ConfigError
from markers.ingest.dataset import Dataset
from markers.privacy.frames import collect_dates, patient_anchors, pseudonymize_frame
from markers.privacy.key import KEY_BYTES, create_key, load_key, load_or_create_key
from markers.privacy.labels import input_label, pseudonymous_provenance, relabelled, relabeller
from markers.privacy.scrub import DATE_PLACEHOLDER, make_scrubber, scrub_text
from markers.schema import PATIENT_ID

logger = logging.getLogger(__name__)

# The key, scrubbing and file labels live in their own modules; their public names stay importable here.
__all__ = [
    "DATE_PLACEHOLDER",
    "KEY_BYTES",
    "PSEUDONYM_PREFIX",
    "create_key",
    "input_label",
    "load_key",
    "load_or_create_key",
    "pseudonym",
    "pseudonymize",
    "pseudonymize_tables",
    "pseudonymize_with",
    "pseudonymous_provenance",
    "scrub_text",
    "status_rise_days",
]

PathLike = str | os.PathLike[str]

#: Prefix of every pseudonym.
PSEUDONYM_PREFIX = "P-"

# -- pseudonyms ----------------------------------------------------------------------------


def pseudonym(patient_id: str, *, key: bytes, length: int = 12) -> str:
    """The keyed pseudonym of one patient ID.

    Parameters
    ----------
    patient_id
        The ID exactly as in the tidy table (a non-string is converted with
        ``str``, so ``123`` and ``"123"`` give the same pseudonym).
    key
        The secret key (:func:`load_or_create_key`).
    length
        Number of hex digits kept (1-64). 12 digits (48 bits) make a chance
        collision between two of 10 000 patients about 1 in 5 million.

    Returns
    -------
    str
        ``"P-"`` + the first ``length`` hex digits of
        HMAC-SHA-256(key, ID as UTF-8).

    Raises
    ------
    ConfigError
        When the key is empty or ``length`` is out of range.

    Examples
    --------
    >>> pseudonym("NB-001", key=bytes(32))
    'P-e83f8fbb497f'
    """
    if not key:
        raise ConfigError("the pseudonymisation key is empty; load it with load_or_create_key()")
    if not 1 <= length <= 64:
        raise ConfigError(f"pseudonym length must be between 1 and 64 hex digits, not {length}")
    digest = hmac.new(key, str(patient_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:length]

# -- tables (one table at a time: markers.privacy.frames) ------------------------------------


def pseudonymize_tables(
    *,
    measurements: pd.DataFrame,
    patients: pd.DataFrame,
    therapy: pd.DataFrame,
    issues: pd.DataFrame,
    key: bytes,
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """Pseudonymised copies of the tidy tables (inputs are not modified).

    Parameters
    ----------
    measurements, patients, therapy
        The tidy tables (``markers.schema``); ``patient_id`` is required in
        each that has rows.
    issues
        The issue records (``ISSUE_COLUMNS``); they have no patient column,
        so IDs and dates are scrubbed from their text.
    key
        The pseudonymisation key.
    extra
        Further tables with a ``patient_id`` column (e.g. the assessment),
        pseudonymised the same way and returned under their own names.

    Returns
    -------
    dict of str to DataFrame
        ``{"measurements", "patients", "therapy", "issues"}`` (and the names
        of ``extra``): ``patient_id``
        replaced by :func:`pseudonym`; every date column (datetime dtype or
        name ending in ``_date``) replaced by ``<stem>_day`` (``Int64``, days
        since the patient's anchor date, e.g. ``sample_date`` ->
        ``sample_day``) at the same position; ``date_of_birth`` dropped;
        free text scrubbed (:func:`scrub_text`, also dates that are not
        known). A date column of a table without ``patient_id`` is dropped.

    Raises
    ------
    ConfigError
        When the key is empty.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["NB1"], "sample_date": pd.to_datetime(["2024-03-10"])})
    >>> p = pd.DataFrame({"patient_id": ["NB1"], "diagnosis_date": pd.to_datetime(["2024-03-01"])})
    >>> empty = pd.DataFrame({"patient_id": []})
    >>> out = pseudonymize_tables(measurements=m, patients=p, therapy=empty, issues=pd.DataFrame(),
    ...                           key=bytes(32))
    >>> int(out["measurements"]["sample_day"].iloc[0])
    9
    """
    if not key:
        raise ConfigError("the pseudonymisation key is empty; load it with load_or_create_key()")
    tables = {"measurements": measurements, "patients": patients, "therapy": therapy, "issues": issues}
    tables.update(extra or {})
    original_ids = sorted(
        {
            str(v)
            for frame in tables.values()
            if PATIENT_ID in frame.columns
            for v in frame[PATIENT_ID].dropna()
        }
    )
    ids = {i: pseudonym(i, key=key) for i in original_ids}
    anchor = patient_anchors(measurements=measurements, patients=patients, therapy=therapy)
    scrub, scrub_dates = make_scrubber(
        id_map=ids, dates=collect_dates(tables.values()), any_date=True
    )
    return {
        name: pseudonymize_frame(frame, ids=ids, anchor=anchor, scrub=scrub, scrub_dates=scrub_dates)
        for name, frame in tables.items()
    }


def pseudonymize(dataset: Dataset, *, key: bytes) -> Dataset:
    """A pseudonymised copy of a whole :class:`~markers.ingest.dataset.Dataset`.

    The four tidy tables as in :func:`pseudonymize_tables`; the row
    accounting keeps its counts with file and sheet names scrubbed; the file
    list keeps name, checksum and format but drops the full path (directory
    names often carry a patient's name or ID).

    Parameters
    ----------
    dataset
        What ``markers.ingest.reader.read`` returned.
    key
        The pseudonymisation key.

    Returns
    -------
    Dataset
        A new dataset; the input is unchanged.

    Raises
    ------
    ConfigError
        When the key is empty.

    Examples
    --------
    >>> pseudonymize(Dataset(), key=bytes(32)).measurements.empty
    True
    """
    return pseudonymize_with(dataset, key=key)[0]


def pseudonymize_with(
    dataset: Dataset, *, key: bytes, extra: Mapping[str, pd.DataFrame] | None = None
) -> tuple[Dataset, dict[str, pd.DataFrame]]:
    """:func:`pseudonymize`, and further tables (e.g. flagged measurements, an assessment)
    pseudonymised in the same pass, with the same pseudonyms and day anchors.

    Returns
    -------
    (Dataset, dict of str to DataFrame)
        The pseudonymised dataset, and each table of ``extra`` under its own name.
    """
    names = [str(name) for name in dataset.files.get("file", [])]
    relabel = relabeller({name: input_label(i, name) for i, name in enumerate(names, start=1)})
    tables = pseudonymize_tables(
        measurements=dataset.measurements,
        patients=dataset.patients,
        therapy=dataset.therapy,
        issues=relabelled(dataset.issues, relabel),
        key=key,
        extra=extra,
    )
    ids = {
        str(v): pseudonym(str(v), key=key)
        for frame in (dataset.measurements, dataset.patients, dataset.therapy)
        if PATIENT_ID in frame.columns
        for v in frame[PATIENT_ID].dropna()
    }
    scrub, _ = make_scrubber(
        id_map=ids,
        dates=collect_dates((dataset.measurements, dataset.patients, dataset.therapy)),
        any_date=True,
    )

    def scrubbed(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
        out = frame.copy()
        for name in columns:
            if name in out.columns:
                values = [scrub(v) if isinstance(v, str) else v for v in frame[name]]
                out[name] = pd.Series(values, index=frame.index, dtype=object)
        return out

    files = scrubbed(relabelled(dataset.files, relabel), ("file",)).drop(columns=["path"], errors="ignore")
    shared = replace(
        dataset,
        measurements=tables["measurements"],
        patients=tables["patients"],
        therapy=tables["therapy"],
        issues=tables["issues"],
        rows=scrubbed(relabelled(dataset.rows, relabel), ("file", "sheet", "reason")),
        files=files,
    )
    return shared, {name: tables[name] for name in (extra or {})}


def status_rise_days(status: pd.DataFrame) -> pd.DataFrame:
    """The pseudonymised patient-level status with its unconfirmed rise told as a day in the summary.

    :func:`pseudonymize_tables` turns ``unconfirmed_rise_date`` into ``unconfirmed_rise_day`` (days
    since the patient's anchor) and the date in the summary into ``[date]``; this puts the day there.

    Examples
    --------
    >>> s = pd.DataFrame({"unconfirmed_rise_day": pd.array([412], dtype="Int64"),
    ...                   "summary": ["informative (VMA); unconfirmed rise on [date]: repeat advised"]})
    >>> status_rise_days(s)["summary"].iloc[0]
    'informative (VMA); unconfirmed rise on day 412: repeat advised'
    """
    out = status.copy()
    if "unconfirmed_rise_day" not in out.columns or "summary" not in out.columns:
        return out
    phrase = f"unconfirmed rise on {DATE_PLACEHOLDER}"
    out["summary"] = [
        text.replace(phrase, f"unconfirmed rise on day {int(day)}") if isinstance(text, str) and pd.notna(day)
        else text
        for text, day in zip(out["summary"], out["unconfirmed_rise_day"], strict=True)
    ]
    return out
