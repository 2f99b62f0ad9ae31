"""Ages in completed calendar months, from dates of birth or approximated from ages in days, for the age bands."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.schema import AGE_DAYS, DATE_OF_BIRTH, SAMPLE_DATE

#: Days per month used only when the date of birth is unknown (365.25 / 12).
DAYS_PER_MONTH = 30.4375

def _as_datetime(values: object) -> pd.Series:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series, errors="coerce")
    return series


def completed_months(date_of_birth: object, sample_date: object) -> pd.Series | int | None:
    """Age in completed calendar months at ``sample_date``, vectorised.

    Parameters
    ----------
    date_of_birth, sample_date
        Datetime Series (aligned) or scalars. Missing dates give ``<NA>``.

    Returns
    -------
    pandas.Series or int or None
        ``Int64`` Series aligned on ``sample_date`` (or ``date_of_birth``) when
        either argument is a Series, else an int (``None`` when missing).
        Negative when the sample predates the birth.

    Examples
    --------
    >>> completed_months(pd.Timestamp("2020-03-01"), pd.Timestamp("2022-02-28"))
    23
    >>> completed_months(pd.Timestamp("2020-02-29"), pd.Timestamp("2021-03-01"))
    12
    """
    scalar = not isinstance(date_of_birth, pd.Series) and not isinstance(sample_date, pd.Series)
    if isinstance(sample_date, pd.Series):
        index = sample_date.index
    elif isinstance(date_of_birth, pd.Series):
        index = date_of_birth.index
    else:
        index = pd.RangeIndex(1)
    born = _as_datetime(date_of_birth if isinstance(date_of_birth, pd.Series) else [date_of_birth] * len(index))
    sampled = _as_datetime(sample_date if isinstance(sample_date, pd.Series) else [sample_date] * len(index))
    born = born.set_axis(index)
    sampled = sampled.set_axis(index)
    months = (sampled.dt.year - born.dt.year) * 12 + (sampled.dt.month - born.dt.month)
    # The month is not completed until the day of the month of birth is reached;
    # a day that the month lacks (29-31) is therefore reached on the 1st of the next.
    months = months - (sampled.dt.day < born.dt.day).astype("Int64")
    months = months.astype("Int64")
    if scalar:
        value = months.iloc[0]
        return None if pd.isna(value) else int(value)
    return months


def approximate_months(age_days: object) -> pd.Series:
    """Approximate completed months from an age in days: ``floor(age_days / 30.4375)``.

    Used only when no date of birth is known. Within a few days of a band
    boundary the result can be one month off the calendar age.

    Parameters
    ----------
    age_days
        Ages in completed days (Series or array-like; missing -> ``<NA>``).

    Returns
    -------
    pandas.Series
        ``Int64`` months.

    Examples
    --------
    >>> approximate_months(pd.Series([0, 365, 730])).tolist()
    [0, 11, 23]
    """
    days = pd.to_numeric(age_days if isinstance(age_days, pd.Series) else pd.Series(age_days), errors="coerce")
    return np.floor(days.astype("Float64") / DAYS_PER_MONTH).astype("Int64")


def age_months(measurements: pd.DataFrame) -> pd.Series:
    """Completed months at each sample: calendar age from the date of birth, else from ``age_days``.

    Parameters
    ----------
    measurements
        Tidy measurements; uses ``date_of_birth``, ``sample_date`` and
        ``age_days`` when present.

    Returns
    -------
    pandas.Series
        ``Int64`` months aligned on ``measurements.index`` (``<NA>`` if unknown).

    Examples
    --------
    >>> frame = pd.DataFrame({"date_of_birth": pd.to_datetime(["2020-03-01", None]),
    ...                       "sample_date": pd.to_datetime(["2023-03-01", "2023-03-01"]),
    ...                       "age_days": pd.array([None, 400], dtype="Int64")})
    >>> age_months(frame).tolist()
    [36, 13]
    """
    months = pd.Series(pd.NA, index=measurements.index, dtype="Int64")
    if DATE_OF_BIRTH in measurements and SAMPLE_DATE in measurements:
        months = completed_months(measurements[DATE_OF_BIRTH], measurements[SAMPLE_DATE])
    if AGE_DAYS in measurements and months.hasnans:  # only where the dates leave a month unknown
        months = months.fillna(approximate_months(measurements[AGE_DAYS]))
    return months
