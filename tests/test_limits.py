"""markers.readers.limits: the extent scan gives the same answer whatever the chunk edges; the limits hold."""

from __future__ import annotations

import io
import zipfile

import pytest
from corpus import hostile_cases

from markers.errors import UnsafeInputError
from markers.readers import limits
from markers.readers.ods_extent import OdsExtent


def test_column_numbers():
    # A..Z = 1..26, AA = 27, AZ = 52, ZZ = 26 * 26 + 26 = 702, XFD = 24 * 676 + 6 * 26 + 4 = 16,384
    assert [limits.column_number(c) for c in ("A", "Z", "AA", "AZ", "ZZ", "XFD")] == [1, 26, 27, 52, 702, 16384]


def _chunked(extent, data: bytes, size: int) -> None:
    tail = b""
    for start in range(0, len(data), size):
        chunk = data[start:start + size]
        extent.feed(tail + chunk, len(tail))
        tail = chunk[-256:]


@pytest.mark.parametrize("size", [97, 1000, 1 << 20])
def test_xlsx_extent_is_the_same_across_chunk_edges(size):
    # 150,000 numbered rows and 20 rows without a number, one cell at AB150000
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 150_001))
    rows += '<row><c r="AB150000"><v>1</v></c></row>' + "<row><c><v>2</v></c></row>" * 19
    extent = limits._XlsxExtent()
    _chunked(extent, rows.encode(), size)
    # the highest row number is 150,000; 150,020 <row> tags; column AB = 28
    assert (extent.rows, extent.row_tags, extent.columns) == (150_000, 150_020, 28)


@pytest.mark.parametrize("size", [61, 4096, 1 << 20])
def test_ods_extent_is_the_same_across_chunk_edges(size):
    body = hostile_cases._value_row(1, 3) * 5000 + hostile_cases._value_row(7, 2)
    extent = OdsExtent()
    _chunked(extent, body.encode(), size)
    # 5,000 rows of 3 cells, then one row of 2 cells repeated 7 times: 5,007 rows, 3 columns,
    # 7 x 2 - 2 = 12 cells created by the repeat
    assert (extent.rows, extent.columns, extent.repeated) == (5007, 3, 12)


def test_a_large_genuine_sheet_passes(tmp_path):
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>P{r}</t></is></c><c r="B{r}"><v>{r}</v></c></row>'
                   for r in range(3, 60_000))
    path = tmp_path / "big.xlsx"
    path.write_bytes(hostile_cases.xlsx(hostile_cases._sheet_xml(rows, "A1:C59999")))
    limits.check_workbook_extent(path, "xlsx")


def test_inflated_bytes_are_counted_against_the_budget(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>" + b" " * 3_000_000)
    path = tmp_path / "a.xlsx"
    path.write_bytes(out.getvalue())
    with pytest.raises(UnsafeInputError, match=r"inflate to more than 2,000,000 bytes"):
        limits.check_workbook_extent(path, "xlsx", limits=limits.ReadLimits(max_inflated=2_000_000))


def test_text_file_line_lengths_and_count_across_chunks(tmp_path):
    """Lines as the csv module counts them; the first over-long line named by its number, in any chunk."""
    import pytest

    from markers.errors import InputFormatError
    from markers.readers.limits import ReadLimits, check_text_file

    path = tmp_path / "t.csv"
    lines = [b"a,b"] * 300_000 + [b"x" * 41] + [b"c,d"] * 10  # line 300,001 is 41 bytes, past the first MiB
    path.write_bytes(b"\n".join(lines))  # no final line break: the last line still counts
    stats = check_text_file(path, limits=ReadLimits(max_line_bytes=41))
    assert (stats.size, stats.lines) == (300_000 * 4 + 42 + 10 * 4 - 1, 300_011)
    with pytest.raises(InputFormatError, match=r"line 300,001 is longer than 40 bytes"):
        check_text_file(path, limits=ReadLimits(max_line_bytes=40))
    path.write_bytes(b"a,b\r\n" + b"y" * 12)  # the unfinished last line is checked too (CR counts as a byte)
    with pytest.raises(InputFormatError, match=r"line 2 is longer than 11 bytes"):
        check_text_file(path, limits=ReadLimits(max_line_bytes=11))
    assert check_text_file(path, limits=ReadLimits(max_line_bytes=12)).lines == 2


def test_text_file_line_count_with_every_kind_of_break(tmp_path):
    """LF, CRLF and lone CR each end one line, a CRLF cut at the 1 MiB chunk edge included."""
    from markers.readers.limits import check_text_file

    path = tmp_path / "t.csv"
    # 524,287 LF lines fill 1,048,574 bytes; "b\r" puts the CR at offset 1,048,575, the last byte of the
    # first chunk, and its LF opens the second: one break. Then 3 CRLF, 2 lone CR and an unfinished line.
    path.write_bytes(b"a\n" * 524_287 + b"b\r" + b"\n" + b"c\r\n" * 3 + b"d\r" * 2 + b"e")
    stats = check_text_file(path)
    assert (stats.size, stats.lines) == (1_048_574 + 3 + 9 + 4 + 1, 524_287 + 1 + 3 + 2 + 1)
    path.write_bytes(b"a\nb\n")  # LF only, ending with a break: no extra line
    assert check_text_file(path).lines == 2
