"""Date parts to dates: Excel serials, two-digit years, components to datetime64[ns] within its range."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

#: Day 0 of Excel's 1900 date system as pandas and most readers count it
#: (serial 1 = 1899-12-31, 45000 = 2023-03-15). Excel itself shows serials
#: 1..59 one day later because of its fictitious 1900-02-29; lab data from
#: before March 1900 does not exist, so that difference never matters here.
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
EXCEL_SERIAL_MAX = 2958465  # 9999-12-31, Excel's last date

# First and last whole days datetime64[ns] can hold, in µs so that comparing
# far-away dates (year 9999) with them cannot overflow.
_NS_MIN = np.datetime64("1677-09-22", "us")
_NS_MAX = np.datetime64("2262-04-11", "us")


def _today() -> dt.date:
    """Today's date (a function so the two-digit-year pivot can be tested)."""
    return dt.date.today()


def to_int(parts: pd.Series) -> np.ndarray:
    """Digit strings (or NaN) to a float array."""
    return pd.to_numeric(parts, errors="coerce").to_numpy(dtype=float)


def full_year(year: np.ndarray, written: pd.Series) -> np.ndarray:
    """Expand two-digit years: 20yy unless that year is in the future, else 19yy.

    The pivot is on the year alone, so that a sample written "05.12.26" in
    November 2026 stays in 2026 (and is then reported as a future date by the
    caller) instead of silently moving a century back.
    """
    two_digit = (written.str.len() == 2).to_numpy(dtype=bool)
    this_year = _today().year
    expanded = np.where(2000 + year <= this_year, 2000 + year, 1900 + year)
    return np.where(two_digit, expanded, year)


def assemble(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[ns] from component arrays; NaT where invalid or out of range."""
    ok = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    out = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[ns]")
    if not ok.any():
        return out
    parts = pd.DataFrame({"year": year[ok], "month": month[ok], "day": day[ok]})
    # Year 1 or 99999 would not fit; the ns range (1677..2262) is checked below.
    parts.loc[(parts["year"] < 1000) | (parts["year"] > 9999), "year"] = np.nan
    stamps = pd.to_datetime(parts, errors="coerce").to_numpy()
    out[ok] = bounded_ns(stamps)
    return out


def bounded_ns(stamps: np.ndarray) -> np.ndarray:
    """Cast datetime64 (any unit) to ns, turning dates outside the ns range into NaT."""
    stamps = stamps.astype("datetime64[us]")
    inside = (stamps >= _NS_MIN) & (stamps <= _NS_MAX)
    return np.where(inside, stamps, np.datetime64("NaT")).astype("datetime64[ns]")


def excel_serial(serials: np.ndarray) -> np.ndarray:
    """Excel 1900-system serials (fractions are times of day) to datetime64[ns] midnight."""
    valid = np.isfinite(serials) & (serials >= 1) & (serials < EXCEL_SERIAL_MAX + 1)
    days = np.where(valid, np.floor(np.where(valid, serials, 0)), 0).astype(np.int64)
    stamps = (EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[us]")
    stamps = np.where(valid, stamps, np.datetime64("NaT"))
    return bounded_ns(stamps)
