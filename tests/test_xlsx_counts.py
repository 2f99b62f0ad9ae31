"""xlsx rows and formulas counted beside the reader: the same counts as in the extent pass, and no row lost."""

from __future__ import annotations

import io
import pathlib
import threading
import zlib

import pytest
from corpus.hostile_cases import _sheet_xml, xlsx

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers.files import read_raw
from markers.readers.limits import ReadLimits, check_workbook_extent
from markers.readers.read_ahead import read_ahead
from markers.readers.row_count import XlsxRowCount
from markers.readers.xlsx_counts import CountedBeside, count_sheets
from markers.readers.xlsx_extent import XlsxExtent

SAMPLES = pathlib.Path(__file__).parent.parent / "sample_data"


def _plain(scans: dict) -> dict:
    return {sheet: (scan.rows.rows().tolist(), list(scan.formulas)) for sheet, scan in scans.items()}


@pytest.mark.parametrize("name", ["study_workbook.xlsx", "courses_workbook.xlsx", "outcomes_cohort.xlsx"])
def test_counted_beside_the_reader_equals_the_count_in_the_extent_pass(name):
    path = SAMPLES / name
    assert _plain(count_sheets(path)) == _plain(check_workbook_extent(path, "xlsx"))
    assert check_workbook_extent(path, "xlsx", count=False) == {}


def test_rows_and_formulas_of_a_built_sheet(tmp_path):
    # rows 1 and 2 from _sheet_xml; row 3: a styled empty cell; row 5: a formula without <v>; row 6: a value
    path = tmp_path / "built.xlsx"
    path.write_bytes(xlsx(_sheet_xml('<row r="3"><c r="A3" s="1"/></row><row r="5"><c r="B5"><f>1+1</f></c></row>'
                                     '<row r="6"><c r="C6"><v>7</v></c></row>')))
    with CountedBeside(path) as counting:
        pass
    assert _plain(counting.scans) == {"Results": ([1, 2, 6], [(5, 1)])}


def test_a_row_the_reader_moves_is_still_refused(tmp_path):
    # <row r="3"> holding a cell that says A7: counted in row 3, given by the reader in row 7
    path = tmp_path / "moved.xlsx"
    path.write_bytes(xlsx(_sheet_xml('<row r="3"><c r="A7"><v>1</v></c></row>')))
    with pytest.raises(InputFormatError, match=r"row 3 holds values in the file but the reader gave them empty"):
        read_raw(path)


def test_the_count_thread_error_is_raised_after_the_block(tmp_path):
    # one tag longer than 1 MiB: no tag Excel writes; the count refuses the part as damaged
    path = tmp_path / "long_tag.xlsx"
    path.write_bytes(xlsx(_sheet_xml(f'<row r="3" x="{"a" * (3 << 20)}"><c r="A3"><v>1</v></c></row>')))
    with pytest.raises(InputFormatError, match=r"holds a tag longer than 1,048,576 bytes"):
        with CountedBeside(path):
            pass


def test_an_error_in_the_block_stops_the_count_and_goes_on(tmp_path):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(xlsx(_sheet_xml("")))
    with pytest.raises(KeyError, match="from the reader"):
        with CountedBeside(path) as counting:
            raise KeyError("from the reader")
    assert not counting._thread.is_alive()


def test_the_bounded_extent_reads_only_far_rows_and_wide_cells():
    # rows 1..3 and 120,000 (six digits: bounded by 999,999), a cell at AB120000 (column 28, exact),
    # and row 1,000,001 (seven digits: exact)
    part = (b'<row r="1"><c r="A1"><v>1</v></c></row><row r="3"/><row r="120000"><c r="AB120000"><v>2</v></c></row>')
    bound = XlsxExtent(exact=False)
    bound.feed(part, 0)
    assert bound.extent() == (999_999, 28)
    bound.feed(b'<row r="1000001"><c r="A1000001"><v>3</v></c></row>', 0)
    assert bound.extent() == (1_000_001, 28)
    exact = XlsxExtent()
    exact.feed(part, 0)
    assert exact.extent() == (120_000, 28)


def _far_cell(tmp_path) -> pathlib.Path:
    path = tmp_path / "far.xlsx"
    path.write_bytes(xlsx(_sheet_xml('<row r="100000"><c r="AB100000"><v>1</v></c></row>')))
    return path


def test_a_bound_over_the_limit_is_measured_exactly_before_refusing(tmp_path):
    # the exact extent is 100,000 rows x 28 columns (AB) = 2,800,000 cells; the bound 999,999 x 28 is over 3,000,000
    path = _far_cell(tmp_path)
    check_workbook_extent(path, "xlsx", count=False, limits=ReadLimits(max_cells=3_000_000))
    with pytest.raises(UnsafeInputError, match=r"spans 100,000 rows x 28 columns \(2,800,000 cells; limit 2,000,000"):
        check_workbook_extent(path, "xlsx", count=False, limits=ReadLimits(max_cells=2_000_000))


def test_read_ahead_gives_every_chunk_in_order_and_raises_a_read_error_in_place():
    with read_ahead(io.BytesIO(b"abcdefg"), 3) as chunks:
        assert list(chunks) == [b"abc", b"def", b"g"]

    class Broken(io.BytesIO):
        def read(self, size: int = -1) -> bytes:
            if self.tell() >= 3:
                raise zlib.error("invalid stored block lengths")
            return super().read(size)

    taken = []
    with pytest.raises(zlib.error, match="invalid stored block"):
        with read_ahead(Broken(b"abcdefg"), 3) as chunks:
            taken.extend(chunks)
    assert taken == [b"abc"]


def test_read_ahead_runs_each_in_the_reading_thread_beside_its_chunk():
    threads = []

    def each(chunk: bytes) -> int:
        threads.append(threading.current_thread().name)
        return chunk.count(b"e")

    with read_ahead(io.BytesIO(b"abcdefgeee"), 4, each=each) as pairs:
        assert list(pairs) == [(b"abcd", 0), (b"efge", 2), (b"ee", 2)]
    assert len(threads) == 3 and all(name.startswith("markers-read-ahead") for name in threads)


@pytest.mark.parametrize("size", [40, 1 << 20])
def test_rows_counted_by_their_first_cells_or_row_by_row(size):
    # rows 3 and 4 start with a value (an inline string, a number); row 5 with a styled empty cell, then a value;
    # row 6 holds only a styled cell; row 7 only a formula without a value: rows 3, 4 and 5 hold values
    part = (b'<sheetData><row r="3"><c r="A3" t="inlineStr"><is><t>P1</t></is></c></row>'
            b'<row r="4" spans="1:2"><c r="A4"><v>4.2</v></c><c r="B4"><v>1</v></c></row>'
            b'<row r="5"><c r="A5" s="1"/><c r="B5"><v>2</v></c></row><row r="6"><c r="A6" s="1"/></row>'
            b'<row r="7"><c r="A7"><f>1+1</f></c></row></sheetData>')
    count = XlsxRowCount()
    tail = b""
    for start in range(0, len(part), size):
        chunk = part[start:start + size]
        count.feed(tail + chunk, len(tail))
        tail = chunk[-256:]
    count.feed(tail, len(tail))
    assert count.rows().tolist() == [3, 4, 5]


def test_a_piece_whose_rows_all_start_with_a_value_is_counted_from_the_first_cells():
    count = XlsxRowCount()
    plain = (b'<row r="3"><c r="A3" t="inlineStr"><is><t>P1</t></is></c></row>'
             b'<row r="4" spans="1:2"><c r="A4"><v>4.2</v></c></row><row r="9"><c r="A9"><v>0</v></c></row>')
    assert count._feed_first_cells(plain)
    assert count.rows().tolist() == [3, 4, 9]
    # a row whose first cell is styled and empty is left to the exact count
    assert not XlsxRowCount()._feed_first_cells(b'<row r="5"><c r="A5" s="1"/><c r="B5"><v>2</v></c></row>')
    assert not XlsxRowCount()._feed_first_cells(b'<rowBreaks count="1"/>')
