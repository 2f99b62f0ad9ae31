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

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from markers.errors import ConfigError, OutputError
from markers.ingest.dataset import Dataset
from markers.schema import (
    ANALYTE,
    CENSOR,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    EVENT,
    EVENT_DATE,
    GRADE,
    PATIENT_ID,
    PHASE,
    REFERENCE_SET,
    SAMPLE_DATE,
    SEX,
    SOURCE_CELL,
    SOURCE_UNIT,
    SOURCE_VALUE,
    UNIT,
)
from markers.write.output import atomic_write

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: Key length in bytes (256 bits, the HMAC-SHA-256 block-safe size).
KEY_BYTES = 32
#: Prefix of every pseudonym.
PSEUDONYM_PREFIX = "P-"
#: What a scrubbed date becomes in free text.
DATE_PLACEHOLDER = "[date]"

# Columns holding fixed vocabularies or cell references: nothing to scrub, and
# scrubbing could only damage them (a short ID such as "12" inside "D12").
_VOCABULARY_COLUMNS = frozenset(
    {ANALYTE, UNIT, CENSOR, SEX, EVENT, GRADE, PHASE, REFERENCE_SET, SOURCE_CELL, SOURCE_UNIT,
     "code", "severity", "hint", "cell", "status"}
)
# The result as written ("12.3") is scrubbed for dates only: replacing a short
# numeric patient ID inside a result would corrupt the result.
_DATES_ONLY_COLUMNS = frozenset({SOURCE_VALUE})

# Every month spelling the date reader accepts (markers.ingest.parse), longest first within a stem.
_MONTHS = (
    "january|januar|janvier|jänner|jan|february|februar|fevrier|février|fev|feb|"
    "march|märz|maerz|mars|mär|mrz|mar|april|avril|avr|apr|may|mai|june|juni|juin|jun|"
    "july|juli|juillet|juil|jul|august|août|aout|aug|september|septembre|sept|sep|"
    "october|oktober|octobre|okt|oct|november|novembre|nov|december|dezember|décembre|déc|dez|dec"
)
_MONTH = rf"(?:{_MONTHS})(?![^\W\d_])"
# Shapes of a written date, one for each spelling the reader accepts: year first with
# - / or . (2024-03-10, 2019/03/02), day/month first with . / - and a 2- or 4-digit
# year, a month name (05-Mar-2017, 5 März 2024, March 5th, 2024), or 8 digits
# (20240310, checked against the known dates only, as an 8-digit number may be a lab value).
_DATE_SHAPES = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<iso>\d{4}(?P<isep>[-/.])\d{1,2}(?P=isep)\d{1,2})"
    r"|(?P<dmy>\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2}))"
    rf"|(?P<named>\d{{1,2}}(?:\s*[-/.]\s*|\s+)?{_MONTH}\.?(?:\s*[-/.,]\s*|\s+)\d{{2,4}}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    r"|(?P<compact>\d{8})"
    r")(?![0-9])",
    re.IGNORECASE,
)


# -- key --------------------------------------------------------------------------------------


def create_key(path: PathLike) -> bytes:
    """Create a new random pseudonymisation key file (hex text, mode 0600).

    Parameters
    ----------
    path
        Where to write the key. The file must not exist yet.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    OutputError
        When the file already exists (a key is never replaced: pseudonyms made
        with the old one could no longer be reproduced) or its directory is
        missing.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> key = create_key(pathlib.Path(tempfile.mkdtemp()) / "markers.key")
    >>> len(key)
    32
    """
    target = Path(path).expanduser()
    if target.exists():
        raise OutputError(
            f"key file {target} already exists; refusing to overwrite it "
            "(pseudonyms made with it could not be reproduced). Use it, or choose another path"
        )
    key = secrets.token_bytes(KEY_BYTES)
    with atomic_write(target, mode="w", permissions=0o600, exclusive=True) as handle:
        handle.write(key.hex() + "\n")
    logger.info("created pseudonymisation key %s", target)
    return key


def load_key(path: PathLike) -> bytes:
    """Read a key file written by :func:`create_key`.

    Parameters
    ----------
    path
        The key file: 64 hexadecimal digits (surrounding whitespace ignored).

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    ConfigError
        When the file is missing, unreadable or not 64 hex digits.

    Warns
    -----
    UserWarning
        When the file can be read by other users (POSIX).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "markers.key"
    >>> create_key(path) == load_key(path)
    True
    """
    target = Path(path).expanduser()
    try:
        text = target.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"pseudonymisation key file {target} does not exist; create one with "
            "markers.privacy.pseudonym.create_key() or give the path of the existing key"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read pseudonymisation key file {target}: {exc}") from None
    if len(text) != 2 * KEY_BYTES or not re.fullmatch(r"[0-9a-fA-F]+", text):
        raise ConfigError(
            f"pseudonymisation key file {target} is malformed: expected {2 * KEY_BYTES} hexadecimal "
            f"digits, found {len(text)} characters; restore the original key file"
        )
    if os.name == "posix":
        with contextlib.suppress(OSError):
            if stat.S_IMODE(target.stat().st_mode) & 0o077:
                warnings.warn(
                    f"pseudonymisation key file {target} is readable by other users; "
                    f"restrict it with: chmod 600 {target}",
                    UserWarning,
                    stacklevel=2,
                )
    return bytes.fromhex(text)


def load_or_create_key(path: PathLike) -> bytes:
    """Load the key at ``path``, creating it first when it does not exist.

    Parameters
    ----------
    path
        The key file.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    ConfigError
        When an existing key file is malformed.
    OutputError
        When the key cannot be created (missing directory).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "markers.key"
    >>> load_or_create_key(path) == load_or_create_key(path)
    True
    """
    if Path(path).expanduser().exists():
        return load_key(path)
    try:
        return create_key(path)
    except OutputError:
        # Created by someone else between the check and the write: use theirs.
        if Path(path).expanduser().exists():
            return load_key(path)
        raise


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


# -- scrubbing -------------------------------------------------------------------------------


def _date_key(match: re.Match[str]) -> set[dt.date]:
    """The calendar dates a matched text could mean (day- or month-first)."""
    text = match.group(0)
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    candidates: list[tuple[int, int, int]] = []
    if match.group("iso"):
        candidates.append((numbers[0], numbers[1], numbers[2]))
    elif match.group("dmy"):
        first, second, year = numbers
        if year < 100:
            year += 2000 if year < 70 else 1900
        candidates += [(year, second, first), (year, first, second)]
    elif match.group("compact"):
        digits = text
        candidates += [
            (int(digits[:4]), int(digits[4:6]), int(digits[6:])),  # yyyymmdd
            (int(digits[4:]), int(digits[2:4]), int(digits[:2])),  # ddmmyyyy
        ]
    found = set()
    for year, month, day in candidates:
        with contextlib.suppress(ValueError):
            found.add(dt.date(year, month, day))
    return found


def _id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first, so "NB-0012" is replaced whole before "NB-001" could match.
    alternatives = sorted({i for i in ids if i}, key=lambda s: (-len(s), s))
    if not alternatives:
        return None
    body = "|".join(re.escape(i) for i in alternatives)
    # Not inside a longer word or number: "12" must not hit "D120".
    return re.compile(rf"(?<![0-9A-Za-z])(?:{body})(?![0-9A-Za-z])", re.IGNORECASE)


def _make_scrubber(
    *, id_map: Mapping[str, str], dates: Iterable[dt.date], any_date: bool
) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """Compiled scrubbers: (ids and dates, dates only)."""
    known = {pd.Timestamp(d).date() for d in dates if not pd.isna(d)}
    lookup = {k.casefold(): v for k, v in sorted(id_map.items(), reverse=True)}
    pattern = _id_pattern(id_map)

    def pseudonym_of(found: str) -> str:
        # The exact ID first, then its case-folded form; the regex's case-insensitive match also pairs
        # letters case folding keeps apart (dotless i with I), so a last resort asks the regex itself.
        if found in id_map:
            return id_map[found]
        if found.casefold() in lookup:
            return lookup[found.casefold()]
        for original, alias in sorted(id_map.items()):
            if re.fullmatch(re.escape(original), found, re.IGNORECASE):
                return alias
        return found  # unreachable: the pattern matched one of the IDs

    def replace_date(match: re.Match[str]) -> str:
        if match.group("compact"):
            # Eight digits are a date only if they spell a known one.
            return DATE_PLACEHOLDER if _date_key(match) & known else match.group(0)
        if any_date or match.group("named") or _date_key(match) & known:
            return DATE_PLACEHOLDER
        return match.group(0)

    def dates_only(text: str) -> str:
        return _DATE_SHAPES.sub(replace_date, text)

    def both(text: str) -> str:
        text = dates_only(text)
        if pattern is not None:
            text = pattern.sub(lambda m: pseudonym_of(m.group(0)), text)
        return text

    return both, dates_only


def scrub_text(
    text: str,
    *,
    id_map: Mapping[str, str],
    dates: Iterable[dt.date],
    any_date: bool = False,
) -> str:
    """Replace patient IDs by pseudonyms and known dates by ``[date]`` in free text.

    Parameters
    ----------
    text
        A message, a cell value as written, a file or sheet name.
    id_map
        Original ID -> pseudonym. IDs are matched case-insensitively and only
        as whole tokens (not inside a longer word or number).
    dates
        The dates to hide. Each is found written as ISO (``2024-03-10``),
        day first (``10.03.2024``, ``10/3/2024``, ``10-03-24``), month first
        (``03/10/2024``) or as 8 digits (``20240310``, ``10032024``).
    any_date
        Also replace every other date-shaped text (ISO, ``d.m.y``,
        ``d/m/y``), known or not: rejected dates that never became a known
        date are hidden too. Texts with a month name are always replaced.

    Returns
    -------
    str
        The scrubbed text.

    Examples
    --------
    >>> scrub_text("NB-7 sampled 10.03.2024", id_map={"NB-7": "P-1a2b"}, dates=[dt.date(2024, 3, 10)])
    'P-1a2b sampled [date]'
    """
    both, _ = _make_scrubber(id_map=id_map, dates=dates, any_date=any_date)
    return both(text)


# -- tables ----------------------------------------------------------------------------------


def _is_date_column(name: object, series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series.dtype) or str(name).endswith("_date")


def _holds_dates(series: pd.Series) -> bool:
    # Python date objects in an object column are dates whatever the column's name.
    return series.dtype == object and bool(series.map(lambda v: isinstance(v, dt.date)).any())


def _as_dates(series: pd.Series) -> pd.Series:
    """Midnight timestamps (naive); unreadable text -> NaT (and so hidden, not leaked)."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce", format="mixed")
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.dt.normalize()


def _day_column_name(name: str, columns: Iterable[object]) -> str:
    stem = name[: -len("_date")] if name.endswith("_date") else name
    candidate = f"{stem}_day"
    return candidate if candidate not in set(map(str, columns)) else f"{name}_day"


def _collect_dates(frames: Iterable[pd.DataFrame]) -> list[dt.date]:
    found: set[dt.date] = set()
    for frame in frames:
        for name in frame.columns:
            if _is_date_column(name, frame[name]):
                found.update(d.date() for d in _as_dates(frame[name]).dropna())
    return sorted(found)


def _anchors(
    *, measurements: pd.DataFrame, patients: pd.DataFrame, therapy: pd.DataFrame
) -> pd.Series:
    """Per patient: diagnosis date, else first therapy start, else first sample, else earliest date."""
    ranked: list[pd.Series] = []

    def first_by_patient(frame: pd.DataFrame, column: str, mask: pd.Series | None = None) -> pd.Series:
        if PATIENT_ID not in frame.columns or column not in frame.columns or frame.empty:
            return pd.Series(dtype="datetime64[ns]")
        rows = frame if mask is None else frame[mask]
        rows = rows[rows[PATIENT_ID].notna()]
        values = _as_dates(rows[column])
        return values.groupby(rows[PATIENT_ID].astype(str)).min().dropna()

    ranked.append(first_by_patient(patients, DIAGNOSIS_DATE))
    if EVENT in therapy.columns:
        ranked.append(first_by_patient(therapy, EVENT_DATE, therapy[EVENT] == "diagnosis"))
        ranked.append(first_by_patient(therapy, EVENT_DATE, therapy[EVENT] == "therapy_start"))
    ranked.append(first_by_patient(measurements, SAMPLE_DATE))
    # Last resort: the earliest date of any kind known for the patient (not
    # the date of birth, which would make every day an age).
    for frame in (therapy, patients, measurements):
        for name in frame.columns:
            if name != DATE_OF_BIRTH and _is_date_column(name, frame[name]):
                ranked.append(first_by_patient(frame, name))
    anchor = pd.Series(dtype="datetime64[ns]")
    for candidate in ranked:
        if len(candidate):
            candidate = candidate.astype("datetime64[ns]")
            anchor = candidate if anchor.empty else anchor.combine_first(candidate)
    return anchor


def _pseudonymize_frame(
    frame: pd.DataFrame,
    *,
    ids: Mapping[str, str],
    anchor: pd.Series,
    scrub: Callable[[str], str],
    scrub_dates: Callable[[str], str],
) -> pd.DataFrame:
    out = frame.copy()
    patient = frame[PATIENT_ID].astype(str).where(frame[PATIENT_ID].notna()) if PATIENT_ID in frame else None
    for name in list(frame.columns):
        series = frame[name]
        if name == PATIENT_ID:
            out[name] = series.map(lambda v: pd.NA if pd.isna(v) else ids[str(v)]).astype(object)
        elif name == DATE_OF_BIRTH:
            out = out.drop(columns=name)
        elif _is_date_column(name, series) or _holds_dates(series):
            position = out.columns.get_loc(name)
            if patient is None:
                # No patient to anchor on: nothing safe to derive from the date.
                out = out.drop(columns=name)
                continue
            base = patient.map(anchor.to_dict())
            days = (_as_dates(series) - pd.to_datetime(base)).dt.days.astype("Int64")
            out = out.drop(columns=name)
            out.insert(position, _day_column_name(str(name), out.columns), days.array)
        elif (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)) and (
            name not in _VOCABULARY_COLUMNS
        ):
            clean = scrub_dates if name in _DATES_ONLY_COLUMNS else scrub
            out[name] = pd.Series(
                [clean(v) if isinstance(v, str) else v for v in series], index=frame.index, dtype=object
            )
    return out


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
    anchor = _anchors(measurements=measurements, patients=patients, therapy=therapy)
    scrub, scrub_dates = _make_scrubber(
        id_map=ids, dates=_collect_dates(tables.values()), any_date=True
    )
    return {
        name: _pseudonymize_frame(frame, ids=ids, anchor=anchor, scrub=scrub, scrub_dates=scrub_dates)
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
    relabel = _relabeller({name: input_label(i, name) for i, name in enumerate(names, start=1)})
    tables = pseudonymize_tables(
        measurements=dataset.measurements,
        patients=dataset.patients,
        therapy=dataset.therapy,
        issues=_relabelled(dataset.issues, relabel),
        key=key,
        extra=extra,
    )
    ids = {
        str(v): pseudonym(str(v), key=key)
        for frame in (dataset.measurements, dataset.patients, dataset.therapy)
        if PATIENT_ID in frame.columns
        for v in frame[PATIENT_ID].dropna()
    }
    scrub, _ = _make_scrubber(
        id_map=ids,
        dates=_collect_dates((dataset.measurements, dataset.patients, dataset.therapy)),
        any_date=True,
    )

    def scrubbed(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
        out = frame.copy()
        for name in columns:
            if name in out.columns:
                values = [scrub(v) if isinstance(v, str) else v for v in frame[name]]
                out[name] = pd.Series(values, index=frame.index, dtype=object)
        return out

    files = scrubbed(_relabelled(dataset.files, relabel), ("file",)).drop(columns=["path"], errors="ignore")
    shared = replace(
        dataset,
        measurements=tables["measurements"],
        patients=tables["patients"],
        therapy=tables["therapy"],
        issues=tables["issues"],
        rows=scrubbed(_relabelled(dataset.rows, relabel), ("file", "sheet", "reason")),
        files=files,
    )
    return shared, {name: tables[name] for name in (extra or {})}


# -- file names ------------------------------------------------------------------------------


def input_label(position: int, name: str) -> str:
    """The pseudonymous label of the input at ``position`` (1-based): ``input-<n>`` plus its suffix.

    A file name often carries a patient ID or a date (``t18_NB-777_2023-05-04.csv``); under
    pseudonymisation every output names an input by this label and its SHA-256 only.

    Examples
    --------
    >>> input_label(2, "t18_NB-777_2023-05-04.CSV")
    'input-2.csv'
    """
    suffix = Path(str(name)).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        suffix = ""
    return f"input-{position}{suffix}"


def _relabeller(labels: Mapping[str, str]) -> Callable[[str], str]:
    """Replace every input name (longest first) inside a text by its label."""
    if not labels:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(n) for n in sorted(labels, key=lambda n: (-len(n), n)) if n))
    return lambda text: pattern.sub(lambda m: labels[m.group(0)], text)


def _relabelled(frame: pd.DataFrame, relabel: Callable[[str], str]) -> pd.DataFrame:
    """A copy of ``frame`` with input names replaced by labels in every text cell."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            values = [relabel(v) if isinstance(v, str) else v for v in column]
            out[name] = pd.Series(values, index=column.index, dtype=column.dtype if column.dtype != object else object)
    return out


def pseudonymous_provenance(record: Mapping[str, object]) -> dict[str, object]:
    """A provenance record that names no file: inputs by :func:`input_label` and SHA-256, option paths by SHA-256.

    Examples
    --------
    >>> pseudonymous_provenance({"inputs": [{"file": "NB-777_2023-05-04.csv", "sha256": "ab"}], "options": {}})
    {'inputs': [{'file': 'input-1.csv', 'sha256': 'ab'}], 'options': {}}
    """
    from markers.readers.files import sha256_of

    out = dict(record)
    out["inputs"] = [dict(entry, file=input_label(i, entry.get("file", "")))
                     for i, entry in enumerate(record.get("inputs") or [], start=1)]
    options = dict(record.get("options") or {})
    for name in ("config", "reference"):
        value = options.get(name)
        if isinstance(value, str):
            try:
                options[name] = {"sha256": sha256_of(value)}
            except Exception:  # noqa: BLE001 - a path that cannot be read is still not written
                options[name] = "given"
    out["options"] = options
    return out

