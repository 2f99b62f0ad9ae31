"""Time to normalization: the Kaplan–Meier curve of informative patients and its plot."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from markers.errors import ConfigError, MissingColumnError
from markers.plot.days import DAY_AXIS_LABEL, with_timeline_days
from markers.plot.frames import (
    as_float,
    day_column,
)
from markers.plot.style import ANALYTE_COLORS, MIN_FONT
from markers.schema import ANALYTE, ANALYTES, EVENT, EVENT_DATE, PATIENT_ID

CURVE_COLUMNS = ["day", "at_risk", "events", "censored", "proportion_normalized"]


def informative_rows(assessment: pd.DataFrame, analyte: str) -> pd.DataFrame:
    """The assessment rows of ``analyte`` whose patient is informative (elevated at baseline)."""
    for col in (PATIENT_ID, ANALYTE, "informative"):
        if col not in assessment.columns:
            raise MissingColumnError(f"assessment lacks column {col!r}: pass the result of markers.analysis.assess.assess.")
    rows = assessment[assessment[ANALYTE] == analyte]
    return rows[rows["informative"].astype("boolean").fillna(False).astype(bool)]


# -- time to normalization -------------------------------------------------------------------


def _therapy_origins(therapy: pd.DataFrame) -> pd.Series:
    """Therapy start per patient: the origin of ``days_to_normalization`` in markers.analysis.assess.

    A date, or in pseudonymised tables the ``event_day`` (days since the patient's anchor).
    """
    column = EVENT_DATE if EVENT_DATE in therapy.columns else day_column(EVENT_DATE)
    if column not in therapy.columns:
        return pd.Series(dtype="float64")
    starts = therapy[[PATIENT_ID, EVENT, column]].dropna()
    starts = starts.assign(**{column: pd.to_datetime(starts[column]) if column == EVENT_DATE
                              else as_float(starts[column])})
    return starts[starts[EVENT] == "therapy_start"].groupby(PATIENT_ID)[column].min()


def normalization_curve(assessment: pd.DataFrame, *, analyte: str,
                        therapy: pd.DataFrame | None = None, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cumulative proportion of informative patients whose marker has normalized, by day.

    Kaplan–Meier product-limit estimate: at each day with an event,
    ``S(t) = S(t−) × (1 − events / at_risk)`` and ``proportion_normalized = 1 − S(t)``.
    A patient normalized on day *t* (``days_to_normalization``, days since therapy start)
    is an event at *t*; one never normalized is censored at the last sample (days since
    therapy start). On a tied day events come before censorings (the usual convention),
    so a patient censored that day still counts as at risk. Only informative patients
    (elevated at baseline) are at risk.

    Parameters
    ----------
    assessment
        One row per patient × analyte (``markers.analysis.assess.assess``).
    analyte
        The analyte.
    therapy
        Therapy events, used to place the last sample of never-normalized patients in
        days since therapy start (a patient with no ``therapy_start`` is left out, with a
        warning, as markers.analysis.assess gives no day of normalization without it). Not needed when
        the assessment has a ``days_to_last_sample`` column.
    data
        The measurements with the timeline: when given, days count from each patient's day 0
        (the diagnosis, as the report's axes and tables do: :mod:`markers.plot.days`) instead of
        from therapy start, and a patient needs no therapy start to be placed.

    Returns
    -------
    pandas.DataFrame
        Columns ``day, at_risk, events, censored, proportion_normalized``; a first row at
        day 0 (proportion 0) unless something happens on or before day 0.

    Raises
    ------
    ConfigError
        A never-normalized patient needs ``therapy`` to be placed in time.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["A", "B"], "analyte": "VMA", "informative": True,
    ...                   "normalized": [True, False], "days_to_normalization": [30, None],
    ...                   "days_to_last_sample": [30, 90]})
    >>> normalization_curve(a, analyte="VMA")["proportion_normalized"].tolist()
    [0.0, 0.5, 0.5]
    """
    rows = informative_rows(assessment, analyte)
    normalized = rows["normalized"].astype("boolean").fillna(False).astype(bool).to_numpy()
    if data is not None:
        return _curve(*_days_since_day0(rows, data), normalized=normalized, analyte=analyte,
                      ids=rows[PATIENT_ID], origin="diagnosis")
    to_norm = as_float(rows["days_to_normalization"]) if "days_to_normalization" in rows.columns \
        else np.full(len(rows), np.nan)
    last_day = day_column("last_sample_date")
    if "days_to_last_sample" in rows.columns:
        to_last = as_float(rows["days_to_last_sample"])
    elif (~normalized).any() and last_day in rows.columns and "last_sample_date" not in rows.columns:
        # Pseudonymised: the last sample and the therapy start are both days since the same anchor.
        if therapy is None:
            raise ConfigError(
                f"The {analyte} normalization curve needs the therapy events to place the last sample of "
                "patients never normalized: pass therapy=dataset.therapy."
            )
        start = _therapy_origins(therapy).reindex(rows[PATIENT_ID].to_numpy())
        to_last = as_float(rows[last_day]) - as_float(start)
    elif (~normalized).any():
        if therapy is None:
            raise ConfigError(
                f"The {analyte} normalization curve needs the therapy events to place the last sample of "
                "patients never normalized: pass therapy=dataset.therapy."
            )
        # reindex, not map: mapping through an empty Series of dates cannot cast them (pandas 3)
        start = pd.to_datetime(_therapy_origins(therapy).reindex(rows[PATIENT_ID].to_numpy())).to_numpy()
        to_last = ((pd.to_datetime(rows["last_sample_date"]).to_numpy() - start) / np.timedelta64(1, "D"))
        to_last = np.floor(np.asarray(to_last, dtype="float64"))
    else:
        to_last = np.full(len(rows), np.nan)
    return _curve(to_norm, to_last, normalized=normalized, analyte=analyte, ids=rows[PATIENT_ID],
                  origin="therapy start")


def _days_since_day0(rows: pd.DataFrame, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Days from day 0 to normalization and to the last sample (pseudonymised: the ``*_day`` columns)."""
    days = with_timeline_days(rows, data)
    to_norm = as_float(days["normalized_day"]) if "normalized_day" in days.columns else np.full(len(rows), np.nan)
    to_last = as_float(days["last_sample_day"]) if "last_sample_day" in days.columns \
        else np.full(len(rows), np.nan)
    return to_norm, to_last


def _curve(to_norm: np.ndarray, to_last: np.ndarray, *, normalized: np.ndarray, analyte: str, ids: pd.Series,
           origin: str) -> pd.DataFrame:
    """The product-limit table of :func:`normalization_curve` from each patient's event or censoring day."""
    times = np.where(normalized, to_norm, to_last)
    unknown = np.isnan(times)
    if unknown.any():
        warnings.warn(
            f"{int(unknown.sum())} informative patient(s) left out of the {analyte} normalization curve: "
            f"no day of normalization or of the last sample since {origin} "
            f"({', '.join(ids.astype(str)[unknown][:5])}).",
            stacklevel=3,
        )
    times, is_event = times[~unknown], normalized[~unknown]
    table = (pd.DataFrame({"day": times.astype("int64"), "event": is_event.astype(int),
                           "censor": (~is_event).astype(int)})
             .groupby("day", sort=True).agg(events=("event", "sum"), censored=("censor", "sum")).reset_index())
    n = len(times)
    leaving = (table["events"] + table["censored"]).cumsum().shift(fill_value=0)
    table["at_risk"] = n - leaving
    survival = (1.0 - table["events"] / table["at_risk"]).cumprod()
    table["proportion_normalized"] = 1.0 - survival
    if table.empty or table["day"].iloc[0] > 0:
        first = pd.DataFrame({"day": [0], "events": [0], "censored": [0], "at_risk": [n],
                              "proportion_normalized": [0.0]})
        table = pd.concat([first, table], ignore_index=True) if len(table) else first
    table = table[CURVE_COLUMNS].astype({"day": "int64", "at_risk": "int64", "events": "int64",
                                         "censored": "int64", "proportion_normalized": "float64"})
    return table.reset_index(drop=True)


def normalization_band(curve: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Pointwise confidence band of a :func:`normalization_curve`: ``day``, ``ci_low``, ``ci_high``.

    From :func:`markers.analysis.survival.cumulative_incidence` (statsmodels' Kaplan–Meier with
    Greenwood standard errors, log-log interval), on the same event and censoring days as the curve;
    one row per row of ``curve``.

    Examples
    --------
    >>> c = pd.DataFrame({"day": [0, 10, 20], "events": [0, 1, 1], "censored": [0, 0, 0]})
    >>> normalization_band(c)["ci_high"].round(3).tolist()
    [0.0, 0.994, 1.0]
    """
    from markers.analysis.survival import cumulative_incidence

    days = curve["day"].to_numpy(dtype="float64")
    events = curve["events"].to_numpy(dtype="int64")
    censored = curve["censored"].to_numpy(dtype="int64")
    time = np.concatenate([np.repeat(days, events), np.repeat(days, censored)])
    event = np.concatenate([np.ones(int(events.sum())), np.zeros(int(censored.sum()))])
    if not len(time):
        return pd.DataFrame({"day": days, "ci_low": 0.0, "ci_high": 0.0})
    shift = min(0.0, float(time.min()))  # days before day 0: the estimate does not depend on the origin
    band = cumulative_incidence(time - shift, event, alpha=alpha)
    at = np.searchsorted(band["time_days"].to_numpy() + shift, days, side="right") - 1
    low = np.where(at >= 0, band["ci_low"].to_numpy()[np.maximum(at, 0)], 0.0)
    high = np.where(at >= 0, band["ci_high"].to_numpy()[np.maximum(at, 0)], 0.0)
    return pd.DataFrame({"day": days, "ci_low": np.nan_to_num(low), "ci_high": np.nan_to_num(high, nan=1.0)})


def median_days_to_normalization(curve: pd.DataFrame) -> float:
    """First day on which the curve reaches one half (NaN when it never does).

    Examples
    --------
    >>> c = pd.DataFrame({"day": [0, 30, 60], "proportion_normalized": [0.0, 0.25, 0.75]})
    >>> median_days_to_normalization(c)
    60.0
    """
    hit = curve[curve["proportion_normalized"] >= 0.5 - 1e-12]
    return float(hit["day"].iloc[0]) if len(hit) else float("nan")


def plot_time_to_normalization(assessment: pd.DataFrame, *, analyte: str | None = None,
                               therapy: pd.DataFrame | None = None, data: pd.DataFrame | None = None,
                               ax: Axes | None = None) -> Axes:
    """Step curve(s) of the proportion normalized by day (since therapy start, or since diagnosis given ``data``).

    Parameters
    ----------
    assessment
        One row per patient × analyte.
    analyte
        One analyte; default every analyte with informative patients.
    therapy, data
        Therapy events; measurements with the timeline (see :func:`normalization_curve`).
    ax
        Axes to draw on; default ``plt.gca()``.

    Returns
    -------
    matplotlib.axes.Axes
        Step lines labelled ``"VMA (n=12)"`` with gid ``"km:VMA"``; censor ticks gid ``"censor:VMA"``;
        the pointwise 95% confidence band (:func:`normalization_band`) gid ``"band:VMA"``.

    Examples
    --------
    >>> ax = plot_time_to_normalization(assessment, therapy=therapy)  # doctest: +SKIP
    """
    if ax is None:
        import matplotlib.pyplot as plt  # notebooks only

        ax = plt.gca()
    analytes = [analyte] if analyte is not None else [
        a for a in ANALYTES if len(informative_rows(assessment, a))]
    for name in analytes:
        curve = normalization_curve(assessment, analyte=name, therapy=therapy, data=data)
        n = int(curve["at_risk"].iloc[0]) if len(curve) else 0
        color = ANALYTE_COLORS.get(name, "#555555")
        band = normalization_band(curve)
        ax.fill_between(band["day"], band["ci_low"], band["ci_high"], step="post", color=color, alpha=0.15,
                        linewidth=0, gid=f"band:{name}", label=f"_band:{name}")
        ax.step(curve["day"], curve["proportion_normalized"], where="post", color=color, linewidth=1.8,
                label=f"{name} (n={n})", gid=f"km:{name}")
        cens = curve[curve["censored"] > 0]
        ax.plot(cens["day"], cens["proportion_normalized"], linestyle="none", marker="|", markersize=10,
                markeredgewidth=1.5, color=color, gid=f"censor:{name}", label=f"_censor:{name}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(DAY_AXIS_LABEL if data is not None else "days since therapy start", fontsize=MIN_FONT + 1)
    ax.set_ylabel("proportion normalized", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.grid(True, color="#E5E5E5", linewidth=0.6)
    if analytes:
        ax.legend(fontsize=MIN_FONT, loc="lower right", title="| = censored (last sample, not normalized)\nshaded: 95% confidence band",
                  title_fontsize=MIN_FONT)
    return ax
