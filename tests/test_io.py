"""markers.readers.files: raw cells from real xlsx/xls/ods/csv files, with exact row numbers."""

from __future__ import annotations

import datetime
import hashlib
import warnings

import fastexcel
import openpyxl
import pandas as pd
import pytest
import xlwt

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers import files as raw_io
from markers.readers.files import (
    CELL_DTYPE,
    SUPPORTED_SUFFIXES,
    RawSheet,
    cell_ref,
    column_letter,
    read_raw,
    sha256_of,
)

# -- helpers -------------------------------------------------------------------------


def _only(sheets: list[RawSheet]) -> RawSheet:
    assert len(sheets) == 1
    return sheets[0]


def _row(sheet: RawSheet, row: int) -> list[object]:
    """One row's cells, an empty cell as None."""
    return [None if pd.isna(v) else v for v in sheet.cells.loc[row]]


def _fail_fastexcel(monkeypatch, error: BaseException) -> None:
    """Make the fast workbook reader fail the way a broken file makes it fail."""

    def broken(source):
        raise error

    monkeypatch.setattr(fastexcel, "read_excel", broken)


def _write_lab_workbook(path, *, chart: bool) -> None:
    """A typical lab export: merged title A1:F1, a blank row, header on row 3, two sheets (and a chart)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Urine"
    ws["A1"] = "Urine catecholamines - Children's Hospital lab"
    ws.merge_cells("A1:F1")
    ws.append([])  # row 2 stays blank
    ws["A3"], ws["B3"], ws["C3"], ws["D3"], ws["E3"], ws["F3"] = "Patient ID", "Sample date", "VMA", "HVA", "Code", "Drawn"
    ws["A4"] = "P1"
    ws["B4"] = datetime.date(2024, 1, 2)
    ws["C4"] = 4.2
    ws["D4"] = "<0.5"
    ws["E4"] = "0042"
    ws["F4"] = datetime.datetime(2024, 1, 2, 8, 30)
    ws["A5"] = "P2"
    ws["B5"] = datetime.date(2024, 2, 29)
    ws["C5"] = 7
    ws["D5"] = 12.5
    ws["E5"] = True
    ws["F5"] = datetime.time(14, 5)
    info = wb.create_sheet("Patients")
    info.append(["Patient ID", "Date of birth"])
    info.append(["P1", datetime.date(2021, 6, 1)])
    wb.create_sheet("Empty")
    if chart:
        wb.create_chartsheet("Chart")
    wb.save(path)


@pytest.fixture
def lab_xlsx(tmp_path):
    path = tmp_path / "lab.xlsx"
    _write_lab_workbook(path, chart=True)
    return path


@pytest.fixture
def c4_xlsx(tmp_path):
    """Data starting at C4: three blank rows and two blank columns before it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["C4"] = "Patient ID"
    ws["D4"] = "VMA"
    ws["C5"] = "P7"
    ws["D5"] = 3.25
    ws["C6"] = "P8"
    ws["D6"] = "<1"
    path = tmp_path / "offset.xlsx"
    wb.save(path)
    return path


# -- column letters and cell references ---------------------------------------------


@pytest.mark.parametrize(
    ("index", "letters"),
    # 26 letters: 0..25 -> A..Z; 26 -> AA; 27 -> AB; 701 = 26 + 26*26 - 1 -> ZZ; 702 -> AAA;
    # 16383 is Excel's last column XFD: (24*26 + 6)*26 + 4 = 16383 with X=24, F=6... checked below
    [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA"), (16383, "XFD")],
)
def test_column_letter(index, letters):
    assert column_letter(index) == letters


def test_xfd_arithmetic():
    # XFD in bijective base 26: X=24, F=6, D=4 -> 24*26**2 + 6*26 + 4 = 16224 + 156 + 4 = 16384 (1-based)
    assert column_letter(24 * 26**2 + 6 * 26 + 4 - 1) == "XFD"


def test_cell_ref():
    assert cell_ref(14, 3) == "D14"
    assert cell_ref(1, 0) == "A1"
    assert cell_ref(1048576, 27) == "AB1048576"


@pytest.mark.parametrize(("row", "col"), [(0, 0), (1, -1)])
def test_cell_ref_rejects_out_of_range(row, col):
    with pytest.raises(ValueError):
        cell_ref(row, col)


def test_sha256_of(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"abc")
    # the FIPS 180-2 test vector for "abc"
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (3 * 1024 * 1024 + 5))  # more than one read chunk
    assert sha256_of(big) == hashlib.sha256(b"x" * (3 * 1024 * 1024 + 5)).hexdigest()


def test_sha256_of_missing_file(tmp_path):
    with pytest.raises(InputFormatError, match=r"^nope\.csv: cannot be read"):
        sha256_of(tmp_path / "nope.csv")


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".tsv", ".txt", ".parquet", ".feather")


# -- xlsx ------------------------------------------------------------------------------


def test_xlsx_sheets_in_order_chart_sheet_skipped(lab_xlsx):
    sheets = read_raw(lab_xlsx)
    assert [s.sheet for s in sheets] == ["Urine", "Patients", "Empty"]
    assert {s.file for s in sheets} == {"lab.xlsx"}
    assert {s.fmt for s in sheets} == {"xlsx"}
    assert all(s.decimal_comma is None for s in sheets)
    assert all(s.path == lab_xlsx for s in sheets)


def test_xlsx_cells_types_and_row_numbers(lab_xlsx):
    urine = read_raw(lab_xlsx)[0]
    cells = urine.cells
    assert cells.shape == (5, 6)  # rows 1-5, columns A-F
    assert list(cells.index) == [1, 2, 3, 4, 5]
    assert list(cells.columns) == [0, 1, 2, 3, 4, 5]
    assert (cells.dtypes == CELL_DTYPE).all()
    # merged title: the value sits in A1, the rest of the merge is empty
    assert _row(urine, 1) == ["Urine catecholamines - Children's Hospital lab", None, None, None, None, None]
    assert _row(urine, 2) == [None] * 6
    assert _row(urine, 3) == ["Patient ID", "Sample date", "VMA", "HVA", "Code", "Drawn"]
    # every cell is text: a date cell as its date and time, not a number of days since 1899;
    # "0042" keeps its leading zeros; a number as Excel shows it
    assert _row(urine, 4) == ["P1", "2024-01-02 00:00:00", "4.2", "<0.5", "0042", "2024-01-02 08:30:00"]
    # 7 stored as the double 7.0 reads "7"; a boolean "true"; a time of day counts from day 0
    assert _row(urine, 5) == ["P2", "2024-02-29 00:00:00", "7", "12.5", "true", "1899-12-31 14:05:00"]


def test_xlsx_other_sheets(lab_xlsx):
    _, patients, empty = read_raw(lab_xlsx)
    assert patients.cells.shape == (2, 2)
    assert _row(patients, 2) == ["P1", "2021-06-01 00:00:00"]
    assert empty.cells.shape == (0, 0)


def test_data_starting_at_c4_keeps_excel_row_numbers(c4_xlsx):
    sheet = _only(read_raw(c4_xlsx))
    cells = sheet.cells
    # rows 1..6 and columns A..D: the blank rows 1-3 and columns A-B are present and empty
    assert list(cells.index) == [1, 2, 3, 4, 5, 6]
    assert list(cells.columns) == [0, 1, 2, 3]
    assert cells.loc[1:3].isna().all().all()
    assert cells[[0, 1]].isna().all().all()
    assert cells.loc[4, 2] == "Patient ID"  # C4
    assert cells.loc[5, 3] == "3.25"  # D5
    assert cells.loc[6, 3] == "<1"  # D6
    # the reference of the value "<1" is D6
    row, col = 6, 3
    assert cell_ref(row, col) == "D6" and cells.loc[row, col] == "<1"


def test_xlsx_max_rows(lab_xlsx):
    urine, patients, _ = read_raw(lab_xlsx, max_rows=3)
    assert list(urine.cells.index) == [1, 2, 3]
    assert _row(urine, 3)[0] == "Patient ID"
    assert list(patients.cells.index) == [1, 2]


def test_max_rows_zero_reads_no_rows(lab_xlsx, tmp_path):
    assert [s.cells.shape for s in read_raw(lab_xlsx, max_rows=0)] == [(0, 0), (0, 0), (0, 0)]
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert _only(read_raw(path, max_rows=0)).cells.shape == (0, 0)


def test_negative_max_rows_is_refused(lab_xlsx):
    with pytest.raises(ValueError):
        read_raw(lab_xlsx, max_rows=-1)


def test_xlsm_suffix_reported(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["B2"] = "x"
    path = tmp_path / "macro.xlsm"
    wb.save(path)
    sheet = _only(read_raw(path))
    assert sheet.fmt == "xlsm"
    assert sheet.cells.loc[2, 1] == "x"


def test_openpyxl_fallback_when_the_fast_reader_fails(c4_xlsx, tmp_path, monkeypatch):
    # openpyxl 3.1.5 cannot read back its own empty chart sheet, so the fallback workbook has none
    lab_xlsx = tmp_path / "lab_nochart.xlsx"
    _write_lab_workbook(lab_xlsx, chart=False)
    _fail_fastexcel(monkeypatch, fastexcel.CalamineError("simulated failure"))
    assert _only(read_raw(c4_xlsx, max_rows=0)).cells.shape == (0, 0)
    assert list(_only(read_raw(c4_xlsx, max_rows=4)).cells.index) == [1, 2, 3, 4]
    sheet = _only(read_raw(c4_xlsx))
    assert list(sheet.cells.index) == [1, 2, 3, 4, 5, 6]
    assert sheet.cells.loc[4, 2] == "Patient ID"
    assert sheet.cells.loc[5, 3] == "3.25"
    assert sheet.cells.loc[1:3].isna().all().all()
    urine = read_raw(lab_xlsx)[0]
    # openpyxl's datetime, int, bool and time are written as the fast reader writes them
    assert _row(urine, 1)[0].startswith("Urine catecholamines")
    assert _row(urine, 4) == ["P1", "2024-01-02 00:00:00", "4.2", "<0.5", "0042", "2024-01-02 08:30:00"]
    assert _row(urine, 5) == ["P2", "2024-02-29 00:00:00", "7", "12.5", "true", "1899-12-31 14:05:00"]


def test_damaged_workbook_when_both_readers_fail(c4_xlsx, monkeypatch):
    _fail_fastexcel(monkeypatch, fastexcel.CalamineError("simulated\nContext:\n    0: a second line"))

    def broken(*args, **kwargs):
        raise ValueError("simulated")

    monkeypatch.setattr(openpyxl, "load_workbook", broken)
    with pytest.raises(InputFormatError, match=r"^offset\.xlsx: the workbook is damaged") as caught:
        read_raw(c4_xlsx)
    # one line: the reader's lines of context are left out
    assert "\n" not in str(caught.value) and "CalamineError: simulated;" in str(caught.value)


def test_reader_password_error_becomes_unsafe_input_error(tmp_path, monkeypatch):
    # an encrypted BIFF8 .xls passes the magic-byte check (its encryption is inside the Workbook
    # stream); the reader then fails on the password, which must reach the user as a clear message
    book = xlwt.Workbook()
    book.add_sheet("S").write(0, 0, "x")
    path = tmp_path / "locked.xls"
    book.save(str(path))

    _fail_fastexcel(monkeypatch, fastexcel.CalamineError("calamine error: Xls error: Workbook is password protected"))
    with pytest.raises(UnsafeInputError, match=r"^locked\.xls: the workbook is password-protected"):
        read_raw(path)


def test_reader_panic_becomes_input_format_error(tmp_path, monkeypatch):
    book = xlwt.Workbook()
    book.add_sheet("S").write(0, 0, "x")
    path = tmp_path / "odd.xls"
    book.save(str(path))

    class PanicException(BaseException):  # what pyo3 raises when calamine's Rust code panics
        pass

    _fail_fastexcel(monkeypatch, PanicException("index out of bounds"))
    with pytest.raises(InputFormatError, match=r"^odd\.xls: the xls workbook cannot be read \(PanicException"):
        read_raw(path)


# -- xls and ods -------------------------------------------------------------------------


def test_xls_written_by_xlwt(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    sheet.write(0, 0, "Urine catecholamines")
    sheet.write(2, 1, "Patient ID")
    sheet.write(2, 2, "Sample date")
    sheet.write(2, 3, "VMA")
    sheet.write(2, 4, "Code")
    sheet.write(3, 1, "P1")
    sheet.write(3, 2, datetime.date(2024, 1, 2), xlwt.easyxf(num_format_str="DD.MM.YYYY"))
    sheet.write(3, 3, "<0.5")
    sheet.write(3, 4, "0042")
    sheet.write(4, 1, "P2")
    sheet.write(4, 3, 4.75)
    book.add_sheet("Second").write(1, 0, 12)
    path = tmp_path / "old.xls"
    book.save(str(path))
    first, second = read_raw(path)
    assert (first.sheet, second.sheet, first.fmt) == ("Results", "Second", "xls")
    assert list(first.cells.index) == [1, 2, 3, 4, 5]
    assert _row(first, 1) == ["Urine catecholamines", None, None, None, None]
    assert _row(first, 2) == [None] * 5
    assert _row(first, 4) == [None, "P1", "2024-01-02 00:00:00", "<0.5", "0042"]
    assert _row(first, 5) == [None, "P2", None, "4.75", None]
    assert list(second.cells.index) == [1, 2]
    assert second.cells.loc[2, 0] == "12"


def test_ods_written_by_pandas(tmp_path):
    frame = pd.DataFrame(
        {
            "Patient ID": ["P1", "P2"],
            "Sample date": [datetime.date(2024, 1, 2), datetime.date(2024, 3, 4)],
            "VMA": ["<0.5", 4.2],
            "Code": ["0042", "7"],
        }
    )
    path = tmp_path / "calc.ods"
    frame.to_excel(path, engine="odf", index=False, sheet_name="Urine", startrow=2)
    sheet = _only(read_raw(path))
    assert (sheet.sheet, sheet.fmt, sheet.decimal_comma) == ("Urine", "ods", None)
    assert list(sheet.cells.index) == [1, 2, 3, 4, 5]
    assert _row(sheet, 1) == [None] * 4
    assert _row(sheet, 3) == ["Patient ID", "Sample date", "VMA", "Code"]
    # ODS stores dates as ISO text, and the reader hands them over as stored
    assert _row(sheet, 4) == ["P1", "2024-01-02", "<0.5", "0042"]
    assert _row(sheet, 5) == ["P2", "2024-03-04", "4.2", "7"]


def test_ods_named_xlsx_is_read_by_content_with_warning(tmp_path):
    path = tmp_path / "calc.xlsx"
    pd.DataFrame({"Patient ID": ["P1"]}).to_excel(path.with_suffix(".ods"), engine="odf", index=False)
    path.with_suffix(".ods").rename(path)
    with pytest.warns(UserWarning, match=r"^calc\.xlsx: the file is really an ods workbook"):
        sheet = _only(read_raw(path))
    assert sheet.fmt == "ods"
    assert _row(sheet, 2) == ["P1"]


def test_xls_named_xlsx_is_read_by_content_with_warning(tmp_path):
    book = xlwt.Workbook()
    book.add_sheet("S").write(0, 0, "P1")
    path = tmp_path / "renamed.xlsx"
    book.save(str(path))
    with pytest.warns(UserWarning, match="really an xls workbook"):
        sheet = _only(read_raw(path))
    assert (sheet.fmt, sheet.cells.loc[1, 0]) == ("xls", "P1")


def test_matching_workbook_reads_without_warning(c4_xlsx):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_raw(c4_xlsx)


# -- text files ---------------------------------------------------------------------------


def test_csv_utf8_comma(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text(
        'Patient ID,Name,Sample date,VMA\n'
        'P1,"Smith, J",2024-01-02,4.2\n'
        'P2,"Doe ""Jr""",02/01/2024,<0.5\n'
        'P3,,2024-01-05,0042\n',
        encoding="utf-8",
    )
    sheet = _only(read_raw(path))
    assert (sheet.sheet, sheet.fmt, sheet.decimal_comma) == ("", "csv", False)
    assert list(sheet.cells.index) == [1, 2, 3, 4]
    assert _row(sheet, 2) == ["P1", "Smith, J", "2024-01-02", "4.2"]  # quoted comma stays in the cell
    assert _row(sheet, 3) == ["P2", 'Doe "Jr"', "02/01/2024", "<0.5"]
    assert _row(sheet, 4) == ["P3", None, "2024-01-05", "0042"]  # empty -> None; text never converted
    filled = [v for v in sheet.cells.to_numpy().ravel() if not pd.isna(v)]
    assert len(filled) == 15 and all(isinstance(v, str) for v in filled)  # 16 cells, one empty


def test_csv_utf8_bom_semicolon_decimal_comma(tmp_path):
    path = tmp_path / "lab.csv"
    content = "Patient ID;Sample date;VMA;HVA\r\nP1;02.01.2024;4,2;12,5\r\nP2;03.01.2024;<0,5;7\r\n"
    path.write_bytes(content.encode("utf-8-sig"))
    sheet = _only(read_raw(path))
    assert sheet.decimal_comma is True  # 3 decimal-comma numbers (4,2 12,5 <0,5), no decimal points
    assert _row(sheet, 1)[0] == "Patient ID"  # the BOM is not part of the first cell
    assert _row(sheet, 2) == ["P1", "02.01.2024", "4,2", "12,5"]
    assert _row(sheet, 3) == ["P2", "03.01.2024", "<0,5", "7"]


def test_semicolon_with_decimal_points_is_not_decimal_comma(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("ID;VMA\nP1;4.2\nP2;3,5\nP3;1.25\n", encoding="utf-8")
    sheet = _only(read_raw(path))
    assert sheet.decimal_comma is False  # 2 decimal points against 1 decimal comma
    assert _row(sheet, 3) == ["P2", "3,5"]


def test_cp1252_tab_delimited(tmp_path):
    path = tmp_path / "lab.txt"
    content = "Patient\tAnalyte\tResult\tUnit\r\nM\u00fcller\tVMA\t4,2\t\u00b5mol/mmol\r\nB\u00e4r\tHVA\t<0,5\tmg/g\r\n"
    path.write_bytes(content.encode("cp1252"))  # "ü" = 0xFC, "µ" = 0xB5, "ä" = 0xE4: invalid UTF-8
    sheet = _only(read_raw(path))
    assert (sheet.fmt, sheet.decimal_comma) == ("txt", True)
    assert _row(sheet, 2) == ["Müller", "VMA", "4,2", "µmol/mmol"]
    assert _row(sheet, 3) == ["Bär", "HVA", "<0,5", "mg/g"]


def test_utf16_unicode_text_export(tmp_path):
    """Excel's 'Unicode Text' export: UTF-16 with BOM, tab-delimited."""
    path = tmp_path / "export.txt"
    path.write_bytes("ID\tVMA\r\nP1\t4.2\r\n".encode("utf-16"))
    sheet = _only(read_raw(path))
    assert _row(sheet, 2) == ["P1", "4.2"]
    assert sheet.decimal_comma is False


def test_tsv_and_pipe(tmp_path):
    tsv = tmp_path / "lab.tsv"
    tsv.write_text("ID\tVMA\nP1\t4.2\n", encoding="utf-8")
    sheet = _only(read_raw(tsv))
    assert (sheet.fmt, _row(sheet, 2)) == ("tsv", ["P1", "4.2"])
    pipe = tmp_path / "pipe.txt"
    pipe.write_text("ID|Date|VMA\nP1|2024-01-02|4.2\nP2|2024-01-03|5\n", encoding="utf-8")
    assert _row(_only(read_raw(pipe)), 3) == ["P2", "2024-01-03", "5"]


def test_semicolon_beats_comma_when_every_row_has_decimal_commas(tmp_path):
    # Split on "," every data row has 3 fields ("P1;4", "2;12", "5"): consistent, but the header has 1.
    # Split on ";" every line, header included, has 3 fields: the semicolon wins.
    path = tmp_path / "lab.csv"
    path.write_text("ID;VMA;HVA\nP1;4,2;12,5\nP2;3,1;9,9\nP3;1,0;2,0\n", encoding="utf-8")
    sheet = _only(read_raw(path))
    assert _row(sheet, 2) == ["P1", "4,2", "12,5"]
    assert sheet.decimal_comma is True


def test_title_lines_blank_lines_and_ragged_rows(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text(
        "Urine catecholamines\n"  # line 1: a title, one cell
        "Exported 2024-05-01\n"  # line 2
        "\n"  # line 3: blank
        "Patient ID,Sample date,VMA,HVA\n"  # line 4: header
        "P1,2024-01-02,4.2\n"  # line 5: short row
        "P2,2024-01-03,5.1,9.0,extra\n",  # line 6: long row
        encoding="utf-8",
    )
    sheet = _only(read_raw(path))
    assert list(sheet.cells.index) == [1, 2, 3, 4, 5, 6]
    assert sheet.cells.shape == (6, 5)
    assert _row(sheet, 1) == ["Urine catecholamines", None, None, None, None]
    assert _row(sheet, 3) == [None] * 5
    assert _row(sheet, 5) == ["P1", "2024-01-02", "4.2", None, None]
    assert _row(sheet, 6) == ["P2", "2024-01-03", "5.1", "9.0", "extra"]


def test_quoted_line_break_keeps_line_numbers(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text('ID,Comment,VMA\nP1,"two\nlines",4.2\nP2,ok,5\n', encoding="utf-8")
    sheet = _only(read_raw(path))
    # the record starting on line 2 spans lines 2-3, so the next record is line 4
    assert list(sheet.cells.index) == [1, 2, 4]
    assert _row(sheet, 2) == ["P1", "two\nlines", "4.2"]
    assert _row(sheet, 4) == ["P2", "ok", "5"]


def test_single_column_text_file(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("Patient ID\nP1\nP2\n", encoding="utf-8")
    sheet = _only(read_raw(path))
    assert sheet.cells.shape == (3, 1)
    assert list(sheet.cells[0]) == ["Patient ID", "P1", "P2"]


def test_text_max_rows(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("".join(f"P{i},{i}.5\n" for i in range(1, 101)), encoding="utf-8")
    sheet = _only(read_raw(path, max_rows=10))
    assert list(sheet.cells.index) == list(range(1, 11))
    assert _row(sheet, 10) == ["P10", "10.5"]


def test_path_given_as_string(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    sheet = _only(read_raw(str(path)))
    assert sheet.file == "lab.csv"
    assert sheet.path == path


# -- cells as text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12.0, "12"),  # a whole number without ".0", as Excel shows it
        (4.25, "4.25"),
        (0.1 + 0.2, "0.3"),  # 0.30000000000000004 to nine decimals is 0.300000000, zeros dropped
        (2 / 3, "0.666666667"),  # nine decimals, rounded
        (7, "7"),
        (True, "true"),
        (False, "false"),
        ("0042", "0042"),  # text is never touched
        (" <0.5 ", " <0.5 "),
        ("", None),
        (None, None),
        (float("nan"), None),
        (datetime.datetime(2024, 3, 5), "2024-03-05 00:00:00"),
        (datetime.date(2024, 3, 5), "2024-03-05 00:00:00"),
        (datetime.datetime(2024, 3, 5, 8, 30, 0, 250000), "2024-03-05 08:30:00.250"),
        (datetime.datetime(2024, 3, 5, 8, 30, 0, 7), "2024-03-05 08:30:00.000007"),
        (datetime.time(6, 0), "1899-12-31 06:00:00"),  # day 0 of the 1900 system
        (datetime.timedelta(hours=36), "1900-01-01 12:00:00"),
    ],
)
def test_excel_text(value, text):
    assert raw_io.excel_text(value) == text
