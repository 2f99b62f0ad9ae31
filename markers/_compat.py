"""The one seam for matplotlib internals: each non-public call, the version it was written for, and a fallback.

Every use of an interface matplotlib does not document as public lives here, so that a
release which changes one breaks one function with a fallback, never the import of a
plotting module. Written against matplotlib 3.10; the fallbacks keep 3.8 and 3.9 working.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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
