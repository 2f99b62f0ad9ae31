"""Survival statistics (Kaplan–Meier, log-rank, Cox) on plain arrays, computed by statsmodels.

statsmodels.duration does the estimation: ``SurvfuncRight`` (product-limit estimate and its
Greenwood standard error, median and its Brookmeyer–Crowley interval), ``survdiff`` (log-rank
test) and ``PHReg`` (Cox proportional hazards, Efron ties as in R's ``coxph``). This module
adds what a clinical table needs around them: pointwise 95% intervals on the log-log scale
(Kalbfleisch & Prentice; the default of SAS and Stata), the estimate and the number at risk at
chosen times, and the rule for small groups (an estimate with a warning, never a test).

Times are days; ``event`` is 1/True for an event and 0/False for a censored time.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

__all__ = [
    "CURVE_COLUMNS",
    "Comparison",
    "compare_groups",
    "cox_model",
    "cumulative_incidence",
    "estimate_at",
    "kaplan_meier",
    "logrank",
    "median_survival",
]

#: Columns of :func:`kaplan_meier`.
CURVE_COLUMNS = ["time_days", "at_risk", "events", "censored", "survival", "std_err", "ci_low", "ci_high"]

#: Rule of thumb for Cox models: at least 10 events per estimated coefficient
#: (Peduzzi et al., J Clin Epidemiol 1995;48:1503-10).
EVENTS_PER_COEFFICIENT = 10


def _arrays(time: Sequence[float], event: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype="float64")
    e = np.asarray(pd.Series(event, dtype="boolean").fillna(False), dtype="float64")
    if t.shape != e.shape:
        raise ValueError(f"time and event differ in length ({len(t)} and {len(e)}).")
    if np.isnan(t).any() or (t < 0).any():
        raise ValueError("times must be known and not negative.")
    return t, e


def _z(alpha: float) -> float:
    return NormalDist().inv_cdf(1 - alpha / 2)


def _interval(survival: np.ndarray, std_err: np.ndarray, *, alpha: float, conf_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise interval of S(t) from its Greenwood standard error.

    ``log-log``: S^exp(±z·se/(S·|log S|)) (Kalbfleisch & Prentice 2002, eq. 1.14);
    ``log``: S·exp(±z·se/S), capped at 1 (R ``survfit``'s default ``conf.type="log"``);
    ``plain``: S ± z·se, kept in [0, 1]. Where S is 1 or 0 the interval is the point itself.
    """
    z = _z(alpha)
    s = np.asarray(survival, dtype="float64")
    se = np.asarray(std_err, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log-log":
            width = z * se / (s * np.abs(np.log(s)))
            low, high = s ** np.exp(-width), s ** np.exp(width)
            low, high = np.minimum(low, high), np.maximum(low, high)
        elif conf_type == "log":
            low, high = s * np.exp(-z * se / s), np.minimum(1.0, s * np.exp(z * se / s))
        elif conf_type == "plain":
            low, high = np.clip(s - z * se, 0, 1), np.clip(s + z * se, 0, 1)
        else:
            raise ValueError(f"conf_type must be 'log-log', 'log' or 'plain', not {conf_type!r}.")
    edge = (s >= 1.0) | (s <= 0.0) | ~np.isfinite(low) | ~np.isfinite(high)
    low = np.where(edge, s, low)
    high = np.where(edge, s, high)
    return low, high


def kaplan_meier(time: Sequence[float], event: Sequence[object], *, alpha: float = 0.05,
                 conf_type: str = "log-log") -> pd.DataFrame:
    """Kaplan–Meier estimate with Greenwood standard errors and a pointwise interval.

    Parameters
    ----------
    time, event
        Follow-up time (days) and event indicator (1 event, 0 censored) of each subject.
    alpha
        1 − confidence level (0.05: 95% intervals).
    conf_type
        ``"log-log"`` (default), ``"log"`` or ``"plain"``: the scale of the interval.

    Returns
    -------
    pandas.DataFrame
        ``CURVE_COLUMNS``: one row at time 0 (survival 1, everyone at risk) and one row per
        distinct time with an event or a censoring; ``survival`` is S(t) just after ``time_days``,
        ``at_risk`` the number at risk just before it.

    Examples
    --------
    >>> kaplan_meier([1, 2, 3], [1, 0, 1])["survival"].round(3).tolist()
    [1.0, 0.667, 0.667, 0.0]
    """
    t, e = _arrays(time, event)
    n = len(t)
    table = (pd.DataFrame({"time_days": t, "events": e.astype(int), "censored": (1 - e).astype(int)})
             .groupby("time_days", sort=True).sum().reset_index())
    table["at_risk"] = n - (table["events"] + table["censored"]).cumsum().shift(fill_value=0)
    survival = np.ones(len(table))
    std_err = np.zeros(len(table))
    if e.sum() > 0:
        fit = SurvfuncRight(t, e)
        at = np.searchsorted(fit.surv_times, table["time_days"].to_numpy(), side="right") - 1
        known = at >= 0
        survival[known] = fit.surv_prob[at[known]]
        std_err[known] = fit.surv_prob_se[at[known]]
    table["survival"], table["std_err"] = survival, std_err
    table["ci_low"], table["ci_high"] = _interval(survival, std_err, alpha=alpha, conf_type=conf_type)
    start = pd.DataFrame({"time_days": [0.0], "at_risk": [n], "events": [0], "censored": [0], "survival": [1.0],
                          "std_err": [0.0], "ci_low": [1.0], "ci_high": [1.0]})
    if len(table) and table["time_days"].iloc[0] == 0:
        start = start.iloc[0:0]
    table = pd.concat([start, table[CURVE_COLUMNS]], ignore_index=True) if len(start) else table[CURVE_COLUMNS]
    return table.astype({"at_risk": "int64", "events": "int64", "censored": "int64"}).reset_index(drop=True)


def estimate_at(curve: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """S(t), its interval and the number at risk at each of ``times`` (step function, right-continuous).

    ``at_risk`` is the number still followed at ``t`` (time ≥ t). Past the last follow-up the
    estimate is not defined: NaN, with ``at_risk`` 0.

    Examples
    --------
    >>> c = kaplan_meier([10, 20, 30], [1, 1, 0])
    >>> estimate_at(c, [15, 40])["survival"].round(3).tolist()
    [0.667, nan]
    """
    rows = []
    last = float(curve["time_days"].iloc[-1]) if len(curve) else 0.0
    for t in times:
        upto = curve[curve["time_days"] <= t]
        row = upto.iloc[-1] if len(upto) else curve.iloc[0]
        after = curve[curve["time_days"] >= t]
        at_risk = int(after["at_risk"].iloc[0]) if len(after) else 0
        if t > last:
            rows.append({"time_days": float(t), "survival": np.nan, "ci_low": np.nan, "ci_high": np.nan, "at_risk": 0})
        else:
            rows.append({"time_days": float(t), "survival": float(row["survival"]), "ci_low": float(row["ci_low"]),
                         "ci_high": float(row["ci_high"]), "at_risk": at_risk})
    return pd.DataFrame(rows, columns=["time_days", "survival", "ci_low", "ci_high", "at_risk"])


def median_survival(time: Sequence[float], event: Sequence[object], *, alpha: float = 0.05) -> tuple[float, float, float]:
    """Median survival time and its interval (Brookmeyer & Crowley, log-log), from statsmodels.

    NaN where the curve does not reach one half (or the interval has no end).
    """
    t, e = _arrays(time, event)
    if e.sum() == 0:
        return (np.nan, np.nan, np.nan)
    fit = SurvfuncRight(t, e)
    median = fit.quantile(0.5)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            low, high = fit.quantile_ci(0.5, alpha=alpha, method="cloglog")
    except (ValueError, IndexError, ZeroDivisionError):
        low, high = np.nan, np.nan
    as_float = [float(v) if v is not None and np.isfinite(v) else np.nan for v in (median, low, high)]
    return as_float[0], as_float[1], as_float[2]


def logrank(time: Sequence[float], event: Sequence[object], group: Sequence[object]) -> tuple[float, float]:
    """Log-rank chi-square (1 degree of freedom per extra group) and its p-value (statsmodels ``survdiff``)."""
    t, e = _arrays(time, event)
    chi2, p = survdiff(t, e, np.asarray(group))
    return float(chi2), float(p)


def cox_model(time: Sequence[float], event: Sequence[object], covariates: pd.DataFrame, *,
              alpha: float = 0.05) -> pd.DataFrame:
    """Cox proportional hazards fit (statsmodels ``PHReg``, Efron ties): one row per covariate.

    ``covariates`` holds numeric columns (0/1 indicators for categories). Returns ``term``,
    ``coef``, ``std_err``, ``hazard_ratio``, ``hr_ci_low``, ``hr_ci_high`` (Wald), ``p`` and
    ``converged`` (when the fit did not converge, e.g. a group without events, the numbers are NaN).
    """
    t, e = _arrays(time, event)
    exog = covariates.astype("float64").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence is reported in the result, not as a notice
        fit = PHReg(t, exog, status=e, ties="efron").fit(disp=False)
    z = _z(alpha)
    coef, se = np.asarray(fit.params), np.asarray(fit.bse)
    converged = bool(getattr(fit, "mle_retvals", {}).get("converged", True)) and bool(np.isfinite(se).all())
    if not converged:
        coef, se = np.full(len(coef), np.nan), np.full(len(coef), np.nan)
    with np.errstate(over="ignore"):
        low, high = np.exp(coef - z * se), np.exp(coef + z * se)
    return pd.DataFrame({
        "term": list(covariates.columns), "coef": coef, "std_err": se, "hazard_ratio": np.exp(coef),
        "hr_ci_low": low, "hr_ci_high": high,
        "p": [math.erfc(abs(c / s) / math.sqrt(2)) for c, s in zip(coef, se, strict=True)],
        "converged": converged,
    })


@dataclass(frozen=True)
class Comparison:
    """Positive vs negative: counts, log-rank and Cox hazard ratio (NaN when not computed, with ``warning``)."""

    n_positive: int
    n_negative: int
    events_positive: int
    events_negative: int
    logrank_chi2: float = np.nan
    logrank_p: float = np.nan
    hazard_ratio: float = np.nan
    hr_ci_low: float = np.nan
    hr_ci_high: float = np.nan
    warning: str = ""


def compare_groups(time: Sequence[float], event: Sequence[object], positive: Sequence[bool], *,
                   min_patients: int = 10, min_events: int = 5, alpha: float = 0.05) -> Comparison:
    """Log-rank test and univariable Cox hazard ratio (positive vs negative), when the data allow.

    No test and no hazard ratio (only a ``warning``) when a group has fewer than ``min_patients``
    subjects, or the two groups together have fewer than ``min_events`` events, or one group has
    no event at all (the hazard ratio would be 0 or infinite). The thresholds are this project's
    conventions for an honest table, not clinical numbers.
    """
    t, e = _arrays(time, event)
    pos = np.asarray(positive, dtype=bool)
    counts = {"n_positive": int(pos.sum()), "n_negative": int((~pos).sum()),
              "events_positive": int(e[pos].sum()), "events_negative": int(e[~pos].sum())}
    problems = []
    if min(counts["n_positive"], counts["n_negative"]) < min_patients:
        problems.append(f"a group has fewer than {min_patients} patients "
                        f"({counts['n_positive']} positive, {counts['n_negative']} negative)")
    if counts["events_positive"] + counts["events_negative"] < min_events:
        problems.append(f"fewer than {min_events} events "
                        f"({counts['events_positive'] + counts['events_negative']})")
    elif min(counts["events_positive"], counts["events_negative"]) == 0:
        problems.append("a group has no event (the hazard ratio is not finite)")
    if problems:
        return Comparison(**counts, warning="no test: " + "; ".join(problems))
    chi2, p = logrank(t, e, pos.astype(int))
    cox = cox_model(t, e, pd.DataFrame({"positive": pos.astype(float)}), alpha=alpha).iloc[0]
    return Comparison(**counts, logrank_chi2=chi2, logrank_p=p, hazard_ratio=float(cox["hazard_ratio"]),
                      hr_ci_low=float(cox["hr_ci_low"]), hr_ci_high=float(cox["hr_ci_high"]),
                      warning="" if cox["converged"] else "the Cox model did not converge: no hazard ratio")


def cumulative_incidence(time: Sequence[float], event: Sequence[object], *, alpha: float = 0.05,
                         conf_type: str = "log-log") -> pd.DataFrame:
    """1 − Kaplan–Meier with its interval (``proportion``, ``ci_low``, ``ci_high``): e.g. the
    proportion of patients whose marker has normalized by each day, for a time-to-normalization curve."""
    curve = kaplan_meier(time, event, alpha=alpha, conf_type=conf_type)
    return pd.DataFrame({
        "time_days": curve["time_days"], "at_risk": curve["at_risk"], "events": curve["events"],
        "censored": curve["censored"], "proportion": 1.0 - curve["survival"],
        "ci_low": 1.0 - curve["ci_high"], "ci_high": 1.0 - curve["ci_low"],
    })
