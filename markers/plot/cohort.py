"""Cohort views: marker courses of all informative patients, a swimmer plot, and the
time to normalization (Kaplan–Meier style).

Axes-level functions take ``ax=None`` (``plt.gca()``) and return the ``Axes``;
:func:`cohort_figures` builds whole pages on pyplot-free ``Figure`` objects.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from markers.errors import ConfigError, MissingColumnError
from markers.plot.axes import panel_title, plain_log_axis
from markers.plot.days import DAY_AXIS_LABEL, with_timeline_days
from markers.plot.events import phase_spans
from markers.plot.frames import (
    PatientRows,
    as_float,
    check_choice,
    day_column,
    day_shift,
    rows_of,
    sample_key,
    time_origin,
    x_positions,
)
from markers.plot.style import ANALYTE_COLORS, MIN_FONT, PAGE_SIZES, PHASE_COLORS
from markers.plot.table import add_table
from markers.schema import ANALYTE, ANALYTES, DAY, ELEVATED, EVENT, EVENT_DATE, PATIENT_ID, X_ULN

#: Colour of a stretch of the swimmer lane by the marker status of the sample that opens it. An elevated
#: sample after normalization that the assessment did not confirm as a re-elevation is a "rise, not
#: confirmed": pale yellow, not the vermillion of an elevated marker (one mild rise is not a relapse).
STATUS_COLORS: dict[str, str] = {"elevated": "#D55E00", "unconfirmed": "#F3EAA0", "normal": "#009E73",
                                 "indeterminate": "#999999"}

#: Legend words of each status.
STATUS_LABELS: dict[str, str] = {"elevated": "elevated", "unconfirmed": "rise, not confirmed",
                                 "normal": "normal", "indeterminate": "indeterminate"}

#: Swimmer-plot symbols of events: surgery ▲, complete remission ○, relapse ✕.
EVENT_MARKERS: dict[str, tuple[str, str, str]] = {
    "surgery": ("^", "#333333", "surgery"),
    "complete_remission": ("o", "white", "complete remission"),
    "relapse": ("X", "#D55E00", "relapse"),
}


def event_style(event: str) -> dict[str, Any]:
    """Marker properties of an event symbol: one definition for the plot and its legend.

    A dark edge keeps every symbol visible on any strip colour (a green circle on the green of
    a normal marker was only its white rim).
    """
    marker, face, _label = EVENT_MARKERS[event]
    return {"marker": marker, "markersize": 7, "markerfacecolor": face, "markeredgecolor": "#222222",
            "markeredgewidth": 0.9}

#: Lane order of outcomes, top first: relapses are what a reader looks for.
OUTCOME_ORDER: tuple[str, ...] = ("relapse", "no remission recorded", "complete remission")

CURVE_COLUMNS = ["day", "at_risk", "events", "censored", "proportion_normalized"]


def _informative(assessment: pd.DataFrame, analyte: str) -> pd.DataFrame:
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
    rows = _informative(assessment, analyte)
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
        Step lines labelled ``"VMA (n=12)"`` with gid ``"km:VMA"``; censor ticks gid ``"censor:VMA"``.

    Examples
    --------
    >>> ax = plot_time_to_normalization(assessment, therapy=therapy)  # doctest: +SKIP
    """
    if ax is None:
        import matplotlib.pyplot as plt  # notebooks only

        ax = plt.gca()
    analytes = [analyte] if analyte is not None else [
        a for a in ANALYTES if len(_informative(assessment, a))]
    for name in analytes:
        curve = normalization_curve(assessment, analyte=name, therapy=therapy, data=data)
        n = int(curve["at_risk"].iloc[0]) if len(curve) else 0
        color = ANALYTE_COLORS.get(name, "#555555")
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
        ax.legend(fontsize=MIN_FONT, loc="lower right", title="| = censored (last sample, not normalized)",
                  title_fontsize=MIN_FONT)
    return ax


# -- spaghetti ---------------------------------------------------------------------------------


def binned_median(frame: pd.DataFrame, *, bin_days: int = 30, min_patients: int = 3) -> pd.DataFrame:
    """Median ×ULN per bin of days, each patient weighted once.

    Days are cut into bins ``[k·bin_days, (k+1)·bin_days)`` (day 0 opens the first bin);
    each patient's samples in a bin are first reduced to their median, and the bin's value
    is the median of those patient medians, so a patient sampled weekly does not outweigh
    one sampled monthly. Bins with fewer than ``min_patients`` patients are dropped. The
    median is drawn at the bin's centre. Censored results count at their limit.

    Parameters
    ----------
    frame
        Columns ``patient_id``, ``day``, ``x_uln``.
    bin_days, min_patients
        Bin width in days; smallest number of patients for a bin to be shown.

    Returns
    -------
    pandas.DataFrame
        Columns ``day`` (bin centre), ``median``, ``patients``.

    Examples
    --------
    >>> f = pd.DataFrame({"patient_id": ["A", "A", "B"], "day": [0, 10, 5], "x_uln": [4.0, 2.0, 1.0]})
    >>> binned_median(f, min_patients=1).values.tolist()  # A: median(4, 2) = 3; median(3, 1) = 2
    [[15.0, 2.0, 2.0]]
    """
    days = as_float(frame[DAY])
    values = as_float(frame[X_ULN])
    ok = ~np.isnan(days) & ~np.isnan(values)
    work = pd.DataFrame({"patient": frame[PATIENT_ID].to_numpy()[ok],
                         "bin": np.floor(days[ok] / bin_days).astype(int), "x": values[ok]})
    per_patient = work.groupby(["bin", "patient"])["x"].median().reset_index()
    per_bin = per_patient.groupby("bin")["x"].agg(["median", "size"]).reset_index()
    per_bin = per_bin[per_bin["size"] >= min_patients]
    return pd.DataFrame({"day": (per_bin["bin"] * bin_days + bin_days / 2).astype(float).to_numpy(),
                         "median": per_bin["median"].astype(float).to_numpy(),
                         "patients": per_bin["size"].astype(float).to_numpy()})


def plot_cohort_spaghetti(data: pd.DataFrame, *, analyte: str, assessment: pd.DataFrame,
                          bin_days: int = 30, min_patients: int = 3, ax: Axes | None = None) -> Axes:
    """Every informative patient's ×ULN course as a thin grey line, with the binned median in bold.

    Parameters
    ----------
    data
        Flagged measurements with ``day``.
    analyte
        The analyte.
    assessment
        Decides which patients are informative (elevated at baseline) for ``analyte``.
    bin_days, min_patients
        Binning of the median line (see :func:`binned_median`).
    ax
        Axes to draw on; default ``plt.gca()``.

    Returns
    -------
    matplotlib.axes.Axes
        Patient lines have gid ``"patient:<id>"``; the median line gid ``"median"``.

    Examples
    --------
    >>> ax = plot_cohort_spaghetti(data, analyte="VMA", assessment=assessment)  # doctest: +SKIP
    """
    for col in (PATIENT_ID, ANALYTE, DAY, X_ULN):
        if col not in data.columns:
            raise MissingColumnError(f"data lacks column {col!r}: flag the measurements and add the timeline first.")
    if ax is None:
        import matplotlib.pyplot as plt  # notebooks only

        ax = plt.gca()
    keep = set(_informative(assessment, analyte)[PATIENT_ID].astype(str))
    rows = data[(data[ANALYTE] == analyte) & data[PATIENT_ID].astype(str).isin(keep)]
    rows = rows.sort_values([PATIENT_ID, sample_key(rows)], kind="stable")
    ends: list[tuple[str, float, float]] = []
    for pid, grp in rows.groupby(PATIENT_ID, sort=True):
        xv, yv = as_float(grp[DAY]), as_float(grp[X_ULN])
        ok = ~np.isnan(xv) & ~np.isnan(yv) & (yv > 0)
        ax.plot(xv[ok], yv[ok], color="#9A9A9A", linewidth=0.7, alpha=0.8, zorder=2,
                gid=f"patient:{pid}", label=f"_patient:{pid}")
        if ok.any():
            ends.append((str(pid), float(xv[ok][-1]), float(yv[ok][-1])))
    med = binned_median(rows, bin_days=bin_days, min_patients=min_patients)
    ax.plot(med["day"], med["median"], color="#000000", linewidth=2.5, marker="o", markersize=3, zorder=4,
            gid="median", label=f"median per {bin_days}-day bin (≥{min_patients} patients)")
    ax.axhline(1.0, color="#D55E00", linewidth=1.0, linestyle="--", zorder=3, gid="uln:1x", label="1× ULN")
    ax.set_yscale("log", nonpositive="mask")
    plain_log_axis(ax)
    panel_title(ax, f"{analyte}: {len(keep)} informative patients")
    ax.set_xlabel(DAY_AXIS_LABEL, fontsize=MIN_FONT + 1)
    ax.set_ylabel("× ULN (log)", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.legend(fontsize=MIN_FONT, loc="upper right", framealpha=0.85)
    if len(ends) <= MAX_END_LABELS:
        label_line_ends(ax, ends)
    return ax


#: Most patients whose lines are named at their ends (more would be a column of unreadable text).
MAX_END_LABELS = 40


def label_line_ends(ax: Axes, ends: Sequence[tuple[str, float, float]]) -> None:
    """Name each patient's line in the right margin, level with its last point, with a leader line.

    Labels are spread so that no two overlap (one text line apart at least), keeping the order
    of the line ends from top to bottom. Texts have gid ``"patient_label:<id>"``.
    """
    ax.autoscale_view()
    low, high = (np.log10(v) for v in ax.get_ylim())
    height_in = ax.get_position().height * ax.get_figure().get_figheight()
    step = 1.15 * MIN_FONT / 72 / max(height_in, 1e-6)  # one text line, in axes fractions
    placed = sorted(((np.log10(y) - low) / (high - low), pid, x, y) for pid, x, y in ends)
    spots: list[float] = []
    for frac, *_rest in placed:
        spots.append(max(frac, spots[-1] + step) if spots else frac)
    overflow = (spots[-1] - 1.0) if spots else 0.0
    if overflow > 0:  # pushed past the top: shift down, as far as the bottom allows
        spots = [max(s - overflow, i * step) for i, s in enumerate(spots)]
    for spot, (_frac, pid, x, y) in zip(spots, placed, strict=True):
        ax.annotate(pid, xy=(x, y), xycoords="data", xytext=(1.015, spot), textcoords="axes fraction",
                    fontsize=MIN_FONT, va="center", ha="left", color="#555555", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "#BBBBBB", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 1},
                    gid=f"patient_label:{pid}")


# -- swimmer -----------------------------------------------------------------------------------


def _sample_status(rows: pd.DataFrame, unconfirmed: np.ndarray | None = None
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Marker status per patient and sample day: any analyte elevated → elevated; all normal → normal.

    A sample elevated only in results flagged ``unconfirmed`` (see :func:`_unconfirmed_rows`) is
    ``"unconfirmed"``. One grouping of every patient's rows: ``{patient: (days ascending, statuses)}``.
    """
    elevated = rows[ELEVATED].astype("boolean")
    up = elevated.fillna(False).to_numpy(dtype=bool)
    soft = np.zeros(len(rows), dtype=bool) if unconfirmed is None else unconfirmed
    frame = pd.DataFrame({PATIENT_ID: rows[PATIENT_ID].astype(str).to_numpy(), DAY: as_float(rows[DAY]),
                          "up": up & ~soft, "soft": up & soft,
                          "down": (elevated == False).fillna(False).to_numpy(dtype=bool)})  # noqa: E712
    per = (frame.dropna(subset=[DAY]).groupby([PATIENT_ID, DAY], sort=True)
           .agg(up=("up", "any"), soft=("soft", "any"), down=("down", "all")).reset_index())
    per["status"] = np.where(per["up"], "elevated", np.where(per["soft"], "unconfirmed", np.where(
        per["down"], "normal", "indeterminate")))
    return {pid: (grp[DAY].to_numpy(dtype=float), grp["status"].to_numpy())
            for pid, grp in per.groupby(PATIENT_ID, sort=False)}


def _unconfirmed_rows(rows: pd.DataFrame, assessment: pd.DataFrame, data: pd.DataFrame) -> np.ndarray:
    """Results after their analyte's normalization and before its confirmed re-elevation, if any.

    The assessment calls a rise a re-elevation only once it is confirmed (markers.analysis.assess);
    the strip says the same: one elevated sample between normal ones is not drawn as elevated.
    """
    if "normalized_date" not in assessment.columns and "normalized_day" not in assessment.columns:
        return np.zeros(len(rows), dtype=bool)
    days = with_timeline_days(assessment, data)
    keys = pd.MultiIndex.from_arrays([days[PATIENT_ID].astype(str), days[ANALYTE].astype(str)])
    at = pd.MultiIndex.from_arrays([rows[PATIENT_ID].astype(str), rows[ANALYTE].astype(str)])

    def lookup(column: str) -> np.ndarray:
        if column not in days.columns:
            return np.full(len(rows), np.nan)
        table = pd.Series(as_float(days[column]), index=keys)
        table = table[~table.index.duplicated()]
        return table.reindex(at).to_numpy(dtype=float)

    normal, risen = lookup("normalized_day"), lookup("reelevation_day")
    day = as_float(rows[DAY])
    with np.errstate(invalid="ignore"):
        return (day > normal) & (day < np.where(np.isnan(risen), np.inf, risen))


def patient_outcomes(therapy: pd.DataFrame, patients: Sequence[str]) -> pd.Series:
    """Outcome of each patient for lane order: relapse, complete remission, or none recorded.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["A"], "event": ["relapse"], "event_date": [pd.Timestamp("2024-01-01")]})
    >>> patient_outcomes(t, ["A", "B"]).tolist()
    ['relapse', 'no remission recorded']
    """
    events = therapy.groupby(PATIENT_ID)[EVENT].agg(set) if len(therapy) else pd.Series(dtype=object)
    out = []
    for pid in patients:
        seen = events.get(pid, set())
        out.append("relapse" if "relapse" in seen else
                   "complete remission" if "complete_remission" in seen else "no remission recorded")
    return pd.Series(out, index=list(patients), name="outcome")


def _follow_up(rows: pd.DataFrame, ids: Sequence[str]) -> dict[str, float]:
    """Day of each patient's last sample (0 when none)."""
    last = pd.Series(as_float(rows[DAY]), index=rows[PATIENT_ID].astype(str).to_numpy()).groupby(level=0).max()
    return {pid: float(last.get(pid, 0.0)) if not pd.isna(last.get(pid, np.nan)) else 0.0 for pid in ids}


def lane_order(data: pd.DataFrame, *, therapy: pd.DataFrame, patients: Sequence[str]) -> list[str]:
    """Swimmer lanes top to bottom: by outcome (``OUTCOME_ORDER``), longest follow-up first, then ID.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": ["A", "B", "C"], "day": [50, 90, 10]})
    >>> t = pd.DataFrame({"patient_id": ["C"], "event": ["relapse"], "event_date": [pd.Timestamp("2024-01-01")]})
    >>> lane_order(d, therapy=t, patients=["A", "B", "C"])
    ['C', 'B', 'A']
    """
    ids = [str(p) for p in patients]
    outcomes = patient_outcomes(therapy, ids)
    spans = _follow_up(data, ids)
    rank = {o: i for i, o in enumerate(OUTCOME_ORDER)}
    return sorted(ids, key=lambda p: (rank[outcomes[p]], -spans[p], p))


def plot_swimmer(data: pd.DataFrame, *, therapy: pd.DataFrame, assessment: pd.DataFrame,
                 analytes: Sequence[str] | None = None, patients: Sequence[str] | None = None,
                 ax: Axes | None = None) -> Axes:
    """One lane per patient: therapy phases as bars, marker status as coloured segments, events as symbols.

    Lanes are sorted by outcome (``OUTCOME_ORDER``: relapse first, at the top), then by
    length of follow-up (longest first), then by ID. Each stretch of the status strip runs
    from a sample to the next one and has the colour of the opening sample's status (any
    chosen analyte elevated → elevated; all normal → normal; else indeterminate); the last
    sample gets a short stub.

    Parameters
    ----------
    data
        Flagged measurements with ``day`` and ``elevated``.
    therapy
        Therapy events.
    assessment
        Patients in the assessment are drawn (with ``patients`` to choose a subset).
    analytes
        Analytes whose status is shown; default all.
    patients
        Patients to draw (e.g. one page's share); default every patient in the assessment.
    ax
        Axes to draw on; default ``plt.gca()``.

    Returns
    -------
    matplotlib.axes.Axes
        Phase bars gid ``"phase:<id>:<phase>"``, status segments ``"status:<id>:<k>"``, event
        markers ``"event:<event>"``; y tick labels are the patient IDs, top lane first.

    Examples
    --------
    >>> ax = plot_swimmer(data, therapy=therapy, assessment=assessment)  # doctest: +SKIP
    """
    if ax is None:
        import matplotlib.pyplot as plt  # notebooks only

        ax = plt.gca()
    ids = list(dict.fromkeys(assessment[PATIENT_ID].astype(str))) if patients is None else [str(p) for p in patients]
    rows = data if analytes is None else data[data[ANALYTE].isin(list(analytes))]
    order = lane_order(rows, therapy=therapy, patients=ids)
    spans = _follow_up(rows, order)
    event_points: dict[str, tuple[list[float], list[float]]] = {e: ([], []) for e in EVENT_MARKERS}
    # One grouping per table for the page, not one scan of every table per lane; day 0 and the
    # day shift are looked up only for lanes with therapy events to place.
    on_page = rows[rows[PATIENT_ID].astype(str).isin(order)]
    statuses = _sample_status(on_page, _unconfirmed_rows(on_page, assessment, data)) \
        if ELEVATED in rows.columns else {}
    data_of, therapy_of = PatientRows(data), PatientRows(therapy)
    for lane, pid in enumerate(order):
        trow = rows_of(therapy_of(pid), pid)
        if trow is not None:
            own = data_of(pid)
            origin = time_origin(own, patient=pid, therapy=trow)
            shift = day_shift(own, patient=pid)
            for phase, start, stop in phase_spans(trow, x="day", origin=origin, x_end=spans[pid] or None,
                                                  shift=shift):
                ax.barh(lane, stop - start, left=start, height=0.7, color=PHASE_COLORS.get(phase, "#EEEEEE"),
                        edgecolor="none", zorder=1, gid=f"phase:{pid}:{phase}")
        if pid in statuses:
            days, states = statuses[pid]
            stub = max(2.0, 0.01 * max(spans.values() or [0.0]))
            for k, (day, state) in enumerate(zip(days, states, strict=True)):
                stop = days[k + 1] if k + 1 < len(days) else day + stub
                ax.barh(lane, stop - day, left=day, height=0.26, color=STATUS_COLORS[state], edgecolor="none",
                        zorder=2, gid=f"status:{pid}:{k}")
        if trow is not None:
            for event in EVENT_MARKERS:
                hits = trow[trow[EVENT] == event]
                days = x_positions(hits, EVENT_DATE, x="day", origin=origin, shift=shift) if len(hits) else None
                for d in [] if days is None else days[~np.isnan(days)]:
                    event_points[event][0].append(float(d))
                    event_points[event][1].append(float(lane))
    for event, (xs, ys) in event_points.items():
        ax.plot(xs, ys, linestyle="none", zorder=3, gid=f"event:{event}", label=EVENT_MARKERS[event][2],
                **event_style(event))
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels(order if len(order) <= 60 else [""] * len(order), fontsize=MIN_FONT)
    ax.set_ylim(len(order) - 0.5, -0.5)  # first lane at the top
    ax.set_xlabel(DAY_AXIS_LABEL, fontsize=MIN_FONT + 1)
    ax.tick_params(axis="x", labelsize=MIN_FONT)
    handles: list[Any] = [Patch(facecolor=c, label=p) for p, c in PHASE_COLORS.items()]
    names = ", ".join(analytes) if analytes is not None else ", ".join(
        a for a in ANALYTES if a in set(rows[ANALYTE].astype(str))) or "all analytes"
    handles += [Patch(facecolor=c, label=f"marker {STATUS_LABELS[s]}") for s, c in STATUS_COLORS.items()]
    handles += [Line2D([], [], linestyle="none", label=lab, **event_style(e))
                for e, (_m, _c, lab) in EVENT_MARKERS.items()]
    ax.legend(handles=handles, fontsize=MIN_FONT, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title=f"strip: marker status\n({names}: elevated\nwhen any is)", title_fontsize=MIN_FONT,
              alignment="left")
    return ax


# -- pages -------------------------------------------------------------------------------------


def _cohort_analytes(assessment: pd.DataFrame) -> list[str]:
    return [a for a in ANALYTES if len(_informative(assessment, a))]


def _page_header(fig: Figure, title: str, text: str, *, size: tuple[float, float]) -> None:
    fig.text(0.06, 0.975, title, fontsize=13, fontweight="bold", va="top")
    fig.text(0.06, 0.952, textwrap.fill(text, width=int((size[0] - 1) * 15)), fontsize=MIN_FONT, va="top")


def _table(fig: Figure, rect: tuple[float, float, float, float], cells: list[list[str]], header: list[str],
           *, title: str = "", gid: str = "") -> None:
    add_table(fig, rect, header, cells, header_colour="#E8E8E8", caption=title, gid=gid or None)


def _days_to_normal_cells(assessment: pd.DataFrame, analytes: Sequence[str],
                          data: pd.DataFrame | None = None) -> list[list[str]]:
    """Per patient: the day of normalization per analyte (or why none); since diagnosis given ``data``."""
    if data is not None:
        assessment = with_timeline_days(assessment, data)
    ids = assessment[PATIENT_ID].astype(str)
    first = assessment.assign(**{PATIENT_ID: ids}).drop_duplicates([PATIENT_ID, ANALYTE])
    found: dict[tuple[str, Any], str] = {}
    informative = first["informative"] if "informative" in first.columns else pd.Series(None, index=first.index)
    column = "normalized_day" if data is not None else "days_to_normalization"
    days = first[column] if column in first.columns else pd.Series(None, index=first.index)
    for pid, analyte, flag, day in zip(first[PATIENT_ID], first[ANALYTE], informative, days, strict=True):
        if flag is None or pd.isna(flag) or not bool(flag):
            found[(pid, analyte)] = "not informative"
        elif day is not None and not pd.isna(day):
            found[(pid, analyte)] = f"{int(day)}"
        else:
            found[(pid, analyte)] = "not normalized"
    return [[pid, *(found.get((pid, analyte), "") for analyte in analytes)] for pid in dict.fromkeys(ids)]


def iter_cohort_figures(data: pd.DataFrame, *, therapy: pd.DataFrame, assessment: pd.DataFrame,
                        page_size: str = "A4", lanes_per_page: int = 45,
                        only: int | None = None) -> Iterator[Figure]:
    """Cohort pages one at a time (see :func:`cohort_figures`); a generator keeps memory flat.

    ``only=k`` builds and yields page ``k`` (0-based) alone, so that a worker drawing one PNG
    does not build the pages before it.

    Each page uses the whole sheet: up to three analytes' spaghetti panels are stacked at full
    width (more go two a row, six a page); the time-to-normalization curve takes the upper half
    of its page, its table and the days to normalization of each patient the lower half; the
    swimmer plot's lanes are as tall as the page allows (0.18–0.6 inch each).
    """
    check_choice("page_size", page_size, tuple(PAGE_SIZES))
    size = PAGE_SIZES[page_size]
    analytes = _cohort_analytes(assessment)
    per_page = 6
    index = -1

    def wanted() -> bool:
        nonlocal index
        index += 1
        return only is None or index == only

    for first in range(0, max(len(analytes), 1), per_page):
        if not wanted():
            continue
        chunk = analytes[first:first + per_page]
        fig = Figure(figsize=size)
        _page_header(fig, "Cohort: marker course of informative patients",
                     "Informative = elevated at baseline. Thin grey: one patient, named at the end of its line; "
                     "bold: median of patient medians per 30-day bin with at least 3 patients.", size=size)
        n_rows, n_cols = (max(len(chunk), 1), 1) if len(chunk) <= 3 else (3, 2)
        # the right margin holds the patients' names at their lines' ends
        grid = fig.add_gridspec(n_rows, n_cols, left=0.1, right=0.86 if n_cols == 1 else 0.9, top=0.91, bottom=0.05,
                                hspace=0.28 if n_cols == 1 else 0.38, wspace=0.28)
        for k, analyte in enumerate(chunk):
            plot_cohort_spaghetti(data, analyte=analyte, assessment=assessment,
                                  ax=fig.add_subplot(grid[k // n_cols, k % n_cols]))
        if not chunk:
            fig.text(0.5, 0.5, "No informative patient: no marker was elevated at baseline.",
                     ha="center", fontsize=MIN_FONT + 2)
        yield fig

    if wanted():
        yield _normalization_page(assessment, therapy=therapy, data=data, analytes=analytes, size=size)
    if only is not None and index >= only:
        return  # the page asked for is done

    height = size[1]
    ordered = lane_order(data, therapy=therapy, patients=list(dict.fromkeys(assessment[PATIENT_ID].astype(str))))
    n_pages = max(1, -(-len(ordered) // lanes_per_page))
    for page in range(n_pages):
        if not wanted():
            continue
        share = ordered[page * lanes_per_page:(page + 1) * lanes_per_page]
        fig = Figure(figsize=size)
        suffix = f" ({page + 1}/{n_pages})" if n_pages > 1 else ""
        shown = ", ".join(a for a in ANALYTES if a in set(data[ANALYTE].astype(str)))
        _page_header(fig, f"Cohort: swimmer plot{suffix}",
                     "One lane per patient, sorted by outcome (relapse at the top), then by follow-up. Wide bars: "
                     f"therapy phases; narrow strip: marker status ({shown}: elevated when any is) from "
                     "each sample to the next; a rise after normalization that the assessment did not confirm "
                     "as a re-elevation is pale yellow.", size=size)
        # Lanes share the height between the caption and the x-axis label (0.91 − 0.05 of the page),
        # each 0.18 to 0.6 inch: tall enough to read, not so tall that a small cohort looks inflated.
        lane_in = min(0.6, max(0.18, (0.86 * height) / max(len(share), 1)))
        lane_h = min(0.86, lane_in * max(len(share), 1) / height)
        ax = fig.add_axes((0.13, 0.91 - lane_h, 0.6, lane_h))
        plot_swimmer(data, therapy=therapy, assessment=assessment, patients=share, ax=ax)
        yield fig


def _normalization_page(assessment: pd.DataFrame, *, therapy: pd.DataFrame, data: pd.DataFrame,
                        analytes: list[str], size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size)
    _page_header(fig, "Cohort: time to normalization",
                 "Kaplan–Meier estimate of the proportion of informative patients whose marker has returned to "
                 "normal, by day since diagnosis (day 0, as on every page); patients never normalized are censored at "
                 "their last sample.",
                 size=size)
    height = size[1]
    row_h = 0.22 / height  # one table row, in figure fractions
    ax = fig.add_axes((0.1, 0.53, 0.84, 0.37))
    plot_time_to_normalization(assessment, therapy=therapy, data=data, ax=ax)
    cells = []
    for analyte in analytes:
        curve = normalization_curve(assessment, analyte=analyte, therapy=therapy, data=data)
        med = median_days_to_normalization(curve)
        cells.append([analyte, str(int(curve["at_risk"].iloc[0])), str(int(curve["events"].sum())),
                      str(int(curve["censored"].sum())), "not reached" if np.isnan(med) else f"{med:.0f}"])
    top = 0.44
    if cells:
        h = row_h * (len(cells) + 1)
        _table(fig, (0.1, top - h, 0.84, h), cells, ["analyte", "informative", "normalized", "censored",
                                                     "median day"], gid="km_table")
        top -= h + 0.05
    per_patient = _days_to_normal_cells(assessment, analytes, data)
    fit = int((top - 0.04) / row_h) - 1
    if analytes and per_patient and fit >= 3:
        shown = per_patient[:fit]
        caption = "Day of normalization (days since diagnosis), per patient" + (
            f" (first {fit} of {len(per_patient)}; all in the summary table)" if len(per_patient) > fit else "")
        h = row_h * (len(shown) + 1)
        _table(fig, (0.1, top - h, 0.84, h), shown, ["patient", *analytes], title=caption, gid="days_table")
    return fig


def cohort_figures(data: pd.DataFrame, *, therapy: pd.DataFrame, assessment: pd.DataFrame,
                   page_size: str = "A4") -> list[Figure]:
    """The cohort pages: ×ULN spaghetti per analyte, time to normalization, swimmer plot(s).

    Parameters
    ----------
    data
        Flagged measurements with the timeline added.
    therapy
        Therapy events.
    assessment
        One row per patient × analyte.
    page_size
        ``"A4"`` or ``"Letter"``.

    Returns
    -------
    list of matplotlib.figure.Figure
        Pyplot-free figures, in page order.

    Examples
    --------
    >>> pages = cohort_figures(data, therapy=therapy, assessment=assessment)  # doctest: +SKIP
    """
    return list(iter_cohort_figures(data, therapy=therapy, assessment=assessment, page_size=page_size))
