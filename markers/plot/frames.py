"""One patient's rows and where they fall in time: lookup, day 0, day columns, ages."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from markers.errors import ConfigError, MissingColumnError
from markers.schema import (
    DAY,
    DIAGNOSIS_DATE,
    EVENT,
    EVENT_DATE,
    PATIENT_ID,
    SAMPLE_DATE,
)

logger = logging.getLogger(__name__)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str, hint: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{what} lacks column(s) {', '.join(repr(c) for c in missing)}: {hint}")


def as_float(series: pd.Series) -> np.ndarray:
    """Nullable numbers (Int64, Float64, object) as a float array with NaN for missing."""
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}.")


def patient_rows(data: pd.DataFrame, patient: str) -> pd.DataFrame:
    rows = data[data[PATIENT_ID].astype(str) == str(patient)]
    if rows.empty:
        known = sorted(data[PATIENT_ID].astype(str).unique())
        sample = ", ".join(known[:5]) + (" ..." if len(known) > 5 else "")
        raise ConfigError(
            f"Patient {patient!r} has no measurements in the data. Known patients: {sample or 'none'}; "
            "check the ID (IDs are compared as text)."
        )
    return rows


def rows_of(frame: pd.DataFrame | None, patient: str) -> pd.DataFrame | None:
    if frame is None or frame.empty or PATIENT_ID not in frame.columns:
        return None
    rows = frame[frame[PATIENT_ID].astype(str) == str(patient)]
    return rows if len(rows) else None


class PatientRows:
    """One patient's rows of a table at a time, from a single grouping of the whole table.

    Filtering a thousand patients' table once per patient compares every row a thousand
    times; grouping once finds each patient's rows directly. The rows are taken when asked
    for, so the patients' subsets are never all held at once. IDs are compared as text.

    Examples
    --------
    >>> rows = PatientRows(pd.DataFrame({"patient_id": ["A", "B", "A"], "v": [1, 2, 3]}))
    >>> rows("A")["v"].tolist(), len(rows("C"))
    ([1, 3], 0)
    """

    __slots__ = ("_frame", "_positions")

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self._frame = frame
        self._positions: dict[str, np.ndarray] = {}
        if frame is not None and PATIENT_ID in frame.columns and len(frame):
            self._positions = frame.groupby(frame[PATIENT_ID].astype(str), sort=False, dropna=False).indices

    def __call__(self, patient: str) -> pd.DataFrame | None:
        """The patient's rows in table order (none: an empty frame; no table: ``None``)."""
        frame = self._frame
        if frame is None or PATIENT_ID not in frame.columns:
            return frame
        where = self._positions.get(str(patient))
        return frame.iloc[where] if where is not None else frame.iloc[:0]


def time_origin(
    data: pd.DataFrame,
    *,
    patient: str,
    patients: pd.DataFrame | None = None,
    therapy: pd.DataFrame | None = None,
) -> pd.Timestamp | None:
    """The date that is day 0 of a patient's timeline.

    Taken from the data itself (``sample_date − day``) so that events line up with the
    samples exactly as the timeline module placed them; else the diagnosis date from
    ``patients``; else the ``diagnosis`` or ``therapy_start`` event.

    Parameters
    ----------
    data
        Measurements with ``sample_date`` and (optionally) ``day``.
    patient
        Patient ID.
    patients, therapy
        Optional patients and therapy-event tables.

    Returns
    -------
    pandas.Timestamp or None
        ``None`` when nothing dates day 0.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": ["P1"], "sample_date": pd.to_datetime(["2024-01-11"]),
    ...                   "day": pd.array([10], dtype="Int64")})
    >>> time_origin(d, patient="P1")
    Timestamp('2024-01-01 00:00:00')
    """
    rows = rows_of(data, patient)
    if rows is not None and DAY in rows.columns and SAMPLE_DATE in rows.columns:
        days = as_float(rows[DAY])
        ok = ~np.isnan(days)
        if ok.any():
            dates = pd.to_datetime(rows[SAMPLE_DATE]).to_numpy()[ok]
            origins = pd.DatetimeIndex(dates) - pd.to_timedelta(days[ok], unit="D")
            return pd.Timestamp(origins[0]).normalize()
    prow = rows_of(patients, patient)
    if prow is not None and DIAGNOSIS_DATE in prow.columns:
        dx = pd.to_datetime(prow[DIAGNOSIS_DATE]).dropna()
        if len(dx):
            return pd.Timestamp(dx.iloc[0])
    trow = rows_of(therapy, patient)
    if trow is not None and EVENT_DATE in trow.columns:
        for event in ("diagnosis", "therapy_start"):
            dates = pd.to_datetime(trow.loc[trow[EVENT] == event, EVENT_DATE]).dropna()
            if len(dates):
                return pd.Timestamp(dates.min())
    return None


def x_of_dates(dates: pd.Series | pd.DatetimeIndex, *, x: str, origin: pd.Timestamp | None) -> np.ndarray | None:
    """Event/assessment dates as x positions (days since origin, or the dates themselves)."""
    dates = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    if x == "date":
        return dates.to_numpy()
    if origin is None:
        return None
    return ((dates - origin).dt.days).astype("float64").to_numpy(na_value=np.nan)


def day_column(date_column: str) -> str:
    """The column that replaces a date column in pseudonymised tables (``sample_date`` -> ``sample_day``).

    ``markers.privacy.pseudonym`` turns every ``<stem>_date`` column into ``<stem>_day`` (whole days since
    the patient's anchor, the diagnosis date); the plots read that column when the date is gone.

    Examples
    --------
    >>> day_column("event_date")
    'event_day'
    """
    stem = date_column[: -len("_date")] if date_column.endswith("_date") else date_column
    return f"{stem}_day"


def sample_key(frame: pd.DataFrame) -> str:
    """The column that tells one sample from another: the sample date, else its day column, else ``day``.

    Examples
    --------
    >>> sample_key(pd.DataFrame({"sample_day": [0], "day": [0]}))
    'sample_day'
    """
    for name in (SAMPLE_DATE, day_column(SAMPLE_DATE), DAY):
        if name in frame.columns:
            return name
    raise MissingColumnError(
        f"data lacks {SAMPLE_DATE!r} (or {day_column(SAMPLE_DATE)!r} / {DAY!r} in pseudonymised data): "
        "add the timeline (markers.analysis.timeline.add_timeline) first."
    )


def n_samples(rows: pd.DataFrame) -> int:
    """Distinct samples among ``rows``: by :func:`sample_key`; rows without one (a date-free sample with
    no day since diagnosis) told apart by their age at sample.

    Examples
    --------
    >>> n_samples(pd.DataFrame({"sample_day": pd.array([0, 0, None, None], dtype="Int64"),
    ...                         "age_days": [400, 400, 2000, 2090]}))
    3
    """
    key = sample_key(rows)
    unplaced = rows[key].isna().to_numpy(dtype=bool)
    placed = int(rows.loc[~unplaced, key].nunique())
    if not unplaced.any():
        return placed
    ages = rows.loc[unplaced, "age_days"] if "age_days" in rows.columns else pd.Series([pd.NA] * int(unplaced.sum()))
    return placed + int(ages.nunique(dropna=False))


def day_shift(data: pd.DataFrame | None, *, patient: str) -> float:
    """Days to add to a pseudonymised ``*_day`` column to land on the timeline's ``day`` axis.

    Pseudonymised day columns count from the patient's anchor date (markers.privacy.pseudonym) and the
    timeline's ``day`` from the diagnosis (markers.analysis.timeline); the two agree whenever the
    diagnosis date is known, but the shift is read from the data itself (``day − sample_day``)
    so that events always line up with the samples. ``0.0`` when the data cannot tell.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": ["P1"], "sample_day": [5], "day": [1]})
    >>> day_shift(d, patient="P1")
    -4.0
    """
    rows = rows_of(data, patient)
    name = day_column(SAMPLE_DATE)
    if rows is None or DAY not in rows.columns or name not in rows.columns:
        return 0.0
    diff = as_float(rows[DAY]) - as_float(rows[name])
    diff = diff[~np.isnan(diff)]
    return float(np.median(diff)) if len(diff) else 0.0


def x_positions(frame: pd.DataFrame, date_column: str, *, x: str, origin: pd.Timestamp | None,
                 shift: float = 0.0) -> np.ndarray | None:
    """Positions of a date column on the x axis, or of its pseudonymised day column (``x="day"`` only)."""
    if date_column in frame.columns:
        return x_of_dates(frame[date_column], x=x, origin=origin)
    days = day_column(date_column)
    if x == "day" and days in frame.columns:
        return as_float(frame[days]) + shift
    return None


def format_age(days: float | int | None, *, date_of_birth: pd.Timestamp | None = None,
               on: pd.Timestamp | None = None) -> str:
    """Age as a paediatrician writes it: ``"12 days"``, ``"4 months"``, ``"3 y 2 mo"``.

    With both dates given, months are counted on the calendar (completed months);
    otherwise from ``days`` with a mean month of 365.25/12 days.

    Parameters
    ----------
    days
        Age in completed days (``None``/NaN: unknown).
    date_of_birth, on
        Optional dates for an exact calendar count.

    Returns
    -------
    str
        ``""`` when the age is unknown.

    Examples
    --------
    >>> format_age(125)
    '4 months'
    >>> format_age(None, date_of_birth=pd.Timestamp("2020-01-15"), on=pd.Timestamp("2023-03-20"))
    '3 y 2 mo'
    """
    if date_of_birth is not None and on is not None and not pd.isna(date_of_birth) and not pd.isna(on):
        dob, when = pd.Timestamp(date_of_birth), pd.Timestamp(on)
        months = (when.year - dob.year) * 12 + (when.month - dob.month) - (when.day < dob.day)
        days = (when - dob).days
    elif days is None or pd.isna(days):
        return ""
    else:
        months = int(np.floor(float(days) / (365.25 / 12)))
    if months < 1:
        n = int(days)
        return f"{n} day" if n == 1 else f"{n} days"
    if months < 12:
        return f"{months} month" if months == 1 else f"{months} months"
    years, rest = divmod(months, 12)
    return f"{years} y {rest} mo" if rest else f"{years} y"
