"""The axes-level trend plot: one patient's markers over time on a log scale."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from markers.errors import MissingColumnError
from markers.plot.axes import plain_log_axis
from markers.plot.days import DAY_AXIS_LABEL, FIRST_SAMPLE_AXIS_LABEL, anchored_on_first_sample
from markers.plot.events import annotate_extremes, draw_milestones, draw_phases, to_num
from markers.plot.frames import (
    as_float,
    check_choice,
    day_column,
    day_shift,
    patient_rows,
    require_columns,
    rows_of,
    sample_key,
    time_origin,
    x_positions,
)
from markers.plot.style import (
    ANALYTE_COLORS,
    ANALYTE_MARKERS,
    CENSOR_MARKERS,
    GRADE_COLORS,
    GRADE_CUTOFFS,
    MIN_FONT,
    X_CHOICES,
    Y_CHOICES,
)
from markers.plot.uln import uln_steps
from markers.schema import (
    ANALYTE,
    ANALYTES,
    CENSOR,
    DATE_OF_BIRTH,
    DAY,
    EVENT,
    EVENT_DATE,
    GRADE,
    PATIENT_ID,
    SAMPLE_DATE,
    ULN,
    UNIT,
    VALUE,
    X_ULN,
)

logger = logging.getLogger(__name__)


def check_trend_columns(data: pd.DataFrame, *, x: str, y: str) -> None:
    check_choice("x", x, X_CHOICES)
    check_choice("y", y, Y_CHOICES)
    if x == "date" and SAMPLE_DATE not in data.columns and day_column(SAMPLE_DATE) in data.columns:
        raise MissingColumnError(
            f"data has no {SAMPLE_DATE!r}: it is pseudonymised (days, not dates); plot it with x='day'.")
    needed = [PATIENT_ID, ANALYTE, X_ULN if y == "x_uln" else VALUE, DAY if x == "day" else SAMPLE_DATE]
    require_columns(data, needed, what="data", hint="flag the measurements (markers.analysis.flags.flag) and add the "
                                                     "timeline (markers.analysis.timeline.add_timeline) first.")


#: How the legend names each analyte's point symbol.
MARKER_NAMES: dict[str, str] = {"o": "circles", "s": "squares", "D": "diamonds", "P": "plus signs", "X": "crosses",
                                "h": "hexagons", "p": "pentagons", "*": "stars"}

#: Opacity of the grade bands, the same in the plot and its legend.
BAND_ALPHA = 0.18


def analyte_legend_handles(analytes: Sequence[str]) -> list[Line2D]:
    """Proxy artists naming each analyte's line colour and point symbol: ``"VMA (circles)"``.

    Examples
    --------
    >>> [h.get_label() for h in analyte_legend_handles(["VMA", "HVA"])]
    ['VMA (circles)', 'HVA (squares)']
    """
    handles = []
    for analyte in analytes:
        marker = ANALYTE_MARKERS.get(analyte, "o")
        color = ANALYTE_COLORS.get(analyte, "#555555")
        handles.append(Line2D([], [], color=color, linewidth=1.4, marker=marker, markersize=6,
                              markerfacecolor="white", markeredgecolor="#333333", markeredgewidth=0.8,
                              label=f"{analyte} ({MARKER_NAMES.get(marker, marker)})"))
    return handles


def band_legend_handles(grade_cutoffs: tuple[float, float] = GRADE_CUTOFFS) -> list[Patch]:
    """Proxy artists of the shaded grade bands: ``"1–2× ULN (mild)"``, ``"2–3× ULN (moderate)"``."""
    mild, moderate = grade_cutoffs
    return [Patch(facecolor=GRADE_COLORS["mild"], alpha=BAND_ALPHA, edgecolor="none", label=f"1–{mild:g}× ULN (mild)"),
            Patch(facecolor=GRADE_COLORS["moderate"], alpha=BAND_ALPHA, edgecolor="none",
                  label=f"{mild:g}–{moderate:g}× ULN (moderate)")]


def grade_legend_handles(grades: Sequence[str] = ("normal", "mild", "moderate", "marked", "indeterminate")
                         ) -> list[Line2D]:
    """Proxy artists for a legend of grade colours and the censored-result markers."""
    handles = [Line2D([], [], linestyle="none", marker="o", markersize=6, markerfacecolor=GRADE_COLORS[g],
                      markeredgecolor="#333333", markeredgewidth=0.5, label=g.replace("_", " "))
               for g in grades]
    handles.append(Line2D([], [], linestyle="none", marker="v", markersize=6, markerfacecolor="none",
                          markeredgecolor="#333333", label="< limit (censored)"))
    handles.append(Line2D([], [], linestyle="none", marker="^", markersize=6, markerfacecolor="none",
                          markeredgecolor="#333333", label="> limit (censored)"))
    return handles


def plot_marker_trend(
    data: pd.DataFrame,
    *,
    patient: str,
    analytes: Sequence[str] | None = None,
    x: str = "day",
    y: str = "x_uln",
    therapy: pd.DataFrame | None = None,
    patients: pd.DataFrame | None = None,
    assessment: pd.DataFrame | None = None,
    grade_cutoffs: tuple[float, float] = GRADE_CUTOFFS,
    legend: bool = True,
    ax: Axes | None = None,
    **line_kws: Any,
) -> Axes:
    """Plot one patient's markers over time on a log scale.

    One line per analyte; each point is coloured by its grade; censored results are
    open triangles pointing the way the true value lies (``v`` for ``<``, ``^`` for
    ``>``). Therapy phases are shaded, surgery / complete remission / relapse are dashed
    vertical lines, and the assessment's baseline and nadir are annotated.

    Parameters
    ----------
    data
        Flagged measurements (``markers.analysis.flags.flag`` then ``markers.analysis.timeline.add_timeline``).
    patient
        The patient to plot.
    analytes
        Analytes to draw, in order; default every analyte the patient has.
    x
        ``"day"`` (days since diagnosis) or ``"date"`` (sample date).
    y
        ``"x_uln"`` (multiples of the age-specific ULN, with a line at 1× and light bands
        up to the grade cut-offs) or ``"value"`` (in the data's unit, with each analyte's
        ULN drawn as a step line that changes where the age band changes).
    therapy, patients, assessment
        Optional tables for phases and events, the date of birth, and baseline/nadir.
    grade_cutoffs
        The ×ULN limits of the mild and moderate bands.
    legend
        Draw a legend of analytes and grades.
    ax
        Axes to draw on; default ``plt.gca()``.
    **line_kws
        Passed to ``Axes.plot`` for each analyte line (e.g. ``linewidth``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    MissingColumnError
        ``data`` lacks a needed column (e.g. ``x_uln`` before flagging).
    ConfigError
        Unknown patient, or ``x``/``y`` not one of the choices.

    Examples
    --------
    >>> ax = plot_marker_trend(data, patient="P001", therapy=therapy)  # doctest: +SKIP
    """
    check_trend_columns(data, x=x, y=y)
    if ax is None:
        import matplotlib.pyplot as plt  # only for notebooks: library figures never touch pyplot

        ax = plt.gca()
    course = Course.of(data, patient=patient, analytes=analytes, x=x, therapy=therapy, patients=patients,
                        assessment=assessment)
    draw_course(ax, course, y=y, grade_cutoffs=grade_cutoffs, line_kws=line_kws)
    if legend:
        uln = [h for h in ax.get_lines() if (h.get_gid() or "").startswith("uln:") and h.get_label()[:1] != "_"]
        bands = band_legend_handles(grade_cutoffs) if y == "x_uln" else []
        # Outside the axes, right of them: a legend never sits on the data.
        ax.legend(handles=analyte_legend_handles(course.analytes) + uln + bands + grade_legend_handles(),
                  fontsize=MIN_FONT, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  frameon=False)
    return ax


@dataclass(frozen=True)
class Course:
    """One patient's samples per analyte, with what places them in time: made once for both panels."""

    rows: pd.DataFrame
    x: str
    analytes: list[str]
    series: dict[str, pd.DataFrame]  # each chosen analyte's rows in sample order
    origin: pd.Timestamp | None
    shift: float
    date_of_birth: Any
    therapy: pd.DataFrame | None
    assessment: pd.DataFrame | None
    #: The first sample's date when it is day 0 (no diagnosis date or treatment event to anchor on).
    first_sample: pd.Timestamp | None = None

    @classmethod
    def of(cls, data: pd.DataFrame, *, patient: str, analytes: Sequence[str] | None, x: str,
           therapy: pd.DataFrame | None, patients: pd.DataFrame | None,
           assessment: pd.DataFrame | None) -> Course:
        rows, first = anchored_on_first_sample(patient_rows(data, patient)) if x == "day" \
            else (patient_rows(data, patient), None)
        present = [a for a in ANALYTES if a in set(rows[ANALYTE])] + sorted(
            set(rows[ANALYTE].astype(str)) - set(ANALYTES))
        chosen = list(analytes) if analytes is not None else present
        prow = rows_of(patients, patient)
        dob = None
        if prow is not None and DATE_OF_BIRTH in prow.columns:
            dobs = pd.to_datetime(prow[DATE_OF_BIRTH]).dropna()
            dob = dobs.iloc[0] if len(dobs) else None
        # Sorted once, then split: the same order as sorting each analyte's rows (the sort is stable).
        ordered = rows.sort_values(sample_key(rows), kind="stable")
        names = ordered[ANALYTE].to_numpy()
        return cls(rows=rows, x=x, analytes=chosen, series={a: ordered[names == a] for a in chosen},
                   origin=time_origin(rows, patient=patient, patients=patients, therapy=therapy),
                   shift=day_shift(rows, patient=patient), date_of_birth=dob, therapy=rows_of(therapy, patient),
                   assessment=rows_of(assessment, patient), first_sample=first)


def draw_course(ax: Axes, course: Course, *, y: str, grade_cutoffs: tuple[float, float] = GRADE_CUTOFFS,
                 line_kws: dict[str, Any] | None = None, annotate: bool = True) -> None:
    """One panel of :func:`plot_marker_trend`: lines, graded points, ULN steps, bands, phases, notes."""
    x, origin, shift = course.x, course.origin, course.shift
    y_col = X_ULN if y == "x_uln" else VALUE
    x_col = DAY if x == "day" else SAMPLE_DATE
    x_max: Any = None
    x_min: Any = None
    y_seen: list[float] = [1.0] if y == "x_uln" else []
    for analyte in course.analytes:
        sub = course.series[analyte]
        yv = as_float(sub[y_col])
        xv = sub[x_col].to_numpy() if x == "date" else as_float(sub[x_col])
        ok = ~np.isnan(yv) & ~pd.isna(xv)
        if not ok.any():
            continue
        sub, xv, yv = (sub, xv, yv) if ok.all() else (sub[ok], xv[ok], yv[ok])
        color = ANALYTE_COLORS.get(analyte, "#555555")
        kws = {"color": color, "linewidth": 1.4, "zorder": 3} | (line_kws or {})
        ax.plot(xv, yv, label=analyte, gid=f"trend:{analyte}", **kws)
        x_max = xv.max() if x_max is None else max(x_max, xv.max())
        x_min = xv.min() if x_min is None else min(x_min, xv.min())
        y_seen.extend(yv[yv > 0].tolist())
        _draw_points(ax, sub, xv, yv, analyte=analyte)
        if y == "value" and ULN in sub.columns:
            sx, sy = uln_steps(sub, x=x, date_of_birth=course.date_of_birth)
            if len(sx):
                # one sample: a step of no length would not show; a short dash at the limit does
                dash = {"marker": "_", "markersize": 14} if len(sx) == 1 else {}
                if len(sx) == 1:  # and in view
                    y_seen.extend(float(v) for v in np.asarray(sy, dtype=float) if v > 0)
                ax.plot(sx, sy, drawstyle="steps-post", linestyle=":", linewidth=1.3, color=color, zorder=2,
                        label=f"{analyte} ULN", gid=f"uln:{analyte}", **dash)

    ax.set_yscale("log", nonpositive="mask")
    if y_seen:
        # Head room above the highest point keeps phase labels and the baseline note off the data.
        ax.set_ylim(min(y_seen) / 1.6, max(y_seen) * 2.5)
    plain_log_axis(ax)
    _draw_reference(ax, course, y=y, grade_cutoffs=grade_cutoffs)
    _draw_therapy(ax, course, x_min=x_min, x_max=x_max)
    arow = course.assessment
    if annotate and arow is not None:
        x_range = (to_num(x_min), to_num(x_max)) if x_min is not None and x_max is not None else None
        annotate_extremes(ax, arow, course.analytes, x=x, y=y, origin=origin, shift=shift, x_range=x_range)

    ax.margins(x=0.04)
    if x == "day" and x_min is not None and x_max is not None and x_max - x_min < 1:
        lo, hi = ax.get_xlim()
        if hi - lo < 2:  # one day and nothing else in time: whole days around it, not fractions of one
            ax.set_xlim(x_min - 10, x_max + 10)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    day_label = FIRST_SAMPLE_AXIS_LABEL if course.first_sample is not None else DAY_AXIS_LABEL
    ax.set_xlabel(day_label if x == "day" else "sample date", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.grid(True, which="major", axis="y", color="#E5E5E5", linewidth=0.6, zorder=0)


def _draw_points(ax: Axes, sub: pd.DataFrame, xv: np.ndarray, yv: np.ndarray, *, analyte: str) -> None:
    """One analyte's points, one artist per grade and censoring: filled symbols, open triangles if censored."""
    censor = sub[CENSOR].fillna("").astype(str).to_numpy() if CENSOR in sub.columns else np.full(len(sub), "")
    grade = sub[GRADE].fillna("indeterminate").astype(str).to_numpy() if GRADE in sub.columns \
        else np.full(len(sub), "indeterminate")
    for g in dict.fromkeys(grade):
        for c in dict.fromkeys(censor):
            mask = (grade == g) & (censor == c)
            if not mask.any():
                continue
            gcol = GRADE_COLORS.get(g, "#999999")
            if c in CENSOR_MARKERS:
                style = {"marker": CENSOR_MARKERS[c], "markerfacecolor": "none", "markeredgecolor": gcol,
                         "markeredgewidth": 1.6, "markersize": 8}
            else:
                style = {"marker": ANALYTE_MARKERS.get(analyte, "o"), "markerfacecolor": gcol,
                         "markeredgecolor": "#333333", "markeredgewidth": 0.5, "markersize": 6}
            ax.plot(xv[mask], yv[mask], linestyle="none", zorder=4, gid=f"points:{analyte}:{g}:{c}",
                    label=f"_points:{analyte}:{g}:{c}", **style)


def _draw_reference(ax: Axes, course: Course, *, y: str, grade_cutoffs: tuple[float, float]) -> None:
    """The ×ULN panel's 1× line and grade bands, or the value panel's unit label."""
    if y == "x_uln":
        mild, moderate = grade_cutoffs
        ax.axhspan(1.0, mild, facecolor=GRADE_COLORS["mild"], alpha=BAND_ALPHA, edgecolor="none", zorder=0.5,
                   gid="band:mild", label="_band:mild")
        ax.axhspan(mild, moderate, facecolor=GRADE_COLORS["moderate"], alpha=BAND_ALPHA, edgecolor="none",
                   zorder=0.5, gid="band:moderate", label="_band:moderate")
        ax.axhline(1.0, color="#333333", linewidth=1.1, zorder=2, gid="uln:1x", label="_1× ULN")
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        ax.text(0.005, 1.0, "1× ULN", transform=trans, ha="left", va="bottom", fontsize=MIN_FONT,
                color="#333333", gid="uln_label")
        ax.set_ylabel("× upper limit of normal (log)", fontsize=MIN_FONT + 1)
    else:
        rows = course.rows
        unit = str(rows[UNIT].iloc[0]) if UNIT in rows.columns and len(rows) else ""
        ax.set_ylabel(f"{unit} (log)" if unit else "value (log)", fontsize=MIN_FONT + 1)


def _draw_therapy(ax: Axes, course: Course, *, x_min: Any, x_max: Any) -> None:
    """Therapy phases up to the last sample or follow-up, and the milestone lines."""
    x, origin, shift = course.x, course.origin, course.shift
    trow = course.therapy
    if trow is not None:
        if x_max is not None:
            ax.autoscale_view()
        x_end = x_max
        ends = trow[trow[EVENT] == "last_follow_up"]
        end_x = x_positions(ends, EVENT_DATE, x=x, origin=origin, shift=shift) if len(ends) else None
        if end_x is not None and x_max is not None and (~pd.isna(end_x)).any():
            x_end = max(x_max, np.nanmax(end_x)) if x == "day" else max(x_max, pd.Series(end_x).max())
        draw_phases(ax, trow, x=x, origin=origin, x_end=x_end, shift=shift, x_start=x_min)
        draw_milestones(ax, trow, x=x, origin=origin, shift=shift)
