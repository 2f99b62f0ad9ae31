"""markers.readers.safety: limits, magic bytes and XML prologs, on real files."""

from __future__ import annotations

import importlib.util
import io
import pathlib
import sys
import time
import tracemalloc
import zipfile

import openpyxl
import pandas as pd
import pytest
import xlwt

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers.safety import (
    ArchiveLimits,
    check_input_file,
    check_zip_archive,
    content_kind,
    defusedxml_active,
)

_SPEC = importlib.util.spec_from_file_location(
    "make_corpus", pathlib.Path(__file__).parent / "corpus" / "make_corpus.py"
)
make_corpus = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("make_corpus", make_corpus)
_SPEC.loader.exec_module(make_corpus)


def _xlsx(path: pathlib.Path, rows: int = 3) -> pathlib.Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Patient ID", "VMA"])
    for i in range(rows):
        ws.append([f"P{i}", i + 0.5])
    wb.save(path)
    return path


def _replace_part(path: pathlib.Path, part: str, data: bytes) -> pathlib.Path:
    path.write_bytes(make_corpus._rewrite_zip(path.read_bytes(), {part: data}))
    return path


def test_default_limits():
    limits = ArchiveLimits()
    assert limits.max_total_uncompressed == 2 * 1024**3 == 2_147_483_648
    assert limits.max_entries == 10_000
    assert limits.max_ratio == 200.0


def test_defusedxml_is_active():
    assert defusedxml_active() is True


def test_good_files_pass(tmp_path):
    assert check_input_file(_xlsx(tmp_path / "a.xlsx")) is None
    upper = _xlsx(tmp_path / "B.XLSX")
    assert check_input_file(upper) is None
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("a,b\n1,2\n", encoding="utf-8")
    assert check_input_file(csv_path) is None
    book = xlwt.Workbook()
    book.add_sheet("S").write(0, 0, "x")
    book.save(str(tmp_path / "d.xls"))
    assert check_input_file(tmp_path / "d.xls") is None
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "e.ods", engine="odf", index=False)
    assert check_input_file(tmp_path / "e.ods") is None


def test_content_kind_of_real_files(tmp_path):
    assert content_kind(_xlsx(tmp_path / "a.xlsx")) == "xlsx"
    book = xlwt.Workbook()
    book.add_sheet("S").write(0, 0, "x")
    book.save(str(tmp_path / "b.xls"))
    assert content_kind(tmp_path / "b.xls") == "xls"
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "c.ods", engine="odf", index=False)
    assert content_kind(tmp_path / "c.ods") == "ods"
    (tmp_path / "d.csv").write_bytes("ID;VMA\n".encode("utf-16"))
    assert content_kind(tmp_path / "d.csv") == "text"
    (tmp_path / "e.xls").write_bytes(b"  <HTML><body><table></table></body></html>")
    assert content_kind(tmp_path / "e.xls") == "html"
    (tmp_path / "f.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert content_kind(tmp_path / "f.csv") == "a PNG image"


def test_ole2_directory_names(tmp_path):
    enc = tmp_path / "enc.xlsx"
    enc.write_bytes(make_corpus._ole2(["EncryptionInfo", "EncryptedPackage"]))
    assert content_kind(enc) == "encrypted"
    doc = tmp_path / "doc.xls"
    doc.write_bytes(make_corpus._ole2(["WordDocument"]))
    assert content_kind(doc) == "ole2"
    book = tmp_path / "book.xls"
    book.write_bytes(make_corpus._ole2(["Book"]))  # BIFF5 workbooks name their stream "Book"
    assert content_kind(book) == "xls"


def test_entry_count_limit(tmp_path):
    path = _xlsx(tmp_path / "a.xlsx")
    with zipfile.ZipFile(path) as zf:
        entries = len(zf.infolist())  # an openpyxl workbook has 9 parts
    assert entries == 9
    check_zip_archive(path, limits=ArchiveLimits(max_entries=9))
    with pytest.raises(UnsafeInputError, match=r"^a\.xlsx: the archive holds 9 entries \(limit 8\)"):
        check_input_file(path, limits=ArchiveLimits(max_entries=8))


def test_total_size_limit(tmp_path):
    path = _xlsx(tmp_path / "a.xlsx")
    with zipfile.ZipFile(path) as zf:
        total = sum(info.file_size for info in zf.infolist())
    check_zip_archive(path, limits=ArchiveLimits(max_total_uncompressed=total))
    with pytest.raises(UnsafeInputError, match=rf"would expand to {total:,} bytes \(limit {total - 1:,}\)"):
        check_zip_archive(path, limits=ArchiveLimits(max_total_uncompressed=total - 1))


@pytest.mark.slow
def test_ratio_limit_applies_only_above_one_mib(tmp_path):
    # 15,000 rows make a sheet part of about 1.6 MB at the ~8-10-fold ratio typical of openpyxl sheets
    path = _xlsx(tmp_path / "big.xlsx", rows=15_000)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.getinfo("xl/worksheets/sheet1.xml")
    ratio = sheet.file_size / sheet.compress_size
    assert sheet.file_size > 1024 * 1024
    assert 3 < ratio < 30
    check_input_file(path)  # well under the default 200
    with pytest.raises(UnsafeInputError, match=r"'xl/worksheets/sheet1\.xml' would expand"):
        check_input_file(path, limits=ArchiveLimits(max_ratio=2.0))
    # the small parts (styles: ~2.7 kB at 4-fold) are never judged by ratio, however low the limit
    small = _xlsx(tmp_path / "small.xlsx")
    check_input_file(small, limits=ArchiveLimits(max_ratio=1.0))


def test_tiny_highly_compressible_part_is_fine(tmp_path):
    # 512 KiB of zeros compress ~1000-fold but stay under the 1 MiB ratio threshold
    path = _replace_part(_xlsx(tmp_path / "a.xlsx"), "docProps/app.xml", b"\x00" * (512 * 1024))
    check_zip_archive(path)


def test_bomb_check_does_not_decompress(tmp_path):
    path = tmp_path / "bomb.xlsx"
    make_corpus._declared_bomb(path)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(UnsafeInputError, match="ZIP bomb"):
        check_input_file(path)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 2 * 1024 * 1024  # the archive declares 56 GiB


def test_real_zeros_bomb_refused_fast(tmp_path):
    path = tmp_path / "zeros.xlsx"
    make_corpus._real_bomb(path)
    start = time.perf_counter()
    with pytest.raises(UnsafeInputError, match=r"expand 1,0\d\d-fold \(to 20,971,520 bytes"):
        check_input_file(path)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "prolog",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
        b'<?xml version="1.0"?>\n<!doctype x SYSTEM "http://example.org/x.dtd"><x/>',  # lower case
        b"\xef\xbb\xbf<!DOCTYPE x><x/>",  # after a UTF-8 BOM
        b'<?xml version="1.0"?><?pi data?><!-- c --><!ENTITY a "b"><x/>',
    ],
)
def test_entity_declarations_refused(tmp_path, prolog):
    path = _replace_part(_xlsx(tmp_path / "a.xlsx"), "xl/styles.xml", prolog)
    with pytest.raises(UnsafeInputError, match=r"^a\.xlsx: the part 'xl/styles\.xml' contains XML entity declarations"):
        check_input_file(path)


def test_overlong_prolog_refused(tmp_path):
    # 70 kB of comment and no root element within the 64 KiB window: refused rather than read on
    path = _replace_part(_xlsx(tmp_path / "a.xlsx"), "xl/styles.xml", b"<?xml version='1.0'?><!--" + b"x" * 70_000 + b"--><x/>")
    with pytest.raises(UnsafeInputError, match=r"'xl/styles\.xml' has no XML root element within its first 64 KiB"):
        check_input_file(path)


def test_clean_prologs_and_binary_parts_pass(tmp_path):
    path = _xlsx(tmp_path / "a.xlsx")
    path = _replace_part(path, "docProps/app.xml", b'<?xml version="1.0"?>\n<!-- <!DOCTYPE in a comment is text only -->\n<Properties/>')
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
        zf.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\x01" * 100)
    # the regex scan is conservative: the word DOCTYPE inside a comment is still refused
    with pytest.raises(UnsafeInputError):
        check_input_file(path)
    clean = _replace_part(_xlsx(tmp_path / "b.xlsx"), "docProps/app.xml", b'<?xml version="1.0"?>\n<!-- note -->\n<Properties/>')
    with zipfile.ZipFile(clean, "a") as zf:
        zf.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    check_input_file(clean)


def test_damaged_part_is_input_format_error(tmp_path):
    path = _xlsx(tmp_path / "a.xlsx")
    data = bytearray(path.read_bytes())
    # corrupt the deflate stream of the first entry (its data starts after the 30-byte local header + name)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        first = zf.infolist()[0]
    start = first.header_offset + 30 + len(first.filename.encode())
    data[start : start + first.compress_size] = b"\xff" * first.compress_size
    path.write_bytes(bytes(data))
    with pytest.raises(InputFormatError, match=r"^a\.xlsx: the part .* is damaged"):
        check_input_file(path)


def test_xls_suffix_with_foreign_zip_refused(tmp_path):
    path = tmp_path / "a.xls"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(InputFormatError, match=r"^a\.xls: is a ZIP archive, not an xls workbook"):
        check_input_file(path)
