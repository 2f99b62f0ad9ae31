"""xlsx rows and formulas counted beside the reader: the same counts as in the extent pass, and no row lost."""

from __future__ import annotations

import pathlib

import pytest
from corpus.hostile_cases import _sheet_xml, xlsx

from markers.errors import InputFormatError
from markers.readers.files import read_raw
from markers.readers.limits import check_workbook_extent
from markers.readers.xlsx_counts import CountedBeside, count_sheets

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
