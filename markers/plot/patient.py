"""Per-patient marker plots: an axes-level trend plot and a one-page figure.

Two levels, as in seaborn: :func:`plot_marker_trend` draws on one ``Axes``
(the one passed, or ``plt.gca()`` for notebooks) and returns it;
:func:`patient_figure` builds a whole page on a ``matplotlib.figure.Figure``
that is never registered with pyplot, so a report of a thousand patients does
not accumulate open figures. Nothing here saves or shows a figure: writing is
:mod:`markers.report.document`'s job.

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
sample table (page)         :class:`GridTable`, gid ``"samples"``
==========================  ===================================================
"""

from __future__ import annotations

import collections
import functools
import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, Locator
from matplotlib.transforms import Bbox, blended_transform_factory, offset_copy

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
        # (or when fewer than two powers of ten are in view, 2 and 5 × 10^k: one labelled tick
        # alone does not tell a reader the scale).
        low, high = ax.get_ylim()
        if value <= 0 or low <= 0:
            return ""
        majors = np.floor(np.log10(high)) - np.ceil(np.log10(low)) + 1
        if high / low <= 15:
            allowed = (2, 3, 5)
        elif majors < 2:
            allowed = (2, 5)
        else:
            return ""
        lead = value / 10 ** np.floor(np.log10(value))
        return f"{value:g}" if round(lead) in allowed else ""

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    ax.tick_params(axis="y", which="minor", labelsize=MIN_FONT)
    for which, locator in (("major", ax.yaxis.get_major_locator()), ("minor", ax.yaxis.get_minor_locator())):
        if not isinstance(locator, InView):
            getattr(ax.yaxis, f"set_{which}_locator")(InView(locator))


class InView(Locator):
    """The ticks of another locator that fall in the axis' view.

    A log locator also returns the ticks of whole decades beyond the axis limits; matplotlib
    builds each tick (lines, grid line, two labels) and formats its label before it leaves out
    those not in view, which made ticks most of the time a report page takes to draw.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from matplotlib.ticker import LogLocator
    >>> ax = Figure().add_subplot(yscale="log", ylim=(0.5, 4))
    >>> ax.yaxis.set_major_locator(InView(LogLocator()))
    >>> ax.yaxis.get_majorticklocs().tolist()
    [1.0]
    """

    def __init__(self, base: Locator) -> None:
        self.base = base

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self) -> np.ndarray:
        locs = np.asarray(self.base(), dtype=float)
        if self.axis is None or not len(locs):
            return locs
        # Compared where matplotlib compares them (log axis: in decades), with room for rounding.
        transform = self.axis.get_transform()
        low, high = sorted(transform.transform(np.asarray(self.axis.get_view_interval(), dtype=float)))
        where = transform.transform(locs)
        room = 1e-6 * max(high - low, 1e-300)
        return locs[(where >= low - room) & (where <= high + room)]

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        return self.base.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self.base.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        return self.base.nonsingular(v0, v1)


def panel_title(ax: Axes, text: str) -> None:
    """A left-aligned title just above the axes.

    Its height is given (``y=1``): left to itself, matplotlib finds it on every draw by laying
    out the tick labels of the axes and of its siblings once more (about a tenth of the time
    a report page takes); these axes have no tick labels on top, so the answer is always 1.
    """
    ax.set_title(text, fontsize=MIN_FONT + 1, loc="left", y=1.0)


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


class PatientRows:
    """One patient's rows of a table at a time, from a single grouping of the whole table.

    Filtering a thousand patients' table once per patient compares every row a thousand
    times; grouping once finds each patient's rows directly. The rows are taken when asked
    for, so the patients' subsets are never all held at once. IDs are compared as text.

    Examples
    --------
    >>> rows = PatientRows(pd.DataFrame({"patient_id": ["A", "B", "A"], "v": [1, 2, 3]}))
    >>> rows("A")["v"].tolist(), len(rows("C"))
    ([1, 3], 0)
    """

    __slots__ = ("_frame", "_positions")

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self._frame = frame
        self._positions: dict[str, np.ndarray] = {}
        if frame is not None and PATIENT_ID in frame.columns and len(frame):
            self._positions = frame.groupby(frame[PATIENT_ID].astype(str), sort=False, dropna=False).indices

    def __call__(self, patient: str) -> pd.DataFrame | None:
        """The patient's rows in table order (none: an empty frame; no table: ``None``)."""
        frame = self._frame
        if frame is None or PATIENT_ID not in frame.columns:
            return frame
        where = self._positions.get(str(patient))
        return frame.iloc[where] if where is not None else frame.iloc[:0]


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
    if trow is not None and EVENT_DATE in trow.columns:
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


def day_column(date_column: str) -> str:
    """The column that replaces a date column in pseudonymised tables (``sample_date`` -> ``sample_day``).

    ``markers.privacy.pseudonym`` turns every ``<stem>_date`` column into ``<stem>_day`` (whole days since
    the patient's anchor, the diagnosis date); the plots read that column when the date is gone.

    Examples
    --------
    >>> day_column("event_date")
    'event_day'
    """
    stem = date_column[: -len("_date")] if date_column.endswith("_date") else date_column
    return f"{stem}_day"


def sample_key(frame: pd.DataFrame) -> str:
    """The column that tells one sample from another: the sample date, else its day column, else ``day``.

    Examples
    --------
    >>> sample_key(pd.DataFrame({"sample_day": [0], "day": [0]}))
    'sample_day'
    """
    for name in (SAMPLE_DATE, day_column(SAMPLE_DATE), DAY):
        if name in frame.columns:
            return name
    raise MissingColumnError(
        f"data lacks {SAMPLE_DATE!r} (or {day_column(SAMPLE_DATE)!r} / {DAY!r} in pseudonymised data): "
        "add the timeline (markers.analysis.timeline.add_timeline) first."
    )


def day_shift(data: pd.DataFrame | None, *, patient: str) -> float:
    """Days to add to a pseudonymised ``*_day`` column to land on the timeline's ``day`` axis.

    Pseudonymised day columns count from the patient's anchor date (markers.privacy.pseudonym) and the
    timeline's ``day`` from the diagnosis (markers.analysis.timeline); the two agree whenever the
    diagnosis date is known, but the shift is read from the data itself (``day − sample_day``)
    so that events always line up with the samples. ``0.0`` when the data cannot tell.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": ["P1"], "sample_day": [5], "day": [1]})
    >>> day_shift(d, patient="P1")
    -4.0
    """
    rows = _rows_of(data, patient)
    name = day_column(SAMPLE_DATE)
    if rows is None or DAY not in rows.columns or name not in rows.columns:
        return 0.0
    diff = _as_float(rows[DAY]) - _as_float(rows[name])
    diff = diff[~np.isnan(diff)]
    return float(np.median(diff)) if len(diff) else 0.0


def _x_positions(frame: pd.DataFrame, date_column: str, *, x: str, origin: pd.Timestamp | None,
                 shift: float = 0.0) -> np.ndarray | None:
    """Positions of a date column on the x axis, or of its pseudonymised day column (``x="day"`` only)."""
    if date_column in frame.columns:
        return _x_of_dates(frame[date_column], x=x, origin=origin)
    days = day_column(date_column)
    if x == "day" and days in frame.columns:
        return _as_float(frame[days]) + shift
    return None


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

    Pseudonymised rows have no dates: the birthday is then found from ``age_days`` alone,
    the *k*-th falling at age round(365.25 · *k*) days, which is within one day of the
    calendar birthday (the leap days are not known without the date of birth).

    Parameters
    ----------
    rows
        One patient's samples of one analyte with ``uln``, ``age_days``, and
        ``sample_date`` (``x="date"``) and/or ``day``.
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
    >>> uln_steps(r.drop(columns="sample_date"))[0].tolist()  # 3 × 365.25 = 1095.75 -> age 1096
    [0.0, 96.0, 181.0]
    """
    has_dates = SAMPLE_DATE in rows.columns
    rows = rows.sort_values(SAMPLE_DATE if has_dates else DAY)
    ulns = _as_float(rows[ULN])
    keep = ~np.isnan(ulns)
    rows, ulns = rows[keep], ulns[keep]
    if not has_dates:
        return _uln_steps_from_ages(rows, ulns)
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


def _uln_steps_from_ages(rows: pd.DataFrame, ulns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`uln_steps` on the day axis for rows without dates (pseudonymised): birthdays from ages."""
    xs = _as_float(rows[DAY])
    ages = _as_float(rows[AGE_DAYS]) if AGE_DAYS in rows.columns else np.full(len(rows), np.nan)
    out_x: list[float] = []
    out_y: list[float] = []
    for i in range(len(ulns)):
        if i and ulns[i] != ulns[i - 1] and not np.isnan(ages[i - 1]) and not np.isnan(ages[i]):
            years = range(int(ages[i - 1] // 365) - 1, int(ages[i] // 365) + 2)
            between = [b for b in (round(365.25 * k) for k in years if k > 0) if ages[i - 1] < b < ages[i]]
            if len(between) == 1:
                out_x.append(xs[i] - (ages[i] - between[0]))
                out_y.append(ulns[i])
        out_x.append(xs[i])
        out_y.append(ulns[i])
    return np.array(out_x, dtype=float), np.array(out_y, dtype=float)


def _check_trend_columns(data: pd.DataFrame, *, x: str, y: str) -> None:
    _check_choice("x", x, _X_CHOICES)
    _check_choice("y", y, _Y_CHOICES)
    if x == "date" and SAMPLE_DATE not in data.columns and day_column(SAMPLE_DATE) in data.columns:
        raise MissingColumnError(
            f"data has no {SAMPLE_DATE!r}: it is pseudonymised (days, not dates); plot it with x='day'.")
    needed = [PATIENT_ID, ANALYTE, X_ULN if y == "x_uln" else VALUE, DAY if x == "day" else SAMPLE_DATE]
    _require_columns(data, needed, what="data", hint="flag the measurements (markers.analysis.flags.flag) and add the "
                                                     "timeline (markers.analysis.timeline.add_timeline) first.")


# -- the axes-level trend plot -------------------------------------------------------------------


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
    xs_all = _x_positions(therapy_rows, EVENT_DATE, x=x, origin=origin, shift=shift)
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


#: Short forms of phase names, used when a span is too narrow for the full name.
PHASE_SHORT: dict[str, str] = {
    "induction": "ind.",
    "consolidation": "consol.",
    "radiotherapy": "RT",
    "maintenance": "maint.",
    "off-therapy": "off",
}

# Mean advance width of DejaVu Sans (matplotlib's default font) in ems; enough to decide whether a
# label fits without a renderer (the layout is fixed before the figure is drawn).
_EM_PER_CHAR = 0.62


def _axes_width_points(ax: Axes) -> float:
    return float(ax.get_position().width * ax.figure.get_figwidth() * 72.0)


def _text_points(text: str, fontsize: float) -> float:
    return len(text) * _EM_PER_CHAR * fontsize


def _to_num(value: Any) -> float:
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
    origin = min((_to_num(s) for _p, s, _e in spans), default=0.0)
    for phase, start, stop in spans:
        left = (_to_num(start) - origin) * per_day
        room = (_to_num(stop) - _to_num(start)) * per_day
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


def _draw_phases(ax: Axes, therapy_rows: pd.DataFrame, *, x: str, origin: pd.Timestamp | None,
                 x_end: Any, shift: float = 0.0, x_start: Any = None) -> None:
    """Shade each therapy phase from its opening event to the next phase boundary, labels not overlapping."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    spans = phase_spans(therapy_rows, x=x, origin=origin, x_end=x_end, shift=shift)
    for phase, start, stop in spans:
        ax.axvspan(start, stop, facecolor=PHASE_COLORS.get(phase, "#EEEEEE"), edgecolor="none",
                   zorder=0, gid=f"phase:{phase}", label=f"_phase:{phase}")
    if not spans:
        return
    low = min([_to_num(s) for _p, s, _e in spans] + ([_to_num(x_start)] if x_start is not None else []))
    high = max([_to_num(e) for _p, _s, e in spans] + ([_to_num(x_end)] if x_end is not None else []))
    # The axis ends up ~8 % wider than the drawn range (ax.margins(x=0.04) on each side).
    extent = (high - low) * 1.08
    starts = {phase: start for phase, start, _e in spans}
    row_height = 1.35 * MIN_FONT / 72.0 / max(ax.get_position().height * ax.figure.get_figheight(), 1e-6)
    for phase, text, row in place_phase_labels(spans, extent=extent, width_pt=_axes_width_points(ax)):
        ax.text(starts[phase], 0.985 - row * row_height, f" {text}", transform=trans, ha="left", va="top",
                fontsize=MIN_FONT, color="#555555", clip_on=True, gid=f"phase_label:{phase}")


def _draw_milestones(ax: Axes, therapy_rows: pd.DataFrame, *, x: str, origin: pd.Timestamp | None,
                     shift: float = 0.0) -> None:
    """Dashed vertical lines at surgery, complete remission and relapse."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    rows = therapy_rows[therapy_rows[EVENT].isin(list(MILESTONE_EVENTS))]
    xs = _x_positions(rows, EVENT_DATE, x=x, origin=origin, shift=shift)
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
                       y: str, origin: pd.Timestamp | None, shift: float = 0.0,
                       x_range: tuple[float, float] | None = None) -> None:
    """Annotate each analyte's baseline and nadir (from the assessment) on the plot.

    Analytes whose baseline (or nadir) falls on the same sample share one label, with a
    leader line to each point: two "baseline" words stacked on day 0 only repeat each other.
    A label near the right end of the axis goes to the left of its point, inside the axes.
    """
    rows = assessment_rows[assessment_rows[ANALYTE].isin(list(analytes))]
    order = {a: i for i, a in enumerate(analytes)}
    rows = rows.assign(_o=rows[ANALYTE].map(order)).sort_values("_o", kind="stable")
    for which, dy in (("baseline", 10), ("nadir", -12)):
        level_col = f"{which}_x_uln" if y == X_ULN else f"{which}_value"
        if level_col not in rows.columns:
            continue
        pos = _x_positions(rows, f"{which}_date", x=x, origin=origin, shift=shift)
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
            right = x_range is not None and _to_num(at) > x_range[0] + 0.85 * (x_range[1] - x_range[0])
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
    _check_trend_columns(data, x=x, y=y)
    if ax is None:
        import matplotlib.pyplot as plt  # only for notebooks: library figures never touch pyplot

        ax = plt.gca()
    course = _Course.of(data, patient=patient, analytes=analytes, x=x, therapy=therapy, patients=patients,
                        assessment=assessment)
    _draw_course(ax, course, y=y, grade_cutoffs=grade_cutoffs, line_kws=line_kws)
    if legend:
        handles = [h for h in ax.get_lines() if not h.get_label().startswith("_")]
        ax.legend(handles=handles + grade_legend_handles(), fontsize=MIN_FONT, loc="best", framealpha=0.85)
    return ax


@dataclass(frozen=True)
class _Course:
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

    @classmethod
    def of(cls, data: pd.DataFrame, *, patient: str, analytes: Sequence[str] | None, x: str,
           therapy: pd.DataFrame | None, patients: pd.DataFrame | None,
           assessment: pd.DataFrame | None) -> _Course:
        rows = _patient_rows(data, patient)
        present = [a for a in ANALYTES if a in set(rows[ANALYTE])] + sorted(
            set(rows[ANALYTE].astype(str)) - set(ANALYTES))
        chosen = list(analytes) if analytes is not None else present
        prow = _rows_of(patients, patient)
        dob = None
        if prow is not None and DATE_OF_BIRTH in prow.columns:
            dobs = pd.to_datetime(prow[DATE_OF_BIRTH]).dropna()
            dob = dobs.iloc[0] if len(dobs) else None
        # Sorted once, then split: the same order as sorting each analyte's rows (the sort is stable).
        ordered = rows.sort_values(sample_key(rows), kind="stable")
        names = ordered[ANALYTE].to_numpy()
        return cls(rows=rows, x=x, analytes=chosen, series={a: ordered[names == a] for a in chosen},
                   origin=time_origin(rows, patient=patient, patients=patients, therapy=therapy),
                   shift=day_shift(rows, patient=patient), date_of_birth=dob, therapy=_rows_of(therapy, patient),
                   assessment=_rows_of(assessment, patient))


def _draw_course(ax: Axes, course: _Course, *, y: str, grade_cutoffs: tuple[float, float] = GRADE_CUTOFFS,
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
        yv = _as_float(sub[y_col])
        xv = sub[x_col].to_numpy() if x == "date" else _as_float(sub[x_col])
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
            sx, sy = uln_steps(sub, x=x, date_of_birth=course.date_of_birth)
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
        rows = course.rows
        unit = str(rows[UNIT].iloc[0]) if UNIT in rows.columns and len(rows) else ""
        ax.set_ylabel(f"{unit} (log)" if unit else "value (log)", fontsize=MIN_FONT + 1)

    trow = course.therapy
    if trow is not None:
        if x_max is not None:
            ax.autoscale_view()
        x_end = x_max
        ends = trow[trow[EVENT] == "last_follow_up"]
        end_x = _x_positions(ends, EVENT_DATE, x=x, origin=origin, shift=shift) if len(ends) else None
        if end_x is not None and x_max is not None and (~pd.isna(end_x)).any():
            x_end = max(x_max, np.nanmax(end_x)) if x == "day" else max(x_max, pd.Series(end_x).max())
        _draw_phases(ax, trow, x=x, origin=origin, x_end=x_end, shift=shift, x_start=x_min)
        _draw_milestones(ax, trow, x=x, origin=origin, shift=shift)
    arow = course.assessment
    if annotate and arow is not None:
        x_range = (_to_num(x_min), _to_num(x_max)) if x_min is not None and x_max is not None else None
        _annotate_extremes(ax, arow, course.analytes, x=x, y=y, origin=origin, shift=shift, x_range=x_range)

    ax.margins(x=0.04)
    ax.set_xlabel("days since diagnosis" if x == "day" else "sample date", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.grid(True, which="major", axis="y", color="#E5E5E5", linewidth=0.6, zorder=0)


# -- tables --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _font_box(prop: FontProperties) -> tuple[float, float, float]:
    """Ascent, descent and line gap of the font of ``prop``, in ems (from its OS/2 or hhea table).

    The same metrics matplotlib's ``Text`` stacks lines with, so a table cell sits in its row
    exactly as a ``Text`` centred there would.
    """
    font = get_font(findfont(prop))
    em = font.get_sfnt_table("head")["unitsPerEm"]
    for table, gap, ascent, descent in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                        ("hhea", "lineGap", "ascent", "descent")):
        metrics = font.get_sfnt_table(table)
        if metrics is not None:
            return metrics[ascent] / em, -metrics[descent] / em, metrics[gap] / em
    return 0.8, 0.2, 0.2  # no table: a usual sans-serif face


#: Sizes of the texts tables have shown, most recent last: a report's tables repeat most of their
#: texts (headings, "—", "no", dates, values) from page to page, and measuring one lays it out.
_MEASURED: collections.OrderedDict[tuple[Any, ...], tuple[float, float, float]] = collections.OrderedDict()


def _measure(renderer: Any, text: str, prop: FontProperties) -> tuple[float, float, float]:
    """``renderer.get_text_width_height_descent(text, prop)``, remembered for the last 4096 texts.

    The key holds all the size depends on: the renderer's way of measuring (PDF, Agg, SVG: a
    vector backend's renderer hands measuring to the backend's own) and its resolution, the
    settings that change it (hinting for raster output, PostScript core fonts) and the font.
    """
    measure = renderer.get_text_width_height_descent
    settings = tuple(rcParams[k] for k in ("text.hinting", "text.hinting_factor", "pdf.use14corefonts", "ps.useafm"))
    key = (getattr(measure, "__qualname__", type(renderer).__name__), renderer.points_to_pixels(1.0), settings,
           text, prop)
    size = _MEASURED.get(key)
    if size is None:
        size = _MEASURED[key] = measure(text, prop, ismath=False)
        if len(_MEASURED) > 4096:
            _MEASURED.popitem(last=False)
    else:
        _MEASURED.move_to_end(key)
    return size


class GridTable(Artist):
    """A table of text cells: one collection of cell rectangles and the cells' text drawn directly.

    matplotlib's ``Table`` makes every cell a rectangle and a ``Text`` artist and lays them out
    anew on each draw, which made the sample table a fifth of a report page's drawing time; here
    the rectangles are one collection and each cell's text is handed to the renderer at the
    centre of its cell, placed as a centred ``Text`` would be (text is never parsed as math).

    Parameters
    ----------
    header
        Column headings (row 0), may hold line breaks.
    cells
        Body rows, one string per column.
    rect
        ``(left, bottom, width, height)`` in ``transform``'s coordinates; rows share the height.
    transform
        Usually ``figure.transFigure``.
    colours
        Fill of each body cell (default white).
    widths
        Relative column widths (default equal).
    header_colour, bold_header
        Fill and weight of the heading row.
    fontsize
        Text size in points.

    Examples
    --------
    >>> fig = Figure()
    >>> table = add_table(fig, (0.1, 0.1, 0.8, 0.3), ["a", "b"], [["1", "2"]])
    >>> table.text(1, 0), table.shape
    ('1', (2, 2))
    """

    def __init__(self, header: Sequence[str], cells: Sequence[Sequence[str]], *,
                 rect: tuple[float, float, float, float], transform: Any,
                 colours: Sequence[Sequence[Any]] | None = None, widths: Sequence[float] | None = None,
                 header_colour: Any = "white", bold_header: bool = False, fontsize: float = MIN_FONT) -> None:
        super().__init__()
        self._rows = [[str(h) for h in header]] + [[str(c) for c in row] for row in cells]
        n_cols = len(self._rows[0])
        if any(len(row) != n_cols for row in self._rows):
            raise ValueError("every table row needs one cell per column")
        left, bottom, width, height = rect
        shares = np.asarray(widths if widths is not None else [1.0] * n_cols, dtype=float)
        self._x = left + width * np.concatenate([[0.0], np.cumsum(shares) / shares.sum()])
        self._y = bottom + height * (1.0 - np.arange(len(self._rows) + 1) / len(self._rows))
        fills = [[header_colour] * n_cols] + [list(row) for row in (colours or [["white"] * n_cols] * len(cells))]
        polygons = [[(self._x[j], self._y[i]), (self._x[j + 1], self._y[i]), (self._x[j + 1], self._y[i + 1]),
                     (self._x[j], self._y[i + 1])] for i in range(len(self._rows)) for j in range(n_cols)]
        # Edges as matplotlib's table cells draw them: black, patch.linewidth wide.
        self.patch = PolyCollection(polygons, facecolors=[c for row in fills for c in row], edgecolors="black",
                                    transform=transform)
        self.fontsize = fontsize
        self._props = (FontProperties(size=fontsize, weight="bold" if bold_header else "normal"),
                       FontProperties(size=fontsize))
        self.set_transform(transform)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows including the heading row, columns)."""
        return len(self._rows), len(self._rows[0])

    def text(self, row: int, col: int) -> str:
        """The text drawn in a cell (row 0: the headings)."""
        return self._rows[row][col]

    def colour(self, row: int, col: int) -> tuple[float, float, float, float]:
        """The RGBA fill drawn in a cell (row 0: the headings)."""
        return tuple(float(v) for v in self.patch.get_facecolor()[row * self.shape[1] + col])

    def get_children(self) -> list[Artist]:
        return [self.patch]

    def get_window_extent(self, renderer: Any = None) -> Bbox:
        return Bbox.from_extents(self._x[0], self._y[-1], self._x[-1], self._y[0]).transformed(self.get_transform())

    def draw(self, renderer: Any) -> None:
        if not self.get_visible():
            return
        renderer.open_group("table", gid=self.get_gid())
        self.patch.set_figure(self.get_figure(root=False))
        self.patch.draw(renderer)
        gc = renderer.new_gc()
        gc.set_foreground(rcParams["text.color"])
        gc.set_antialiased(rcParams["text.antialiased"])
        to_px = self.get_transform().transform
        canvas_height = renderer.get_canvas_width_height()[1]
        flip = canvas_height if renderer.flipy() else None
        raster = {prop: _RasterText(renderer, prop) for prop in self._props} \
            if isinstance(renderer, RendererAgg) else {}
        size = renderer.points_to_pixels(self.fontsize)
        ascent, descent, gap = (size * m for m in _font_box(self._props[1]))
        for i, row in enumerate(self._rows):
            prop = self._props[0 if i == 0 else 1]
            for j, text in enumerate(row):
                if not text:
                    continue
                lines = text.split("\n")
                # Lines stacked as Text stacks them: each at least the font's ascent and descent
                # tall (more when its glyphs reach further), plus the gap between lines; the
                # block centred on the cell, each line centred on the column.
                spread = gap / 2 if len(lines) > 1 else 0.0
                placed, height = [], 0.0
                for line in lines:
                    width, full, below = _measure(renderer, line, prop)
                    up = max(full - below, ascent) + spread
                    placed.append((line, width, height + up))
                    height += up + max(below, descent) + spread
                cx, cy = to_px(((self._x[j] + self._x[j + 1]) / 2, (self._y[i] + self._y[i + 1]) / 2))
                for line, width, drop in placed:
                    baseline = cy + height / 2 - drop
                    if prop in raster and raster[prop].draw(gc, cx - width / 2, baseline, line):
                        continue
                    renderer.draw_text(gc, cx - width / 2, baseline if flip is None else flip - baseline,
                                       line, prop, 0.0, ismath=False)
        gc.restore()
        renderer.close_group("table")
        self.stale = False


class _RasterText:
    """Table text on the Agg (PNG) renderer: each string laid out and rendered by FreeType in one call.

    matplotlib renders Agg text glyph by glyph in Python (so that a glyph missing from the font
    can come from another): a table's fifty short strings took a fifth of a PNG page. A cell's
    text is one font's glyphs, which FreeType lays out, hints and renders at once, as matplotlib
    itself rendered text before version 3.10: the table takes half the time (laying the strings
    out is most of what is left). The string is placed on the same baseline, from the same hinted
    width. A string with a glyph the font lacks is left to the renderer (``draw`` returns False).
    """

    def __init__(self, renderer: RendererAgg, prop: FontProperties) -> None:
        self.renderer = renderer
        self.font = get_font(findfont(prop))
        self.size = prop.get_size_in_points()
        self.colour = np.round(np.asarray(to_rgba(rcParams["text.color"])) * 255).astype(np.uint8)

    def draw(self, gc: Any, left: float, baseline: float, text: str) -> bool:
        """Draw ``text`` with its baseline at ``baseline`` (pixels from the bottom) from ``left``."""
        font = self.font
        try:
            if not all(font.get_char_index(ord(c)) for c in text):
                return False
            font.clear()
            font.set_size(self.size, self.renderer.dpi)
            font.set_text(text, 0.0, flags=get_hinting_flag())
            font.draw_glyphs_to_bitmap(antialiased=bool(rcParams["text.antialiased"]))
            ink = np.asarray(font.get_image())
            x_offset, y_offset = font.get_bitmap_offset()
            descent = font.get_descent()
        except (AttributeError, TypeError, ValueError):
            # FreeType's Python interface is matplotlib's own and may change between releases:
            # the renderer's draw_text then draws this text as it draws any other
            return False
        if not ink.size:
            return True  # nothing to draw (spaces)
        # Placed as matplotlib placed a FreeType bitmap: whole pixels, its lower edge at the
        # descent below the baseline (rows counted from the top, the image top row first).
        top_down = self.renderer.height - baseline
        x = round(left + x_offset / 64)
        lower = round(top_down + y_offset / 64 + descent / 64) + 1
        image = np.empty(ink.shape + (4,), dtype=np.uint8)
        image[..., :3] = self.colour[:3]
        image[..., 3] = (ink.astype(np.uint16) * self.colour[3] // 255).astype(np.uint8)
        # draw_image takes the lower-left corner from the bottom and the rows bottom first.
        self.renderer.draw_image(gc, x, self.renderer.height - lower, image[::-1])
        return True


def add_table(fig: Figure, rect: tuple[float, float, float, float], header: Sequence[str],
              cells: Sequence[Sequence[str]], *, colours: Sequence[Sequence[Any]] | None = None,
              widths: Sequence[float] | None = None, header_colour: Any = "white", bold_header: bool = False,
              caption: str = "", gid: str | None = None) -> GridTable:
    """Draw a :class:`GridTable` on a figure in ``rect`` (figure fractions), with a caption above it.

    The caption sits where an axes title would (``axes.titlepad`` above the top edge).
    """
    table = GridTable(header, cells, rect=rect, transform=fig.transFigure, colours=colours, widths=widths,
                      header_colour=header_colour, bold_header=bold_header)
    table.set_gid(gid)
    fig.add_artist(table)
    if caption:
        above = offset_copy(fig.transFigure, fig=fig, y=rcParams["axes.titlepad"], units="points")
        fig.text(rect[0], rect[1] + rect[3], caption, fontsize=MIN_FONT + 1, va="baseline", transform=above)
    return table


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
        elif DIAGNOSIS_DATE not in prow.columns:
            # Pseudonymised: no date may be shown; say what the day axis counts from instead.
            parts.append("day 0 = diagnosis")
    parts.append(f"{rows[sample_key(rows)].nunique()} samples")
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


def _sample_table_header(rows: pd.DataFrame, analytes: Sequence[str]) -> list[str]:
    return (["date", "day"] if SAMPLE_DATE in rows.columns else ["day"]) + list(analytes)


def _sample_table_cells(rows: pd.DataFrame, analytes: Sequence[str]) -> tuple[list[list[str]], list[list[Any]]]:
    """One row per sample: date (when known), day, and per analyte ``value (×ULN)``, shaded by grade.

    Pseudonymised rows have no sample date: the samples are told apart by their day and the
    date column is left out (see :func:`_sample_table_header`). A sample with two results of
    one analyte shows the first in table order.
    """
    key = sample_key(rows)
    ordered = rows.sort_values(key, kind="stable")
    ordered = ordered[ordered[key].notna()]
    samples = ordered.drop_duplicates(key)
    firsts = ordered[ordered[ANALYTE].isin(list(analytes))].drop_duplicates([key, ANALYTE])
    censor = (firsts[CENSOR].map(lambda c: c if isinstance(c, str) else "") if CENSOR in firsts.columns
              else pd.Series("", index=firsts.index))
    values = _as_float(firsts[VALUE])
    ratios = _as_float(firsts[X_ULN]) if X_ULN in firsts.columns else np.full(len(firsts), np.nan)
    grades = firsts[GRADE].to_numpy(dtype=object) if GRADE in firsts.columns else np.full(len(firsts), None)
    found: dict[tuple[Any, str], tuple[str, Any]] = {}
    for when, analyte, c, value, ratio, grade in zip(firsts[key], firsts[ANALYTE], censor, values, ratios,
                                                      grades, strict=True):
        text = f"{c}{value:.3g}" + ("" if np.isnan(ratio) else f" ({ratio:.1f}×)")
        shade = to_rgba(GRADE_COLORS[grade], 0.35) if grade in ("mild", "moderate", "marked") else "white"
        found[(when, analyte)] = (text, shade)
    dated = SAMPLE_DATE in rows.columns
    days = samples[DAY] if DAY in samples.columns else pd.Series(pd.NA, index=samples.index)
    cells: list[list[str]] = []
    colours: list[list[Any]] = []
    for when, day in zip(samples[key], days, strict=True):
        day_text = "" if pd.isna(day) else f"{int(day)}"
        line = [f"{pd.Timestamp(when):%Y-%m-%d}", day_text] if dated else [day_text]
        shade: list[Any] = ["white"] * len(line)
        for analyte in analytes:
            text, colour = found.get((when, analyte), ("", "white"))
            line.append(text)
            shade.append(colour)
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
    return PatientPage(page_size=page_size, x=x).draw(data, patient=patient, therapy=therapy, patients=patients,
                                                      assessment=assessment, unit_label=unit_label)


class PatientPage:
    """The patient page of :func:`patient_figure`, drawn anew for each patient on one figure.

    A report draws the same page for every patient. Making its two panels once keeps what
    does not depend on the patient: the axes themselves and their ticks (two lines, a grid
    line and two labels each), whose making took a fifth of a page's time. :meth:`draw`
    removes the previous patient's artists, resets the limits and scales as a new axes has
    them, and draws the next patient; the page is the same, byte for byte, as one drawn on
    a new figure (the tests compare them).

    The figure is redrawn in place: save it before drawing the next patient.

    Parameters
    ----------
    page_size
        ``"A4"`` or ``"Letter"`` (portrait).
    x
        ``"day"`` or ``"date"``.

    Examples
    --------
    >>> page = PatientPage()
    >>> for pid in ("P1", "P2"):  # doctest: +SKIP
    ...     save_figure(page.draw(data, patient=pid, therapy=therapy), f"{pid}.png")
    """

    def __init__(self, *, page_size: str = "A4", x: str = "day") -> None:
        _check_choice("page_size", page_size, tuple(PAGE_SIZES))
        _check_choice("x", x, _X_CHOICES)
        self.page_size, self.x = page_size, x
        self.figure = fig = Figure(figsize=PAGE_SIZES[page_size])
        # A canvas of its own keeps one Agg renderer from page to page, and with it matplotlib's
        # cache of text sizes (titles, labels, legend and tick texts repeat on every page).
        FigureCanvasAgg(fig)
        self._title = fig.text(0.06, 0.975, "", fontsize=14, fontweight="bold", va="top", gid="title")
        self._subtitle = fig.text(0.06, 0.950, "", fontsize=MIN_FONT + 1, va="top", color="#333333",
                                  gid="subtitle")
        self._ax1 = fig.add_axes((0.09, 0.5, 0.66, 0.25))
        self._ax2 = fig.add_axes((0.09, 0.2, 0.66, 0.25), sharex=self._ax1)
        self._fixed = {id(self._title), id(self._subtitle)}
        self._legends: dict[tuple[tuple[str, ...], tuple[str, ...]], Legend] = {}

    def _clear(self) -> None:
        """Leave the page as :meth:`__init__` made it: no artist of the previous patient, fresh limits."""
        fig = self.figure
        for artist in [*fig.legends, *fig.artists, *(t for t in fig.texts if id(t) not in self._fixed)]:
            artist.remove()
        for ax in (self._ax1, self._ax2):
            for artist in [*ax.lines, *ax.patches, *ax.texts, *ax.collections, *ax.images, *ax.artists]:
                artist.remove()
            ax.set_yscale("linear")
            # As a new axes: no data limits, the unit view autoscaled, default margins.
            ax.dataLim = Bbox.null()
            ax.ignore_existing_data_limits = True
            ax.set_xmargin(rcParams["axes.xmargin"])
            ax.set_ymargin(rcParams["axes.ymargin"])
            ax.set_ylim(0, 1, auto=True)
        self._ax1.set_xlim(0, 1, auto=True)

    def draw(self, data: pd.DataFrame, *, patient: str, therapy: pd.DataFrame | None = None,
             patients: pd.DataFrame | None = None, assessment: pd.DataFrame | None = None,
             unit_label: str | None = None) -> Figure:
        """Draw one patient's page (see :func:`patient_figure`) and return the figure."""
        rows = _patient_rows(data, patient)
        self._clear()
        fig, x, ax1, ax2 = self.figure, self.x, self._ax1, self._ax2
        if unit_label is None:
            unit_label = str(rows[UNIT].iloc[0]) if UNIT in rows.columns else ""
        width_in = PAGE_SIZES[self.page_size][0]
        subtitle, lines = _header_lines(rows, patient=patient, patients=patients, assessment=assessment,
                                        unit_label=unit_label, width=int(width_in * 14))
        max_lines = 10
        if len(lines) > max_lines:
            lines = lines[: max_lines - 1] + ["    … (see the summary table)"]
        self._title.set_text(f"Patient {patient}")
        self._subtitle.set_text(subtitle)
        line_h = 0.0135
        for i, line in enumerate(lines):
            fig.text(0.06, 0.928 - i * line_h, line, fontsize=MIN_FONT, va="top", gid=f"summary:{i}")
        top = 0.928 - len(lines) * line_h - 0.035
        panel_h = 0.25
        left, width = 0.09, 0.66
        ax1.set_position((left, top - panel_h, width, panel_h))
        ax2.set_position((left, top - 2 * panel_h - 0.055, width, panel_h))
        analytes = [a for a in ANALYTES if a in set(rows[ANALYTE])]
        _check_trend_columns(rows, x=x, y="x_uln")
        _check_trend_columns(rows, x=x, y="value")
        course = _Course.of(rows, patient=patient, analytes=None, x=x, therapy=therapy, patients=patients,
                            assessment=assessment)
        _draw_course(ax1, course, y="x_uln")
        _draw_course(ax2, course, y="value", annotate=False)  # baseline and nadir once, on the ×ULN panel
        panel_title(ax1, "Each analyte as a multiple of its age-specific upper limit of normal")
        panel_title(ax2, f"Values in {unit_label} with the age-specific ULN (dotted steps)" if unit_label
                    else "Values with the age-specific ULN (dotted steps)")
        ax2.set_ylabel(f"{unit_label} (log)" if unit_label else "value (log)", fontsize=MIN_FONT + 1)
        ax1.tick_params(labelbottom=True)
        analyte_handles = [h for h in ax1.get_lines() if h.get_gid() and h.get_gid().startswith("trend:")]
        uln_handles = [h for h in ax2.get_lines() if h.get_gid() and h.get_gid().startswith("uln:")]
        # Phases are named in the legend too: a span too narrow for its label is still identified.
        shown = [p.get_gid().split(":", 1)[1] for p in ax1.patches if (p.get_gid() or "").startswith("phase:")]
        # The legend depends only on which analytes, ULN lines and phases the page shows (their
        # styles are fixed): made once for each such set and placed again on later pages.
        key = (tuple(h.get_label() for h in analyte_handles + uln_handles),
               tuple(ph for ph in PHASE_COLORS if ph in shown))
        legend = self._legends.get(key)
        if legend is None:
            phase_handles = [Patch(facecolor=PHASE_COLORS.get(ph, "#EEEEEE"), edgecolor="none", label=ph)
                             for ph in key[1]]
            handles = analyte_handles + uln_handles + grade_legend_handles() + phase_handles
            legend = self._legends[key] = Legend(fig, handles, [h.get_label() for h in handles], loc="upper left",
                                                 fontsize=MIN_FONT, frameon=False, title="analytes / grades",
                                                 title_fontsize=MIN_FONT)
        legend.set_bbox_to_anchor((left + width + 0.02, top))
        fig.add_artist(legend)

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
            height = row_h * (len(cells) + 1)
            add_table(fig, (0.06, table_top - height, 0.88, height), _sample_table_header(rows, analytes), cells,
                      colours=colours, caption=caption, gid="samples")
        return fig
