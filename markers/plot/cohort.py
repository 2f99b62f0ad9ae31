"""Cohort views: marker courses of all informative patients, a swimmer plot, and the
time to normalization (Kaplan–Meier style).

Axes-level functions take ``ax=None`` (``plt.gca()``) and return the ``Axes``;
:func:`cohort_figures` builds whole pages on pyplot-free ``Figure`` objects.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from markers.plot.days import with_timeline_days
from markers.plot.frames import (
    check_choice,
)
from markers.plot.normalization import (
    informative_rows,
    median_days_to_normalization,
    normalization_curve,
    plot_time_to_normalization,
)
from markers.plot.spaghetti import binned_median, plot_cohort_spaghetti
from markers.plot.style import MIN_FONT, PAGE_SIZES
from markers.plot.swimmer import STATUS_COLORS, lane_order, plot_swimmer
from markers.plot.table import add_table
from markers.schema import ANALYTE, ANALYTES, PATIENT_ID

#: The cohort's axes-level plots and their helpers, importable from here as before the split.
__all__ = ["STATUS_COLORS", "binned_median", "cohort_figures", "iter_cohort_figures", "median_days_to_normalization",
           "normalization_curve", "plot_cohort_spaghetti", "plot_swimmer", "plot_time_to_normalization"]


# -- pages -------------------------------------------------------------------------------------


def cohort_analytes(assessment: pd.DataFrame) -> list[str]:
    """Analytes with at least one informative patient, in the usual order."""
    return [a for a in ANALYTES if len(informative_rows(assessment, a))]


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
    analytes = cohort_analytes(assessment)
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
