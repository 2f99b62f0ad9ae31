"""Input-safety checks run on every file before any parser sees it.

The ZIP checks live in :mod:`markers.readers.archive`, the OLE2 directory reader in
:mod:`markers.readers.ole2`; this module names what a file is and refuses what it must.

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
import zipfile

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers.archive import ArchiveLimits, check_zip_archive
from markers.readers.encoding import utf16_without_bom
from markers.readers.ole2 import ole2_kind

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
#: Typed tables (read by markers.readers.arrow_tables) and the first bytes each must start with.
ARROW_MAGIC = {".parquet": b"PAR1", ".feather": b"ARROW1"}
ARROW_SUFFIXES = tuple(ARROW_MAGIC)
SUPPORTED_SUFFIXES = WORKBOOK_SUFFIXES + TEXT_SUFFIXES + ARROW_SUFFIXES
#: the content kinds :mod:`markers.readers.files` reads as workbooks
WORKBOOK_KINDS = ("xlsx", "xls", "ods")

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

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
        return ole2_kind(path)
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
    elif suffix in ARROW_MAGIC:
        if not _head(path).startswith(ARROW_MAGIC[suffix]):
            raise InputFormatError(f"{name}: is not a {suffix[1:]} file (it does not start with "
                                   f"{ARROW_MAGIC[suffix].decode()}); export the data again or as CSV.")
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
