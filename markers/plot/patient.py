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

import logging
import re
import textwrap

import pandas as pd
from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch

from markers import _compat
from markers.analysis.panel import patient_status
from markers.plot.axes import panel_title
from markers.plot.days import (
    DAY_AXIS_LABEL,
    FIRST_SAMPLE_AXIS_LABEL,
    anchored_on_first_sample,
    first_sample_note,
    reword_days,
    with_timeline_days,
)
from markers.plot.frames import check_choice, format_age, n_samples, patient_rows, rows_of, time_origin
from markers.plot.panel import panel_line, panel_with_days
from markers.plot.samples import sample_notes, sample_table_cells, sample_table_header, shortened, story_rows
from markers.plot.style import MIN_FONT, PAGE_SIZES, PHASE_COLORS, X_CHOICES
from markers.plot.table import KeptPdfTexts, LineText, add_table, line_text
from markers.plot.trend import (
    Course,
    analyte_legend_handles,
    band_legend_handles,
    check_trend_columns,
    draw_course,
    grade_legend_handles,
    plot_marker_trend,
)
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    ANALYTE,
    ANALYTES,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    SEX,
    UNIT,
)

logger = logging.getLogger(__name__)

#: The page, and the axes-level plot it is made of (documented here since the first release).
__all__ = ["PatientPage", "patient_figure", "plot_marker_trend"]


def _header_lines(rows: pd.DataFrame, *, patient: str, patients: pd.DataFrame | None,
                  assessment: pd.DataFrame | None, unit_label: str, width: int,
                  status: pd.DataFrame | None = None) -> tuple[str, list[str], list[str]]:
    """Subtitle (sex, age at diagnosis, diagnosis date, unit), the patient-level status line(s) and the
    per-analyte assessment lines."""
    parts = []
    prow = rows_of(patients, patient)
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
            parts.append(f"day 0 = diagnosis {pd.Timestamp(dx):%Y-%m-%d}")
        elif DIAGNOSIS_DATE not in prow.columns:
            # Pseudonymised: no date may be shown; say what the day axis counts from instead.
            parts.append("day 0 = diagnosis")
    if not any(part.startswith("day 0") for part in parts):
        origin = time_origin(rows, patient=patient)
        parts.append(f"day 0 = {origin:%Y-%m-%d} (therapy start)" if origin is not None else "day 0 = diagnosis")
    count = n_samples(rows)
    parts.append(f"{count} sample" if count == 1 else f"{count} samples")
    if unit_label:
        parts.append(f"values in {unit_label}")
    lines: list[str] = []
    arow = rows_of(assessment, patient)
    if status is None and arow is not None and "informative" in arow.columns:
        status = patient_status(arow)
    panel: list[str] = []
    if status is not None and len(status):
        line = panel_line(panel_with_days(status, rows), patient)
        panel = textwrap.wrap(line, width=width, subsequent_indent="    ") if line else []
    if arow is not None and "summary" in arow.columns:
        order = {a: i for i, a in enumerate(ANALYTES)}
        arow = with_timeline_days(arow, rows)
        arow = arow.assign(_o=arow[ANALYTE].map(order).fillna(99)).sort_values("_o")
        normalized = arow["normalized_day"] if "normalized_day" in arow.columns else [None] * len(arow)
        risen = arow["reelevation_day"] if "reelevation_day" in arow.columns else [None] * len(arow)
        for analyte, summary, n_day, r_day in zip(arow[ANALYTE], arow["summary"], normalized, risen, strict=True):
            if isinstance(summary, str) and summary.strip():
                # the same days as the axes and the table: since day 0, not since therapy start
                text = reword_days(summary.strip(), normalized_day=n_day, reelevation_day=r_day)
                lines.extend(textwrap.wrap(f"{analyte}: {text}", width=width, subsequent_indent="    "))
    return " · ".join(parts), panel, lines


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
        check_choice("page_size", page_size, tuple(PAGE_SIZES))
        check_choice("x", x, X_CHOICES)
        self.page_size, self.x = page_size, x
        self.figure = fig = Figure(figsize=PAGE_SIZES[page_size])
        # A canvas of its own keeps one Agg renderer from page to page, and with it matplotlib's
        # cache of text sizes (titles, labels, legend and tick texts repeat on every page).
        FigureCanvasAgg(fig)
        self._title = line_text(fig, 0.06, 0.975, "", fontsize=14, fontweight="bold", va="top", gid="title")
        self._subtitle = line_text(fig, 0.06, 0.950, "", fontsize=MIN_FONT + 1, va="top", color="#333333",
                                   gid="subtitle")
        self._ax1 = fig.add_axes((0.09, 0.5, 0.66, 0.25))
        self._ax2 = fig.add_axes((0.09, 0.2, 0.66, 0.25), sharex=self._ax1)
        for axis in (self._ax1.xaxis, self._ax1.yaxis, self._ax2.xaxis, self._ax2.yaxis):
            _compat.ticks_once_per_draw(axis)  # not again to place the axis label
        # every page's texts written to a PDF once, then repeated (markers.plot.table.KeptPdfTexts)
        self._kept = fig.add_artist(KeptPdfTexts())
        self._fixed = {id(self._title), id(self._subtitle), id(self._kept)}
        self._legends: dict[tuple[tuple[str, ...], tuple[str, ...]], Legend] = {}

    def _clear(self) -> None:
        """Leave the page as :meth:`__init__` made it: no artist of the previous patient, fresh limits."""
        fig = self.figure
        for artist in [*fig.legends, *(a for a in [*fig.artists, *fig.texts] if id(a) not in self._fixed)]:
            artist.remove()
        for ax in (self._ax1, self._ax2):
            for artist in [*ax.lines, *ax.patches, *ax.texts, *ax.collections, *ax.images, *ax.artists]:
                artist.remove()
            ax.set_yscale("linear")
            # As a new axes: no data limits, the unit view autoscaled, default margins.
            _compat.reset_data_limits(ax)
            ax.set_xmargin(rcParams["axes.xmargin"])
            ax.set_ymargin(rcParams["axes.ymargin"])
            ax.set_ylim(0, 1, auto=True)
        self._ax1.set_xlim(0, 1, auto=True)

    def draw(self, data: pd.DataFrame, *, patient: str, therapy: pd.DataFrame | None = None,
             patients: pd.DataFrame | None = None, assessment: pd.DataFrame | None = None,
             unit_label: str | None = None, status: pd.DataFrame | None = None) -> Figure:
        """Draw one patient's page (see :func:`patient_figure`) and return the figure.

        ``status``: the patient-level panel status (any patients; default from ``assessment``).
        """
        rows, first_sample = anchored_on_first_sample(patient_rows(data, patient)) if self.x == "day" \
            else (patient_rows(data, patient), None)
        self._clear()
        fig, x, ax1, ax2 = self.figure, self.x, self._ax1, self._ax2
        if unit_label is None:
            unit_label = str(rows[UNIT].iloc[0]) if UNIT in rows.columns else ""
        width_in = PAGE_SIZES[self.page_size][0]
        subtitle, panel, lines = _header_lines(rows, patient=patient, patients=patients, assessment=assessment,
                                        unit_label=unit_label, width=int(width_in * 14), status=status)
        max_lines = 10
        if len(lines) > max_lines:
            lines = lines[: max_lines - 1] + ["    … (see the summary table)"]
        if first_sample is not None:  # nothing to anchor on: say what day 0 is instead
            subtitle = re.sub(r"day 0 = [^·]*", f"day 0 = {first_sample_note(first_sample)} ", subtitle, count=1)
        self._title.set_text(f"Patient {patient}")
        self._subtitle.set_text(subtitle)
        line_h = 0.0135
        # the patient-level status first (gid "panel:i"), then each analyte's assessment ("summary:i")
        gids = [f"panel:{i}" for i in range(len(panel))] + [f"summary:{i}" for i in range(len(lines))]
        lines = panel + lines
        for i, (line, gid) in enumerate(zip(lines, gids, strict=False)):
            line_text(fig, 0.06, 0.928 - i * line_h, line, fontsize=MIN_FONT, va="top", gid=gid)
        top = 0.928 - len(lines) * line_h - 0.035
        panel_h = 0.25
        left, width = 0.09, 0.66
        ax1.set_position((left, top - panel_h, width, panel_h))
        ax2.set_position((left, top - 2 * panel_h - 0.055, width, panel_h))
        analytes = [a for a in ANALYTES if a in set(rows[ANALYTE])]
        check_trend_columns(rows, x=x, y="x_uln")
        check_trend_columns(rows, x=x, y="value")
        course = Course.of(rows, patient=patient, analytes=None, x=x, therapy=therapy, patients=patients,
                            assessment=assessment)
        draw_course(ax1, course, y="x_uln")
        draw_course(ax2, course, y="value", annotate=False)  # baseline and nadir once, on the ×ULN panel
        panel_title(ax1, "Each analyte as a multiple of its age-specific upper limit of normal")
        panel_title(ax2, f"Values in {unit_label} with the age-specific ULN (dotted steps)" if unit_label
                    else "Values with the age-specific ULN (dotted steps)")
        ax2.set_ylabel(f"{unit_label} (log)" if unit_label else "value (log)", fontsize=MIN_FONT + 1)
        ax1.tick_params(labelbottom=True)
        if first_sample is not None:
            for ax in (ax1, ax2):
                ax.set_xlabel(FIRST_SAMPLE_AXIS_LABEL, fontsize=MIN_FONT + 1)
        self._place_legend(anchor=(left + width + 0.02, top))
        self._draw_samples(rows, course, analytes, table_top=top - 2 * panel_h - 0.11,
                           day_label=FIRST_SAMPLE_AXIS_LABEL if first_sample is not None else DAY_AXIS_LABEL)
        return fig

    def _place_legend(self, *, anchor: tuple[float, float]) -> None:
        """The page's legend: analytes with their symbols, ULN lines, grade bands, grades, phases shown."""
        fig, ax1, ax2 = self.figure, self._ax1, self._ax2
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
            handles = (analyte_legend_handles([h.get_label() for h in analyte_handles]) + uln_handles
                       + band_legend_handles() + grade_legend_handles() + phase_handles)
            legend = self._legends[key] = Legend(fig, handles, [h.get_label() for h in handles], loc="upper left",
                                                 fontsize=MIN_FONT, frameon=False, title="analytes / grades",
                                                 title_fontsize=MIN_FONT)
            for text in [*legend.get_texts(), legend.get_title()]:
                text.__class__ = LineText  # one line each, drawn at once (markers.plot.table.LineText)
            # its entries never change: laid out once for the PDF and once for the PNGs, not on every page
            _compat.freeze_legend_layout(legend)
        legend.set_bbox_to_anchor(anchor)
        fig.add_artist(legend)

    def _draw_samples(self, rows: pd.DataFrame, course: Course, analytes: list[str], *, table_top: float,
                      day_label: str = DAY_AXIS_LABEL) -> None:
        """The sample table in what is left of the page, shortened to the samples that tell the response."""
        fig = self.figure
        # The sample table fills what is left of the page; when it cannot hold every sample it keeps
        # the ones that tell the response (markers.plot.samples.story_rows).
        row_h = 0.0165
        n_fit = int((table_top - 0.03) / row_h) - 1
        cells, colours = sample_table_cells(rows, analytes)
        if n_fit >= 3 and cells:
            notes = sample_notes(rows, assessment=course.assessment, therapy=course.therapy, origin=course.origin,
                                 shift=course.shift)
            cells = [line + [note] for line, note in zip(cells, notes, strict=True)]
            colours = [line + ["white"] for line in colours]
            n_all = len(cells)
            keep = story_rows(notes, n_fit)
            if len(keep) < n_all:
                cells, colours = shortened(cells, colours, keep)
                caption = (f"Samples: {len(keep)} of {n_all}, those that tell the response (… = left out); "
                           f"day = {day_label}")
            else:
                caption = f"Samples ({n_all}); day = {day_label}"
            height = row_h * (len(cells) + 1)
            widths = [1.0] * (len(cells[0]) - 1) + [1.6]
            add_table(fig, (0.06, table_top - height, 0.88, height), sample_table_header(rows, analytes), cells,
                      colours=colours, widths=widths, caption=caption, gid="samples")
