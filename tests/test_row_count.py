"""Workbook rows counted apart from the reader (ECMA-376 <row>, ODF table-row repeats, BIFF8 cell records).

A row counts when one of its cells holds a value (a number, a Boolean, a date,
text, also the empty text of a formula giving ""); empty styled cells, formulas
saved without a value and error values do not. Each expected row list below is
read off the XML or records as written, never from markers' output.
"""

from __future__ import annotations

import pathlib

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlwt
from corpus.hostile_cases import _sheet_xml, ods, ods_sheet, xlsx

from markers.errors import InputFormatError
from markers.ingest.reader import read
from markers.readers import workbook
from markers.readers.files import read_raw
from markers.readers.limits import check_workbook_extent
from markers.readers.row_count import check_rows_agree
from markers.readers.xls_extent import check_xls_extent

SAMPLES = pathlib.Path(__file__).parent.parent / "sample_data"
STRING = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
FLOAT = '<table:table-cell office:value-type="float" office:value="{0}"><text:p>{0}</text:p></table:table-cell>'


def _counted(path: pathlib.Path, kind: str) -> dict[str, list[int]]:
    scans = check_xls_extent(path) if kind == "xls" else check_workbook_extent(path, kind)
    return {sheet: scan.rows.rows().tolist() for sheet, scan in scans.items()}


@pytest.mark.parametrize("name", ["study_workbook.xlsx", "courses_workbook.xlsx", "outcomes_cohort.xlsx"])
def test_sample_workbooks_count_the_rows_openpyxl_sees(name):
    path = SAMPLES / name
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:  # the oracle: rows where openpyxl finds a cell that is not None
        expected = {ws.title: [r for r, row in enumerate(ws.iter_rows(values_only=True), start=1)
                               if any(v is not None for v in row)] for ws in book.worksheets}
    finally:
        book.close()
    assert _counted(path, "xlsx") == expected
    assert [s.sheet for s in read_raw(path)] == list(expected)  # and the reader agrees (else it raises)


def test_trailing_styled_rows_are_not_rows(tmp_path):
    # rows 3 and 9 hold only styled empty cells (a border, a height): nothing to lose
    path = tmp_path / "styled.xlsx"
    path.write_bytes(xlsx(_sheet_xml('<row r="3"><c r="A3" s="1"/></row>'
                                     '<row r="9" ht="20" customHeight="1"><c r="B9" s="1"/><c r="C9" s="1"/></row>')))
    assert _counted(path, "xlsx") == {"Results": [1, 2]}
    assert read_raw(path)[0].cells.notna().any(axis=1).sum() == 2


def test_empty_text_error_values_and_rows_without_numbers(tmp_path):
    path = tmp_path / "kinds.xlsx"
    path.write_bytes(xlsx(_sheet_xml(
        '<row r="3"><c r="A3" t="e"><v>#N/A</v></c></row>'  # an error value: read as empty
        '<row r="4"><c r="A4" t="str"><f>""</f><v></v></c></row>'  # a formula giving "": empty text, a value
        '<row><c><v>5</v></c></row>'  # no r: one past row 4
        '<row r="7"><c r="A7" t="e"><v>#DIV/0!</v></c><c r="B7" t="b"><v>0</v></c></row>')))  # FALSE is a value
    assert _counted(path, "xlsx") == {"Results": [1, 2, 4, 5, 7]}
    read_raw(path)  # the reader gives the same rows


def test_rows_numbered_by_a_later_attribute_or_prefixed_tags(tmp_path):
    # r after another attribute (legal XML; attribute order carries no meaning), and a namespace prefix
    path = tmp_path / "order.xlsx"
    path.write_bytes(xlsx(_sheet_xml('<row spans="1:3" r="5"><c r="A5"><v>1</v></c></row>'
                                     '<row ht="20" r="8"><c r="B8" s="1"/></row>')))
    assert _counted(path, "xlsx") == {"Results": [1, 2, 5]}
    read_raw(path)
    prefixed = ('<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
                '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Patient ID</x:t></x:is></x:c></x:row>'
                '<x:row r="2"><x:c r="A2" s="1"/></x:row><x:row r="3"><x:c r="A3"><x:v>7</x:v></x:c></x:row>'
                "</x:sheetData></x:worksheet>")
    path.write_bytes(xlsx(prefixed.encode()))
    assert _counted(path, "xlsx") == {"Results": [1, 3]}


def test_a_cell_placed_in_another_row_than_its_row_is_refused(tmp_path):
    # <row r="3"> holding a cell that says A7: the reader puts the value in row 7, the count in row 3
    path = tmp_path / "misplaced.xlsx"
    path.write_bytes(xlsx(_sheet_xml('<row r="3"><c r="A7"><v>1</v></c></row>')))
    with pytest.raises(InputFormatError, match=r"misplaced\.xlsx: sheet 'Results': the file has 3 rows with values, "
                       r"the reader gave 3: row 3 holds values in the file but the reader gave them empty; the "
                       r"reader gave values in row 7, where the file holds none"):
        read_raw(path)


def test_a_row_the_reader_loses_is_an_error_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "lost.xlsx"
    path.write_bytes(xlsx(_sheet_xml("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(3, 20)))))
    real = workbook._read_fastexcel

    def losing(*args, **kwargs):  # a reader fault: rows 5 and 6 come back empty
        sheets = real(*args, **kwargs)
        cells = sheets[0].cells.copy()
        cells.loc[[5, 6]] = np.nan
        return [workbook.RawSheet(s.file, s.path, s.sheet, cells, s.decimal_comma, s.fmt) for s in sheets]

    monkeypatch.setattr(workbook, "_read_fastexcel", losing)
    with pytest.raises(InputFormatError, match=r"lost\.xlsx: sheet 'Results': the file has 19 rows with values, "
                       r"the reader gave 17: rows 5, 6 hold values in the file"):
        read_raw(path)


def test_many_rows_are_listed_ten_and_counted():
    cells = pd.DataFrame({0: [None] * 30}, index=pd.RangeIndex(1, 31))
    with pytest.raises(InputFormatError, match=r"rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 20 more hold values"):
        check_rows_agree("a.xlsx", "S", np.arange(1, 31), cells)


def test_preview_compares_only_the_rows_read(tmp_path):
    path = tmp_path / "many.xlsx"
    path.write_bytes(xlsx(_sheet_xml("".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(3, 9)))))
    [sheet] = read_raw(path, max_rows=4)
    assert sheet.cells.notna().any(axis=1).sum() == 4


@pytest.mark.parametrize("chunk", [7, 16, 33, 64, 100, 257])
def test_row_count_does_not_depend_on_where_chunks_end(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr("markers.readers.limits._CHUNK", chunk)
    path = tmp_path / "chunks.xlsx"
    path.write_bytes(xlsx(_sheet_xml(
        '<row r="3" spans="1:3"><c r="A3" t="e"><v>#N/A</v></c></row>'
        '<row r="4"><c r="A4" s="2"/><c r="B4" t="inlineStr"><is><t xml:space="preserve">long text '
        + "x" * 300 + '</t></is></c></row><row r="6"><c r="C6" t="e"><v>#REF!</v></c><c r="D6"><v>1</v></c></row>'
        '<row r="8"><c r="A8" s="3"/></row>')))
    assert _counted(path, "xlsx") == {"Results": [1, 2, 4, 6]}


# -- ods: OpenDocument 1.2 content.xml ----------------------------------------------------------


def test_ods_rows_with_repeats_and_padding(tmp_path):
    # header (row 1); row 2 repeated 3 times (rows 2-4); 2 empty styled rows (5-6); a value in row 7;
    # then LibreOffice's padding to the sheet's edge
    path = tmp_path / "repeats.ods"
    path.write_bytes(ods(
        f'<table:table-row table:number-rows-repeated="3">{STRING.format("P1")}{FLOAT.format(4.2)}</table:table-row>'
        '<table:table-row table:number-rows-repeated="2"><table:table-cell table:style-name="ce1" '
        'table:number-columns-repeated="2"/></table:table-row>'
        f'<table:table-row>{STRING.format("P2")}</table:table-row>'
        '<table:table-row table:number-rows-repeated="1048569"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row>'))
    assert _counted(path, "ods") == {"Results": [1, 2, 3, 4, 7]}
    [sheet] = read_raw(path)
    assert sheet.cells.notna().any(axis=1).sum() == 5


def test_ods_comment_on_an_empty_cell_is_not_a_value(tmp_path):
    # OpenDocument 1.2 Part 1, 14.1: an office:annotation inside a cell is a comment, not the cell's content
    path = tmp_path / "comment.ods"
    path.write_bytes(ods('<table:table-row><table:table-cell><office:annotation><dc:creator '
                         'xmlns:dc="http://purl.org/dc/elements/1.1/">Lab</dc:creator><text:p>sample haemolysed'
                         '</text:p></office:annotation></table:table-cell></table:table-row>'
                         f'<table:table-row>{STRING.format("P1")}</table:table-row>'))
    assert _counted(path, "ods") == {"Results": [1, 3]}
    assert read_raw(path)[0].cells.notna().any(axis=1).sum() == 2


def test_ods_written_by_pandas_agrees(tmp_path):
    path = tmp_path / "pandas.ods"
    frame = pd.DataFrame({"Patient ID": ["P1", "P2", None, "P4"], "VMA": [4.2, None, None, 5.0]})
    frame.to_excel(path, index=False, engine="odf")
    # pandas writes a missing value as an empty string cell (office:string-value=""): empty text is a value,
    # and the reader gives "" there too; so row 4 counts
    assert _counted(path, "ods") == {"Sheet1": [1, 2, 3, 4, 5]}
    assert read_raw(path)[0].cells.loc[4].tolist() == ["", ""]


def test_ods_text_without_a_value_type_is_a_lost_row(tmp_path):
    # LibreOffice shows the text of a cell without office:value-type; the fast reader gives nothing
    path = tmp_path / "untyped.ods"
    path.write_bytes(ods('<table:table-row><table:table-cell><text:p>P1</text:p></table:table-cell></table:table-row>'))
    with pytest.raises(InputFormatError, match=r"untyped\.ods: sheet 'Results': the file has 2 rows with values, "
                       r"the reader gave 1: row 2 holds values in the file but the reader gave them empty"):
        read_raw(path)


def test_ods_formula_without_a_value_is_an_issue_at_its_cell(tmp_path):
    header = "".join(STRING.format(h) for h in ("Patient ID", "Sample date", "VMA (mg/g creat)"))
    path = tmp_path / "formulas.ods"
    path.write_bytes(ods_sheet(
        f"<table:table-row>{header}</table:table-row>"
        f'<table:table-row>{STRING.format("P1")}{STRING.format("2024-01-02")}<table:table-cell '
        'table:formula="of:=2*2" office:value-type="float" office:value="4"><text:p>4</text:p></table:table-cell>'
        f'</table:table-row><table:table-row>{STRING.format("P2")}{STRING.format("2024-01-03")}'
        '<table:table-cell table:formula="of:=SUM([.C2:.C3])" office:value-type="float"/></table:table-row>'
        '<table:table-row><table:table-cell table:formula="of:=[.A3]"/></table:table-row>'))
    [sheet] = read_raw(path)
    assert sheet.formulas_without_value == ((3, 2), (4, 0))  # C3 and A4; C2 has its value
    data = read([path])
    found = data.issues[data.issues["code"] == "formula-without-value"]
    assert list(found["cell"]) == ["C3", "A4"] and set(found["sheet"]) == {"Results"}
    assert list(data.measurements["value"]) == [4.0]


@pytest.mark.parametrize("chunk", [5, 16, 41, 64, 333])
def test_ods_count_does_not_depend_on_where_chunks_end(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr("markers.readers.limits._CHUNK", chunk)
    path = tmp_path / "chunks.ods"
    path.write_bytes(ods_sheet(
        f'<table:table-row>{STRING.format("Patient ID " + "y" * 300)}</table:table-row>'
        '<table:table-row table:number-rows-repeated="2"><table:table-cell table:style-name="ce1"/></table:table-row>'
        f'<table:table-row table:number-rows-repeated="3"><table:table-cell/>{FLOAT.format(1.5)}</table:table-row>'
        '<table:table-row><table:table-cell table:formula="of:=1+1"/></table:table-row>'))
    scans = check_workbook_extent(path, "ods")
    assert scans["Results"].rows.rows().tolist() == [1, 4, 5, 6]
    assert scans["Results"].formulas == [(7, 0)]


# -- xls: BIFF8 records -------------------------------------------------------------------------


def test_xls_rows_and_formulas_written_by_xlwt(tmp_path):
    # xlwt writes every FORMULA with an empty cached result (MS-XLS 2.5.133: fExprO 0xFFFF, type 3)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    for column, text in enumerate(("Patient ID", "Sample date", "VMA (mg/g creat)")):
        sheet.write(0, column, text)
    sheet.write(1, 0, "P1")
    sheet.write(1, 1, "2024-01-02")
    sheet.write(1, 2, 4.2)
    sheet.write(2, 0, "P2")
    sheet.write(2, 1, "2024-01-03")
    sheet.write(2, 2, xlwt.Formula("C2*2"))
    sheet.write(4, 1, None, xlwt.easyxf("font: bold on"))  # a styled empty cell (BLANK): not a row
    sheet.write(5, 2, True)
    path = tmp_path / "script.xls"
    book.save(path)
    scans = check_xls_extent(path)
    assert {name: scan.rows.rows().tolist() for name, scan in scans.items()} == {"Results": [1, 2, 3, 6]}
    assert scans["Results"].formulas == [(3, 2)]
    [raw] = read_raw(path)
    assert raw.formulas_without_value == ((3, 2),)
    issues = read([path]).issues
    found = issues[issues["code"] == "formula-without-value"]
    assert list(found["cell"]) == ["C3"]


def test_xls_string_formula_without_its_string_record(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    sheet.write(0, 0, "Patient ID")
    sheet.write(1, 0, xlwt.Formula('"P"&"1"'))
    path = tmp_path / "no_string.xls"
    book.save(path)
    data = bytearray(path.read_bytes())
    at = data.find(bytes([3, 0, 0, 0, 0, 0, 0xFF, 0xFF]))  # the empty result xlwt wrote ...
    data[at] = 0  # ... made a string result (type 0) with no STRING record after it
    path.write_bytes(bytes(data))
    scans = check_xls_extent(path)
    assert scans["Results"].rows.rows().tolist() == [1]
    assert scans["Results"].formulas == [(2, 0)]
    assert read_raw(path)[0].formulas_without_value == ((2, 0),)


def test_xls_sheets_are_matched_by_their_boundsheet_offsets(tmp_path):
    # MS-XLS 2.4.28 BoundSheet8.lbPlyPos: each worksheet's rows go to its own name
    book = xlwt.Workbook()
    first, second = book.add_sheet("Patients"), book.add_sheet("Résultats")
    first.write(0, 0, "Patient ID")
    first.write(2, 0, "P1")
    for row in (0, 1, 4):
        second.write(row, 1, row * 1.5)
    path = tmp_path / "two.xls"
    book.save(path)
    scans = check_xls_extent(path)
    assert {name: scan.rows.rows().tolist() for name, scan in scans.items()} == {"Patients": [1, 3],
                                                                               "Résultats": [1, 2, 5]}
    assert [sheet.sheet for sheet in read_raw(path)] == ["Patients", "Résultats"]
