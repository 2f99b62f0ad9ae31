"""A large xlsx sheet read in two halves on two threads gives the cells of the whole sheet read at once.

Each test reads a workbook twice with :func:`markers.readers.files.read_raw`:
with every sheet part split (``SPLIT_BYTES`` = 1) and with none split, and
compares the cell frames; it also checks that the halves were (or were not) used.
"""

from __future__ import annotations

import collections
import datetime as dt
import io
import zipfile

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workbooks import MAIN, write_xml_workbook

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers import workbook, xlsx_halves
from markers.readers.files import read_raw
from markers.readers.limits import ReadLimits
from markers.readers.stored_zip import StoredZip


def _sheet(rows: str, *, prefix: str = "") -> str:
    if prefix:
        p = prefix + ":"
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{p}worksheet xmlns:{prefix}="{MAIN}">'
                f"<{p}sheetData>{rows}</{p}sheetData></{p}worksheet>")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
            f'<dimension ref="A1:C9"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
            f"<sheetData>{rows}</sheetData><pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" "
            'header="0.3" footer="0.3"/></worksheet>')


def _row(number: int, cells: str, *, prefix: str = "") -> str:
    p = prefix + ":" if prefix else ""
    return f'<{p}row r="{number}">{cells}</{p}row>'


def _text(ref: str, text: str, *, prefix: str = "") -> str:
    p = prefix + ":" if prefix else ""
    return f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>{text}</{p}t></{p}is></{p}c>'


def _number(ref: str, value: str, *, prefix: str = "") -> str:
    p = prefix + ":" if prefix else ""
    return f'<{p}c r="{ref}"><{p}v>{value}</{p}v></{p}c>'


@pytest.fixture
def used(monkeypatch):
    """The sheets read from their halves (joined), recorded by name."""
    joined: list[str] = []
    real = workbook.read_halves

    def spy(halves, name):
        result = real(halves, name)
        if result is not None:
            joined.append(name)
        return result

    monkeypatch.setattr(workbook, "read_halves", spy)
    return joined


def _both(path, monkeypatch, **kwargs) -> tuple[list, list]:
    """(read split, read whole) of ``path``."""
    monkeypatch.setattr(xlsx_halves, "SPLIT_BYTES", 1)
    split = read_raw(path, **kwargs)
    monkeypatch.setattr(xlsx_halves, "SPLIT_BYTES", 10**15)
    whole = read_raw(path, **kwargs)
    return split, whole


def _assert_same(split, whole) -> None:
    assert [s.sheet for s in split] == [s.sheet for s in whole]
    for a, b in zip(split, whole, strict=True):
        pd.testing.assert_frame_equal(a.cells, b.cells)


def _lab_rows(count: int, *, start: int = 1, prefix: str = "") -> str:
    rows = [_row(start, _text(f"A{start}", "Patient ID", prefix=prefix) + _text(f"B{start}", "VMA", prefix=prefix),
                 prefix=prefix)]
    for n in range(start + 1, start + count):
        rows.append(_row(n, _text(f"A{n}", f"P{n % 7}", prefix=prefix) + _number(f"B{n}", f"{n / 8}", prefix=prefix),
                         prefix=prefix))
    return "".join(rows)


def test_a_workbook_saved_by_openpyxl_reads_the_same_from_its_halves(tmp_path, monkeypatch, used):
    # shared strings, dates by their number format, numbers, a gap of empty rows, cells from column C,
    # a second sheet: what a workbook saved by a spreadsheet program holds
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Results"
    sheet.append(["Patient ID", "Sample date", "VMA", "HVA", "Note"])
    for n in range(1, 400):
        if 150 <= n < 170:
            sheet.append([])
            continue
        sheet.append([f"NB-{n % 37:03d}", dt.date(2020, 1, 1) + dt.timedelta(days=n), n / 3, n % 11 or None,
                      "<0.5" if n % 13 == 0 else None])
    sheet["G405"] = "late note"
    other = book.create_sheet("Patients")
    other.append(["Patient ID", "Date of birth"])
    other.append(["NB-001", dt.date(2018, 5, 6)])
    path = tmp_path / "lab.xlsx"
    book.save(path)

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == ["Results", "Patients"]
    cells = split[0].cells
    assert cells.loc[1, 0] == "Patient ID" and cells.loc[405, 6] == "late note" and cells.loc[160].isna().all()
    assert cells.loc[2, 1] == "2020-01-02 00:00:00"  # n = 1; read as a date: the styles part came along


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.integers(1, 400), st.integers(0, 6),
                               st.one_of(st.text(alphabet="ab <>&é1", min_size=1, max_size=6),
                                         st.floats(-1e6, 1e6, allow_nan=False), st.integers(-5, 5))),
                     min_size=1, max_size=60))
def test_random_sparse_sheets_read_the_same_from_their_halves(tmp_path, monkeypatch, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row, column, value in rows:
        sheet.cell(row=row, column=column + 1, value=value)
    path = tmp_path / "random.xlsx"
    book.save(path)

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)


def test_a_sheet_with_namespace_prefixes_is_split_and_reads_the_same(tmp_path, monkeypatch, used):
    path = tmp_path / "prefixed.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(60, prefix="x"), prefix="x")})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == ["Results"]
    assert split[0].cells.shape == (60, 2) and split[0].cells.loc[60, 1] == "7.5"


def test_a_sheet_starting_below_row_one_keeps_its_row_numbers(tmp_path, monkeypatch, used):
    path = tmp_path / "low.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(50, start=7))})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == ["Results"]
    assert split[0].cells.index[0] == 1 and split[0].cells.loc[7, 0] == "Patient ID"
    assert split[0].cells.loc[1:6].isna().all().all()


def test_cells_without_a_reference_keep_the_sheet_whole(tmp_path, monkeypatch, used):
    # a cell without r goes where the cells before it leave the reader: a half could not place it
    rows = _lab_rows(40) + '<row r="40"><c t="inlineStr"><is><t>no r</t></is></c></row>'
    path = tmp_path / "rless.xlsx"
    write_xml_workbook(path, {"Results": _sheet(rows)})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == []
    assert split[0].cells.loc[40, 0] == "no r"


@pytest.mark.parametrize("late", ["first", "second"])
def test_rows_written_out_of_order_are_read_from_the_whole_file(tmp_path, monkeypatch, used, late):
    # a row numbered past the split in the first half, or before it in the second: the halves do not join
    rows = [_row(n, _text(f"A{n}", f"P{n}") + _number(f"B{n}", str(n))) for n in range(1, 61)]
    if late == "first":
        rows.insert(3, _row(500, _text("A500", "late")))
    else:
        rows.append(_row(2, _text("C2", "early")))
    path = tmp_path / "order.xlsx"
    write_xml_workbook(path, {"Results": _sheet("".join(rows))})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == []


def test_a_second_half_without_values_leaves_the_first_half_as_the_sheet(tmp_path, monkeypatch, used):
    # the rows from the split on hold styled empty cells only: the sheet ends where the values end
    empty = "".join(_row(n, f'<c r="A{n}" s="1"/><c r="B{n}" s="1"/>') for n in range(21, 200))
    path = tmp_path / "tail.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(20) + empty)})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == ["Results"]
    assert len(split[0].cells) == 20


def test_a_sheet_is_read_whole_on_one_core_or_for_a_preview(tmp_path, monkeypatch, used):
    path = tmp_path / "lab.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(40))})

    _both(path, monkeypatch, max_rows=10)
    monkeypatch.setattr(xlsx_halves, "_cores", lambda: 1)
    _both(path, monkeypatch)

    assert used == []


def _full_disk(self, data):
    raise OSError(28, "No space left on device")


def _reader_error(path, name, skip_rows):
    raise RuntimeError("calamine: unexpected end of a half")


@pytest.mark.parametrize(("target", "name", "failure"), [(StoredZip, "write", _full_disk),
                                                         (xlsx_halves, "_load", _reader_error)])
def test_a_full_disk_or_a_reader_error_on_a_half_reads_the_sheet_whole(tmp_path, monkeypatch, used, target, name,
                                                                        failure):
    monkeypatch.setattr(target, name, failure)
    path = tmp_path / "lab.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(40))})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == []
    assert split[0].cells.loc[40, 0] == "P5"


def test_too_little_free_space_reads_the_sheet_whole(tmp_path, monkeypatch, used):
    path = tmp_path / "lab.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(40))})
    with zipfile.ZipFile(path) as zf:
        size = zf.getinfo("xl/worksheets/sheet1.xml").file_size
        copied = sum(i.file_size for i in zf.infolist() if i.filename != "xl/worksheets/sheet1.xml")
    need = 2 * (size + 2 * copied)  # twice the halves: the sheet, and the other parts in each
    free = {"bytes": need - 1}
    monkeypatch.setattr(xlsx_halves.shutil, "disk_usage", lambda where: shutil_usage(free["bytes"]))

    _both(path, monkeypatch)
    assert used == []
    free["bytes"] = need  # just enough
    _both(path, monkeypatch)
    assert used == ["Results"]


def shutil_usage(free: int):
    """What shutil.disk_usage gives: (total, used, free)."""
    return collections.namedtuple("usage", "total used free")(10**12, 10**12 - free, free)


def test_a_part_inflating_past_its_declared_size_is_not_written_further(tmp_path):
    # the extent pass refuses such a part; the halves stop at the size the archive declares
    head = _sheet(_lab_rows(40)).encode()
    writer = xlsx_halves._Writer(tmp_path, "xl/worksheets/sheet1.xml", [], len(head))
    writer.feed(head)
    assert not writer.failed
    writer.feed(b"<row r=\"99\"/>")
    assert writer.failed and writer.close() is None
    assert b'<row r="99"/>' not in (tmp_path / "second.xlsx").read_bytes()


def _rezip(path, *, extra: dict[str, str] | None = None, sheet_method: int = zipfile.ZIP_DEFLATED) -> None:
    """Write ``path`` again: its sheet part with ``sheet_method``, then the ``extra`` entries (name -> text)."""
    with zipfile.ZipFile(path) as src:
        parts = [(i.filename, src.read(i)) for i in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            zf.writestr(name, data, compress_type=sheet_method if "worksheets" in name else zipfile.ZIP_DEFLATED)
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    path.write_bytes(out.getvalue())


def _patch_method(path, name: bytes, method: int) -> None:
    """Set the compression method of entry ``name`` in its local and central headers (APPNOTE 4.3.7, 4.3.12)."""
    data = bytearray(path.read_bytes())
    for signature, at, name_length, header in ((b"PK\x03\x04", 8, 26, 30), (b"PK\x01\x02", 10, 28, 46)):
        pos = data.find(signature)
        while pos >= 0:
            length = int.from_bytes(data[pos + name_length:pos + name_length + 2], "little")
            if bytes(data[pos + header:pos + header + length]) == name:
                data[pos + at:pos + at + 2] = method.to_bytes(2, "little")
            pos = data.find(signature, pos + 4)
    path.write_bytes(bytes(data))


def test_an_entry_the_reader_reads_instead_of_the_sheet_part_keeps_it_whole(tmp_path, monkeypatch, used):
    # the reader looks entries up by their lower-case name, the last one winning: Sheet1.xml, not sheet1.xml
    path = tmp_path / "twice.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(60))})
    _rezip(path, extra={"xl/worksheets/Sheet1.xml": _sheet(_row(1, _text("A1", "other")))})

    split, whole = _both(path, monkeypatch)

    _assert_same(split, whole)
    assert used == []
    assert split[0].cells.loc[1, 0] == "other"


@pytest.mark.parametrize("damage", ["bzip2 sheet", "deflate64 entry", "NUL in the sheet's name"])
def test_entries_the_reader_cannot_inflate_keep_the_sheet_whole(tmp_path, monkeypatch, used, damage):
    # Python's zipfile undoes bzip2 and the reader does not: the halves would read what the file does not give
    path = tmp_path / "methods.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(60) + _row(61, _number("A61", "-0")))})
    if damage == "bzip2 sheet":
        _rezip(path, sheet_method=zipfile.ZIP_BZIP2)
    elif damage == "NUL in the sheet's name":  # zipfile cuts the name at the NUL; the reader does not
        with zipfile.ZipFile(path) as src:
            parts = [(i.filename, src.read(i)) for i in src.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in parts:
                zf.writestr(name + "Xjunk" if "worksheets" in name else name, data)
        path.write_bytes(path.read_bytes().replace(b"sheet1.xmlXjunk", b"sheet1.xml\x00junk"))
    else:  # an empty entry marked Deflate64 (method 9), which neither inflates
        _rezip(path, extra={"xl/media/empty.bin": ""})
        _patch_method(path, b"xl/media/empty.bin", 9)

    split, whole = _outcomes(path, monkeypatch)

    assert split == whole
    assert used == []


def _outcomes(path, monkeypatch) -> tuple[tuple, tuple]:
    """(read split, read whole) of ``path``, each the cells of its sheets or the error's message."""
    results = []
    for size in (1, 10**15):
        monkeypatch.setattr(xlsx_halves, "SPLIT_BYTES", size)
        try:
            results.append(("cells", [s.cells.to_dict() for s in read_raw(path)]))
        except InputFormatError as exc:
            results.append(("error", str(exc)))
    return results[0], results[1]


def test_rows_after_the_end_of_sheet_data_are_not_split_into_a_half(tmp_path, monkeypatch, used):
    # the reader stops at the first </sheetData>: a second sheetData past the middle is not the sheet's
    extra = "<sheetData>" + "<!-- pad -->" * 400 + _row(50, _text("A50", "ghost")) + "</sheetData>"
    path = tmp_path / "second.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(10)).replace("<pageMargins", extra + "<pageMargins")})

    split, whole = _outcomes(path, monkeypatch)

    assert split == whole and split[0] == "error"  # the row count sees the ghost row the reader does not give
    assert used == []


def test_the_halves_are_removed_after_the_read_and_after_a_refusal(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    monkeypatch.setattr(xlsx_halves, "SPLIT_BYTES", 1)
    path = tmp_path / "lab.xlsx"
    write_xml_workbook(path, {"Results": _sheet(_lab_rows(40))})

    read_raw(path)
    assert list(scratch.iterdir()) == []
    with pytest.raises(UnsafeInputError, match="spans"):
        read_raw(path, limits=ReadLimits(max_cells=10))
    assert list(scratch.iterdir()) == []


def test_a_stored_zip_is_read_by_zipfile_with_its_crc(tmp_path):
    path = tmp_path / "a.zip"
    with open(path, "wb") as fh:
        archive = StoredZip(fh)
        archive.add("xl/styles.xml", b"<styleSheet/>")
        archive.begin("xl/worksheets/sheet1.xml")
        for piece in (b"<worksheet>", b"\xc3\xa9" * 70_000, b"</worksheet>"):
            archive.write(piece)
        archive.add("d\u00e9j\u00e0.xml", b"")
        archive.close()

    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert [(i.filename, i.compress_type, i.file_size) for i in zf.infolist()] == [
            ("xl/styles.xml", zipfile.ZIP_STORED, 13), ("xl/worksheets/sheet1.xml", zipfile.ZIP_STORED, 140_023),
            ("d\u00e9j\u00e0.xml", zipfile.ZIP_STORED, 0)]
        assert zf.read("xl/worksheets/sheet1.xml") == b"<worksheet>" + b"\xc3\xa9" * 70_000 + b"</worksheet>"


def test_a_stored_zip_past_its_limit_is_refused(monkeypatch):
    monkeypatch.setattr("markers.readers.stored_zip._LIMIT", 100)
    archive = StoredZip(io.BytesIO())
    archive.begin("a")
    with pytest.raises(ValueError, match="4 GiB"):
        archive.write(b"x" * 101)

