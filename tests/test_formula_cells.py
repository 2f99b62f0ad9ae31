"""A formula saved without its calculated value (no ``<v>``, ECMA-376 Part 1 §18.3.1.4) is a coded issue at its cell."""

from __future__ import annotations

from workbooks import MAIN, write_xml_workbook

from markers.ingest.issues import ISSUE_TYPES
from markers.ingest.reader import read
from markers.readers.files import read_raw


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


# As Excel leaves a sheet saved with calculation off: every formula has <f>, the calculated ones also <v>.
SHEET = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}"><dimension ref="A1:C4"/>'
    "<sheetData>"
    f'<row r="1">{_inline("A1", "Patient ID")}{_inline("B1", "Sample date")}{_inline("C1", "VMA (mg/g creat)")}</row>'
    f'<row r="2">{_inline("A2", "P1")}{_inline("B2", "2024-01-02")}<c r="C2"><f>2.1*2</f><v>4.2</v></c></row>'
    f'<row r="3">{_inline("A3", "P2")}{_inline("B3", "2024-01-03")}<c r="C3"><f>SUM(C1:C2)</f></c></row>'
    '<row r="4"><c r="A4" t="str"><f>A2</f></c><c r="B4" t="str"><f>B2</f></c><c r="C4"><f>C2</f></c></row>'
    "</sheetData></worksheet>"
)


def _write_xlsx(path, sheet_xml: str, sheet_name: str = "Results") -> None:
    write_xml_workbook(path, {sheet_name: sheet_xml}, workbook_tail='<calcPr calcMode="manual"/>')


def test_reader_lists_the_formula_cells_without_a_value(tmp_path):
    path = tmp_path / "manual_calc.xlsx"
    _write_xlsx(path, SHEET)
    [sheet] = read_raw(path)
    # C3 = (row 3, column 2); row 4: A, B, C. C2 has its cached value and is not listed.
    assert sheet.formulas_without_value == ((3, 2), (4, 0), (4, 1), (4, 2))
    assert sheet.cells.loc[2, 2] == "4.2"


def test_each_formula_without_a_value_is_an_issue_at_its_cell(tmp_path):
    path = tmp_path / "manual_calc.xlsx"
    _write_xlsx(path, SHEET)
    data = read([path])
    found = data.issues[data.issues["code"] == "formula-without-value"]
    assert list(found["cell"]) == ["C3", "A4", "B4", "C4"]
    assert set(found["sheet"]) == {"Results"} and set(found["file"]) == {"manual_calc.xlsx"}
    assert list(found["row"]) == [3, 4, 4, 4]
    assert set(found["severity"]) == {ISSUE_TYPES["formula-without-value"].severity} == {"warning"}
    assert found.iloc[0]["message"] == "C3 holds a formula without a calculated value; it is read as an empty cell"
    assert "F9" in found.iloc[0]["hint"]
    assert list(data.measurements["value"]) == [4.2]  # P1's C2, from its cached value


def test_a_formula_cell_cut_at_a_chunk_edge_is_found_once(tmp_path, monkeypatch):
    monkeypatch.setattr("markers.readers.limits._CHUNK", 64)
    path = tmp_path / "manual_calc.xlsx"
    _write_xlsx(path, SHEET)
    [sheet] = read_raw(path)
    assert sheet.formulas_without_value == ((3, 2), (4, 0), (4, 1), (4, 2))


def test_a_long_formula_cell_across_the_1_mib_chunk_edge_is_found(tmp_path):
    # The sheet part is streamed in 1 MiB pieces. A cell of more than 256 bytes (a long formula) that
    # starts before byte 1,048,576 and ends after it must still be found, exactly once.
    from markers.readers import limits

    formula = "+".join(f"C{r}" for r in range(1, 120))  # 119 references: about 600 bytes
    cell = f'<c r="C5"><f>{formula}</f></c>'
    assert len(cell) > 256
    head = SHEET.split("</sheetData>")[0]
    filler = "".join(f'<row r="{r}"><c r="Z{r}"><v>1</v></c></row>' for r in range(5, 20_000))
    row = 20_001  # row 20,000 pads with text so that the long cell starts 400 bytes before the edge
    long_row = f'<row r="{row}">{cell.replace("C5", f"C{row}")}</row>'
    pad_row = '<row r="20000"><c r="Z20000" t="inlineStr"><is><t>{}</t></is></c></row>'
    pad = limits._CHUNK - 400 - len((head + filler).encode()) - len(pad_row.format("")) - len(f'<row r="{row}">')
    xml = head + filler + pad_row.format("x" * pad) + long_row + "</sheetData></worksheet>"
    start = xml.encode().index(f'<c r="C{row}">'.encode())
    assert start == limits._CHUNK - 400 and start + len(cell) > limits._CHUNK  # the cell straddles the edge
    path = tmp_path / "long_formula.xlsx"
    _write_xlsx(path, xml)
    [sheet] = read_raw(path)
    assert sheet.formulas_without_value == ((3, 2), (4, 0), (4, 1), (4, 2), (row, 2))
