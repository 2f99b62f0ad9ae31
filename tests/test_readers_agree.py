"""The fast readers and their fallbacks give identical cells and identical tidy tables.

Workbooks are read by fastexcel, with openpyxl as the fallback; text files by
Arrow's CSV parser, with the csv module as the fallback (for line breaks inside
quotes, lone carriage returns, unclosed quotes, small files). Each test reads the same file
both ways -- the fallback forced by monkeypatching -- and compares the RawSheet
cells and everything :func:`markers.ingest.reader.read` derives from them.
"""

from __future__ import annotations

import datetime as dt
import pathlib

import openpyxl
import pandas as pd
import pytest

from markers.ingest.reader import read
from markers.readers import files as raw_io
from markers.readers import text as text_reader
from markers.readers import workbook as workbook_reader
from markers.readers.text_split import lone_carriage_return

SAMPLE = pathlib.Path(__file__).resolve().parent.parent / "sample_data"
TODAY = dt.date(2025, 6, 1)


def _force_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[raw_io.RawSheet]:
        raise RuntimeError("fastexcel unavailable (simulated)")

    monkeypatch.setattr(workbook_reader, "_read_fastexcel", broken)


def _force_csv_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_reader, "split_fast", lambda text, delimiter: None)


def _use_c_parser(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Let the Arrow parser take any file size; returns a list recording whether it was used."""
    used: list[bool] = []
    split = text_reader.split_fast

    def spy(utf8: bytes, delimiter: str) -> pd.DataFrame | None:
        frame = split(utf8, delimiter)
        used.append(frame is not None)
        return frame

    monkeypatch.setattr(text_reader, "_FAST_TEXT_MIN", 0)
    monkeypatch.setattr(text_reader, "split_fast", spy)
    return used


def _read_both(path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, *, workbook: bool):
    """(fast sheets, fast dataset, fallback sheets, fallback dataset)."""
    used = None if workbook else _use_c_parser(monkeypatch)
    fast_sheets = raw_io.read_raw(path)
    fast = read(path, today=TODAY)
    if used is not None:
        assert used and all(used), "the Arrow parser was expected to read this file"
    with monkeypatch.context() as patch:
        (_force_openpyxl if workbook else _force_csv_module)(patch)
        slow_sheets = raw_io.read_raw(path)
        slow = read(path, today=TODAY)
    return fast_sheets, fast, slow_sheets, slow


def _assert_same(fast_sheets, fast, slow_sheets, slow) -> None:
    assert [(s.file, s.sheet, s.fmt, s.decimal_comma) for s in fast_sheets] == [
        (s.file, s.sheet, s.fmt, s.decimal_comma) for s in slow_sheets
    ]
    for a, b in zip(fast_sheets, slow_sheets, strict=True):
        pd.testing.assert_frame_equal(a.cells, b.cells)
        assert (a.cells.dtypes == raw_io.CELL_DTYPE).all() and (b.cells.dtypes == raw_io.CELL_DTYPE).all()
    for table in ("measurements", "patients", "therapy", "issues", "rows", "files"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(slow, table), obj=table)


@pytest.fixture
def tricky_xlsx(tmp_path: pathlib.Path) -> pathlib.Path:
    """Blank leading rows, a title, date and date-time cells, "0042", censored and flagged results."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Results"
    sheet["B3"] = "Urine catecholamines export"
    header = ["Patient ID", "Date of birth", "Collection date", "Test", "Result", "Unit", "Comment"]
    for col, text in enumerate(header, start=2):
        sheet.cell(row=5, column=col, value=text)
    rows = [
        ["0042", dt.datetime(2019, 5, 1), dt.datetime(2024, 1, 2), "VMA", "<0.5", "mg/g creat", None],
        [42, dt.date(2019, 5, 1), dt.datetime(2024, 1, 2, 14, 30), "HVA", 45.2, "mg/g creat", "repeat"],
        ["0042", dt.datetime(2019, 5, 1), dt.datetime(2024, 2, 2), "VMA", "45.2 H", "mg/g creat", None],
        ["P7", dt.datetime(2020, 1, 9), "05.03.2024", "HVA", "QNS", "mg/g creat", "haemolysed"],
        ["P7", dt.datetime(2020, 1, 9), 45357, "VMA", 7, "mg/g creat", None],
    ]
    for r, values in enumerate(rows, start=6):
        for c, value in enumerate(values, start=2):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    path = tmp_path / "tricky.xlsx"
    book.save(path)
    return path


def test_tricky_workbook_fastexcel_and_openpyxl_agree(tricky_xlsx, monkeypatch):
    fast_sheets, fast, slow_sheets, slow = _read_both(tricky_xlsx, monkeypatch, workbook=True)
    _assert_same(fast_sheets, fast, slow_sheets, slow)
    cells = fast_sheets[0].cells
    # exact positions: the title is B3 (row 3, column 1), the header row 5
    assert list(cells.index[:5]) == [1, 2, 3, 4, 5]
    assert cells.loc[3, 1] == "Urine catecholamines export"
    assert cells.loc[1:2].isna().all().all() and cells.loc[4].isna().all()
    assert cells.loc[6, 1] == "0042" and cells.loc[7, 1] == "42"
    assert cells.loc[6, 3] == "2024-01-02 00:00:00"
    assert cells.loc[7, 3] == "2024-01-02 14:30:00" and cells.loc[10, 3] == "45357"
    # what ingestion makes of it, worked out by hand:
    # rows 6-8 and 10 give measurements ("<0.5" is censored at 0.5, "45.2 H" is 45.2 flagged H,
    # serial 45357 = 45000 + 357, and 45000 is 2023-03-15; 2023-03-15 + 366 days (across
    # 29 Feb 2024) is 2024-03-15, so + 357 days is 2024-03-06); row 9 ("QNS") is rejected.
    m = fast.measurements
    assert sorted(m["source_cell"]) == ["F10", "F6", "F7", "F8"]
    assert sorted(set(m["patient_id"])) == ["0042", "42", "P7"]
    censored = m[m["source_cell"] == "F6"].iloc[0]
    assert (censored["censor"], censored["value"]) == ("<", 0.5)
    assert m.loc[m["source_cell"] == "F10", "sample_date"].iloc[0] == pd.Timestamp("2024-03-06")
    assert fast.rows.set_index("row").loc[9, "status"] == "rejected"


def test_sample_workbook_fastexcel_and_openpyxl_agree(monkeypatch):
    _assert_same(*_read_both(SAMPLE / "study_workbook.xlsx", monkeypatch, workbook=True))


def test_sample_csv_arrow_parser_and_csv_module_agree(monkeypatch):
    fast_sheets, fast, slow_sheets, slow = _read_both(SAMPLE / "lab_export_eu.csv", monkeypatch, workbook=False)
    _assert_same(fast_sheets, fast, slow_sheets, slow)
    # semicolons and decimal commas: sniffed the same way by both paths
    assert fast_sheets[0].decimal_comma is True


def test_messy_csv_agrees_and_keeps_line_numbers(tmp_path, monkeypatch):
    text = (
        "Lab export\r\n"
        "\r\n"
        "Patient ID,Collection date,Test,Result,Unit,Comment\r\n"
        'P1,2024-01-02,VMA,"<0.5",mg/g creat,"spot, morning"\r\n'
        "P1,2024-01-02,HVA,12.5,mg/g creat\r\n"  # short row: padded
        'P2,2024-01-03,VMA,45.2 H,mg/g creat,"said ""repeat"""\r\n'
        "P2,2024-01-03,HVA,QNS,mg/g creat,,extra\r\n"  # longer row than the header
        "\r\n"
        "End of report\r\n"
    )
    path = tmp_path / "messy.csv"
    path.write_bytes(text.encode("utf-8"))
    fast_sheets, fast, slow_sheets, slow = _read_both(path, monkeypatch, workbook=False)
    _assert_same(fast_sheets, fast, slow_sheets, slow)
    cells = fast_sheets[0].cells
    assert list(cells.index) == list(range(1, 10))
    assert cells.shape[1] == 7  # the widest row has 7 cells
    assert cells.loc[4, 5] == "spot, morning" and cells.loc[6, 5] == 'said "repeat"'
    assert cells.loc[5].tolist()[4] == "mg/g creat" and cells.loc[5].isna().tolist()[5:] == [True, True]
    assert cells.loc[7, 6] == "extra"


def test_line_break_inside_quotes_falls_back_to_the_csv_module(tmp_path, monkeypatch):
    # record 3 spans lines 3-4, so the Arrow parser's record numbers are not line numbers
    text = 'Patient ID,Collection date,Test,Result,Unit\nP1,2024-01-02,VMA,3.5,mg/g creat\nP2,2024-01-03,"HVA\nrepeat",4,mg/g creat\nP3,2024-01-04,VMA,5,mg/g creat\n'
    path = tmp_path / "multiline.csv"
    path.write_text(text, encoding="utf-8")
    used = _use_c_parser(monkeypatch)
    cells = raw_io.read_raw(path)[0].cells
    assert used == [False]
    assert list(cells.index) == [1, 2, 3, 5]
    assert cells.loc[3, 2] == "HVA\nrepeat" and cells.loc[5, 0] == "P3"


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_a_lone_carriage_return_falls_back_to_the_csv_module(tmp_path, monkeypatch, ending):
    # Windows lines, then one old-Mac line break (a lone CR) in the middle; the csv module counts
    # it as a line of its own, so P2 is on line 3 and P3 on line 4. The last line ends in a lone
    # CR, or in CRLF: a file of CRLF lines only goes to the Arrow parser.
    text = ("Patient ID,Collection date,Test,Result,Unit\r\nP1,2024-01-02,VMA,3.5,mg/g creat\r\n"
            "P2,2024-01-03,HVA,4,mg/g creat\rP3,2024-01-04,VMA,5,mg/g creat" + ending)
    path = tmp_path / "old_mac.csv"
    path.write_bytes(text.encode("ascii"))
    used = _use_c_parser(monkeypatch)
    cells = raw_io.read_raw(path)[0].cells
    assert used == [False]
    assert cells[0].tolist() == ["Patient ID", "P1", "P2", "P3"] and list(cells.index) == [1, 2, 3, 4]
    windows = ("Patient ID,Collection date,Test,Result,Unit\r\nP1,2024-01-02,VMA,3.5,mg/g creat\r\n"
               "P2,2024-01-03,HVA,4,mg/g creat\r\nP3,2024-01-04,VMA,5,mg/g creat\r\n")
    path.write_bytes(windows.encode("ascii"))
    cells = raw_io.read_raw(path)[0].cells
    assert used == [False, True] and cells[0].tolist() == ["Patient ID", "P1", "P2", "P3"]


@pytest.mark.parametrize(("data", "lone"), [(b"a\rb", True), (b"a\r\nb\r", True), (b"\r", True), (b"\r\r\n", True),
                                            (b"a\r\nb\r\n", False), (b"a\nb", False), (b"", False),
                                            # a CR as the last byte of the first 4 MiB looked at, then its successor
                                            (b"x" * (2**22 - 1) + b"\ry", True), (b"x" * (2**22 - 1) + b"\r\ny", False)])
def test_lone_carriage_returns_are_found(data, lone):
    assert lone_carriage_return(data) is lone


def test_large_csv_takes_the_arrow_parser_by_default(tmp_path, monkeypatch):
    lines = ["Patient ID;Collection date;Test;Result;Unit"]
    lines += [f"P{i % 50};{1 + i % 28:02d}.03.2024;VMA;{i % 9},5;mg/g creat" for i in range(4000)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="cp1252")
    assert path.stat().st_size > text_reader._FAST_TEXT_MIN
    calls: list[bool] = []
    split = text_reader.split_fast
    monkeypatch.setattr(text_reader, "split_fast", lambda t, d: calls.append(True) or split(t, d))
    sheet = raw_io.read_raw(path)[0]
    assert calls == [True]
    assert sheet.cells.shape == (4001, 5) and sheet.decimal_comma is True
    # line 4001 is i = 3999: P49 (3999 % 50), day 24 (1 + 3999 % 28 = 1 + 23), result 3,5 (3999 % 9 = 3)
    assert sheet.cells.loc[4001].tolist() == ["P49", "24.03.2024", "VMA", "3,5", "mg/g creat"]


def test_every_kind_of_cell_reads_as_the_same_text_both_ways(tmp_path, monkeypatch):
    """Numbers, booleans, dates, times, durations and error values: one text, whichever reader.

    (-0.0 is left out: Excel never stores it, and openpyxl reads a stored "-0" back as 0.)
    """
    values = [
        0.1 + 0.2, 1 / 3, 45.0, 7, 1e20, 2.5e-5, 99999999999.99, True, False,
        dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 30, 15, 500000), dt.datetime(2024, 3, 5, 10, 30, 15, 123456),
        dt.date(2024, 2, 29), dt.time(14, 5), dt.timedelta(days=1, hours=2), "#N/A", "  spaced  ", "0042",
    ]
    book = openpyxl.Workbook()
    for row, value in enumerate(values, start=1):
        book.active.cell(row=row, column=1, value=value)
    path = tmp_path / "kinds.xlsx"
    book.save(path)
    fast = raw_io.read_raw(path)[0].cells[0]
    with monkeypatch.context() as patch:
        _force_openpyxl(patch)
        slow = raw_io.read_raw(path)[0].cells[0]
    pd.testing.assert_series_equal(fast, slow)
    # numbers to nine decimals, trailing zeros dropped (0.1 + 0.2 is 0.30000000000000004);
    # 99999999999.99 is stored as the nearest double, 99999999999.990005493...
    assert fast.tolist()[:9] == ["0.3", "0.333333333", "45", "7", "100000000000000000000", "0.000025",
                                  "99999999999.990005493", "true", "false"]
    # date-times are stored as fractions of a day: a millisecond is the finest they keep
    assert fast.tolist()[9:15] == ["2024-03-05 00:00:00", "2024-03-05 10:30:15.500", "2024-03-05 10:30:15.123",
                                    "2024-02-29 00:00:00", "1899-12-31 14:05:00", "1900-01-01 02:00:00"]
    # an error value is an empty cell; text is kept as written
    assert pd.isna(fast.iloc[15]) and fast.tolist()[16:] == ["  spaced  ", "0042"]


def test_many_lines_of_another_width_are_put_back_at_their_lines(tmp_path, monkeypatch):
    """Hundreds of short and long rows among the regular ones: every cell stays on its own line."""
    lines = ["Export of 2024-05-01", "Patient ID,Collection date,Test,Result,Unit"]
    for i in range(1200):
        if i % 4 == 1:
            lines.append(f"P{i},2024-01-02,VMA")  # short: padded
        elif i % 4 == 3:
            lines.append(f"P{i},2024-01-02,HVA,{i},mg/g creat,extra{i}")  # long: one more cell
        else:
            lines.append(f"P{i},2024-01-02,VMA,{i},mg/g creat")
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast_sheets, fast, slow_sheets, slow = _read_both(path, monkeypatch, workbook=False)
    _assert_same(fast_sheets, fast, slow_sheets, slow)
    cells = fast_sheets[0].cells
    # line 3 + i holds P{i}: line 1200 is i = 1197 (1197 % 4 == 1, short), line 1202 is i = 1199 (long)
    assert cells.loc[1200].tolist()[:3] == ["P1197", "2024-01-02", "VMA"] and cells.loc[1200].isna().tolist()[3:] == [True] * 3
    assert cells.loc[1202].tolist() == ["P1199", "2024-01-02", "HVA", "1199", "mg/g creat", "extra1199"]
    assert cells.loc[1].tolist()[0] == "Export of 2024-05-01" and cells.shape == (1202, 6)
