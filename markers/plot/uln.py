"""The age-specific upper limit of normal as a step line that changes on the birthday a new band starts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from markers.plot.frames import as_float
from markers.schema import (
    AGE_DAYS,
    DAY,
    SAMPLE_DATE,
    ULN,
)


def uln_steps(rows: pd.DataFrame, *, x: str = "day", date_of_birth: pd.Timestamp | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions of one analyte's age-specific ULN as a ``steps-post`` line.

    The ULN of each sample is held until the next sample. Where it changes between two
    samples and exactly one whole-year birthday falls between them (after the first,
    on or before the second), the step is placed on that birthday, where the age band
    really changes; otherwise (several birthdays, or a band edge in months) at the
    later sample, the first date the new limit is known to apply.

    Pseudonymised rows have no dates: the birthday is then found from ``age_days`` alone,
    the *k*-th falling at age round(365.25 · *k*) days, which is within one day of the
    calendar birthday (the leap days are not known without the date of birth).

    Parameters
    ----------
    rows
        One patient's samples of one analyte with ``uln``, ``age_days``, and
        ``sample_date`` (``x="date"``) and/or ``day``.
    x
        ``"day"`` or ``"date"``.
    date_of_birth
        The patient's date of birth; else derived as ``sample_date − age_days``.

    Returns
    -------
    (x positions, ULN values)
        Arrays for ``ax.plot(..., drawstyle="steps-post")``.

    Examples
    --------
    >>> r = pd.DataFrame({"sample_date": pd.to_datetime(["2023-01-01", "2023-07-01"]),
    ...                   "day": [0, 181], "uln": [27.0, 13.0], "age_days": [1000, 1181]})
    >>> uln_steps(r)[0].tolist()  # born 2020-04-06, 3rd birthday 2023-04-06 = day 95
    [0.0, 95.0, 181.0]
    >>> uln_steps(r.drop(columns="sample_date"))[0].tolist()  # 3 × 365.25 = 1095.75 -> age 1096
    [0.0, 96.0, 181.0]
    """
    has_dates = SAMPLE_DATE in rows.columns
    rows = rows.sort_values(SAMPLE_DATE if has_dates else DAY)
    ulns = as_float(rows[ULN])
    keep = ~np.isnan(ulns)
    rows, ulns = rows[keep], ulns[keep]
    if not has_dates:
        return _uln_steps_from_ages(rows, ulns)
    dates = pd.DatetimeIndex(pd.to_datetime(rows[SAMPLE_DATE]))
    xs = dates.to_numpy() if x == "date" else as_float(rows[DAY])
    if date_of_birth is None and AGE_DAYS in rows.columns:
        ages = as_float(rows[AGE_DAYS])
        known = ~np.isnan(ages)
        if known.any():
            date_of_birth = dates[known][0] - pd.Timedelta(days=float(ages[known][0]))
    out_x: list[Any] = []
    out_y: list[float] = []
    for i in range(len(ulns)):
        if i and ulns[i] != ulns[i - 1] and date_of_birth is not None and not pd.isna(date_of_birth):
            dob = pd.Timestamp(date_of_birth)
            birthdays = [
                dob + pd.DateOffset(years=k)
                for k in range(dates[i - 1].year - dob.year, dates[i].year - dob.year + 1)
            ]
            between = [b for b in birthdays if dates[i - 1] < b <= dates[i]]
            if len(between) == 1 and between[0] < dates[i]:
                b = between[0]
                out_x.append(b.to_datetime64() if x == "date" else xs[i] - (dates[i] - b).days)
                out_y.append(ulns[i])
        out_x.append(xs[i])
        out_y.append(ulns[i])
    xs_out = np.array(out_x, dtype="datetime64[ns]") if x == "date" else np.array(out_x, dtype=float)
    return xs_out, np.array(out_y, dtype=float)


def _uln_steps_from_ages(rows: pd.DataFrame, ulns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`uln_steps` on the day axis for rows without dates (pseudonymised): birthdays from ages."""
    xs = as_float(rows[DAY])
    ages = as_float(rows[AGE_DAYS]) if AGE_DAYS in rows.columns else np.full(len(rows), np.nan)
    out_x: list[float] = []
    out_y: list[float] = []
    for i in range(len(ulns)):
        if i and ulns[i] != ulns[i - 1] and not np.isnan(ages[i - 1]) and not np.isnan(ages[i]):
            years = range(int(ages[i - 1] // 365) - 1, int(ages[i] // 365) + 2)
            between = [b for b in (round(365.25 * k) for k in years if k > 0) if ages[i - 1] < b < ages[i]]
            if len(between) == 1:
                out_x.append(xs[i] - (ages[i] - between[0]))
                out_y.append(ulns[i])
        out_x.append(xs[i])
        out_y.append(ulns[i])
    return np.array(out_x, dtype=float), np.array(out_y, dtype=float)
