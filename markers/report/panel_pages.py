"""The report's patient-level status page(s): one row per informative patient, right after the cohort summary."""

from __future__ import annotations

import math
from collections.abc import Iterator

from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from markers.plot.panel import PANEL_FOOTNOTE, PANEL_HEADER
from markers.plot.style import GRADE_COLORS, MIN_FONT, PAGE_SIZES
from markers.report.pages import draw_table, rows_per_page

__all__ = ["n_panel_pages", "panel_pages"]

_WIDTHS = [1.2, 1.6, 1.1, 1.1, 1.0, 1.0, 1.2]
_TINT = to_rgba(GRADE_COLORS["marked"], 0.25)
_FOOTNOTE_ROWS = 4  # rows of the page left free for the footnote


def _per_page(page_size: str) -> int:
    return max(1, rows_per_page(page_size) - _FOOTNOTE_ROWS)


def n_panel_pages(n_rows: int, *, page_size: str) -> int:
    """Pages :func:`panel_pages` yields for ``n_rows`` rows (one page, saying so, when there are none)."""
    return max(1, math.ceil(n_rows / _per_page(page_size)))


def _colour(cell: str, column: int) -> object:
    flagged = cell == "positive" or (column in (4, 5) and cell == "yes") or (column == 6 and cell != "—")
    return _TINT if flagged else "white"


def panel_pages(cells: list[list[str]], *, page_size: str) -> Iterator[Figure]:
    """The table of :func:`markers.plot.panel.panel_cells`, paginated, its source said under it on every page."""
    per = _per_page(page_size)
    n_pages = n_panel_pages(len(cells), page_size=page_size)
    for page in range(n_pages):
        chunk = cells[page * per:(page + 1) * per]
        fig = Figure(figsize=PAGE_SIZES[page_size])
        suffix = f" ({page + 1}/{n_pages})" if n_pages > 1 else ""
        fig.text(0.05, 0.975, f"Patient-level status{suffix}", fontsize=13, fontweight="bold", va="top",
                 gid="panel:title")
        intro = ("One row per patient with an informative marker (elevated at baseline): is the patient "
                 "marker-positive at the milestone? Unconfirmed rise: day since diagnosis, as on every page.")
        if not cells:
            intro = "No patient has an informative marker (none elevated at baseline): no patient-level status."
        fig.text(0.05, 0.952, intro, fontsize=MIN_FONT, va="top", wrap=True, gid="panel:intro")
        colours = [[_colour(cell, j) for j, cell in enumerate(row)] for row in chunk]
        draw_table(fig, chunk, PANEL_HEADER, _WIDTHS, top=0.925, colours=colours or None)
        fig.text(0.05, 0.035, PANEL_FOOTNOTE, fontsize=MIN_FONT, va="bottom", wrap=True, gid="panel:footnote")
        yield fig
