"""The one seam for matplotlib internals: each non-public call, the version it was written for, and a fallback.

Every use of an interface matplotlib does not document as public lives here, so that a
release which changes one breaks one function with a fallback, never the import of a
plotting module. Written against matplotlib 3.10; the fallbacks keep 3.8 and 3.9 working.
"""

from __future__ import annotations

import types
import weakref
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.transforms import Bbox

try:
    # matplotlib.backends.backend_agg.get_hinting_flag: module-level helper of the Agg backend
    # (private in all but name; present in 3.8-3.10). Missing: FreeType's default hinting.
    from matplotlib.backends.backend_agg import get_hinting_flag as _agg_hinting_flag
except ImportError:  # pragma: no cover - depends on the installed matplotlib
    _agg_hinting_flag = None


def hinting_flag() -> int:
    """The FreeType load flags Agg renders text with (``backend_agg.get_hinting_flag``, matplotlib 3.8-3.10).

    Raises ``TypeError`` when matplotlib no longer has it, which :func:`freetype_bitmap` turns
    into "let the renderer draw this text".
    """
    if _agg_hinting_flag is None:
        raise TypeError("matplotlib.backends.backend_agg.get_hinting_flag is gone")
    return _agg_hinting_flag()


def freetype_bitmap(font: Any, text: str, *, size: float, dpi: float, antialiased: bool
                    ) -> tuple[np.ndarray, float, float, float] | None:
    """``text`` rendered by matplotlib's FT2Font in one call: (ink, x offset, y offset, descent) in 26.6 units.

    Uses ``FT2Font.clear / set_size / set_text(flags=...) / draw_glyphs_to_bitmap / get_image /
    get_bitmap_offset / get_descent`` (matplotlib's own extension module, 3.8-3.10; ``set_text``
    takes ``flags`` since 3.3). ``None`` when the interface differs or a glyph is missing: the
    caller then lets the renderer draw the text as it draws any other.
    """
    try:
        if not all(font.get_char_index(ord(c)) for c in text):
            return None
        font.clear()
        font.set_size(size, dpi)
        font.set_text(text, 0.0, flags=hinting_flag())
        font.draw_glyphs_to_bitmap(antialiased=antialiased)
        ink = np.asarray(font.get_image())
        x_offset, y_offset = font.get_bitmap_offset()
        descent = font.get_descent()
    except (AttributeError, TypeError, ValueError):
        return None
    return ink, x_offset, y_offset, descent


def font_box(font: Any) -> tuple[float, float, float]:
    """Ascent, descent and line gap of an FT2Font, in ems: the OS/2 typographic metrics, else hhea.

    ``FT2Font.get_sfnt_table("OS/2")`` has the ``sTypo*`` keys in matplotlib 3.10 but not in 3.8
    and 3.9 (where the dict lacks them): a table without its keys is passed over for the next.
    Without either table, or with ``get_sfnt_table`` gone, the font's own ``ascender``,
    ``descender`` and ``height`` (hhea values, matplotlib 3.8-3.10), else a usual sans-serif box.
    """
    try:
        em = font.get_sfnt_table("head")["unitsPerEm"]
        for table, gap, ascent, descent in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                            ("hhea", "lineGap", "ascent", "descent")):
            metrics = font.get_sfnt_table(table)
            if metrics is not None and all(key in metrics for key in (gap, ascent, descent)):
                return metrics[ascent] / em, -metrics[descent] / em, metrics[gap] / em
    except (AttributeError, KeyError, TypeError):
        pass
    try:
        em = font.units_per_EM
        return (font.ascender / em, -font.descender / em,
                (font.height - font.ascender + font.descender) / em)
    except (AttributeError, TypeError, ZeroDivisionError):
        return 0.8, 0.2, 0.2


def parent_figure(artist: Any) -> Any:
    """The (sub)figure an artist is drawn in.

    ``Artist.get_figure(root=False)`` is matplotlib 3.10's spelling; 3.8 and 3.9 have
    ``get_figure()`` without ``root`` (which then is the parent figure) and ``artist.figure``.
    """
    try:
        return artist.get_figure(root=False)
    except TypeError:
        return artist.get_figure()


def reset_data_limits(ax: Any) -> None:
    """Forget an axes' data limits, as a new axes has none.

    Assigns ``Axes.dataLim`` (a public attribute but not a public way to reset it; matplotlib
    3.8-3.10 all start an axes with ``Bbox.null()`` and ``ignore_existing_data_limits = True``).
    Falls back to ``Axes.relim()``, which recomputes the limits from the (removed) artists.
    """
    try:
        ax.dataLim = Bbox.null()
        ax.ignore_existing_data_limits = True
    except AttributeError:  # pragma: no cover - depends on the installed matplotlib
        ax.relim()


def linespacing_is_normal(text: Any) -> bool:
    """Whether ``text`` stacks its lines by the font's own metrics (``linespacing="normal"``, matplotlib 3.11).

    ``Text.get_linespacing`` and the ``"normal"`` value are new in 3.11; before, lines were stacked at
    a fixed multiple of the font size and there is no public getter. ``False`` there, so that callers
    relying on the 3.11 placement fall back to ``Text``'s own drawing.
    """
    getter = getattr(text, "get_linespacing", None)
    return getter is not None and getter() == "normal"


# -- PDF text: a string's text object written once per file, then repeated ----------------------------

#: Per PDF file (``RendererPdf.file``): ``{key: bytes}`` of the text objects already written to it.
_PDF_TEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: Texts remembered per file; a report repeats a few thousand (headings, dates, values, legend labels).
PDF_TEXTS_PER_FILE = 8192


def pdf_renderer(renderer: Any) -> Any:
    """The ``RendererPdf`` that draws text for ``renderer`` (itself, or inside a ``MixedModeRenderer``), else None.

    ``MixedModeRenderer`` hands its drawing methods over as bound methods of the renderer it wraps, so the
    ``draw_text`` method's owner is the renderer that writes (public attributes only).
    """
    try:
        from matplotlib.backends.backend_pdf import RendererPdf
    except ImportError:  # pragma: no cover - depends on the installed matplotlib
        return None
    owner = getattr(getattr(renderer, "draw_text", None), "__self__", None)
    return owner if isinstance(owner, RendererPdf) else None


def _record_writes(file: Any, draw: Any) -> bytes:
    """What ``draw()`` writes to the PDF ``file`` (through ``PdfFile.write``), held back and returned."""
    chunks: list[bytes] = []
    file.write = chunks.append  # an instance attribute: PdfFile.output calls self.write
    try:
        draw()
    finally:
        del file.write
    return b"".join(chunks)


def pdf_draw_text(renderer: Any, gc: Any, x: float, y: float, text: str, prop: Any, *, mtext: Any = None) -> bool:
    """Draw one unrotated line of plain text on a PDF renderer, the same bytes as ``renderer.draw_text``.

    ``RendererPdf.draw_text`` (matplotlib 3.10-3.11) writes ``q``, a matrix placing the text at (x, y),
    then a text object (``BT`` ... ``ET``) and ``Q``. The text object depends only on the string, its
    font and size and the file's font subsets (which are fixed once a glyph is used), not on where the
    text goes; laying it out (every glyph loaded, tracked for the subset and written with its kerning)
    was a third of a report page's PDF time, and a report repeats most of its strings page after page.
    The first time a string is written to a file its text object is kept; later, only the colour, ``q``
    and the matrix are written before it, as ``draw_text`` writes them (``PdfFile.output`` with ``Op``).

    Returns False, having drawn nothing, when ``renderer`` does not write PDF or the case is not this
    plain one (a link, font features, PostScript core fonts, or bytes not shaped as expected): the
    caller then draws the text as usual.
    """
    pdf = pdf_renderer(renderer)
    if pdf is None or gc.get_url() is not None:
        return False
    features = mtext.get_fontfeatures() if mtext is not None and hasattr(mtext, "get_fontfeatures") else None
    language = mtext.get_language() if mtext is not None and hasattr(mtext, "get_language") else None
    if features or language or rcParams["pdf.use14corefonts"]:
        return False
    try:
        from matplotlib.backends.backend_pdf import Op
        from matplotlib.font_manager import findfont

        file = pdf.file
        texts = _PDF_TEXTS.setdefault(file, {})
        key = (text, prop, findfont(prop), rcParams["pdf.fonttype"])
        body = texts.get(key)
        if body is not None:
            pdf.check_gc(gc, gc.get_rgb())
            file.output(Op.gsave)
            file.output(1.0, 0.0, -0.0, 1.0, x, y, Op.concat_matrix)  # draw_text's rotation matrix at angle 0
            file.write(body)
            return True
        pdf.check_gc(gc, gc.get_rgb())  # the colour first, so that what is recorded is the text alone
        # the class's own draw_text: the renderer's may be kept_pdf_texts' own
        written = _record_writes(file, lambda: type(pdf).draw_text(pdf, gc, x, y, text, prop, 0.0, ismath=False,
                                                                   mtext=mtext))
    except (AttributeError, ImportError, TypeError):  # pragma: no cover - depends on the installed matplotlib
        return False
    file.write(written)
    start = written.find(b"\nBT\n")
    # q, the matrix, then the text object closed by ET and Q: anything else is written but not kept
    if written.startswith(b"q\n") and start > 0 and written.endswith(b"ET\nQ\n") and written.count(b"\nBT\n") == 1 \
            and len(texts) < PDF_TEXTS_PER_FILE:
        texts[key] = written[start + 1:]
    return True


def _draw_text_kept(pdf: Any, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False,
                    mtext: Any = None) -> None:
    """``RendererPdf.draw_text``, through :func:`pdf_draw_text` for unrotated plain text."""
    if angle == 0 and ismath is False and pdf_draw_text(pdf, gc, x, y, s, prop, mtext=mtext):
        return
    type(pdf).draw_text(pdf, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)


def kept_pdf_texts(renderer: Any) -> bool:
    """Make every later text of this PDF renderer's page go through :func:`pdf_draw_text`.

    Tick labels, axis labels, titles and notes are drawn by matplotlib's ``Text`` with
    ``renderer.draw_text``; the renderer (one per PDF page, matplotlib 3.10-3.11) is given its own
    ``draw_text`` that repeats a string's kept text object when it can and calls the class's
    otherwise. Returns False, changing nothing, when ``renderer`` does not write PDF.
    """
    pdf = pdf_renderer(renderer)
    if pdf is None:
        return False
    if "draw_text" not in vars(pdf):
        pdf.draw_text = types.MethodType(_draw_text_kept, pdf)  # still a method of the renderer: pdf_renderer finds it
    return True


# -- a legend laid out once ---------------------------------------------------------------------------


def _layout_key(renderer: Any) -> tuple[Any, ...]:
    """What an offset box's layout depends on besides its own content: how the renderer measures text
    (PDF, Agg, SVG: a vector backend hands measuring to the backend's own), its resolution, and the
    settings that change text sizes."""
    measure = renderer.get_text_width_height_descent
    return (getattr(measure, "__qualname__", type(renderer).__name__), renderer.points_to_pixels(1.0),
            *(rcParams[k] for k in ("text.hinting", "text.hinting_factor", "text.kerning_factor",
                                    "pdf.use14corefonts", "ps.useafm")))


def _remembered(method: Any) -> Any:
    memo: dict[tuple[Any, ...], Any] = {}

    def call(renderer: Any) -> Any:
        key = _layout_key(renderer)
        if key not in memo:
            memo[key] = method(renderer)
        return memo[key]

    return call


def freeze_legend_layout(legend: Any) -> bool:
    """Lay out ``legend``'s boxes once per kind of renderer, instead of on every draw.

    A ``Legend`` draws a tree of offset boxes (``Legend._legend_box``: packers of handle areas and
    ``TextArea``s), and each level asks each child for its size again (``_get_bbox_and_child_offsets``,
    ``get_bbox``, matplotlib 3.8-3.11), so a 20-entry legend laid its texts out about 70 times a draw.
    Their sizes depend only on the renderer's way of measuring and its resolution while the entries do
    not change, so each box's answer is kept per renderer kind (the legend's place, from its anchor, is
    still found on every draw). Only for a legend whose entries and styles are never changed afterwards,
    and whose texts are single lines (a ``TextArea`` sets its baseline while measuring only for several).
    Returns False, changing nothing, when the legend is not built that way.
    """
    root = getattr(legend, "_legend_box", None)
    if root is None or not hasattr(root, "_get_bbox_and_child_offsets"):
        return False
    texts = [t.get_text() for t in [*legend.get_texts(), legend.get_title()]]
    if any("\n" in text for text in texts):
        return False
    boxes, todo = [], [root]
    while todo:
        box = todo.pop()
        boxes.append(box)
        todo.extend(child for child in box.get_children() if hasattr(child, "_get_bbox_and_child_offsets"))
    for box in boxes:
        # Packers (VPacker, HPacker) answer through _get_bbox_and_child_offsets; areas override get_bbox
        if "get_bbox" in vars(type(box)):
            box.get_bbox = _remembered(box.get_bbox)
        else:
            box._get_bbox_and_child_offsets = _remembered(box._get_bbox_and_child_offsets)
    return True


# -- an axis' ticks found once per draw -----------------------------------------------------------------


def ticks_once_per_draw(axis: Any) -> bool:
    """While ``axis`` draws, find its ticks and their labels' extents once instead of three and two times.

    ``Axis.draw`` (matplotlib 3.8-3.11) updates its ticks (``_update_ticks``: locator, formatter, every
    tick moved and relabelled) and measures their labels (``_get_ticklabel_bboxes``), then does both
    again to place the axis label (``_get_tick_boxes_siblings``), and the spine it unions with updates the
    ticks a third time (``Spine.get_window_extent``). Nothing changes between these calls within one
    draw, so the first answers are reused until the draw ends; outside a draw both work as before. On a
    patient page's two log-scale panels this was a fifth of the time spent on axes. Returns False,
    changing nothing, when the axis lacks these methods.
    """
    if not all(callable(getattr(axis, name, None)) for name in ("_update_ticks", "_get_ticklabel_bboxes", "draw")):
        return False
    update, measure, draw = axis._update_ticks, axis._get_ticklabel_bboxes, axis.draw
    drawing: dict[str, Any] = {}

    def draw_once(renderer: Any, *args: Any, **kwargs: Any) -> Any:
        drawing.clear()
        drawing["renderer"] = renderer
        try:
            return draw(renderer, *args, **kwargs)
        finally:
            drawing.clear()

    def update_once() -> Any:
        if not drawing:
            return update()
        if "ticks" not in drawing:
            drawing["ticks"] = update()
        return drawing["ticks"]

    def measure_once(ticks: Any, renderer: Any) -> Any:
        if not drawing or renderer is not drawing["renderer"] or ticks is not drawing.get("ticks"):
            return measure(ticks, renderer)
        if "extents" not in drawing:
            drawing["extents"] = measure(ticks, renderer)
        return drawing["extents"]

    axis.draw, axis._update_ticks, axis._get_ticklabel_bboxes = draw_once, update_once, measure_once
    return True
