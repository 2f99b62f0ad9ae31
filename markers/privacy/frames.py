"""One table pseudonymised: IDs to pseudonyms, dates to days since each patient's anchor, free text scrubbed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

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

# Columns holding fixed vocabularies or cell references: nothing to scrub, and
# scrubbing could only damage them (a short ID such as "12" inside "D12").
_VOCABULARY_COLUMNS = frozenset(
    {ANALYTE, UNIT, CENSOR, SEX, EVENT, GRADE, PHASE, REFERENCE_SET, SOURCE_CELL, SOURCE_UNIT,
     "code", "severity", "hint", "cell", "status"}
)
# The result as written ("12.3") is scrubbed for dates only: replacing a short
# numeric patient ID inside a result would corrupt the result.
_DATES_ONLY_COLUMNS = frozenset({SOURCE_VALUE})


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


def collect_dates(frames: Iterable[pd.DataFrame]) -> list[dt.date]:
    """Every date in the date columns of ``frames``, sorted (the scrubber looks for each in free text)."""
    found: set[dt.date] = set()
    for frame in frames:
        for name in frame.columns:
            if _is_date_column(name, frame[name]):
                found.update(d.date() for d in _as_dates(frame[name]).dropna())
    return sorted(found)


def patient_anchors(
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


def pseudonymize_frame(
    frame: pd.DataFrame,
    *,
    ids: Mapping[str, str],
    anchor: pd.Series,
    scrub: Callable[[str], str],
    scrub_dates: Callable[[str], str],
) -> pd.DataFrame:
    """A pseudonymised copy of ``frame``: ``ids`` maps each patient ID to its pseudonym, ``anchor`` each
    patient to the date day 0 stands for; ``scrub`` cleans free text, ``scrub_dates`` only its dates."""
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
            stem = str(name)[: -len("_date")] if str(name).endswith("_date") else None
            if patient is None or (stem is not None and f"{stem}_day" in frame.columns):
                # No patient to anchor on: nothing safe to derive from the date. Or the table already
                # counts that finding in days (the assessment's normalized_day beside normalized_date):
                # the date goes, the day it already holds stays, with no second count beside it.
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
