"""The swimmer plot: one lane per patient with therapy phases, marker status and events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from markers.plot.days import DAY_AXIS_LABEL, with_timeline_days
from markers.plot.events import phase_spans
from markers.plot.frames import (
    PatientRows,
    as_float,
    day_shift,
    rows_of,
    time_origin,
    x_positions,
)
from markers.plot.style import MIN_FONT, PHASE_COLORS
from markers.schema import ANALYTE, ANALYTES, DAY, ELEVATED, EVENT, EVENT_DATE, PATIENT_ID

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
