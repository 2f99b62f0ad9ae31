"""ZIP-based workbooks (xlsx, xlsm, ods): ZIP bombs by declared size, duplicate entries, XML entity declarations.

:func:`check_zip_archive` reads the central directory (no decompression) and
the XML prolog of each part (at most 64 KiB each, streamed).
"""

from __future__ import annotations

import os
import pathlib
import re
import struct
import zipfile
from dataclasses import dataclass

from markers.errors import InputFormatError, UnsafeInputError

__all__ = ["RATIO_MIN_SIZE", "XML_PROLOG_LIMIT", "ArchiveLimits", "check_zip_archive"]

# Bytes a hostile XML prolog may occupy before we give up; a real prolog
# (declaration + root tag) is under 200 bytes.
XML_PROLOG_LIMIT = 64 * 1024
# Only entries larger than this are judged by their compression ratio: tiny
# parts (styles, empty sheets) legitimately compress far beyond any ratio.
RATIO_MIN_SIZE = 1024 * 1024


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
    name = path.name or str(path)
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
