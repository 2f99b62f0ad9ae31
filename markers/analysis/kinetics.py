"""Decline kinetics: the apparent half-life of a marker after therapy starts.

No published half-life or normalisation time for urinary VMA/HVA after
surgery or chemotherapy was found (domain facts §4, open question 5), so
markers reports a *descriptive* fit rather than comparing with a reference:
ordinary least squares of ``ln(value)`` on days since therapy start,

    ln(value) = a + slope × day,   k = −slope (per day),   half-life = ln 2 / k,

over the samples inside the window (default days 0–100, both ends included).
Censored results (``<x``, ``>x``) are left out, because their true value is
unknown, and counted. Fewer than 3 usable points, or no decline (k ≤ 0), give
a NaN half-life with the reason in ``note``. ``r2`` is the coefficient of
determination of the log-linear fit.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from markers.errors import MissingColumnError
from markers.schema import CENSOR, SAMPLE_DATE, VALUE

logger = logging.getLogger(__name__)

__all__ = ["MIN_POINTS", "decline_half_life", "fit_half_life"]

#: Fewest uncensored samples for a fit: two points always fit a line exactly (r² = 1 says nothing).
MIN_POINTS = 3


def _result(*, k: float = math.nan, half_life: float = math.nan, r2: float = math.nan, n_points: int = 0,
            n_censored: int = 0, dates: list[pd.Timestamp] | None = None, note: str = "") -> dict:
    return {
        "k_per_day": k,
        "half_life_days": half_life,
        "r2": r2,
        "n_points": n_points,
        "n_censored_excluded": n_censored,
        "sample_dates": list(dates or []),
        "note": note,
    }


def decline_half_life(
    samples: pd.DataFrame,
    *,
    therapy_start: pd.Timestamp,
    window: tuple[int, int] = (0, 100),
) -> dict:
    """Fit an exponential decline to one patient's results for one analyte.

    Parameters
    ----------
    samples
        Rows with ``sample_date`` (datetime), ``value`` (float, > 0) and
        optionally ``censor`` (``"<"``, ``">"`` or ``""``), for one patient and analyte.
    therapy_start
        Day 0 of the fit.
    window
        ``(first_day, last_day)`` since therapy start, both included.

    Returns
    -------
    dict
        ``k_per_day`` (−slope of ln(value) per day), ``half_life_days`` (ln 2 / k),
        ``r2``, ``n_points`` (samples used), ``n_censored_excluded`` (censored samples
        inside the window that were left out), ``sample_dates`` (the dates used) and
        ``note`` (``""`` when a half-life was computed, else the reason, e.g.
        ``"no decline"`` or ``"2 usable samples in days 0-100 (3 needed)"``).

    Raises
    ------
    MissingColumnError
        When ``samples`` lacks ``sample_date`` or ``value``.

    Examples
    --------
    >>> samples = pd.DataFrame({"sample_date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-21"]),
    ...                         "value": [80.0, 40.0, 20.0]})
    >>> fit = decline_half_life(samples, therapy_start=pd.Timestamp("2024-01-01"))
    >>> round(fit["half_life_days"], 6), round(fit["r2"], 6)
    (10.0, 1.0)
    """
    missing = [c for c in (SAMPLE_DATE, VALUE) if c not in samples.columns]
    if missing:
        raise MissingColumnError(
            f"decline_half_life: the samples table lacks {', '.join(repr(c) for c in missing)}; "
            "pass rows of the tidy measurements table."
        )
    first_day, last_day = window
    if therapy_start is None or pd.isna(therapy_start):
        return _result(note="no therapy start date")
    start = np.datetime64(pd.Timestamp(therapy_start), "ns")
    # plain numpy arrays: this runs once per patient × analyte, so pandas overhead adds up
    sample_dates = pd.to_datetime(samples[SAMPLE_DATE]).to_numpy(dtype="datetime64[ns]")
    days = (sample_dates - start) / np.timedelta64(1, "D")  # NaN for a missing date
    in_window = (days >= first_day) & (days <= last_day)
    if CENSOR in samples.columns:
        censored = in_window & np.array([isinstance(c, str) and c != "" for c in samples[CENSOR]], dtype=bool)
    else:
        censored = np.zeros(len(samples), dtype=bool)
    values = pd.to_numeric(samples[VALUE], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        positive = values > 0  # ln(0) is undefined; a zero result carries no decline information
    usable = in_window & ~censored & positive
    n_nonpositive = int((in_window & ~censored & ~positive).sum())
    n_censored = int(censored.sum())
    order = np.argsort(days[usable], kind="stable")
    x = days[usable][order]
    y = np.log(values[usable][order])
    dates = [pd.Timestamp(d) for d in sample_dates[usable][order]]
    extra = f"; {n_nonpositive} non-positive value(s) left out" if n_nonpositive else ""
    fit = fit_half_life(x, y, label=f"in days {first_day}-{last_day}", extra=extra)
    return {**fit, "n_censored_excluded": n_censored, "sample_dates": dates}


def fit_half_life(days: np.ndarray, log_values: np.ndarray, *, label: str = "", extra: str = "") -> dict:
    """Ordinary least squares of ``ln(value)`` on ``days``: k, half-life and r² (see the module notes).

    Parameters
    ----------
    days
        Days of the samples (any origin; the half-life does not depend on it).
    log_values
        ``ln(value)`` of each sample (values > 0, uncensored).
    label, extra
        Words for the note: where the points come from, and anything left out.

    Returns
    -------
    dict
        ``k_per_day``, ``half_life_days``, ``r2``, ``n_points`` and ``note`` (``""`` when fitted).

    Examples
    --------
    >>> fit = fit_half_life(np.array([0.0, 10.0, 20.0]), np.log([80.0, 40.0, 20.0]))
    >>> round(fit["half_life_days"], 6)
    10.0
    """
    # plain Python sums: a fit holds a handful of points, where numpy's per-call cost dominates
    x = [float(v) for v in days]
    y = [float(v) for v in log_values]
    n = len(x)
    where = f" {label}" if label else ""
    if n < MIN_POINTS:
        return _fit(n_points=n, note=f"{n} usable sample(s){where} ({MIN_POINTS} needed){extra}")
    if max(x) == min(x):
        return _fit(n_points=n, note=f"all usable samples on one day{extra}")
    x_mean, y_mean = sum(x) / n, sum(y) / n
    dx = [v - x_mean for v in x]
    dy = [v - y_mean for v in y]
    sxx = sum(a * a for a in dx)
    sxy = sum(a * b for a, b in zip(dx, dy, strict=True))
    ss_tot = sum(b * b for b in dy)
    slope = sxy / sxx
    ss_res = sum((b - slope * a) ** 2 for a, b in zip(dx, dy, strict=True))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan
    k = -float(slope)
    # a fit of a constant series gives a slope of ~1e-17, not exactly 0: treat |k| at rounding level as none
    if k <= 1e-12:
        return _fit(k=k, r2=r2, n_points=n, note=f"no decline{extra}")
    return _fit(k=k, half_life=math.log(2) / k, r2=r2, n_points=n, note=extra.removeprefix("; "))


def _fit(*, k: float = math.nan, half_life: float = math.nan, r2: float = math.nan, n_points: int = 0,
         note: str = "") -> dict:
    return {"k_per_day": k, "half_life_days": half_life, "r2": r2, "n_points": n_points, "note": note}
