"""Therapy on a trend plot: phase spans and their labels, milestone lines, baseline and nadir notes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from markers.plot.frames import x_positions
from markers.plot.style import (
    MILESTONE_EVENTS,
    MIN_FONT,
    PHASE_COLORS,
    PHASE_END_EVENTS,
    PHASE_SHORT,
    PHASE_START_EVENTS,
)
from markers.schema import (
    ANALYTE,
    EVENT,
    EVENT_DATE,
    EVENTS,
    X_ULN,
)

logger = logging.getLogger(__name__)


def phase_spans(therapy_rows: pd.DataFrame, *, x: str = "day", origin: pd.Timestamp | None = None,
                x_end: Any = None, shift: float = 0.0) -> list[tuple[str, Any, Any]]:
    """Therapy phases of one patient as ``(phase, start, stop)`` in x coordinates.

    A phase opens at one of ``PHASE_START_EVENTS`` and runs to the next phase boundary
    (another opening event, ``end_of_induction`` or ``last_follow_up``); the last open
    phase runs to ``x_end`` (e.g. the last sample). Events on one date are ordered as in
    ``markers.schema.EVENTS``.

    Parameters
    ----------
    therapy_rows
        One patient's therapy events (``event`` and ``event_date``, or ``event_day`` in
        pseudonymised tables).
    x
        ``"day"`` (days since ``origin``) or ``"date"``.
    origin
        Day 0 (needed when ``x="day"`` and the events are dated).
    x_end
        Where a phase with no closing event ends; ``None``: such a phase is not drawn.
    shift
        Added to ``event_day`` (see :func:`day_shift`); unused for dated events.

    Returns
    -------
    list of (str, start, stop)

    Examples
    --------
    >>> t = pd.DataFrame({"event": ["therapy_start", "end_of_induction"],
    ...                   "event_date": pd.to_datetime(["2024-01-05", "2024-04-01"])})
    >>> phase_spans(t, origin=pd.Timestamp("2024-01-01"))
    [('induction', 4.0, 91.0)]
    >>> phase_spans(pd.DataFrame({"event": ["therapy_start", "end_of_induction"], "event_day": [4, 91]}))
    [('induction', 4.0, 91.0)]
    """
    xs_all = x_positions(therapy_rows, EVENT_DATE, x=x, origin=origin, shift=shift)
    if xs_all is None:
        return []
    order = {name: i for i, name in enumerate(EVENTS)}
    events = pd.DataFrame({"event": therapy_rows[EVENT].to_numpy(), "pos": xs_all})
    events = events[events["event"].notna() & ~pd.isna(events["pos"])]
    events = events.assign(_o=events["event"].map(order).fillna(99)).sort_values(["pos", "_o"], kind="stable")
    boundaries = events[events["event"].isin(list(PHASE_START_EVENTS) + list(PHASE_END_EVENTS))]
    xs = boundaries["pos"].to_numpy()
    names = boundaries["event"].tolist()
    spans = []
    for i, event in enumerate(names):
        phase = PHASE_START_EVENTS.get(event)
        if phase is None:
            continue
        start = xs[i]
        stop = xs[i + 1] if i + 1 < len(names) else x_end
        if stop is None or pd.isna(start) or pd.isna(stop) or not stop > start:
            continue
        spans.append((phase, float(start), float(stop)) if x == "day" else (phase, start, stop))
    return spans


_EM_PER_CHAR = 0.62


def _axes_width_points(ax: Axes) -> float:
    return float(ax.get_position().width * ax.figure.get_figwidth() * 72.0)


def _text_points(text: str, fontsize: float) -> float:
    return len(text) * _EM_PER_CHAR * fontsize


def to_num(value: Any) -> float:
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        return float(pd.Timestamp(value).value / 8.64e13)  # days
    return float(value)


def place_phase_labels(spans: Sequence[tuple[str, Any, Any]], *, extent: float, width_pt: float,
                       fontsize: float = MIN_FONT) -> list[tuple[str, str, int]]:
    """Which label each phase span gets, and on which row, so that no two labels overlap.

    A label sits at the start of its span. The full name is used when it fits inside the
    span, else the short form (``PHASE_SHORT``); a span too narrow for either gets its short
    form on a second row (it may run past its span there, but not into another label); if
    that row is taken too, the span is not labelled (the legend names its colour).

    Parameters
    ----------
    spans
        ``(phase, start, stop)`` as from :func:`phase_spans`.
    extent
        Width of the x axis in data units (days).
    width_pt
        Width of the axes in points.
    fontsize
        Label size in points.

    Returns
    -------
    list of (phase, text, row)
        Row 0 is the top row; spans without a label are left out.

    Examples
    --------
    >>> spans = [("induction", 0, 100), ("consolidation", 100, 110), ("radiotherapy", 110, 120)]
    >>> place_phase_labels(spans, extent=200, width_pt=400)  # 2 pt per day: 20 pt is too narrow for "consol."
    [('induction', 'induction', 0), ('consolidation', 'consol.', 1), ('radiotherapy', 'RT', 0)]
    """
    if extent <= 0 or width_pt <= 0:
        return []
    per_day = width_pt / extent
    pad = 0.3 * fontsize  # the leading space of the label
    row_end = [-np.inf, -np.inf]  # where the last label of each row ends, in points
    placed: list[tuple[str, str, int]] = []
    origin = min((to_num(s) for _p, s, _e in spans), default=0.0)
    for phase, start, stop in spans:
        left = (to_num(start) - origin) * per_day
        room = (to_num(stop) - to_num(start)) * per_day
        short = PHASE_SHORT.get(phase, phase)
        choice = None
        for text in dict.fromkeys((phase, short)):
            need = _text_points(text, fontsize) + pad
            if need <= room and left >= row_end[0]:
                choice = (text, 0, need)
                break
        if choice is None:
            need = _text_points(short, fontsize) + pad
            if left >= row_end[1]:
                choice = (short, 1, need)
        if choice is None:
            continue
        text, row, need = choice
        row_end[row] = left + need
        placed.append((phase, text, row))
    return placed


def draw_phases(ax: Axes, therapy_rows: pd.DataFrame, *, x: str, origin: pd.Timestamp | None,
                 x_end: Any, shift: float = 0.0, x_start: Any = None) -> None:
    """Shade each therapy phase from its opening event to the next phase boundary, labels not overlapping."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    spans = phase_spans(therapy_rows, x=x, origin=origin, x_end=x_end, shift=shift)
    for phase, start, stop in spans:
        ax.axvspan(start, stop, facecolor=PHASE_COLORS.get(phase, "#EEEEEE"), edgecolor="none",
                   zorder=0, gid=f"phase:{phase}", label=f"_phase:{phase}")
    if not spans:
        return
    low = min([to_num(s) for _p, s, _e in spans] + ([to_num(x_start)] if x_start is not None else []))
    high = max([to_num(e) for _p, _s, e in spans] + ([to_num(x_end)] if x_end is not None else []))
    # The axis ends up ~8 % wider than the drawn range (ax.margins(x=0.04) on each side).
    extent = (high - low) * 1.08
    starts = {phase: start for phase, start, _e in spans}
    row_height = 1.35 * MIN_FONT / 72.0 / max(ax.get_position().height * ax.figure.get_figheight(), 1e-6)
    for phase, text, row in place_phase_labels(spans, extent=extent, width_pt=_axes_width_points(ax)):
        ax.text(starts[phase], 0.985 - row * row_height, f" {text}", transform=trans, ha="left", va="top",
                fontsize=MIN_FONT, color="#555555", clip_on=True, gid=f"phase_label:{phase}")


def draw_milestones(ax: Axes, therapy_rows: pd.DataFrame, *, x: str, origin: pd.Timestamp | None,
                     shift: float = 0.0) -> None:
    """Dashed vertical lines at surgery, complete remission and relapse."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    rows = therapy_rows[therapy_rows[EVENT].isin(list(MILESTONE_EVENTS))]
    xs = x_positions(rows, EVENT_DATE, x=x, origin=origin, shift=shift)
    if xs is None:
        return
    for event, pos in zip(rows[EVENT], xs, strict=True):
        if pd.isna(pos):
            continue
        label, color = MILESTONE_EVENTS[event]
        ax.axvline(pos, linestyle="--", linewidth=1.0, color=color, zorder=1, gid=f"event:{event}",
                   label=f"_event:{event}")
        # Above the data points (zorder 4) on a pale box: a point never hides the label.
        ax.text(pos, 0.03, label, transform=trans, rotation=90, ha="right", va="bottom",
                fontsize=MIN_FONT, color=color, gid=f"event_label:{event}", zorder=6,
                bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def annotate_extremes(ax: Axes, assessment_rows: pd.DataFrame, analytes: Sequence[str], *, x: str,
                       y: str, origin: pd.Timestamp | None, shift: float = 0.0,
                       x_range: tuple[float, float] | None = None) -> None:
    """Annotate each analyte's baseline and nadir (from the assessment) on the plot.

    Analytes whose baseline (or nadir) falls on the same sample share one label, with a
    leader line to each point: two "baseline" words stacked on day 0 only repeat each other.
    A label near the right end of the axis goes to the left of its point, inside the axes.
    A nadir is a response's lowest point: it is noted only for an informative analyte
    (elevated at baseline); a course that was never elevated has none to tell.
    """
    rows = assessment_rows[assessment_rows[ANALYTE].isin(list(analytes))]
    informative = rows["informative"].astype("boolean").fillna(False).to_numpy(dtype=bool) \
        if "informative" in rows.columns else np.ones(len(rows), dtype=bool)
    order = {a: i for i, a in enumerate(analytes)}
    rows = rows.assign(_o=rows[ANALYTE].map(order)).sort_values("_o", kind="stable")
    for which, dy in (("baseline", 10), ("nadir", -12)):
        level_col = f"{which}_x_uln" if y == X_ULN else f"{which}_value"
        if level_col not in rows.columns:
            continue
        pos = x_positions(rows, f"{which}_date", x=x, origin=origin, shift=shift)
        if pos is not None and which == "nadir":
            pos = np.where(informative, pos, np.nan) if x == "day" else \
                np.where(informative, pos, np.datetime64("NaT"))
        if pos is None:
            continue
        groups: dict[Any, list[tuple[str, float]]] = {}
        for analyte, at, level in zip(rows[ANALYTE], pos, rows[level_col], strict=True):
            if pd.isna(at) or level is None or pd.isna(level) or float(level) <= 0:
                continue
            groups.setdefault(at, []).append((str(analyte), float(level)))
        for at, points in groups.items():
            # The label goes by the highest point (baseline) or the lowest (nadir), off the lines.
            points.sort(key=lambda p: -p[1] if which == "baseline" else p[1])
            right = x_range is not None and to_num(at) > x_range[0] + 0.85 * (x_range[1] - x_range[0])
            dx, ha = (-8, "right") if right else (8, "left")
            analyte, level = points[0]
            label = ax.annotate(which, xy=(at, level), xytext=(dx, dy), textcoords="offset points",
                                ha=ha, va="center", fontsize=MIN_FONT, color="#333333",
                                arrowprops={"arrowstyle": "-", "linewidth": 0.6, "color": "#666666"},
                                gid=f"{which}:{analyte}")
            for other, other_level in points[1:]:
                # Leader line only, from the shared label (its near side, half-way up).
                ax.annotate("", xy=(at, other_level), xytext=(1.0 if right else 0.0, 0.5), textcoords=label,
                            arrowprops={"arrowstyle": "-", "linewidth": 0.6, "color": "#666666"},
                            gid=f"{which}:{other}")
