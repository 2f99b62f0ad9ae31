"""A table of text cells drawn fast: one collection of rectangles and each cell's text placed directly.

Also :class:`LineText`, one line of page text drawn straight to the renderer in the same way. A
patient page's header (title, subtitle, the status and assessment lines) and the sample
table's caption are single left-aligned lines. ``Text.draw`` measures every line before it
draws it (to stack lines and align them), and Agg renders text glyph by glyph: on a page of
such lines that was a third of its drawing time. A :class:`LineText` puts the baseline where
``Text`` puts it (for ``va="top"``: the font's ascent below the top, or the line's own height
when its glyphs reach higher, as ``Text`` stacks lines) and hands the string to the renderer at
once; on Agg through FreeType in one call (``_RasterText``, as the sample table does). Any
other case (several lines, rotation, other alignments, math, a box, effects, clipping) is drawn
by ``Text`` itself.
"""

from __future__ import annotations

import collections
import functools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.text import Text
from matplotlib.transforms import Bbox, offset_copy

from markers import _compat
from markers.plot.style import MIN_FONT

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=16)
def _font_box(prop: FontProperties) -> tuple[float, float, float]:
    """Ascent, descent and line gap of the font of ``prop``, in ems (from its OS/2 or hhea table).

    The same metrics matplotlib's ``Text`` stacks lines with, so a table cell sits in its row
    exactly as a ``Text`` centred there would.
    """
    return _compat.font_box(get_font(findfont(prop)))


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
    heights
        Relative row heights, the heading row first (default equal): a row of wrapped text is taller.
    left_aligned
        Per column: body text starts at the left edge (wrapped text) instead of being centred.

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
                 header_colour: Any = "white", bold_header: bool = False, fontsize: float = MIN_FONT,
                 heights: Sequence[float] | None = None, left_aligned: Sequence[bool] | None = None) -> None:
        super().__init__()
        self._rows = [[str(h) for h in header]] + [[str(c) for c in row] for row in cells]
        n_cols = len(self._rows[0])
        if any(len(row) != n_cols for row in self._rows):
            raise ValueError("every table row needs one cell per column")
        left, bottom, width, height = rect
        shares = np.asarray(widths if widths is not None else [1.0] * n_cols, dtype=float)
        self._x = left + width * np.concatenate([[0.0], np.cumsum(shares) / shares.sum()])
        tall = np.asarray(heights if heights is not None else [1.0] * len(self._rows), dtype=float)
        if len(tall) != len(self._rows):
            raise ValueError("heights needs one value per row, the heading row included")
        self._y = bottom + height * (1.0 - np.concatenate([[0.0], np.cumsum(tall) / tall.sum()]))
        self._left = list(left_aligned) if left_aligned is not None else [False] * n_cols
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
        self.patch.set_figure(_compat.parent_figure(self))
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
                start = to_px((self._x[j], 0.0))[0] + size * 0.4 if i and self._left[j] else None
                for line, width, drop in placed:
                    baseline = cy + height / 2 - drop
                    if start is not None:
                        width = 2 * (cx - start)  # so that cx - width / 2 is the padded left edge
                    if prop in raster and raster[prop].draw(gc, cx - width / 2, baseline, line):
                        continue
                    at = (cx - width / 2, baseline if flip is None else flip - baseline)
                    if not _compat.pdf_draw_text(renderer, gc, *at, line, prop):
                        renderer.draw_text(gc, *at, line, prop, 0.0, ismath=False)
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

    def __init__(self, renderer: RendererAgg, prop: FontProperties, colour: Any = None) -> None:
        self.renderer = renderer
        self.font = get_font(findfont(prop))
        self.size = prop.get_size_in_points()
        rgba = to_rgba(rcParams["text.color"] if colour is None else colour)
        self.colour = np.round(np.asarray(rgba) * 255).astype(np.uint8)

    def draw(self, gc: Any, left: float, baseline: float, text: str) -> bool:
        """Draw ``text`` with its baseline at ``baseline`` (pixels from the bottom) from ``left``."""
        drawn = self._bitmap(text)
        if drawn is None:
            # a glyph the font lacks, or FreeType's interface changed: the renderer draws it
            return False
        image, x_offset, y_offset, descent = drawn
        if not image.size:
            return True  # nothing to draw (spaces)
        # Placed as matplotlib placed a FreeType bitmap: whole pixels, its lower edge at the
        # descent below the baseline (rows counted from the top, the image top row first).
        top_down = self.renderer.height - baseline
        x = round(left + x_offset / 64)
        lower = round(top_down + y_offset / 64 + descent / 64) + 1
        # draw_image takes the lower-left corner from the bottom and the rows bottom first.
        self.renderer.draw_image(gc, x, self.renderer.height - lower, image)
        return True

    def _bitmap(self, text: str) -> tuple[np.ndarray, float, float, float] | None:
        """``text`` as a coloured image, rows bottom first, with FreeType's offsets; remembered.

        The image does not depend on where the text goes (FreeType lays it out from its own origin
        and the renderer places it on whole pixels), so a string a report repeats page after page
        (headings, "—", dates, values, legend labels) is rendered once.
        """
        antialiased = bool(rcParams["text.antialiased"])
        key = (self.font.fname, text, self.size, self.renderer.dpi, antialiased, self.colour.tobytes(),
               *(rcParams[k] for k in ("text.hinting", "text.hinting_factor", "text.kerning_factor")))
        drawn = _BITMAPS.get(key)
        if drawn is not None:
            _BITMAPS.move_to_end(key)
            return drawn
        found = _compat.freetype_bitmap(self.font, text, size=self.size, dpi=self.renderer.dpi,
                                        antialiased=antialiased)
        if found is None:
            return None
        ink, x_offset, y_offset, descent = found
        image = np.empty(ink.shape + (4,), dtype=np.uint8)
        image[..., :3] = self.colour[:3]
        image[..., 3] = (ink.astype(np.uint16) * self.colour[3] // 255).astype(np.uint8)
        image = image[::-1].copy()
        drawn = _BITMAPS[key] = (image, x_offset, y_offset, descent)
        if len(_BITMAPS) > 4096:
            _BITMAPS.popitem(last=False)
        return drawn


#: Texts rendered by :class:`_RasterText`, most recent last (see ``_RasterText._bitmap``).
_BITMAPS: collections.OrderedDict[tuple[Any, ...], tuple[np.ndarray, float, float, float]] = \
    collections.OrderedDict()


def add_table(fig: Figure, rect: tuple[float, float, float, float], header: Sequence[str],
              cells: Sequence[Sequence[str]], *, colours: Sequence[Sequence[Any]] | None = None,
              widths: Sequence[float] | None = None, header_colour: Any = "white", bold_header: bool = False,
              caption: str = "", gid: str | None = None, heights: Sequence[float] | None = None,
              left_aligned: Sequence[bool] | None = None) -> GridTable:
    """Draw a :class:`GridTable` on a figure in ``rect`` (figure fractions), with a caption above it.

    The caption sits where an axes title would (``axes.titlepad`` above the top edge).
    """
    table = GridTable(header, cells, rect=rect, transform=fig.transFigure, colours=colours, widths=widths,
                      header_colour=header_colour, bold_header=bold_header, heights=heights,
                      left_aligned=left_aligned)
    table.set_gid(gid)
    fig.add_artist(table)
    if caption:
        above = offset_copy(fig.transFigure, fig=fig, y=rcParams["axes.titlepad"], units="points")
        line_text(fig, rect[0], rect[1] + rect[3], caption, fontsize=MIN_FONT + 1, va="baseline", transform=above)
    return table


class LineText(Text):
    """A ``Text`` whose single left-aligned line is drawn without ``Text``'s layout (see the module)."""

    def _direct(self) -> bool:
        text = self.get_text()
        return (bool(text) and "\n" not in text and "$" not in text and self.get_rotation() == 0
                and self.get_horizontalalignment() == "left" and self.get_verticalalignment() in ("top", "baseline")
                and not self.get_usetex() and self.get_bbox_patch() is None and not self.get_path_effects()
                and not self.get_wrap() and self.get_clip_box() is None and self.get_clip_path() is None
                # a top-aligned line sits its font's ascent below the top where Text stacks lines by
                # the font's metrics (linespacing "normal", matplotlib 3.11; not with PostScript core fonts)
                and (self.get_verticalalignment() == "baseline"
                     or (_compat.linespacing_is_normal(self) and not rcParams["pdf.use14corefonts"]
                         and not rcParams["ps.useafm"])))

    def draw(self, renderer: Any) -> None:
        if renderer is None or not self.get_visible() or not self._direct():
            super().draw(renderer)
            return
        prop, text = self.get_fontproperties(), self.get_text()
        left, y = self.get_transform().transform(self.get_unitless_position())
        if self.get_verticalalignment() == "top":
            ascent = renderer.points_to_pixels(prop.get_size_in_points()) * _font_box(prop)[0]
            _, full, below = _measure(renderer, text, prop)
            y -= max(full - below, ascent)  # as Text places a line: by its glyphs' height if taller
        self._renderer = renderer
        renderer.open_group("text", self.get_gid())
        gc = renderer.new_gc()
        colour = to_rgba(self.get_color(), self.get_alpha())
        gc.set_foreground(colour, isRGBA=True)
        gc.set_antialiased(self._antialiased)
        gc.set_url(self.get_url())
        raster = isinstance(renderer, RendererAgg) and self.get_url() is None
        if not (raster and _RasterText(renderer, prop, colour=colour).draw(gc, left, y, text)):
            canvas_height = renderer.get_canvas_width_height()[1]
            at = (left, canvas_height - y if renderer.flipy() else y)
            if not _compat.pdf_draw_text(renderer, gc, *at, text, prop, mtext=self):
                renderer.draw_text(gc, *at, text, prop, 0.0, ismath=False, mtext=self)
        gc.restore()
        renderer.close_group("text")
        self.stale = False


class KeptPdfTexts(Artist):
    """Draws nothing; on a PDF page, first of all, has the page's texts written as kept text objects.

    With it, matplotlib's own texts (tick labels, axis labels, titles, notes) repeat a string's text
    object as :class:`GridTable` and :class:`LineText` do (``markers._compat.kept_pdf_texts``): add
    it to a figure that is saved as PDF page after page.
    """

    zorder = -np.inf  # before any other artist of the figure

    def __init__(self) -> None:
        super().__init__()
        self.set_in_layout(False)

    def draw(self, renderer: Any) -> None:
        _compat.kept_pdf_texts(renderer)
        self.stale = False


def line_text(fig: Figure, x: float, y: float, s: str, **kwargs: Any) -> Text:
    """``fig.text(x, y, s, **kwargs)`` drawn as a :class:`LineText`; it stays one of ``fig.texts``.

    ``Figure.text`` is the public way to put a text among the figure's texts; the text it made
    then takes :class:`LineText`'s drawing (a subclass adding no state, only ``draw``).

    Examples
    --------
    >>> fig = Figure()
    >>> t = line_text(fig, 0.1, 0.9, "Patient P1", va="top")
    >>> isinstance(t, LineText), fig.texts[0] is t
    (True, True)
    """
    text = fig.text(x, y, s, **kwargs)
    text.__class__ = LineText
    return text
