"""Sheets outside xl/worksheets/: the extent checks scan every part the workbook's relationships point at.

calamine opens a sheet through the workbook's relationships, wherever the target lies and whatever its
name. Before, only parts under xl/worksheets/ were scanned: a forged sheet at xl/data/sheet1.xml with a
cell at XFD1048576 made the reader ask for 1,048,576 x 16,384 cells and abort the process.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from click.testing import CliRunner
from corpus.hostile_cases import _CONTENT_TYPES, _ROOT_RELS, _WORKBOOK, _sheet_xml

from markers.cli import cli
from markers.errors import UnsafeInputError
from markers.readers import limits
from markers.readers.sheet_parts import sheet_parts

_FAR = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
_RELS_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships '
              b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">')
_SHEET_TYPE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def _package(part: str, target: str, *, rows: str = _FAR, workbook: str = "xl/workbook.xml",
             root_rels: bytes = _ROOT_RELS) -> bytes:
    """A minimal package (ECMA-376 part 1) whose one sheet is the part ``part``, targeted as ``target``."""
    folder, name = workbook.rsplit("/", 1)
    rels = _RELS_HEAD + b'<Relationship Id="rId1" Type="' + _SHEET_TYPE + b'" Target="' + target.encode() + b'"/>' \
        + b"</Relationships>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", root_rels)
        zf.writestr(workbook, _WORKBOOK)
        zf.writestr(f"{folder}/_rels/{name}.rels", rels)
        zf.writestr(part, _sheet_xml(rows))
    return out.getvalue()


@pytest.mark.parametrize(("part", "target"), [
    ("xl/data/sheet1.xml", "data/sheet1.xml"),  # relative to the workbook's folder
    ("xl/other/s.xml", "/xl/other/s.xml"),  # absolute
    ("xl/data/sheet1.xml", "data\\sheet1.xml"),  # a backslash
    ("xl/data/sheet1.bin", "data/sheet1.bin"),  # not named .xml
])
def test_a_far_cell_in_a_sheet_outside_worksheets_is_refused(tmp_path, part, target):
    path = tmp_path / "forged.xlsx"
    path.write_bytes(_package(part, target))
    # rows 1,048,576 x columns 16,384 (XFD) = 17,179,869,184 cells
    with pytest.raises(UnsafeInputError, match=rf"^forged\.xlsx: the sheet in '{part}' spans 1,048,576 rows x "
                       r"16,384 columns \(17,179,869,184 cells; limit 50,000,000\)"):
        limits.check_workbook_extent(path, "xlsx", count=False)


def test_a_workbook_moved_by_the_root_relationships_is_followed(tmp_path):
    root = _RELS_HEAD + (b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                         b'relationships/officeDocument" Target="book/wb.xml"/></Relationships>')
    path = tmp_path / "moved.xlsx"
    path.write_bytes(_package("book/sheets/one.xml", "sheets/one.xml", workbook="book/wb.xml", root_rels=root))
    assert sheet_parts(zipfile.ZipFile(path)) == {"book/sheets/one.xml"}
    with pytest.raises(UnsafeInputError, match=r"the sheet in 'book/sheets/one\.xml' spans 1,048,576 rows"):
        limits.check_workbook_extent(path, "xlsx", count=False)


def test_the_command_refuses_it_in_one_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "forged.xlsx").write_bytes(_package("xl/data/sheet1.xml", "data/sheet1.xml"))
    result = CliRunner().invoke(cli, ["normalize", "forged.xlsx", "-o", "out.csv"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: forged.xlsx: the sheet in 'xl/data/sheet1.xml' spans 1,048,576 rows")
    assert "Traceback" not in result.output and result.output.count("\n") == 1
    assert not (tmp_path / "out.csv").exists()


def test_a_legal_sheet_outside_worksheets_is_read(tmp_path):
    # rows 1-2, cells A1-C2 (_sheet_xml): read as before, wherever the part lies
    path = tmp_path / "legal.xlsx"
    path.write_bytes(_package("xl/data/sheet1.xml", "data/sheet1.xml", rows=""))
    assert limits.check_workbook_extent(path, "xlsx", count=False) == {}
    from markers.readers.files import read_raw

    [sheet] = read_raw(path)
    assert sheet.cells.shape == (2, 3) and sheet.cells.loc[2, 0] == "P1"
    # its rows are counted apart from the reader too (every row holding a value accounted for): rows 1 and 2
    from markers.readers.xlsx_counts import count_sheets

    assert list(count_sheets(path)) == ["Results"]
    assert count_sheets(path)["Results"].rows.rows().tolist() == [1, 2]


def test_a_workbook_part_too_large_to_read_whole_is_refused(tmp_path):
    # a sheet's entry could hide past the first 16 MiB (16,777,216 bytes): 17,000,000 blanks before it
    workbook = _WORKBOOK.replace(b"<sheets>", b"<sheets>" + b" " * 17_000_000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/worksheets/sheet1.xml", _sheet_xml(""))
    path = tmp_path / "padded.xlsx"
    path.write_bytes(out.getvalue())
    with pytest.raises(UnsafeInputError, match=r"^padded\.xlsx: the part 'xl/workbook\.xml' inflates to more than "
                       r"16,777,216 bytes"):
        limits.check_workbook_extent(path, "xlsx", count=False)
