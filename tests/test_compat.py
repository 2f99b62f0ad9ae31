"""markers._compat: matplotlib's non-public interfaces in one place, each with a working fallback."""

import ast
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font

import markers._compat as compat
from markers.plot.axes import plain_log_axis
from markers.plot.table import add_table

PACKAGE = Path(__file__).parent.parent / "markers"


class _Matplotlib39Artist:
    """An artist as matplotlib 3.8 and 3.9 have it: get_figure() takes no ``root``."""

    def __init__(self, figure):
        self.figure = figure

    def get_figure(self):
        return self.figure


def test_parent_figure_works_without_get_figures_root_argument():
    fig = Figure()
    assert compat.parent_figure(_Matplotlib39Artist(fig)) is fig
    sub = fig.subfigures(1, 2)[0]
    ax = sub.add_subplot()
    assert compat.parent_figure(ax) is sub  # matplotlib 3.10: the subfigure, not the root


def test_table_draws_where_get_figure_has_no_root(monkeypatch):
    # matplotlib 3.9 raised "get_figure() got an unexpected keyword argument 'root'" on every table
    fig = Figure(figsize=(3, 2))
    table = add_table(fig, (0.1, 0.1, 0.8, 0.8), ["a"], [["1"]])
    monkeypatch.setattr(type(table), "get_figure", lambda self: fig, raising=False)
    FigureCanvasAgg(fig).draw()
    assert table.patch.get_figure() is fig


def test_freetype_bitmap_falls_back_when_the_hinting_flag_is_gone(monkeypatch):
    font = get_font(findfont(FontProperties(size=8)))
    assert compat.freetype_bitmap(font, "P1", size=8, dpi=72, antialiased=True) is not None
    monkeypatch.setattr(compat, "_agg_hinting_flag", None)  # the import failed on a later matplotlib
    assert compat.freetype_bitmap(font, "P1", size=8, dpi=72, antialiased=True) is None


def test_reset_data_limits_forgets_the_previous_data():
    ax = Figure().add_subplot()
    ax.plot([0, 100], [0, 50])
    compat.reset_data_limits(ax)
    ax.plot([1, 2], [3, 4])
    assert np.allclose(ax.dataLim.bounds, (1, 3, 1, 1))


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module, [alias.name for alias in node.names]


@pytest.mark.parametrize("room", ["plot", "report"])
def test_no_private_names_imported_across_modules(room):
    for path in sorted((PACKAGE / room).glob("*.py")):
        for module, names in _imports(path):
            if module.startswith("markers"):
                # the seam itself and dunders (__version__) are meant to be imported
                private = [n for n in names if n.startswith("_") and not n.startswith("__") and n != "_compat"]
                assert not private, f"{path.name} imports {private} from {module}"


@pytest.mark.parametrize("room", ["plot", "report"])
def test_matplotlib_internals_only_through_compat(room):
    for path in sorted((PACKAGE / room).glob("*.py")):
        text = path.read_text()
        for internal in ("get_hinting_flag", "root=", "dataLim =", "font.set_text(", "draw_glyphs_to_bitmap"):
            assert internal not in text, f"{path.name} uses {internal!r}: go through markers._compat"


def test_plot_modules_are_small():
    for path in sorted((PACKAGE / "plot").glob("*.py")):
        assert len(path.read_text().splitlines()) <= 420, path.name


class _Font39:
    """FT2Font as matplotlib 3.9 has it: an OS/2 table without the typographic metrics."""

    units_per_EM, ascender, descender, height = 2048, 1901, -483, 2384

    def get_sfnt_table(self, name):
        # DejaVu Sans' own numbers (head, hhea); the 3.9 OS/2 dict lacks sTypo*
        return {"head": {"unitsPerEm": 2048}, "OS/2": {"version": 1},
                "hhea": {"ascent": 1901, "descent": -483, "lineGap": 0}}[name]


def test_font_box_without_the_typographic_metrics_uses_hhea():
    # 1901/2048 = 0.9282, 483/2048 = 0.2358, line gap 0 (matplotlib 3.9 raised KeyError here)
    assert compat.font_box(_Font39()) == pytest.approx((1901 / 2048, 483 / 2048, 0.0))


def test_font_box_from_the_fonts_attributes_when_tables_are_gone():
    font = _Font39()
    font.get_sfnt_table = None  # not callable: the interface changed
    # height 2384 − (1901 + 483) = 0 line gap
    assert compat.font_box(font) == pytest.approx((1901 / 2048, 483 / 2048, 0.0))


def _pdf_bytes(fig):
    import io

    from matplotlib.backends.backend_pdf import PdfPages

    out = io.BytesIO()
    with PdfPages(out, metadata={"CreationDate": None, "ModDate": None}) as pdf:
        pdf.savefig(fig)
        pdf.savefig(fig)  # the same texts again: the second page's come from the first's
    return out.getvalue()


def _text_page():
    from markers.plot.table import line_text

    fig = Figure(figsize=(3, 2))
    # baseline-aligned: drawn directly on every matplotlib (top-aligned only from 3.11)
    line_text(fig, 0.1, 0.9, "Patient P1", va="baseline")
    line_text(fig, 0.1, 0.8, "Patient P1", va="baseline", color="red")  # the same string in another colour
    add_table(fig, (0.1, 0.1, 0.8, 0.5), ["day", "VMA\n×ULN"], [["0", "12.5"], ["14", "—"], ["0", "12.5"]])
    return fig


def test_pdf_text_repeated_from_its_first_text_object_gives_the_same_file(monkeypatch):
    cached = _pdf_bytes(_text_page())
    monkeypatch.setattr(compat, "pdf_draw_text", lambda *args, **kwargs: False)  # draw_text for every string
    assert cached == _pdf_bytes(_text_page())


def test_pdf_text_keeps_one_text_object_per_string_and_font():
    import io

    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    # TrueType embedding, as the report writes (Type 3 fonts draw "—" apart, as a glyph object: not kept)
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(io.BytesIO()) as pdf:
        pdf.savefig(_text_page())
        (texts,) = [v for k, v in compat._PDF_TEXTS.items() if k is pdf._file]
        # "Patient P1" (twice, one font), "day", "VMA", "×ULN" in bold; "0", "12.5", "14", "—": 8 strings
        assert sorted(key[0] for key in texts) == ["0", "12.5", "14", "Patient P1", "VMA", "day", "×ULN", "—"]
        assert all(body.startswith(b"BT\n") and body.endswith(b"ET\nQ\n") for body in texts.values())


def test_pdf_text_is_not_taken_on_other_renderers():
    fig = _text_page()
    renderer = FigureCanvasAgg(fig).get_renderer()
    assert compat.pdf_renderer(renderer) is None
    gc = renderer.new_gc()
    assert compat.pdf_draw_text(renderer, gc, 0.0, 0.0, "P1", FontProperties(size=8)) is False


def _legend_figure(*, frozen):
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(3, 2))
    handles = [Line2D([], [], color="C0", marker="o", label="VMA (circles)"),
               Line2D([], [], color="C1", linestyle=":", label="HVA ULN")]
    legend = Legend(fig, handles, [h.get_label() for h in handles], loc="upper left", title="analytes")
    if frozen:
        assert compat.freeze_legend_layout(legend)
    legend.set_bbox_to_anchor((0.1, 0.9))
    fig.add_artist(legend)
    return fig, legend


def _pixels(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_frozen_legend_draws_the_same_pixels_and_pdf():
    plain, plain_legend = _legend_figure(frozen=False)
    frozen, legend = _legend_figure(frozen=True)
    assert np.array_equal(_pixels(plain), _pixels(frozen))
    for each in (legend, plain_legend):  # moved, as a page places it again: the place is found anew
        each.set_bbox_to_anchor((0.3, 0.5))
    assert np.array_equal(_pixels(plain), _pixels(frozen))
    assert _pdf_bytes(plain) == _pdf_bytes(frozen)


def test_frozen_legend_lays_out_each_text_once_per_renderer_kind(monkeypatch):
    from matplotlib.offsetbox import TextArea

    calls = []
    original = TextArea.get_bbox
    monkeypatch.setattr(TextArea, "get_bbox", lambda self, renderer: calls.append(self) or original(self, renderer))
    fig, _ = _legend_figure(frozen=True)
    _pixels(fig)
    assert len(calls) == 3  # the title and two labels, once each
    _pixels(fig)
    _pixels(fig)
    assert len(calls) == 3  # drawn again at the same resolution: nothing measured
    fig.set_dpi(200)
    _pixels(fig)
    assert len(calls) == 6  # another resolution: each measured once more


def test_legend_with_a_two_line_label_is_not_frozen():
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D

    legend = Legend(Figure(), [Line2D([], [])], ["two\nlines"])
    assert compat.freeze_legend_layout(legend) is False


def _log_axes(*, once):
    fig = Figure(figsize=(3, 2))
    ax = fig.add_axes((0.25, 0.2, 0.7, 0.7))
    ax.plot([1, 5, 9], [0.4, 30, 7])
    ax.set_yscale("log")
    plain_log_axis(ax)  # labels without math text, as the page has them
    ax.set_ylabel("× ULN (log)")
    ax.set_xlabel("day")
    if once:
        assert compat.ticks_once_per_draw(ax.yaxis) and compat.ticks_once_per_draw(ax.xaxis)
    return fig, ax


def test_ticks_once_per_draw_draws_the_same_page():
    plain, _ = _log_axes(once=False)
    once, ax = _log_axes(once=True)
    assert np.array_equal(_pixels(plain), _pixels(once))
    assert _pdf_bytes(plain) == _pdf_bytes(once)
    for each in (plain, once):  # new limits between draws: the ticks are found anew
        each.axes[0].set_ylim(2, 3000)
    assert np.array_equal(_pixels(plain), _pixels(once))
    assert [t.get_text() for t in ax.get_yticklabels()] == [t.get_text() for t in plain.axes[0].get_yticklabels()]


def test_ticks_once_per_draw_updates_the_ticks_once_a_draw(monkeypatch):
    from matplotlib.axis import YAxis

    calls = []
    original = YAxis._update_ticks
    monkeypatch.setattr(YAxis, "_update_ticks", lambda self: calls.append(self) or original(self))
    fig, ax = _log_axes(once=True)
    _pixels(fig)
    assert len(calls) == 1  # for the ticks, the axis label's place and the spine's extent alike
    ax.get_yticklabels()
    assert len(calls) == 2  # outside a draw: as before


def test_kept_pdf_texts_writes_matplotlibs_own_texts_the_same():
    import io

    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from markers.plot.table import KeptPdfTexts

    plain, _ = _log_axes(once=False)
    kept, ax = _log_axes(once=False)
    kept.add_artist(KeptPdfTexts())
    ax.text(2, 5, "rotated", rotation=90)  # not kept: written by draw_text itself
    plain.axes[0].text(2, 5, "rotated", rotation=90)
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        assert _pdf_bytes(plain) == _pdf_bytes(kept)
        assert np.array_equal(_pixels(plain), _pixels(kept))  # nothing drawn on other renderers
        with PdfPages(io.BytesIO()) as pdf:
            pdf.savefig(kept)
            (texts,) = [v for k, v in compat._PDF_TEXTS.items() if k is pdf._file]
            words = {key[0] for key in texts}
    # the x label and the tick labels, as plain_log_axis and the default locator label them; not the
    # rotated y label nor the rotated note
    assert {"day", "1", "10", "2", "4", "6", "8"} <= words
    assert not {"× ULN (log)", "rotated"} & words
