"""Build a corpus of bad and hostile input files for markers' readers.

Usage::

    python tests/corpus/make_corpus.py OUTPUT_DIR

Every case is made by a script (no binary files are committed) and small: the
ZIP bombs *declare* gigabytes in their central directory, or hold a 20 MB run
of zeros compressed to about 20 kB. :data:`CASES` lists each file with the
error markers must raise and a fragment of the message; ``tests/test_corpus.py``
builds them in a temporary folder and checks each.
"""

from __future__ import annotations

import io
import os
import pathlib
import random
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl


@dataclass(frozen=True)
class Case:
    """One bad input: how to build it and what markers must say."""

    filename: str
    build: Callable[[pathlib.Path], None]
    error: str  # "UnsafeInputError" or "InputFormatError"
    message: str  # a regular expression the error message must match
    why: str


# -- building blocks ---------------------------------------------------------------


def _xlsx_bytes() -> bytes:
    """A small genuine workbook written by openpyxl."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Results"
    ws.append(["Patient ID", "Sample date", "VMA"])
    ws.append(["P1", "2024-01-02", 4.2])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rewrite_zip(source: bytes, replace: dict[str, bytes], *, drop: tuple[str, ...] = ()) -> bytes:
    """Copy a ZIP, replacing or dropping some entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, zin.read(info.filename))
            zout.writestr(info.filename, data)
    return out.getvalue()


def _patch_central_directory(data: bytes, *, file_size: int | None = None,
                             compress_size: int | None = None, flag_bits: int | None = None) -> bytes:
    """Overwrite fields of every central-directory record (PK\\x01\\x02).

    zipfile, calamine and markers' safety check trust these declared sizes
    until an entry is decompressed, which is how a bomb announces itself.
    """
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos >= 0:
        if flag_bits is not None:
            struct.pack_into("<H", buf, pos + 8, flag_bits)
        if compress_size is not None:
            struct.pack_into("<I", buf, pos + 20, compress_size)
        if file_size is not None:
            struct.pack_into("<I", buf, pos + 24, file_size)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def _ole2(stream_names: list[str]) -> bytes:
    """A minimal valid OLE2 compound file (v3, 512-byte sectors) with empty streams.

    Sector 0 is the FAT, sector 1 the directory: a root entry and the given
    streams (chained as right siblings). An encrypted Office file is such a
    container with ``EncryptionInfo`` and ``EncryptedPackage`` streams.
    """
    end, free, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x003E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<I", header, 0x4C, 0)  # DIFAT[0]: the FAT is sector 0
    for i in range(1, 109):
        struct.pack_into("<I", header, 0x4C + 4 * i, free)
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<II", fat, 0, 0xFFFFFFFD, end)  # sector 0 = FAT, sector 1 = directory (end of chain)

    def entry(name: str, kind: int, child: int, right: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le")
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 68, nostream, right, child)
        struct.pack_into("<IQ", raw, 116, end, 0)
        return bytes(raw)

    entries = [entry("Root Entry", 5, 1 if stream_names else nostream, nostream)]
    for i, name in enumerate(stream_names, start=1):
        entries.append(entry(name, 2, nostream, i + 1 if i < len(stream_names) else nostream))
    directory = b"".join(entries)
    sectors = -(-len(directory) // 512)
    if sectors != 1:
        raise ValueError("too many streams for one directory sector")
    directory += b"\x00" * (512 - len(directory))
    return bytes(header) + bytes(fat) + directory


_BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>
"""

_EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="&xxe;" sheetId="1" r:id="rId1"/></sheets></workbook>
"""

_NO_SHEETS_WORKBOOK = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"
 xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets/></workbook>
"""

_CSV = b"Patient ID,Sample date,VMA\r\nP1,2024-01-02,4.2\r\nP2,2024-01-03,<0.5\r\n"


def _write(data: bytes) -> Callable[[pathlib.Path], None]:
    def build(path: pathlib.Path) -> None:
        path.write_bytes(data)

    return build


def _declared_bomb(path: pathlib.Path) -> None:
    # 14 small entries that each declare 4 GiB - 2: 56 GiB in all, ~10 kB on disk.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        for i in range(13):
            zf.writestr(f"xl/worksheets/sheet{i + 1}.xml", b"<worksheet/>" * 300)
    path.write_bytes(_patch_central_directory(out.getvalue(), file_size=0xFFFFFFFE))


def _declared_total(path: pathlib.Path) -> None:
    # One entry declaring 4 GiB at a plausible 100-fold ratio: refused by the total.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
    path.write_bytes(
        _patch_central_directory(out.getvalue(), file_size=0xFFFFFFFE, compress_size=0xFFFFFFFE // 100)
    )


def _real_bomb(path: pathlib.Path) -> None:
    # 20 MiB of zeros, streamed in 1 MiB chunks: compresses about 1000-fold.
    chunk = b"\x00" * (1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            for _ in range(20):
                fh.write(chunk)


def _many_entries(path: pathlib.Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        for i in range(10_001):
            zf.writestr(f"xl/media/e{i}.bin", b"")


def _sheet_replaced(part: str, data: bytes) -> Callable[[pathlib.Path], None]:
    def build(path: pathlib.Path) -> None:
        path.write_bytes(_rewrite_zip(_xlsx_bytes(), {part: data}))

    return build


def _ods_billion_laughs(path: pathlib.Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest/>')
        zf.writestr("content.xml", _BILLION_LAUGHS)


def _docx(path: pathlib.Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        zf.writestr("word/document.xml", b'<?xml version="1.0"?><document/>')


def _xlsb(path: pathlib.Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")


def _encrypted_entries(path: pathlib.Path) -> None:
    path.write_bytes(_patch_central_directory(_xlsx_bytes(), flag_bits=0x1))


def _junk(path: pathlib.Path) -> None:
    rng = random.Random(20261125)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(3000)))


def _nul_late(path: pathlib.Path) -> None:
    # The first NUL byte comes after the 4 KiB the magic-byte check reads.
    body = b"Patient ID,VMA\r\n" + b"P1,4.2\r\n" * 1000
    path.write_bytes(body + b"P2,\x00\x00\r\n")


def _control_junk(path: pathlib.Path) -> None:
    # No NUL, but full of control characters: binary data in a text name.
    rng = random.Random(7)
    path.write_bytes(bytes(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 65, 66, 44]) for _ in range(3000)))


def _folder(path: pathlib.Path) -> None:
    path.mkdir()


def _nothing(path: pathlib.Path) -> None:
    """The missing-file case: build nothing."""


_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
_HTML = (b"<html><head><meta charset='utf-8'></head><body><table><tr><td>Patient ID</td>"
         b"<td>VMA</td></tr><tr><td>P1</td><td>4.2</td></tr></table></body></html>")
_XML2003 = (b'<?xml version="1.0"?>\r\n<?mso-application progid="Excel.Sheet"?>\r\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>')


CASES: list[Case] = [
    Case("bomb_declared_56GiB.xlsx", _declared_bomb, "UnsafeInputError", r"ZIP bomb",
         "14 entries declare 4 GiB each in the central directory; nothing is decompressed"),
    Case("bomb_declared_total.xlsx", _declared_total, "UnsafeInputError", r"expand to 4,294,967,294 bytes",
         "one entry declares 4 GiB at a 100-fold ratio: over the total limit"),
    Case("bomb_zeros.xlsx", _real_bomb, "UnsafeInputError", r"expand 1,0\d\d-fold",
         "a real 20 MiB run of zeros compressed ~1000-fold"),
    Case("bomb_entries.xlsx", _many_entries, "UnsafeInputError", r"10,002 entries",
         "more than 10,000 entries"),
    Case("billion_laughs.xlsx", _sheet_replaced("xl/worksheets/sheet1.xml", _BILLION_LAUGHS),
         "UnsafeInputError", r"XML entity declarations", "nested entities in a sheet"),
    Case("external_entity.xlsx", _sheet_replaced("xl/workbook.xml", _EXTERNAL_ENTITY),
         "UnsafeInputError", r"external-entity attack", "a SYSTEM entity reading a local file"),
    Case("entity_after_comment.xlsx",
         _sheet_replaced("xl/workbook.xml", b'<?xml version="1.0"?>\n<!--' + b"x" * 20000 + b"-->" + _EXTERNAL_ENTITY[39:]),
         "UnsafeInputError", r"XML entity declarations", "a DOCTYPE hidden behind a 20 kB comment"),
    Case("entity_utf16.xlsx",
         _sheet_replaced("xl/workbook.xml", b"\xff\xfe" + _EXTERNAL_ENTITY.decode().replace("UTF-8", "UTF-16").encode("utf-16-le")),
         "UnsafeInputError", r"XML entity declarations", "the DOCTYPE in a UTF-16 encoded part"),
    Case("billion_laughs.ods", _ods_billion_laughs, "UnsafeInputError", r"XML entity declarations",
         "nested entities in an ods content.xml"),
    Case("encrypted.xlsx", _write(_ole2(["EncryptionInfo", "EncryptedPackage"])), "UnsafeInputError",
         r"password-protected.*remove the password in Excel and save again",
         "an encrypted Office file is an OLE2 container, whatever its name"),
    Case("encrypted.xls", _write(_ole2(["\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"])),
         "UnsafeInputError", r"password-protected", "an encrypted xlsx saved with an .xls name"),
    Case("encrypted_entries.xlsx", _encrypted_entries, "UnsafeInputError", r"password-protected",
         "ZIP entries with the encryption flag"),
    Case("word_document.xls", _write(_ole2(["WordDocument", "1Table"])), "InputFormatError",
         r"old-format Office file \(OLE2\) but not an Excel workbook", "a .doc named .xls"),
    Case("csv_named.xlsx", _write(_CSV), "InputFormatError", r"is a text \(CSV\) file.*rename it to \.csv",
         "a CSV with an .xlsx name"),
    Case("csv_named.xls", _write(_CSV), "InputFormatError", r"is a text \(CSV\) file", "a CSV with an .xls name"),
    Case("html_table.xls", _write(_HTML), "InputFormatError", r"web page \(HTML\).*save it as \.xlsx",
         "the 'xls' export of many lab systems is an HTML table"),
    Case("spreadsheetml2003.xls", _write(_XML2003), "InputFormatError", r"XML Spreadsheet 2003",
         "Excel's 2003 XML format"),
    Case("binary_workbook.xlsx", _xlsb, "InputFormatError", r"xlsb", "an xlsb named .xlsx"),
    Case("word_document.xlsx", _docx, "InputFormatError", r"Word document", "a docx named .xlsx"),
    Case("image.csv", _write(_PNG), "InputFormatError", r"PNG image", "a PNG named .csv"),
    Case("workbook_named.csv", _write(_xlsx_bytes()), "InputFormatError",
         r"Excel workbook \(xlsx\), not a \.csv text file; rename it to \.xlsx", "an xlsx named .csv"),
    Case("truncated.xlsx", lambda p: p.write_bytes(_xlsx_bytes()[:3000]), "InputFormatError",
         r"damaged or incomplete", "the first 3000 bytes of a workbook"),
    Case("corrupt_sheet.xlsx", _sheet_replaced("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row"),
         "InputFormatError", r"damaged|cannot be read", "a sheet part cut off mid-tag"),
    Case("no_sheets.xlsx", _sheet_replaced("xl/workbook.xml", _NO_SHEETS_WORKBOOK), "InputFormatError",
         r"no worksheets", "a workbook whose sheet list is empty"),
    Case("empty.xlsx", _write(b""), "InputFormatError", r"empty \(0 bytes\)", "zero bytes"),
    Case("empty.csv", _write(b""), "InputFormatError", r"empty \(0 bytes\)", "zero bytes"),
    Case("nul_bytes.csv", _write(b"Patient ID,VMA\r\nP1,4\x002\r\n"), "InputFormatError", r"NUL bytes \(first on line 2\)",
         "a NUL byte in a CSV"),
    Case("nul_late.csv", _nul_late, "InputFormatError", r"NUL bytes \(first on line 1002\)",
         "a NUL byte after the first 4 KiB"),
    Case("junk.csv", _junk, "InputFormatError", r"binary file", "3000 random bytes"),
    Case("control_junk.txt", _control_junk, "InputFormatError", r"control characters",
         "binary junk without NUL bytes"),
    Case("undecodable.csv", _write(b"Patient ID;Comment\r\nP1;\x81\x8d\x8f\xe4\r\n"), "InputFormatError",
         r"neither UTF-8 nor Windows-1252", "bytes that no supported encoding accepts"),
    Case("folder.xlsx", _folder, "InputFormatError", r"is a folder", "a directory"),
    Case("missing.xlsx", _nothing, "InputFormatError", r"file not found", "no such file"),
    Case("report.pdf", _write(b"%PDF-1.4\n"), "InputFormatError", r"unsupported file type '\.pdf'.*\.xlsx, \.xlsm",
         "an unsupported extension"),
    Case("labdata", _write(_CSV), "InputFormatError", r"unsupported file type \(no extension\)",
         "no extension at all"),
]


try:  # run as a script or imported as corpus.make_corpus
    from corpus import hostile_cases
except ImportError:  # pragma: no cover - python tests/corpus/make_corpus.py
    import hostile_cases

CASES += hostile_cases.cases(Case)


def build_corpus(directory: str | os.PathLike) -> list[pathlib.Path]:
    """Build every case of :data:`CASES` in ``directory``; return their paths."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in CASES:
        path = directory / case.filename
        case.build(path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/corpus/make_corpus.py OUTPUT_DIR")
    for built in build_corpus(sys.argv[1]):
        print(built)
