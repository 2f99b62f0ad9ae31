"""Per-patient marker plots: an axes-level trend plot and a one-page figure.

Two levels, as in seaborn: :func:`plot_marker_trend` draws on one ``Axes``
(the one passed, or ``plt.gca()`` for notebooks) and returns it;
:func:`patient_figure` builds a whole page on a ``matplotlib.figure.Figure``
that is never registered with pyplot, so a report of a thousand patients does
not accumulate open figures. Nothing here saves or shows a figure: writing is
:mod:`markers.report`'s job.

Artists carry ``gid``s and labels so that tests and users can find them:

==========================  ===================================================
artist                      gid / label
==========================  ===================================================
analyte line                label ``"VMA"``, gid ``"trend:VMA"``
points of one grade         gid ``"points:VMA:moderate:"`` (censor last: ``<``)
age-specific ULN steps      label ``"VMA ULN"``, gid ``"uln:VMA"``
1× ULN line                 gid ``"uln:1x"``; grade bands ``"band:mild"`` ...
therapy phase span          gid ``"phase:induction"``
surgery / CR / relapse      gid ``"event:surgery"`` (dashed vertical line)
baseline / nadir            annotation text ``"baseline"``, gid ``"baseline:VMA"``
==========================  ===================================================
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory

from markers.errors import ConfigError, MissingColumnError
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    AGE_DAYS,
    ANALYTE,
    ANALYTES,
    CENSOR,
    DATE_OF_BIRTH,
    DAY,
    DIAGNOSIS_DATE,
    EVENT,
    EVENT_DATE,
    EVENTS,
    GRADE,
    PATIENT_ID,
    SAMPLE_DATE,
    SEX,
    ULN,
    UNIT,
    VALUE,
    X_ULN,
)

logger = logging.getLogger(__name__)

#: Page sizes in inches (width, height), portrait.
PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}

#: Smallest font used on a page (points): legible when an A4 page is printed.
MIN_FONT = 8

#: Grade colours: the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies.
GRADE_COLORS: dict[str, str] = {
    "normal": "#009E73",  # bluish green
    "mild": "#F0E442",  # yellow
    "moderate": "#E69F00",  # orange
    "marked": "#D55E00",  # vermillion
    "indeterminate": "#999999",  # grey
    "no_reference": "#CCCCCC",  # light grey
}

#: Line colour of each analyte (Okabe–Ito and Tol colours not used for grades).
ANALYTE_COLORS: dict[str, str] = {
    "VMA": "#0072B2",
    "HVA": "#CC79A7",
    "DA": "#56B4E9",
    "3MT": "#332288",
    "NE": "#882255",
    "E": "#44AA99",
    "NMN": "#000000",
    "MN": "#777777",
}

#: Marker of each analyte's uncensored points; "v" and "^" are kept for censored results.
ANALYTE_MARKERS: dict[str, str] = {
    "VMA": "o",
    "HVA": "s",
    "DA": "D",
    "3MT": "P",
    "NE": "X",
    "E": "h",
    "NMN": "p",
    "MN": "*",
}

#: Marker of a censored result: it points the way the true value lies.
CENSOR_MARKERS: dict[str, str] = {"<": "v", ">": "^"}

#: Grade cut-offs in multiples of the ULN drawn as bands: mild is ULN–2×, moderate 2–3×, marked ≥ 3×
#: (< 2× ULN is "usually physiological", ≥ 3× "increased probability of a tumour", domain facts §4 [S16]).
GRADE_CUTOFFS: tuple[float, float] = (2.0, 3.0)

#: Therapy events that open a phase, and the phase's name (the span's gid is ``phase:<name>``).
PHASE_START_EVENTS: dict[str, str] = {
    "therapy_start": "induction",
    "consolidation": "consolidation",
    "radiotherapy": "radiotherapy",
    "maintenance": "maintenance",
    "end_of_therapy": "off-therapy",
}

#: Events that close the running phase without opening another.
PHASE_END_EVENTS: tuple[str, ...] = ("end_of_induction", "last_follow_up")

#: Fill colour of each phase span (pale, so points stay readable on top).
PHASE_COLORS: dict[str, str] = {
    "induction": "#D0E2F2",
    "consolidation": "#EED6E6",
    "radiotherapy": "#F8DFB8",
    "maintenance": "#D3EDDF",
    "off-therapy": "#E4E4E4",
}

#: Events drawn as dashed vertical lines, with their label and colour.
MILESTONE_EVENTS: dict[str, tuple[str, str]] = {
    "surgery": ("surgery", "#444444"),
    "complete_remission": ("CR", "#009E73"),
    "relapse": ("relapse", "#D55E00"),
}

_X_CHOICES = ("day", "date")
_Y_CHOICES = ("x_uln", "value")


# -- small helpers -------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str, hint: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{what} lacks column(s) {', '.join(repr(c) for c in missing)}: {hint}")


def _as_float(series: pd.Series) -> np.ndarray:
    """Nullable numbers (Int64, Float64, object) as a float array with NaN for missing."""
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def plain_log_axis(ax: Axes) -> None:
    """Label a log y axis with plain numbers (0.5, 1, 2, 10) rather than powers of ten."""

    def minor(value: float, _pos: int) -> str:
        # Minor ticks are labelled (2, 3, 5 × 10^k) only when the axis spans little more than a
        # decade: otherwise there are majors enough and labels would collide.
        low, high = ax.get_ylim()
        if value <= 0 or low <= 0 or high / low > 15:
            return ""
        lead = value / 10 ** np.floor(np.log10(value))
        return f"{value:g}" if round(lead) in (2, 3, 5) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    ax.tick_params(axis="y", which="minor", labelsize=MIN_FONT)


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}.")


def _patient_rows(data: pd.DataFrame, patient: str) -> pd.DataFrame:
    rows = data[data[PATIENT_ID].astype(str) == str(patient)]
    if rows.empty:
        known = sorted(data[PATIENT_ID].astype(str).unique())
        sample = ", ".join(known[:5]) + (" ..." if len(known) > 5 else "")
        raise ConfigError(
            f"Patient {patient!r} has no measurements in the data. Known patients: {sample or 'none'}; "
            "check the ID (IDs are compared as text)."
        )
    return rows


def _rows_of(frame: pd.DataFrame | None, patient: str) -> pd.DataFrame | None:
    if frame is None or frame.empty or PATIENT_ID not in frame.columns:
        return None
    rows = frame[frame[PATIENT_ID].astype(str) == str(patient)]
    return rows if len(rows) else None


def time_origin(
    data: pd.DataFrame,
    *,
    patient: str,
    patients: pd.DataFrame | None = None,
    therapy: pd.DataFrame | None = None,
) -> pd.Timestamp | None:
    """The date that is day 0 of a patient's timeline.

    Taken from the data itself (``sample_date − day``) so that events line up with the
    samples exactly as the timeline module placed them; else the diagnosis date from
    ``patients``; else the ``diagnosis`` or ``therapy_start`` event.

    Parameters
    ----------
    data
        Measurements with ``sample_date`` and (optionally) ``day``.
    patient
        Patient ID.
    patients, therapy
        Optional patients and therapy-event tables.

    Returns
    -------
    pandas.Timestamp or None
        ``None`` when nothing dates day 0.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": ["P1"], "sample_date": pd.to_datetime(["2024-01-11"]),
    ...                   "day": pd.array([10], dtype="Int64")})
    >>> time_origin(d, patient="P1")
    Timestamp('2024-01-01 00:00:00')
    """
    rows = _rows_of(data, patient)
    if rows is not None and DAY in rows.columns and SAMPLE_DATE in rows.columns:
        days = _as_float(rows[DAY])
        ok = ~np.isnan(days)
        if ok.any():
            dates = pd.to_datetime(rows[SAMPLE_DATE]).to_numpy()[ok]
            origins = pd.DatetimeIndex(dates) - pd.to_timedelta(days[ok], unit="D")
            return pd.Timestamp(origins[0]).normalize()
    prow = _rows_of(patients, patient)
    if prow is not None and DIAGNOSIS_DATE in prow.columns:
        dx = pd.to_datetime(prow[DIAGNOSIS_DATE]).dropna()
        if len(dx):
            return pd.Timestamp(dx.iloc[0])
    trow = _rows_of(therapy, patient)
    if trow is not None:
        for event in ("diagnosis", "therapy_start"):
            dates = pd.to_datetime(trow.loc[trow[EVENT] == event, EVENT_DATE]).dropna()
            if len(dates):
                return pd.Timestamp(dates.min())
    return None


def _x_of_dates(dates: pd.Series | pd.DatetimeIndex, *, x: str, origin: pd.Timestamp | None) -> np.ndarray | None:
    """Event/assessment dates as x positions (days since origin, or the dates themselves)."""
    dates = pd.to_datetime(pd.Series(dates)).reset_index(drop=True)
    if x == "date":
        return dates.to_numpy()
    if origin is None:
        return None
    return ((dates - origin).dt.days).astype("float64").to_numpy(na_value=np.nan)


def format_age(days: float | int | None, *, date_of_birth: pd.Timestamp | None = None,
               on: pd.Timestamp | None = None) -> str:
    """Age as a paediatrician writes it: ``"12 days"``, ``"4 months"``, ``"3 y 2 mo"``.

    With both dates given, months are counted on the calendar (completed months);
    otherwise from ``days`` with a mean month of 365.25/12 days.

    Parameters
    ----------
    days
        Age in completed days (``None``/NaN: unknown).
    date_of_birth, on
        Optional dates for an exact calendar count.

    Returns
    -------
    str
        ``""`` when the age is unknown.

    Examples
    --------
    >>> format_age(125)
    '4 months'
    >>> format_age(None, date_of_birth=pd.Timestamp("2020-01-15"), on=pd.Timestamp("2023-03-20"))
    '3 y 2 mo'
    """
    if date_of_birth is not None and on is not None and not pd.isna(date_of_birth) and not pd.isna(on):
        dob, when = pd.Timestamp(date_of_birth), pd.Timestamp(on)
        months = (when.year - dob.year) * 12 + (when.month - dob.month) - (when.day < dob.day)
        days = (when - dob).days
    elif days is None or pd.isna(days):
        return ""
    else:
        months = int(np.floor(float(days) / (365.25 / 12)))
    if months < 1:
        n = int(days)
        return f"{n} day" if n == 1 else f"{n} days"
    if months < 12:
        return f"{months} month" if months == 1 else f"{months} months"
    years, rest = divmod(months, 12)
    return f"{years} y {rest} mo" if rest else f"{years} y"


# -- the ULN step line -------------------------------------------------------------------------


def uln_steps(rows: pd.DataFrame, *, x: str = "day", date_of_birth: pd.Timestamp | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Positions of one analyte's age-specific ULN as a ``steps-post`` line.

    The ULN of each sample is held until the next sample. Where it changes between two
    samples and exactly one whole-year birthday falls between them (after the first,
    on or before the second), the step is placed on that birthday, where the age band
    really changes; otherwise (several birthdays, or a band edge in months) at the
    later sample, the first date the new limit is known to apply.

    Parameters
    ----------
    rows
        One patient's samples of one analyte with ``sample_date``, ``uln``, ``age_days``
        and, for ``x="day"``, ``day``.
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
    """
    rows = rows.sort_values(SAMPLE_DATE)
    ulns = _as_float(rows[ULN])
    keep = ~np.isnan(ulns)
    rows, ulns = rows[keep], ulns[keep]
    dates = pd.DatetimeIndex(pd.to_datetime(rows[SAMPLE_DATE]))
    xs = dates.to_numpy() if x == "date" else _as_float(rows[DAY])
    if date_of_birth is None and AGE_DAYS in rows.columns:
        ages = _as_float(rows[AGE_DAYS])
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


# -- the axes-level trend plot -------------------------------------------------------------------


def phase_spans(therapy_rows: pd.DataFrame, *, x: str = "day", origin: pd.Timestamp | None = None,
                x_end: Any = None) -> list[tuple[str, Any, Any]]:
    """Therapy phases of one patient as ``(phase, start, stop)`` in x coordinates.

    A phase opens at one of ``PHASE_START_EVENTS`` and runs to the next phase boundary
    (another opening event, ``end_of_induction`` or ``last_follow_up``); the last open
    phase runs to ``x_end`` (e.g. the last sample). Events on one date are ordered as in
    ``markers.schema.EVENTS``.

    Parameters
    ----------
    therapy_rows
        One patient's therapy events (``event``, ``event_date``).
    x
        ``"day"`` (days since ``origin``) or ``"date"``.
    origin
        Day 0 (needed when ``x="day"``).
    x_end
        Where a phase with no closing event ends; ``None``: such a phase is not drawn.

    Returns
    -------
    list of (str, start, stop)

    Examples
    --------
    >>> t = pd.DataFrame({"event": ["therapy_start", "end_of_induction"],
    ...                   "event_date": pd.to_datetime(["2024-01-05", "2024-04-01"])})
    >>> phase_spans(t, origin=pd.Timestamp("2024-01-01"))
    [('induction', 4.0, 91.0)]
    """
    events = therapy_rows[[EVENT, EVENT_DATE]].dropna().copy()
    events[EVENT_DATE] = pd.to_datetime(events[EVENT_DATE])
    order = {name: i for i, name in enumerate(EVENTS)}
    events = events.assign(_o=events[EVENT].map(order).fillna(99)).sort_values([EVENT_DATE, "_o"])
    boundaries = events[events[EVENT].isin(list(PHASE_START_EVENTS) + list(PHASE_END_EVENTS))]
    xs = _x_of_dates(boundaries[EVENT_DATE], x=x, origin=origin)
    if xs is None:
        return []
    names = boundaries[EVENT].tolist()
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


def _draw_phases(ax: Axes, therapy_rows: pd.DataFrame, *, x: str, origin: pd.Timestamp | None,
                 x_end: Any) -> None:
    """Shade each therapy phase from its opening event to the next phase boundary."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for phase, start, stop in phase_spans(therapy_rows, x=x, origin=origin, x_end=x_end):
        ax.axvspan(start, stop, facecolor=PHASE_COLORS.get(phase, "#EEEEEE"), edgecolor="none",
                   zorder=0, gid=f"phase:{phase}", label=f"_phase:{phase}")
        ax.text(start, 0.985, f" {phase}", transform=trans, ha="left", va="top", fontsize=MIN_FONT,
                color="#555555", clip_on=True, gid=f"phase_label:{phase}")


def _draw_milestones(ax: Axes, therapy_rows: pd.DataFrame, *, x: str, origin: pd.Timestamp | None) -> None:
    """Dashed vertical lines at surgery, complete remission and relapse."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    rows = therapy_rows[therapy_rows[EVENT].isin(list(MILESTONE_EVENTS))].dropna(subset=[EVENT_DATE])
    xs = _x_of_dates(rows[EVENT_DATE], x=x, origin=origin)
    if xs is None:
        return
    for event, pos in zip(rows[EVENT], xs, strict=True):
        if pd.isna(pos):
            continue
        label, color = MILESTONE_EVENTS[event]
        ax.axvline(pos, linestyle="--", linewidth=1.0, color=color, zorder=1, gid=f"event:{event}",
                   label=f"_event:{event}")
        ax.text(pos, 0.03, f" {label}", transform=trans, rotation=90, ha="right", va="bottom",
                fontsize=MIN_FONT, color=color, gid=f"event_label:{event}")


def _annotate_extremes(ax: Axes, assessment_rows: pd.DataFrame, analytes: Sequence[str], *, x: str,
                       y: str, origin: pd.Timestamp | None) -> None:
    """Annotate each analyte's baseline and nadir (from the assessment) on the plot."""
    for _, row in assessment_rows[assessment_rows[ANALYTE].isin(list(analytes))].iterrows():
        for which, dy in (("baseline", 10), ("nadir", -12)):
            date = row.get(f"{which}_date")
            level = row.get(f"{which}_x_uln" if y == X_ULN else f"{which}_value")
            if date is None or pd.isna(date) or level is None or pd.isna(level) or float(level) <= 0:
                continue
            pos = _x_of_dates(pd.Series([date]), x=x, origin=origin)
            if pos is None or pd.isna(pos[0]):
                continue
            ax.annotate(which, xy=(pos[0], float(level)), xytext=(8, dy), textcoords="offset points",
                        ha="left", va="center", fontsize=MIN_FONT, color="#333333",
                        arrowprops={"arrowstyle": "-", "linewidth": 0.6, "color": "#666666"},
                        gid=f"{which}:{row[ANALYTE]}")


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
        Flagged measurements (``markers.flags.flag`` then ``markers.timeline.add_timeline``).
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
    _check_choice("x", x, _X_CHOICES)
    _check_choice("y", y, _Y_CHOICES)
    y_col = X_ULN if y == "x_uln" else VALUE
    x_col = DAY if x == "day" else SAMPLE_DATE
    _require_columns(data, [PATIENT_ID, SAMPLE_DATE, ANALYTE, y_col, x_col], what="data",
                     hint="flag the measurements (markers.flags.flag) and add the timeline "
                          "(markers.timeline.add_timeline) first.")
    if ax is None:
        import matplotlib.pyplot as plt  # only for notebooks: library figures never touch pyplot

        ax = plt.gca()
    rows = _patient_rows(data, patient)
    present = [a for a in ANALYTES if a in set(rows[ANALYTE])] + sorted(
        set(rows[ANALYTE].astype(str)) - set(ANALYTES))
    chosen = list(analytes) if analytes is not None else present
    origin = time_origin(data, patient=patient, patients=patients, therapy=therapy)
    prow = _rows_of(patients, patient)
    dob = None
    if prow is not None and DATE_OF_BIRTH in prow.columns:
        dobs = pd.to_datetime(prow[DATE_OF_BIRTH]).dropna()
        dob = dobs.iloc[0] if len(dobs) else None

    x_max: Any = None
    y_seen: list[float] = [1.0] if y == "x_uln" else []
    for analyte in chosen:
        sub = rows[rows[ANALYTE] == analyte].sort_values(SAMPLE_DATE)
        yv = _as_float(sub[y_col])
        xv = sub[x_col].to_numpy() if x == "date" else _as_float(sub[x_col])
        ok = ~np.isnan(yv) & ~pd.isna(xv)
        sub, xv, yv = sub[ok], xv[ok], yv[ok]
        if not len(sub):
            continue
        color = ANALYTE_COLORS.get(analyte, "#555555")
        kws = {"color": color, "linewidth": 1.4, "zorder": 3} | line_kws
        ax.plot(xv, yv, label=analyte, gid=f"trend:{analyte}", **kws)
        x_max = xv.max() if x_max is None else max(x_max, xv.max())
        y_seen.extend(yv[yv > 0].tolist())
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
        if y == "value" and ULN in sub.columns:
            sx, sy = uln_steps(sub, x=x, date_of_birth=dob)
            if len(sx):
                ax.plot(sx, sy, drawstyle="steps-post", linestyle=":", linewidth=1.3, color=color, zorder=2,
                        label=f"{analyte} ULN", gid=f"uln:{analyte}")

    ax.set_yscale("log", nonpositive="mask")
    if y_seen:
        # Head room above the highest point keeps phase labels and the baseline note off the data.
        ax.set_ylim(min(y_seen) / 1.6, max(y_seen) * 2.5)
    plain_log_axis(ax)
    if y == "x_uln":
        mild, moderate = grade_cutoffs
        ax.axhspan(1.0, mild, facecolor=GRADE_COLORS["mild"], alpha=0.12, edgecolor="none", zorder=0.5,
                   gid="band:mild", label="_band:mild")
        ax.axhspan(mild, moderate, facecolor=GRADE_COLORS["moderate"], alpha=0.12, edgecolor="none",
                   zorder=0.5, gid="band:moderate", label="_band:moderate")
        ax.axhline(1.0, color="#333333", linewidth=1.1, zorder=2, gid="uln:1x", label="_1× ULN")
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        ax.text(0.005, 1.0, "1× ULN", transform=trans, ha="left", va="bottom", fontsize=MIN_FONT,
                color="#333333", gid="uln_label")
        ax.set_ylabel("× upper limit of normal (log)", fontsize=MIN_FONT + 1)
    else:
        unit = str(rows[UNIT].iloc[0]) if UNIT in rows.columns and len(rows) else ""
        ax.set_ylabel(f"{unit} (log)" if unit else "value (log)", fontsize=MIN_FONT + 1)

    trow = _rows_of(therapy, patient)
    if trow is not None:
        if x_max is not None:
            ax.autoscale_view()
        x_end = x_max
        ends = trow.loc[trow[EVENT] == "last_follow_up", EVENT_DATE].dropna()
        if len(ends):
            end_x = _x_of_dates(ends, x=x, origin=origin)
            if end_x is not None and x_max is not None:
                x_end = max(x_max, np.nanmax(end_x)) if x == "day" else max(x_max, end_x.max())
        _draw_phases(ax, trow, x=x, origin=origin, x_end=x_end)
        _draw_milestones(ax, trow, x=x, origin=origin)
    arow = _rows_of(assessment, patient)
    if arow is not None:
        _annotate_extremes(ax, arow, chosen, x=x, y=y, origin=origin)

    ax.margins(x=0.04)
    ax.set_xlabel("days since diagnosis" if x == "day" else "sample date", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.grid(True, which="major", axis="y", color="#E5E5E5", linewidth=0.6, zorder=0)
    if legend:
        handles = [h for h in ax.get_lines() if not h.get_label().startswith("_")]
        ax.legend(handles=handles + grade_legend_handles(), fontsize=MIN_FONT, loc="best", framealpha=0.85)
    return ax


# -- the figure-level page ------------------------------------------------------------------------


def _header_lines(rows: pd.DataFrame, *, patient: str, patients: pd.DataFrame | None,
                  assessment: pd.DataFrame | None, unit_label: str, width: int) -> tuple[str, list[str]]:
    """Subtitle (sex, age at diagnosis, diagnosis date, unit) and the per-analyte assessment lines."""
    parts = []
    prow = _rows_of(patients, patient)
    if prow is not None:
        p = prow.iloc[0]
        sex = p.get(SEX)
        if isinstance(sex, str) and sex:
            parts.append(f"sex {sex}")
        age = format_age(p.get(AGE_AT_DIAGNOSIS_DAYS), date_of_birth=p.get(DATE_OF_BIRTH),
                         on=p.get(DIAGNOSIS_DATE))
        if age:
            parts.append(f"age at diagnosis {age}")
        dx = p.get(DIAGNOSIS_DATE)
        if dx is not None and not pd.isna(dx):
            parts.append(f"diagnosed {pd.Timestamp(dx):%Y-%m-%d}")
    parts.append(f"{rows[SAMPLE_DATE].nunique()} samples")
    if unit_label:
        parts.append(f"values in {unit_label}")
    lines: list[str] = []
    arow = _rows_of(assessment, patient)
    if arow is not None and "summary" in arow.columns:
        order = {a: i for i, a in enumerate(ANALYTES)}
        arow = arow.assign(_o=arow[ANALYTE].map(order).fillna(99)).sort_values("_o")
        for analyte, summary in zip(arow[ANALYTE], arow["summary"], strict=True):
            if isinstance(summary, str) and summary.strip():
                lines.extend(textwrap.wrap(f"{analyte}: {summary.strip()}", width=width,
                                           subsequent_indent="    "))
    return " · ".join(parts), lines


def _sample_table_cells(rows: pd.DataFrame, analytes: Sequence[str]) -> tuple[list[list[str]], list[list[Any]]]:
    """One row per sample date: date, day, and per analyte ``value (×ULN)``, shaded by grade."""
    cells: list[list[str]] = []
    colours: list[list[Any]] = []
    for date, grp in rows.sort_values(SAMPLE_DATE).groupby(SAMPLE_DATE, sort=True):
        day = grp[DAY].iloc[0] if DAY in grp.columns else pd.NA
        line = [f"{pd.Timestamp(date):%Y-%m-%d}", "" if pd.isna(day) else f"{int(day)}"]
        shade: list[Any] = ["white", "white"]
        for analyte in analytes:
            hit = grp[grp[ANALYTE] == analyte]
            if hit.empty:
                line.append("")
                shade.append("white")
                continue
            r = hit.iloc[0]
            censor = r.get(CENSOR, "")
            censor = censor if isinstance(censor, str) else ""
            text = f"{censor}{float(r[VALUE]):.3g}"
            xu = r.get(X_ULN)
            if xu is not None and not pd.isna(xu):
                text += f" ({float(xu):.1f}×)"
            line.append(text)
            grade = r.get(GRADE)
            shade.append(to_rgba(GRADE_COLORS[grade], 0.35) if grade in ("mild", "moderate", "marked") else "white")
        cells.append(line)
        colours.append(shade)
    return cells, colours


def patient_figure(
    data: pd.DataFrame,
    *,
    patient: str,
    therapy: pd.DataFrame | None = None,
    patients: pd.DataFrame | None = None,
    assessment: pd.DataFrame | None = None,
    x: str = "day",
    page_size: str = "A4",
    unit_label: str | None = None,
) -> Figure:
    """One page for one patient: header, ×ULN panel, value panel with ULN steps, sample table.

    Parameters
    ----------
    data
        Flagged measurements with the timeline added.
    patient
        Patient ID.
    therapy, patients, assessment
        Optional tables: phases and events; sex, age and diagnosis date; baseline, nadir
        and the assessment in words (``summary``) per analyte.
    x
        ``"day"`` or ``"date"``.
    page_size
        ``"A4"`` or ``"Letter"`` (portrait).
    unit_label
        Unit shown in the header and axis label; default the data's ``unit``.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with pyplot (it is freed when no longer referenced).

    Raises
    ------
    ConfigError
        Unknown patient or page size.

    Examples
    --------
    >>> fig = patient_figure(data, patient="P001", therapy=therapy, patients=patients,
    ...                      assessment=assessment)  # doctest: +SKIP
    """
    _check_choice("page_size", page_size, tuple(PAGE_SIZES))
    rows = _patient_rows(data, patient)
    if unit_label is None:
        unit_label = str(rows[UNIT].iloc[0]) if UNIT in rows.columns else ""
    fig = Figure(figsize=PAGE_SIZES[page_size])
    width_in = PAGE_SIZES[page_size][0]
    subtitle, lines = _header_lines(rows, patient=patient, patients=patients, assessment=assessment,
                                    unit_label=unit_label, width=int(width_in * 14))
    max_lines = 10
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + ["    … (see the summary table)"]
    fig.text(0.06, 0.975, f"Patient {patient}", fontsize=14, fontweight="bold", va="top", gid="title")
    fig.text(0.06, 0.950, subtitle, fontsize=MIN_FONT + 1, va="top", color="#333333", gid="subtitle")
    line_h = 0.0135
    for i, line in enumerate(lines):
        fig.text(0.06, 0.928 - i * line_h, line, fontsize=MIN_FONT, va="top", gid=f"summary:{i}")
    top = 0.928 - len(lines) * line_h - 0.035
    panel_h = 0.25
    left, width = 0.09, 0.66
    ax1 = fig.add_axes((left, top - panel_h, width, panel_h))
    ax2 = fig.add_axes((left, top - 2 * panel_h - 0.055, width, panel_h), sharex=ax1)
    analytes = [a for a in ANALYTES if a in set(rows[ANALYTE])]
    plot_marker_trend(data, patient=patient, x=x, y="x_uln", therapy=therapy, patients=patients,
                      assessment=assessment, legend=False, ax=ax1)
    plot_marker_trend(data, patient=patient, x=x, y="value", therapy=therapy, patients=patients,
                      assessment=None, legend=False, ax=ax2)
    ax1.set_title("Each analyte as a multiple of its age-specific upper limit of normal",
                  fontsize=MIN_FONT + 1, loc="left")
    ax2.set_title(f"Values in {unit_label} with the age-specific ULN (dotted steps)" if unit_label
                  else "Values with the age-specific ULN (dotted steps)", fontsize=MIN_FONT + 1, loc="left")
    ax2.set_ylabel(f"{unit_label} (log)" if unit_label else "value (log)", fontsize=MIN_FONT + 1)
    ax1.tick_params(labelbottom=True)
    analyte_handles = [h for h in ax1.get_lines() if h.get_gid() and h.get_gid().startswith("trend:")]
    uln_handles = [h for h in ax2.get_lines() if h.get_gid() and h.get_gid().startswith("uln:")]
    fig.legend(handles=analyte_handles + uln_handles + grade_legend_handles(), loc="upper left",
               bbox_to_anchor=(left + width + 0.02, top), fontsize=MIN_FONT, frameon=False,
               title="analytes / grades", title_fontsize=MIN_FONT)

    # The sample table fills what is left of the page; when it cannot hold every sample
    # it keeps the first (usually the diagnostic baseline) and the most recent ones.
    table_top = top - 2 * panel_h - 0.11
    row_h = 0.0165
    n_fit = int((table_top - 0.03) / row_h) - 1
    cells, colours = _sample_table_cells(rows, analytes)
    if n_fit >= 3 and cells:
        n_all = len(cells)
        if n_all > n_fit:
            keep = [0] + list(range(n_all - (n_fit - 2), n_all))
            cells = [cells[0], ["…"] * len(cells[0])] + [cells[i] for i in keep[1:]]
            colours = [colours[0], ["white"] * len(colours[0])] + [colours[i] for i in keep[1:]]
            caption = f"Samples: first and latest {n_fit - 1} of {n_all}"
        else:
            caption = f"Samples ({n_all})"
        tax = fig.add_axes((0.06, table_top - row_h * (len(cells) + 1), 0.88, row_h * (len(cells) + 1)))
        tax.set_axis_off()
        tax.set_title(caption, fontsize=MIN_FONT + 1, loc="left")
        table = tax.table(cellText=cells, cellColours=colours, colLabels=["date", "day", *analytes],
                          loc="upper center", cellLoc="center", bbox=(0, 0, 1, 1))
        table.auto_set_font_size(False)
        table.set_fontsize(MIN_FONT)
        table.set_gid("samples")
    return fig
