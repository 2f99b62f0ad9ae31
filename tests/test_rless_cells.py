"""Cells without an ``r`` attribute: the fast reader places each at the next column of its row.

calamine keeps a running row and column: ``<row r="N">`` sets the row to N, ``</row>`` moves to the next row
and back to column A, a cell with ``r`` sets the column to its own, a cell without ``r`` goes to the running
column; after every cell the column moves on by one. The extent pass must follow the cells without ``r``: a
forged sheet of one row at 1,048,576 and 16,384 such cells asks for 550 GB.
Every expected extent below is worked out by hand from that rule (and, for the legal sheets, checked against
what the reader reads).
"""

from __future__ import annotations

import io
import zipfile

import fastexcel
import pytest
from click.testing import CliRunner
from corpus.hostile_cases import _sheet_xml, xlsx
from corpus.pieces import fed as _fed
from corpus.pieces import pieces as _pieces

from markers.cli import cli
from markers.errors import UnsafeInputError
from markers.readers import limits
from markers.readers.xlsx_extent import XlsxExtent, _RlessCells

_CELL = "<c><v>1</v></c>"


def _book(tmp_path, rows: str, name: str = "rless.xlsx"):
    # _sheet_xml writes rows 1 and 2 (cells A1-C2, with r) before ``rows``
    path = tmp_path / name
    path.write_bytes(xlsx(_sheet_xml(rows)))
    return path


def _shape(path) -> tuple[int, int]:
    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None)
    return sheet.height, sheet.width


# -- the forged sheet --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [False, True])
def test_a_full_width_row_of_cells_without_r_is_refused(tmp_path, count):
    # row 1,048,576: after </row> of row 2 the column is back at A, so 16,384 cells without r reach XFD:
    # 1,048,576 rows x 16,384 columns = 17,179,869,184 cells
    path = _book(tmp_path, f'<row r="1048576">{_CELL * 16_384}</row>', "forged.xlsx")
    with pytest.raises(UnsafeInputError, match=r"^forged\.xlsx: the sheet in 'xl/worksheets/sheet1\.xml' spans "
                       r"1,048,576 rows x 16,384 columns \(17,179,869,184 cells; limit 50,000,000\)"):
        limits.check_workbook_extent(path, "xlsx", count=count)


def test_one_cell_more_than_the_last_column_is_refused(tmp_path):
    # 16,385 cells without r in row 5: the last one is in column 16,385, past XFD
    path = _book(tmp_path, f'<row r="5">{_CELL * 16_385}</row>')
    with pytest.raises(UnsafeInputError, match=r"has a cell in column 16,385, past the last column"):
        limits.check_workbook_extent(path, "xlsx", count=False)


def test_the_command_refuses_the_forged_sheet_in_one_line(tmp_path, monkeypatch):
    _book(tmp_path, f'<row r="1048576">{_CELL * 16_384}</row>', "forged.xlsx")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["normalize", "forged.xlsx", "-o", "x.csv"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: forged.xlsx: the sheet in 'xl/worksheets/sheet1.xml' spans "
                                    "1,048,576 rows x 16,384 columns"), result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not (tmp_path / "x.csv").exists()


# -- legal sheets: the exact extent -------------------------------------------------------------------


@pytest.mark.parametrize("count", [False, True])
def test_rows_of_cells_without_r_give_their_exact_extent(tmp_path, count):
    # three rows without r after row 2: rows 3, 4 and 5, each of 30 cells without r: A-AD (30 columns);
    # 5 rows x 30 columns = 150 cells. (The bound, 999,999 rows x 30, does not pass 150: measured exactly.)
    path = _book(tmp_path, f"<row>{_CELL * 30}</row>" * 3)
    assert _shape(path) == (5, 30)
    limits.check_workbook_extent(path, "xlsx", count=count, limits=limits.ReadLimits(max_cells=150))
    with pytest.raises(UnsafeInputError, match=r"spans 5 rows x 30 columns \(150 cells; limit 149\)"):
        limits.check_workbook_extent(path, "xlsx", count=count, limits=limits.ReadLimits(max_cells=149))
    extent = XlsxExtent()
    with zipfile.ZipFile(path) as zf:
        extent.feed(zf.read("xl/worksheets/sheet1.xml"), 0)
    assert (extent.cells.rows, extent.cells.columns, extent.extent()) == (5, 30, (5, 30))


def test_three_rows_of_five_cells_without_r(tmp_path):
    # rows 3-5, five cells each: A-E; the extent's columns stay at Z (single letters are bounded by Z)
    path = _book(tmp_path, f"<row>{_CELL * 5}</row>" * 3)
    assert _shape(path) == (5, 5)
    extent = XlsxExtent()
    with zipfile.ZipFile(path) as zf:
        extent.feed(zf.read("xl/worksheets/sheet1.xml"), 0)
    assert (extent.cells.rows, extent.cells.columns, extent.extent()) == (5, 5, (5, 26))
    with pytest.raises(UnsafeInputError, match=r"spans 5 rows x 26 columns \(130 cells; limit 129\)"):
        limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=129))


def test_cells_with_and_without_r_mixed(tmp_path):
    # row 7: AA7 (column 27), then two cells without r: AB7, AC7 (29);
    # row 8: B8, then two without r: C8, D8; row 9 (a row without r after row 8): one cell with r at E9, and one
    # without r after it, F9. The farthest: column 29 (AC); 9 rows x 29 columns = 261 cells
    rows = (f'<row r="7"><c r="AA7"><v>1</v></c>{_CELL * 2}</row>'
            f'<row r="8"><c r="B8"><v>1</v></c>{_CELL * 2}</row>'
            f'<row><c r="E9"><v>1</v></c>{_CELL}</row>')
    path = _book(tmp_path, rows)
    assert _shape(path) == (9, 29)
    extent = XlsxExtent()
    with zipfile.ZipFile(path) as zf:
        extent.feed(zf.read("xl/worksheets/sheet1.xml"), 0)
    assert (extent.cells.rows, extent.cells.columns, extent.extent()) == (9, 29, (9, 29))
    limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=261))
    with pytest.raises(UnsafeInputError, match=r"spans 9 rows x 29 columns \(261 cells; limit 260\)"):
        limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=260))


@pytest.mark.parametrize(("data", "rows", "columns"), [
    # a cell with r resets the running column to its own: Z1 then one without r is AA1 (27)
    (b'<row r="1"><c r="Z1"/><c/></row>', 1, 27),
    # an empty row with r: rows 5 (the empty one) then 6; an empty cell without r takes a column
    (b'<row r="5"/><row><c/><c/><c>', 6, 3),
    # prefixed tags are cells and rows too
    (b'<x:row r="4"><x:c><v>1</v></x:c><x:c r="C4"><v>1</v></x:c><x:c><v>1</v></x:c></x:row>', 4, 4),
    # another attribute's value holding " r='A1'" or ">" does not make a reference
    (b'<row r="2"><c t=" r=\'A1\'"/><c s=">"/><c/></row>', 2, 3),
    # blanks around "=", single quotes: a reference (D3), then E3
    (b"<row r='3'><c r = 'D3'/><c\n/></row>", 3, 5),
    # two r attributes (the newest reader takes the last one): the farther, G1, then H1
    (b'<row r="1"><c r="A1" r="G1"/><c/></row>', 1, 8),
    # <col>, <cols>, <cfRule> are not cells
    (b'<cols><col min="1" max="900"/></cols><row r="1"><c>', 1, 1),
])
def test_the_running_position_follows_the_reader(data, rows, columns):
    cells = _RlessCells()
    cells.feed(data)
    assert (cells.rows, cells.columns, cells.unsure) == (rows, columns, False)


# -- pieces: a run cut across piece edges ---------------------------------------------------------------




# row 4 with 40 cells without r, one of them written with 300 blanks before its ">" (longer than two pieces
# share): A4-AN4, 40 columns; then row 5: C5 and one cell without r, D5
_RUN = (b'<row r="4">' + b"<c><v>1</v></c>" * 20 + b"<c" + b" " * 300 + b"><v>1</v></c>"
        + b"<c><v>1</v></c>" * 19 + b'</row><row r="5"><c r="C5"><v>1</v></c><c><v>1</v></c></row>')


@pytest.mark.parametrize("step", [1, 7])
def test_a_run_cut_at_piece_edges_is_followed_across_them(step):
    # every piece holds a cell without r or follows one (its tail does): followed throughout, never lost
    for at in range(_RUN.index(b"<c>") + 4, len(_RUN) - 1, step):
        for cuts in ([at], [at, at + 3], [at - 1, at, at + 300]):
            cuts = [cut for cut in cuts if 0 < cut < len(_RUN)]
            for joined in (False, True):
                cells = _fed(_pieces(_RUN, cuts), joined=joined).cells
                assert (cells.rows, cells.columns, cells.unsure) == (5, 40, False), (at, cuts, joined)


_TEXT = "x" * 2_500_000
_LONG = {
    # row 3: 30 cells without r, a cell without r holding a string of 2.5 MB (whole 1 MiB chunks without a cell
    # tag: followed all the same, the run already began), 31 more: 62 columns (BJ)
    "followed": (f'<row r="3">{_CELL * 30}<c t="inlineStr"><is><t>{_TEXT}</t></is></c>{_CELL * 31}</row>', False),
    # row 3: the string in A3 (with r), then 61 cells without r: B3-BJ3, 62 columns. The first chunks hold no
    # cell without r and are skipped: the bound cannot follow the run and the part is measured exactly
    "measured": (f'<row r="3"><c r="A3" t="inlineStr"><is><t>{_TEXT}</t></is></c>{_CELL * 61}</row>', True),
}


@pytest.mark.parametrize("case", sorted(_LONG))
def test_a_run_across_chunks_without_cells(tmp_path, case):
    # a stored part, read in 1 MiB chunks; then row 4 of 10 cells without r: 4 rows x 62 columns = 248 cells
    rows, unsure = _LONG[case]
    path = tmp_path / "long.xlsx"
    with zipfile.ZipFile(io.BytesIO(xlsx(_sheet_xml(rows + f"<row>{_CELL * 10}</row>")))) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for info in source.infolist():
            zf.writestr(info.filename, source.read(info))
    limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=248))
    with pytest.raises(UnsafeInputError, match=r"spans 4 rows x 62 columns \(248 cells; limit 247\)"):
        limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=247))
    bound = XlsxExtent(exact=False)
    with zipfile.ZipFile(path) as zf:
        limits._stream_part(zf, zf.getinfo("xl/worksheets/sheet1.xml"), "long.xlsx", [0], 1 << 30,
                            bound.feed_next)
    assert bound.cells.unsure is unsure
    assert unsure or (bound.cells.rows, bound.cells.columns, bound.extent()) == (4, 62, (999_999, 62))


def test_a_far_reference_after_long_blanks_across_pieces_is_read():
    # a cell tag, 400 blanks, the edge of a piece, 400 blanks, then r="XFD1048577": neither piece's share of
    # 256 bytes holds both the tag name and the reference. Row 1,048,577, column XFD (16,384)
    data = (b'<row r="2"><c r="A2"><v>1</v></c>' + b"<c" + b" " * 800 + b'r="XFD1048577"><v>1</v></c></row>')
    start = data.index(b"<c" + b" ")
    for at in [start + 1, start + 2, start + 3, start + 200, start + 402, start + 801, start + 805]:
        for cuts in ([at], [at, at + 1], [at - 1, at, at + 5]):
            fast, plain = _fed(_pieces(data, cuts), joined=False), _fed(_pieces(data, cuts), joined=True)
            assert (fast.rows, fast.columns) == (plain.rows, plain.columns) == (1_048_577, 16_384), (at, cuts)


def test_a_far_second_r_attribute_is_read(tmp_path):
    # <c r="A3" r="XFD1048576">: the bound reads every r, so the far one: 1,048,576 rows x 16,384 columns
    path = _book(tmp_path, '<row r="3"><c r="A3" r="XFD1048576"><v>1</v></c></row>')
    with pytest.raises(UnsafeInputError, match=r"spans 1,048,576 rows x 16,384 columns"):
        limits.check_workbook_extent(path, "xlsx", count=False)
