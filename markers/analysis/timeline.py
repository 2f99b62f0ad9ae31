"""The therapy timeline: event names, days since diagnosis and treatment phases.

Event names
-----------
Free-text event names ("Start of induction chemotherapy (N7)", "HDC/ASCT",
"Therapiebeginn") are mapped to the canonical codes of
:data:`markers.schema.EVENTS` by :func:`canonical_event`, from the synonym
table ``data/events.csv`` (``event,synonym`` rows) plus the config file's
``[events]`` table.

Day
---
``day`` is the number of days from the *anchor* to the sample (``Int64``):

1. the diagnosis date from the patients table, when given;
2. else the date of the patient's (earliest) ``diagnosis`` therapy event;
3. else the date of the (earliest) ``therapy_start`` event;
4. else ``<NA>``.

Phase
-----
``phase`` places each sample in the treatment course (first matching rule wins):

==================  ==========================================================
``"relapse"``       on or after the earliest ``relapse`` event
``"off-therapy"``   strictly after the earliest ``end_of_therapy`` event (the
                    end-of-therapy day itself still belongs to the last phase)
``"pre-treatment"`` strictly before the earliest ``therapy_start``
phase of the most  on or after the latest *phase boundary* not later than the
recent boundary     sample: ``therapy_start`` → ``"induction"``,
                    ``consolidation`` → ``"consolidation"``,
                    ``radiotherapy`` → ``"radiotherapy"``, ``maintenance`` →
                    ``"maintenance"``, ``end_of_induction`` → ``""`` (induction
                    has ended and no next phase has started)
``""``              otherwise (no therapy events, or before the first boundary
                    when there is no ``therapy_start``)
==================  ==========================================================

So induction runs from ``therapy_start`` up to the day before
``end_of_induction`` or the next consolidation/radiotherapy/maintenance event,
whichever comes first. Boundaries on the same day are ordered as in
:data:`~markers.schema.EVENTS` (``end_of_induction`` before ``consolidation``),
so the later phase wins. ``surgery``, ``complete_remission``, ``diagnosis`` and
``last_follow_up`` are milestones, not phase boundaries. Events without a date
or with a code outside ``EVENTS`` are ignored.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from markers.errors import MissingColumnError
from markers.ingest.events import canonical_event, event_synonyms
from markers.readers.cells import text_series
from markers.schema import (
    DAY,
    DAYS_SINCE_DIAGNOSIS,
    DIAGNOSIS_DATE,
    EVENT,
    EVENT_DATE,
    EVENT_DAY,
    EVENT_LABEL,
    EVENTS,
    PATIENT_ID,
    PHASE,
    SAMPLE_DATE,
)

logger = logging.getLogger(__name__)

__all__ = ["add_timeline", "canonical_event", "event_dates", "event_synonyms", "patient_timeline", "phases"]

#: Phase names, in the order they usually occur.
PHASES = (
    "pre-treatment",
    "induction",
    "consolidation",
    "radiotherapy",
    "maintenance",
    "off-therapy",
    "relapse",
)

#: Events that open (or, for end_of_induction, close) a treatment phase, and the phase they open.
_BOUNDARY_PHASE = {
    "therapy_start": "induction",
    "end_of_induction": "",
    "consolidation": "consolidation",
    "radiotherapy": "radiotherapy",
    "maintenance": "maintenance",
}
_EVENT_ORDER = {code: i for i, code in enumerate(EVENTS)}
_DAY_NS = 86_400 * 10**9

# -- dates per patient ------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: tuple[str, ...], *, table: str, hint: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"the {table} table lacks column(s) {', '.join(repr(c) for c in missing)}; {hint}"
        )


def _clean_therapy(therapy: pd.DataFrame | None) -> pd.DataFrame:
    """Dated events with a known code: patient_id, event, event_label, event_date (fresh 0..n-1 index)."""
    columns = [PATIENT_ID, EVENT, EVENT_LABEL, EVENT_DATE]
    date_free = therapy is not None and EVENT_DAY in therapy.columns and EVENT_DATE not in therapy.columns
    if therapy is None or date_free or (therapy.empty and not {PATIENT_ID, EVENT, EVENT_DATE} <= set(therapy.columns)):
        # a date-free therapy table (event_day only) has no dated events; the assessment reads its days
        empty = {c: pd.Series(dtype=object) for c in columns}
        empty[EVENT_DATE] = pd.Series(dtype="datetime64[ns]")
        return pd.DataFrame(empty)
    _require(therapy, (PATIENT_ID, EVENT, EVENT_DATE), table="therapy",
             hint="it needs patient_id, event (a code from markers.schema.EVENTS) and event_date.")
    events = pd.DataFrame(
        {
            PATIENT_ID: therapy[PATIENT_ID].astype(str).to_numpy(),
            EVENT: therapy[EVENT].to_numpy(),
            EVENT_LABEL: (therapy[EVENT_LABEL] if EVENT_LABEL in therapy.columns else therapy[EVENT])
            .fillna("").astype(str).to_numpy(),
            EVENT_DATE: pd.to_datetime(therapy[EVENT_DATE]).astype("datetime64[ns]").to_numpy(),
        }
    )
    keep = events[EVENT_DATE].notna() & events[EVENT].isin(EVENTS)
    return events[keep].reset_index(drop=True)


def _diagnosis_from_patients(patients: pd.DataFrame | None) -> pd.Series:
    """patient_id -> diagnosis date from the patients table (first non-missing per patient)."""
    if patients is None or PATIENT_ID not in patients.columns or DIAGNOSIS_DATE not in patients.columns:
        return pd.Series(dtype="datetime64[ns]")
    dates = pd.to_datetime(patients[DIAGNOSIS_DATE]).astype("datetime64[ns]")
    known = dates.notna().to_numpy()
    # the IDs of the patients with a date only as text (a registry without diagnosis dates: none)
    table = pd.DataFrame({PATIENT_ID: patients[PATIENT_ID][known].astype(str), DIAGNOSIS_DATE: dates[known]})
    return table.groupby(PATIENT_ID, sort=True)[DIAGNOSIS_DATE].first()


def event_dates(therapy: pd.DataFrame, *, patients: pd.DataFrame | None = None) -> pd.DataFrame:
    """The earliest date of each event per patient, with the diagnosis date and timeline anchor resolved.

    Parameters
    ----------
    therapy
        Therapy events (``patient_id``, ``event``, ``event_date``).
    patients
        Patients table; its ``diagnosis_date`` takes precedence over a ``diagnosis`` event.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id`` (str); one ``datetime64[ns]`` column per code of
        :data:`~markers.schema.EVENTS` (NaT when absent), with ``diagnosis`` taken from the
        patients table when given there, plus ``anchor`` (the diagnosis date, else therapy start).

    Raises
    ------
    MissingColumnError
        When a non-empty therapy table lacks a needed column.

    Examples
    --------
    >>> therapy = pd.DataFrame({"patient_id": ["P1"], "event": ["therapy_start"],
    ...                         "event_date": pd.to_datetime(["2024-01-10"])})
    >>> event_dates(therapy).loc["P1", "anchor"]
    Timestamp('2024-01-10 00:00:00')
    """
    events = _clean_therapy(therapy)
    first = events.groupby([PATIENT_ID, EVENT], sort=True)[EVENT_DATE].min().unstack(EVENT)
    first = first.reindex(columns=list(EVENTS))
    diagnosis = _diagnosis_from_patients(patients)
    index = first.index.union(diagnosis.index)
    first = first.reindex(index).astype("datetime64[ns]")
    from_patients = diagnosis.reindex(index)
    first["diagnosis"] = from_patients.fillna(first["diagnosis"]).astype("datetime64[ns]")
    first["anchor"] = first["diagnosis"].fillna(first["therapy_start"]).astype("datetime64[ns]")
    first.index.name = PATIENT_ID
    first.columns.name = None
    return first


#: Phase codes (:func:`_phase_codes`): 0 is "" (no phase), then :data:`PHASES` in order.
_PHASE_NAMES = ("", *PHASES)
_PHASE_CODE = {name: code for code, name in enumerate(_PHASE_NAMES)}


def phases(patient_ids: np.ndarray, dates: np.ndarray, events: pd.DataFrame) -> np.ndarray:
    """Phase of each sample (the rules of the module docstring), for every patient at once.

    ``patient_ids`` (str) and ``dates`` (``datetime64[ns]``) are parallel arrays, one entry per
    sample; ``events`` is the cleaned therapy table (:func:`_clean_therapy`). Work is a few sorts
    and searches over all rows, never a step per patient: the boundary that opened a sample's
    phase is found by merging the boundaries and the samples in (patient, date) order.
    """
    known = pd.Index(pd.unique(events[PATIENT_ID].to_numpy()))
    codes = _phase_codes(known.get_indexer(patient_ids), dates, events, known)
    return np.array(_PHASE_NAMES, dtype=object)[codes]


def _phase_codes(code: np.ndarray, dates: np.ndarray, events: pd.DataFrame, known: pd.Index) -> np.ndarray:
    """:func:`phases` as codes into :data:`_PHASE_NAMES`; ``code``: each sample's patient in ``known``
    (the patients with dated events), -1 for a patient without any."""
    n = len(dates)
    out = np.zeros(n, dtype=np.int8)
    if n == 0 or events.empty:
        return out
    day = dates.view("int64")

    # the phase opened by the latest boundary on or before the sample (same patient):
    # boundaries sort before samples of the same patient and date, and among themselves by date,
    # then by the usual event order, so the last one seen is the one that counts
    bounds = events[events[EVENT].isin(list(_BOUNDARY_PHASE))]
    b_code = known.get_indexer(bounds[PATIENT_ID].to_numpy())
    b_day = bounds[EVENT_DATE].to_numpy(dtype="datetime64[ns]").view("int64")
    b_order = bounds[EVENT].map(_EVENT_ORDER).to_numpy(dtype=np.int64)
    b_phase = np.array([_PHASE_CODE[_BOUNDARY_PHASE[e]] for e in bounds[EVENT]] + [0], dtype=np.int8)
    is_bound = np.r_[np.ones(len(bounds), bool), np.zeros(n, bool)]
    keys_code = np.r_[b_code, code]
    order = np.lexsort((np.r_[b_order, np.zeros(n, np.int64)], ~is_bound, np.r_[b_day, day], keys_code))
    merged_bound = is_bound[order]
    # in merged order: where the last boundary so far stands (-1 before the first one)
    last = np.maximum.accumulate(np.where(merged_bound, np.arange(len(order)), -1))[~merged_bound]
    sample_row = order[~merged_bound] - len(bounds)
    bound_row = np.where(last >= 0, order[np.maximum(last, 0)], -1)  # its row in bounds
    same = (bound_row >= 0) & (b_code[np.maximum(bound_row, 0)] == code[sample_row]) if len(bounds) else False
    out[sample_row] = b_phase[np.where(same, bound_row, -1)]  # -1 picks the trailing 0 ("")

    # later rules override earlier ones: pre-treatment < off-therapy < relapse
    firsts = (events.groupby([PATIENT_ID, EVENT], sort=False)[EVENT_DATE].min().unstack(EVENT)
              .reindex(index=known, columns=["therapy_start", "end_of_therapy", "relapse"]))
    has = code >= 0

    def first(event: str) -> np.ndarray:
        when = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        when[has] = firsts[event].to_numpy(dtype="datetime64[ns]")[code[has]]
        return when

    start, end, relapse = first("therapy_start"), first("end_of_therapy"), first("relapse")
    out[~np.isnat(start) & (dates < start)] = _PHASE_CODE["pre-treatment"]
    out[~np.isnat(end) & (dates > end)] = _PHASE_CODE["off-therapy"]
    out[~np.isnat(relapse) & (dates >= relapse)] = _PHASE_CODE["relapse"]
    out[np.isnat(dates) | ~has] = 0
    return out


def add_timeline(measurements: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Add ``day`` (days since diagnosis) and ``phase`` (treatment phase) to each measurement.

    The rules are in the module docstring: ``day`` counts from the diagnosis
    date (patients table, else a ``diagnosis`` event, else ``therapy_start``);
    ``phase`` is ``relapse`` on/after relapse, ``off-therapy`` after end of
    therapy, ``pre-treatment`` before therapy start, else the phase opened by
    the most recent phase boundary, and ``""`` when unknown.

    Parameters
    ----------
    measurements
        Tidy measurements with ``patient_id`` and ``sample_date``.
    therapy
        Therapy events (``patient_id``, ``event``, ``event_date``); may be empty.
    patients
        Patients table (``patient_id``, ``diagnosis_date``); may be empty.

    Returns
    -------
    pandas.DataFrame
        A copy of ``measurements`` with ``day`` (``Int64``) and ``phase`` (str) added
        (replaced if present).

    Raises
    ------
    MissingColumnError
        When ``measurements`` lacks ``patient_id`` or ``sample_date``, or a
        non-empty therapy table lacks a needed column.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["P1", "P1"],
    ...                   "sample_date": pd.to_datetime(["2024-01-05", "2024-01-20"])})
    >>> t = pd.DataFrame({"patient_id": ["P1", "P1"], "event": ["diagnosis", "therapy_start"],
    ...                   "event_date": pd.to_datetime(["2024-01-01", "2024-01-10"])})
    >>> out = add_timeline(m, therapy=t, patients=pd.DataFrame())
    >>> out["day"].tolist(), out["phase"].tolist()
    ([4, 19], ['pre-treatment', 'induction'])
    """
    _require(measurements, (PATIENT_ID, SAMPLE_DATE), table="measurements",
             hint="pass the measurements table returned by markers.ingest.reader.read().")
    out = measurements.copy(deep=False)  # copy-on-write: new columns never reach the caller's frame
    dates = event_dates(therapy, patients=patients)
    events = _clean_therapy(therapy)
    sample_dates = pd.to_datetime(out[SAMPLE_DATE]).astype("datetime64[ns]").to_numpy(dtype="datetime64[ns]")
    if len(dates) or len(events):
        # each patient's anchor and events looked up once per patient, taken back by code
        # (positions, not labels: the measurements index need not be unique)
        pid, patients_seen = pd.factorize(out[PATIENT_ID].astype(str), use_na_sentinel=False)
        anchor = dates["anchor"].reindex(patients_seen).to_numpy(dtype="datetime64[ns]")[pid]
        known = pd.Index(pd.unique(events[PATIENT_ID].to_numpy()))
        phase = _phase_codes(known.get_indexer(patients_seen)[pid], sample_dates, events, known)
    else:  # no diagnosis date and no event (a lab export alone): no day and no phase, no look-up per patient
        anchor = np.full(len(out), np.datetime64("NaT"), dtype="datetime64[ns]")
        phase = np.zeros(len(out), dtype=np.int8)
    out[DAY] = whole_days(sample_dates, anchor)
    if DAYS_SINCE_DIAGNOSIS in out:  # a date-free source's own day count where no date gives one
        out[DAY] = out[DAY].fillna(pd.Series(out[DAYS_SINCE_DIAGNOSIS].array, index=out.index).astype("Int64"))
    out[PHASE] = text_series(_PHASE_NAMES, phase, index=out.index).array
    return out


def whole_days(later: np.ndarray, earlier: np.ndarray) -> pd.arrays.IntegerArray:
    """Days from ``earlier`` to ``later`` (``datetime64[ns]`` arrays), as ``(later - earlier).days``
    reads them (rounded down: 6 hours before a date is day -1); ``<NA>`` where either is NaT.

    Worked out on the int64 nanoseconds, one subtraction and one floor division, when the extreme
    dates show that no span can exceed int64 nanoseconds (about 292 years); otherwise through
    pandas, which gives the same days or raises as it always has.

    Examples
    --------
    >>> later = np.array(["2024-01-11", "2024-01-01T00", "NaT"], dtype="datetime64[ns]")
    >>> earlier = np.array(["2024-01-01", "2024-01-01T06", "2024-01-01"], dtype="datetime64[ns]")
    >>> whole_days(later, earlier).tolist()
    [10, -1, <NA>]
    """
    missing = np.isnat(later) | np.isnat(earlier)
    late = np.where(missing, 0, later.view("int64"))  # a missing pair spans 0 ns, then reads <NA>
    early = np.where(missing, 0, earlier.view("int64"))
    top = np.iinfo(np.int64).max
    widest = max(int(late.max(initial=0)) - int(early.min(initial=0)), int(early.max(initial=0)) - int(late.min(initial=0)))
    if widest > top:
        return (pd.Series(later) - pd.Series(earlier)).dt.days.astype("Int64").array
    return pd.arrays.IntegerArray((late - early) // _DAY_NS, missing)


def patient_timeline(therapy: pd.DataFrame, patients: pd.DataFrame, *, patient_id: str) -> pd.DataFrame:
    """One patient's therapy events with their ``day`` since diagnosis, in date order.

    When the patients table gives a diagnosis date and the therapy table has no
    ``diagnosis`` event for the patient, a ``diagnosis`` row (label
    ``"diagnosis (patients table)"``) is added so the timeline starts at day 0.

    Parameters
    ----------
    therapy
        Therapy events table.
    patients
        Patients table (may be empty).
    patient_id
        The patient to show.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id``, ``event``, ``event_label``, ``event_date``, ``day`` (``Int64``),
        sorted by date, then by the usual event order; empty when the patient has no events.

    Raises
    ------
    MissingColumnError
        When a non-empty therapy table lacks a needed column.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["P1"], "event": ["surgery"], "event_label": ["OP"],
    ...                   "event_date": pd.to_datetime(["2024-03-01"])})
    >>> p = pd.DataFrame({"patient_id": ["P1"], "diagnosis_date": pd.to_datetime(["2024-01-01"])})
    >>> patient_timeline(t, p, patient_id="P1")[["event", "day"]].values.tolist()
    [['diagnosis', 0], ['surgery', 60]]
    """
    events = _clean_therapy(therapy)
    rows = events[events[PATIENT_ID] == str(patient_id)].copy()
    dates = event_dates(therapy, patients=patients)
    key = str(patient_id)
    anchor = dates["anchor"].get(key, pd.NaT) if len(dates) else pd.NaT
    diagnosis = dates["diagnosis"].get(key, pd.NaT) if len(dates) else pd.NaT
    if pd.notna(diagnosis) and not (rows[EVENT] == "diagnosis").any():
        extra = pd.DataFrame({PATIENT_ID: [key], EVENT: ["diagnosis"], EVENT_LABEL: ["diagnosis (patients table)"],
                              EVENT_DATE: pd.Series([diagnosis], dtype="datetime64[ns]")})
        rows = pd.concat([extra, rows], ignore_index=True) if len(rows) else extra
    rows = rows.reset_index(drop=True)
    rows["order"] = rows[EVENT].map(_EVENT_ORDER)
    rows = rows.sort_values([EVENT_DATE, "order"], kind="stable").drop(columns="order")
    rows[DAY] = (rows[EVENT_DATE] - anchor).dt.days.astype("Int64") if pd.notna(anchor) else pd.array(
        [pd.NA] * len(rows), dtype="Int64")
    return rows[[PATIENT_ID, EVENT, EVENT_LABEL, EVENT_DATE, DAY]].reset_index(drop=True)
