"""Input-safety checks run on every file before any parser sees it.

Spreadsheet files are archives of XML (xlsx, xlsm, ods) or OLE2 compound
files (xls), and both can be made hostile: a ZIP "bomb" that expands to many
gigabytes, XML with entity declarations (billion laughs, external entities),
or a password-protected workbook that no reader can open. A file can also
simply be something else under a spreadsheet name (a CSV or an HTML page saved
as ``.xls``, a PNG named ``.csv``).

:func:`check_input_file` refuses all of these *before* parsing, reading only
the file's first bytes, the ZIP central directory (no decompression) and the
XML prolog of each archive part (a few bytes, bounded), so it is fast and uses
constant memory whatever the file claims to contain.

:func:`content_kind` names what a file really is from its content;
:mod:`markers.readers.files` uses it to pick the reader.

Decisions
---------
* A workbook whose content is *another* workbook format (an xls saved with an
  ``.xlsx`` name, an xlsx named ``.xls``, an ods named ``.xlsx``) is read
  according to its content, with a warning: the content is unambiguous and
  Excel itself opens such files. :func:`check_input_file` therefore accepts it.
* Any other mismatch (text content under a workbook name, a workbook under a
  text name, an image, a PDF, an HTML page) is an
  :class:`~markers.errors.InputFormatError` that says what the file really is
  and how to fix it.
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
import struct
import zipfile
from dataclasses import dataclass

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers.encoding import utf16_without_bom

logger = logging.getLogger(__name__)

__all__ = [
    "ArchiveLimits",
    "SUPPORTED_SUFFIXES",
    "WORKBOOK_KINDS",
    "check_input_file",
    "check_zip_archive",
    "content_kind",
    "defusedxml_active",
]

# The one place a file suffix is registered: a new reader adds its own tuple here and to SUPPORTED_SUFFIXES.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
SUPPORTED_SUFFIXES = WORKBOOK_SUFFIXES + TEXT_SUFFIXES
#: the content kinds :mod:`markers.readers.files` reads as workbooks
WORKBOOK_KINDS = ("xlsx", "xls", "ods")

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# Bytes a hostile XML prolog may occupy before we give up; a real prolog
# (declaration + root tag) is under 200 bytes.
XML_PROLOG_LIMIT = 64 * 1024
# Only entries larger than this are judged by their compression ratio: tiny
# parts (styles, empty sheets) legitimately compress far beyond any ratio.
RATIO_MIN_SIZE = 1024 * 1024

# Known non-spreadsheet signatures, to tell the user what the file really is.
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)

_DESCRIPTIONS = {
    "xlsx": "an Excel workbook (xlsx)",
    "xls": "an old-format Excel workbook (xls)",
    "ods": "an OpenDocument spreadsheet (ods)",
    "xlsb": "an Excel binary workbook (xlsb)",
    "encrypted": "a password-protected (encrypted) Office file",
    "ole2": "an old-format Office file that is not an Excel workbook",
    "zip": "a ZIP archive that is not a spreadsheet",
    "docx": "a Word document",
    "pptx": "a PowerPoint presentation",
    "odf": "an OpenDocument file that is not a spreadsheet",
    "html": "a web page (HTML)",
    "xml2003": "an XML Spreadsheet 2003 file",
    "xml": "an XML file",
    "text": "a text file",
    "binary": "a binary (non-text) file",
}


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits that a ZIP-based workbook (xlsx, xlsm, ods) must respect.

    Parameters
    ----------
    max_total_uncompressed : int
        Largest sum of the declared uncompressed sizes of all entries, in
        bytes. The default 2 GiB holds a full 1,048,576-row sheet: a
        1,000,000-row x 6-column lab sheet written by openpyxl is 271 MB of
        XML (so about 45 such columns fit).
    max_entries : int
        Most entries (files) in the archive; a workbook has tens.
    max_ratio : float
        Largest uncompressed/compressed size ratio of one entry, judged only
        for entries over 1 MiB. Measured on sheets written by openpyxl
        3.1.5: a 1,000,000-row lab sheet (ID, date, analyte, result, unit,
        an empty comment column) compresses 270,562,241 -> 25,307,701 bytes,
        a ratio of 10.7; a single column of 1,000,000 identical numbers
        54,778,233 -> 5,120,380 bytes, also 10.7 (the cell references differ
        on every row). 200 leaves a margin of almost 20-fold while still
        stopping a deflate bomb (a run of zeros compresses about 1000-fold).
    """

    max_total_uncompressed: int = 2 * 1024**3
    max_entries: int = 10_000
    max_ratio: float = 200.0


def defusedxml_active() -> bool:
    """Tell whether openpyxl parses XML through defusedxml.

    openpyxl switches to defusedxml's hardened parser only when the package
    is importable (and ``OPENPYXL_DEFUSEDXML`` is not ``False``); markers also
    scans every XML part itself, so this is defence in depth.

    Returns
    -------
    bool
        True when openpyxl will use defusedxml.

    Examples
    --------
    >>> defusedxml_active()
    True
    """
    try:
        import defusedxml  # noqa: F401
        from openpyxl.xml import DEFUSEDXML
    except ImportError:
        return False
    return bool(DEFUSEDXML)


def _name(path: pathlib.Path) -> str:
    return path.name or str(path)


def _head(path: pathlib.Path, size: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


def _text_kind(head: bytes) -> str:
    """Tell text, HTML, XML-2003 and binary apart from a file's first bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(head):
        return "text"  # UTF-16 (Excel's "Unicode text" export; some exporters omit the BOM)
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    while stripped.startswith(b"<!--") and b"-->" in stripped:  # comments before the root
        stripped = stripped[stripped.index(b"-->") + 3:].lstrip()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table", b"<head", b"<body", b"<meta")):
        return "html"
    if stripped.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "xml2003"
    if stripped.startswith((b"<?xml", b"<!doctype")) and b"<html" in stripped[:2048]:
        return "html"
    if stripped.startswith(b"<?xml") or re.match(rb"<[a-z][\w:.-]*[\s>/]", stripped):
        return "xml"  # markup, not a table of delimited text
    if b"\x00" in head:
        return "binary"
    return "text"


def content_kind(path: str | os.PathLike) -> str:
    """Name what a file really is, from its content (never its name).

    Parameters
    ----------
    path : str or os.PathLike
        An existing, non-empty regular file.

    Returns
    -------
    str
        ``"xlsx"`` (also xlsm), ``"xls"``, ``"ods"``, ``"xlsb"``,
        ``"encrypted"`` (password-protected Office file), ``"ole2"`` (other
        OLE2 file), ``"docx"``, ``"pptx"``, ``"odf"``, ``"zip"`` (other or
        corrupt ZIP), ``"html"``, ``"xml2003"``, ``"text"``, ``"binary"`` or a
        description of a known binary format such as ``"a PNG image"``.

    Raises
    ------
    OSError
        When the file cannot be opened.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("id,date\\nP1,2024-01-02\\n")
    >>> content_kind(p)
    'text'
    """
    path = pathlib.Path(path)
    head = _head(path)
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _zip_kind(path)
    if head.startswith(OLE2_MAGIC):
        return _ole2_kind(path)
    for magic, what in _BINARY_SIGNATURES:
        if head.startswith(magic):
            return what
    return _text_kind(head)


def _zip_kind(path: pathlib.Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
                mimetype = zf.read("mimetype")
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, ValueError, EOFError):
        return "zip"  # corrupt: check_input_file reports it
    if "xl/workbook.xml" in names or ("[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)):
        if "xl/workbook.bin" in names:
            return "xlsb"
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "odf"
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        return "ods"  # an ods without its mimetype entry: let the reader judge
    return "zip"


# -- OLE2 (compound file) directory, read with bounded seeks --------------------

_OLE_FREE = 0xFFFFFFFF
_OLE_END = 0xFFFFFFFE
_OLE_MAX_DIR_SECTORS = 4096  # 16k-128k directory entries: far more than any workbook


def _ole2_stream_names(path: pathlib.Path) -> set[str]:
    """Return the names in an OLE2 file's directory (empty set if unreadable).

    Only the header, the FAT sectors on the directory's chain and the
    directory sectors are read, each with a bounded seek.
    """
    size = path.stat().st_size
    names: set[str] = set()
    with open(path, "rb") as fh:
        header = fh.read(512)
        if len(header) < 512:
            return names
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            return names
        sector_size = 1 << shift
        per_sector = sector_size // 4
        first_dir = struct.unpack_from("<I", header, 0x30)[0]
        first_difat = struct.unpack_from("<I", header, 0x44)[0]
        difat = list(struct.unpack_from("<109I", header, 0x4C))

        def read_sector(number: int) -> bytes:
            offset = (number + 1) * sector_size
            if number >= 0xFFFFFFFA or offset + sector_size > size + sector_size:
                raise ValueError("sector out of range")
            fh.seek(offset)
            return fh.read(sector_size)

        def fat_sector(index: int) -> int:
            nonlocal first_difat
            # DIFAT entries past the header's 109 live in a chain of DIFAT sectors.
            while index >= len(difat) and first_difat < 0xFFFFFFFA and len(difat) < 1_000_000:
                block = read_sector(first_difat)
                entries = struct.unpack(f"<{per_sector}I", block)
                difat.extend(entries[:-1])
                first_difat = entries[-1]
            return difat[index]

        def next_sector(number: int) -> int:
            fat_number = fat_sector(number // per_sector)
            block = read_sector(fat_number)
            return struct.unpack_from("<I", block, (number % per_sector) * 4)[0]

        sector = first_dir
        seen = 0
        try:
            while sector < 0xFFFFFFFA and seen < _OLE_MAX_DIR_SECTORS:
                block = read_sector(sector)
                for start in range(0, len(block) - 127, 128):
                    entry = block[start : start + 128]
                    length = struct.unpack_from("<H", entry, 64)[0]
                    kind = entry[66]
                    if kind in (1, 2, 5) and 2 <= length <= 64:
                        names.add(entry[: length - 2].decode("utf-16-le", errors="replace"))
                sector = next_sector(sector)
                seen += 1
        except (ValueError, IndexError, struct.error, OSError):
            logger.debug("OLE2 directory of %s unreadable past %d sectors", path, seen)
    return names


def _ole2_kind(path: pathlib.Path) -> str:
    names = {n.lower() for n in _ole2_stream_names(path)}
    if "encryptedpackage" in names or "encryptioninfo" in names:
        return "encrypted"
    if "workbook" in names or "book" in names:
        return "xls"
    if not names:
        return "xls"  # directory unreadable: the xls reader decides
    return "ole2"


# -- the check ---------------------------------------------------------------------


def _supported_list() -> str:
    return ", ".join(SUPPORTED_SUFFIXES)


def check_input_file(path: str | os.PathLike, *, limits: ArchiveLimits | None = None) -> None:
    """Refuse a file that is missing, of the wrong type, corrupt or hostile.

    Runs before any parser: checks that ``path`` is an existing, non-empty
    regular file with a supported extension, that its content matches the
    extension (by magic bytes), and for ZIP-based workbooks that the archive
    is intact, not a ZIP bomb and free of XML entity declarations; an
    encrypted (password-protected) Office file is refused.

    Parameters
    ----------
    path : str or os.PathLike
        The input file.
    limits : ArchiveLimits, optional
        Limits for ZIP-based workbooks; default ``ArchiveLimits()``.

    Returns
    -------
    None

    Raises
    ------
    UnsafeInputError
        A ZIP bomb, XML entity declarations, or a password-protected file.
    InputFormatError
        A missing file, a directory, an unsupported extension, an empty
        file, content that does not match the extension, a corrupt archive.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lab.pdf"
    >>> _ = p.write_bytes(b"%PDF-1.4")
    >>> check_input_file(p)
    Traceback (most recent call last):
    ...
    markers.errors.InputFormatError: lab.pdf: unsupported file type '.pdf'; markers reads .xlsx, .xlsm, .xls, .ods, .csv, .tsv, .txt files: export the data as .xlsx or .csv.
    """
    path = pathlib.Path(path)
    name = _name(path)
    limits = limits or ArchiveLimits()
    if not path.exists():
        raise InputFormatError(f"{name}: file not found (looked for {path}); check the path and the spelling.")
    if path.is_dir():
        raise InputFormatError(f"{name}: is a folder, not a file; give the spreadsheet files inside it.")
    if not path.is_file():
        raise InputFormatError(f"{name}: is not a regular file; give a spreadsheet (.xlsx, .csv ...) file.")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{path.suffix}'" if path.suffix else "(no extension)"
        raise InputFormatError(
            f"{name}: unsupported file type {shown}; markers reads {_supported_list()} files: "
            "export the data as .xlsx or .csv."
        )
    try:
        size = path.stat().st_size
        if size == 0:
            raise InputFormatError(f"{name}: the file is empty (0 bytes); export the data again.")
        kind = content_kind(path)
    except PermissionError as exc:
        raise InputFormatError(f"{name}: cannot be read (permission denied); check the file's permissions.") from exc
    except OSError as exc:
        raise InputFormatError(f"{name}: cannot be read ({exc.strerror or exc}); check the file.") from exc

    if kind == "encrypted":
        raise UnsafeInputError(
            f"{name}: the workbook is password-protected (encrypted): remove the password in Excel and save "
            "again (File > Info > Protect Workbook > Encrypt with Password: clear the password)."
        )
    if suffix in WORKBOOK_SUFFIXES:
        _check_workbook_kind(path, kind)
    else:
        _check_text_kind(path, kind)
    if kind in ("xlsx", "ods", "zip"):
        check_zip_archive(path, limits=limits)


def _check_workbook_kind(path: pathlib.Path, kind: str) -> None:
    name = _name(path)
    expected = path.suffix.lower().lstrip(".")
    if kind in WORKBOOK_KINDS:
        return  # a workbook under another workbook name is read by content (see module notes)
    if kind == "zip":
        if expected == "xls":
            raise InputFormatError(
                f"{name}: is a ZIP archive, not an xls workbook; open it in Excel and save it as .xlsx."
            )
        return  # a damaged or unknown ZIP: check_zip_archive explains
    if kind == "text":
        raise InputFormatError(
            f"{name}: is a text (CSV) file, not an {expected} workbook; rename it to .csv "
            "(or open it in Excel and save it as .xlsx)."
        )
    if kind == "html":
        raise InputFormatError(
            f"{name}: is a web page (HTML) saved with an .{expected} name, not a real workbook; "
            "open it in Excel and save it as .xlsx (Excel Workbook)."
        )
    if kind == "xml2003":
        raise InputFormatError(
            f"{name}: is an XML Spreadsheet 2003 file, which markers does not read; "
            "open it in Excel and save it as .xlsx (Excel Workbook)."
        )
    if kind == "xlsb":
        raise InputFormatError(
            f"{name}: is an Excel binary workbook (xlsb), which markers does not read; "
            "open it in Excel and save it as .xlsx (Excel Workbook)."
        )
    if kind == "ole2":
        raise InputFormatError(
            f"{name}: is an old-format Office file (OLE2) but not an Excel workbook (a Word or PowerPoint "
            "file?); give the lab's spreadsheet export (.xlsx or .csv)."
        )
    what = _DESCRIPTIONS.get(kind, kind)
    raise InputFormatError(
        f"{name}: is {what}, not an {expected} workbook; give the lab's spreadsheet export (.xlsx or .csv)."
    )


def _check_text_kind(path: pathlib.Path, kind: str) -> None:
    name = _name(path)
    suffix = path.suffix.lower()
    if kind == "text":
        return
    if kind in WORKBOOK_KINDS or kind in ("xlsb", "xml2003"):
        what = _DESCRIPTIONS[kind]
        real = {"xlsb": "xlsx", "xml2003": "xlsx"}.get(kind, kind)
        raise InputFormatError(
            f"{name}: is {what}, not a {suffix} text file; rename it to .{real} "
            "(or save it from Excel as CSV)."
        )
    if kind == "binary":
        head = _head(path)
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise InputFormatError(
            f"{name}: contains NUL bytes (first on line {line}): it is a binary file, not {suffix} text; "
            "export the data again as CSV (UTF-8)."
        )
    what = _DESCRIPTIONS.get(kind, kind)
    raise InputFormatError(f"{name}: is {what}, not a {suffix} text file; export the data as CSV (UTF-8).")


def check_zip_archive(path: str | os.PathLike, *, limits: ArchiveLimits | None = None) -> None:
    """Refuse a damaged ZIP, a ZIP bomb or XML parts with entity declarations.

    Reads the central directory (no decompression) for the size, count and
    ratio limits, then the XML prolog of each part (at most 64 KiB each,
    streamed) for ``<!DOCTYPE``/``<!ENTITY``.

    Parameters
    ----------
    path : str or os.PathLike
        A ZIP-based workbook (xlsx, xlsm, ods).
    limits : ArchiveLimits, optional
        Default ``ArchiveLimits()``.

    Returns
    -------
    None

    Raises
    ------
    UnsafeInputError
        ZIP bomb, encrypted entries or XML entity declarations.
    InputFormatError
        A truncated or corrupt archive.

    Examples
    --------
    >>> import tempfile, pathlib, zipfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ok.xlsx"
    >>> with zipfile.ZipFile(p, "w") as zf:
    ...     zf.writestr("xl/workbook.xml", "<?xml version='1.0'?><workbook/>")
    >>> check_zip_archive(p)
    """
    path = pathlib.Path(path)
    name = _name(path)
    limits = limits or ArchiveLimits()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error) as exc:
        raise InputFormatError(
            f"{name}: the file is damaged or incomplete (not a valid ZIP archive: {exc}); "
            "copy it again from its source, or open it in Excel and save it again."
        ) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise UnsafeInputError(
                f"{name}: the archive holds {len(infos):,} entries (limit {limits.max_entries:,}); "
                "a workbook has tens: this looks like a ZIP bomb, markers refuses it. "
                "Re-save the file from Excel or LibreOffice."
            )
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise UnsafeInputError(
                f"{name}: the archive holds two entries named {twice[0]!r}; readers disagree on which one "
                "counts, so markers refuses it: re-save the file from Excel or LibreOffice."
            )
        total = 0
        for info in infos:
            total += info.file_size
            if info.flag_bits & 0x1:
                raise UnsafeInputError(
                    f"{name}: the archive's entries are password-protected (encrypted); "
                    "remove the password and save the workbook again."
                )
            if info.file_size > RATIO_MIN_SIZE:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_ratio:
                    raise UnsafeInputError(
                        f"{name}: the part {info.filename!r} would expand {ratio:,.0f}-fold "
                        f"(to {info.file_size:,} bytes; limit {limits.max_ratio:,.0f}-fold): this looks "
                        "like a ZIP bomb, markers refuses it. Re-save the file from Excel or LibreOffice."
                    )
        if total > limits.max_total_uncompressed:
            raise UnsafeInputError(
                f"{name}: the archive would expand to {total:,} bytes "
                f"(limit {limits.max_total_uncompressed:,}): this looks like a ZIP bomb, markers refuses it. "
                "Re-save the file from Excel or LibreOffice."
            )
        for info in infos:
            if info.is_dir() or info.file_size == 0:
                continue
            _check_xml_part(zf, info, name)


_XML_DECL = re.compile(r"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _decode_prolog(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"<\x00")):
        return data.decode("utf-16-le", errors="replace")
    if data.startswith((b"\xfe\xff", b"\x00<")):
        return data.decode("utf-16-be", errors="replace")
    return data.decode("utf-8", errors="replace")


def _prolog_state(text: str) -> str:
    """Walk an XML prolog: ``"entities"``, ``"clean"`` (root tag reached) or ``"more"``."""
    if _XML_DECL.search(text):
        return "entities"
    pos = 0
    text = text.lstrip("\ufeff")
    while True:
        start = text.find("<", pos)
        if start < 0 or start + 1 >= len(text):
            return "more"
        if text.startswith("<?", start):
            end = text.find("?>", start)
        elif text.startswith("<!--", start):
            end = text.find("-->", start)
        elif text.startswith("<!", start):
            return "entities"  # any other markup declaration in a prolog is a DOCTYPE-like construct
        else:
            return "clean"
        if end < 0:
            return "more"
        pos = end + 2


def _check_xml_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """Read a part's prolog (streamed, at most 64 KiB) and refuse entity declarations."""
    data = b""
    try:
        with zf.open(info) as fh:
            while len(data) < XML_PROLOG_LIMIT:
                chunk = fh.read(min(1024, XML_PROLOG_LIMIT - len(data)))
                if not chunk:
                    break
                data += chunk
                if len(data) == len(chunk):
                    lead = _decode_prolog(data).lstrip("\ufeff \t\r\n")
                    if not lead.startswith("<"):
                        return  # not XML (an image, vbaProject.bin, the ods mimetype)
                state = _prolog_state(_decode_prolog(data))
                if state == "entities":
                    break
                if state == "clean":
                    return
    except Exception as exc:  # noqa: BLE001 - zlib/lzma/bz2/zipfile errors alike mean a damaged part
        raise InputFormatError(
            f"{name}: the part {info.filename!r} is damaged ({type(exc).__name__}: {exc}); "
            "open the file in Excel or LibreOffice and save it again."
        ) from exc
    state = _prolog_state(_decode_prolog(data)) if data else "clean"
    if state == "more" and len(data) < XML_PROLOG_LIMIT:
        return  # a short part without a root element: the parser judges it
    if state == "more":
        raise UnsafeInputError(
            f"{name}: the part {info.filename!r} has no XML root element within its first "
            f"{XML_PROLOG_LIMIT // 1024} KiB (a padded prolog can hide entity declarations); markers "
            "refuses it: re-save the file from Excel or LibreOffice."
        )
    raise UnsafeInputError(
        f"{name}: the part {info.filename!r} contains XML entity declarations (a possible "
        "billion-laughs or external-entity attack); markers refuses it: re-save the file from "
        "Excel or LibreOffice."
    )
