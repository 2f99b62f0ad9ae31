"""xls (BIFF8) extents from DIMENSIONS and cell addresses, refused before the reader allocates them."""

from __future__ import annotations

import struct

import pytest
import xlwt
from click.testing import CliRunner
from test_hostile_cli import _run

from markers.cli import cli
from markers.errors import UnsafeInputError
from markers.readers.files import read_raw
from markers.readers.ole2 import ole2_stream
from markers.readers.xls_extent import xls_extents

END, FREE, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body  # MS-XLS 2.1.4: type, size, data


def _bof(substream: int) -> bytes:  # BIFF8 BOF: version 0x0600, dt 0x0005 globals / 0x0010 worksheet
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, substream, 0x0DBB, 0x07CC, 0, 0x0206))


def _biff(sheet_records: bytes) -> bytes:
    return _bof(0x0005) + _record(0x000A, b"") + _bof(0x0010) + sheet_records + _record(0x000A, b"")


def _dimensions(rows: int, columns: int) -> bytes:  # first row, last row + 1 (u32), first/last column + 1 (u16)
    return _record(0x0200, struct.pack("<IIHHH", 0, rows, 0, columns, 0))


def _number(row: int, column: int, value: float) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, column, 0x0F, value))


def _ole2_mini(stream: bytes) -> bytes:
    """An OLE2 file (v3, 512-byte sectors) whose Workbook stream, under 4,096 bytes, lives in the mini stream.

    Sector 0: FAT; 1: directory (root, Workbook); 2: mini FAT; 3..: the root's mini-stream container.
    """
    assert len(stream) < 4096
    minis = -(-len(stream) // 64)
    container = stream + b"\x00" * (minis * 64 - len(stream))
    big = -(-len(container) // 512)
    container += b"\x00" * (big * 512 - len(container))
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x003E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, 2, 1, END, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([FREE] * 108))
    fat = [0xFFFFFFFD, END, END] + [4 + i for i in range(big - 1)] + [END]
    fat_sector = struct.pack(f"<{len(fat)}I", *fat) + b"\xff" * (512 - 4 * len(fat))
    minifat = [i + 1 for i in range(minis - 1)] + [END]
    minifat_sector = struct.pack(f"<{len(minifat)}I", *minifat) + b"\xff" * (512 - 4 * len(minifat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, NOSTREAM, NOSTREAM, child)
        struct.pack_into("<II", raw, 116, start, size)
        return bytes(raw)

    directory = entry("Root Entry", 5, 1, 3, len(container)) + entry("Workbook", 2, NOSTREAM, 0, len(stream))
    directory += b"\x00" * (512 - len(directory))
    return bytes(header) + fat_sector + directory + minifat_sector + container


def test_small_stream_is_read_from_the_mini_stream(tmp_path):
    stream = _biff(_dimensions(3, 2) + _number(2, 1, 4.2))
    path = tmp_path / "small.xls"
    path.write_bytes(_ole2_mini(stream))
    assert b"".join(ole2_stream(path, "workbook")) == stream
    assert xls_extents(path) == [(0, 0), (3, 2)]


def test_xls_written_by_a_writer_has_the_extent_of_its_cells(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    sheet.write(0, 0, "Patient ID")
    sheet.write(4, 2, 4.2)  # C5: 5 rows x 3 columns
    book.save(tmp_path / "plain.xls")
    assert xls_extents(tmp_path / "plain.xls")[-1] == (5, 3)
    [raw] = read_raw(tmp_path / "plain.xls")
    assert raw.cells.shape == (5, 3)


def test_forged_dimensions_past_the_last_row_is_refused(tmp_path):
    path = tmp_path / "forged.xls"
    path.write_bytes(_ole2_mini(_biff(_dimensions(0xFFFFFFFF, 256) + _number(1, 0, 1.0))))
    with pytest.raises(UnsafeInputError, match=r"forged\.xls: a sheet claims 4,294,967,295 rows x 256 columns, "
                                               r"past the last row or column an xls sheet can have \(65,536 x 256"):
        read_raw(path)


def test_one_cell_at_IV65536_with_a_lying_dimensions_record_is_refused(tmp_path):
    # DIMENSIONS says A1:B2, the NUMBER record sits at row 65,535 column 255 (0-based): IV65536
    path = tmp_path / "iv65536.xls"
    path.write_bytes(_ole2_mini(_biff(_dimensions(2, 2) + _number(65535, 255, 1.0))))
    with pytest.raises(UnsafeInputError, match=r"65,536 rows x 256 columns \(16,777,216 cells; limit 4,000,000"):
        read_raw(path)


@pytest.fixture
def iv65536(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    sheet.write(0, 0, "Patient ID")
    sheet.write(65535, 255, 1)
    path = tmp_path / "iv65536.xls"
    book.save(path)
    return path


def test_cli_gives_one_error_line(iv65536, tmp_path):
    result = CliRunner().invoke(cli, ["normalize", str(iv65536), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: iv65536.xls: a sheet spans 65,536 rows x 256 columns")


@pytest.mark.slow
def test_refused_within_memory_bound(iv65536, tmp_path):
    """Read as it stood, this 6 kB file cost the reader 1.67 GB; refused, it costs under 300 MB above a bare start."""
    baseline = _run(["--help"])
    measured = _run(["normalize", str(iv65536), "-o", str(tmp_path / "out.csv")])
    assert measured["exit"] == 1, measured
    assert measured["peak_kib"] - baseline["peak_kib"] < 300 * 1024, measured
    assert not (tmp_path / "out.csv").exists()
