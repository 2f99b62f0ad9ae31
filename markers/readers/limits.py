"""Size limits checked before a reader allocates: sheet extents, shared strings, ods repeats, inflated bytes.

The fast workbook reader (calamine, in Rust) sizes its buffers from what a file
*claims*: the highest row and column of any cell, the ``count`` of the shared
strings, the repeat counts of an ods row. A 2.5 kB file can claim 17 billion
cells, and an allocation that size ends the process (exit 134) where no
exception can catch it. :func:`check_workbook_extent` streams every XML part of
a ZIP-based workbook once, with a running byte budget, and refuses such a file
with an :class:`~markers.errors.UnsafeInputError` before the reader runs.
:func:`check_text_file` does the same for text files: streamed in chunks, it
refuses NUL bytes, over-long lines and over-wide rows before the file is read whole.
"""

from __future__ import annotations

import pathlib
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers.ods_extent import OdsExtent
from markers.readers.read_ahead import read_ahead
from markers.readers.sheet_parts import normal_part, sheet_parts
from markers.readers.xlsx_extent import XLSX_MAX_COLUMN, XLSX_MAX_ROW, column_number
from markers.readers.xlsx_extent import XlsxExtent as _XlsxExtent
from markers.readers.zip_part import PART_ERRORS, open_part

if TYPE_CHECKING:
    from markers.readers.xlsx_halves import Halves

__all__ = ["ReadLimits", "TextStats", "check_text_file", "check_width", "check_workbook_extent", "column_number"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """Limits a workbook or text file must respect before it is read.

    Parameters
    ----------
    max_cells : int
        Largest sheet extent (rows x columns from A1 to the farthest cell holding
        something). The default 50 million holds a full-height 1,048,576-row
        sheet of 47 columns; the fast reader needs about 32 bytes per cell of
        the extent, full or empty.
    max_inflated : int
        Most bytes all XML parts of a workbook may inflate to, counted while
        inflating (a ZIP whose declared sizes lie is stopped here).
    max_repeated_cells : int
        Most cells holding something that an ods file may create by repeat
        counts (``table:number-rows-repeated`` and ``-columns-repeated``):
        LibreOffice repeats identical neighbours, which lab data (an ID and a
        date on every row) seldom has; a 1 kB file repeating one row 200,000
        times is refused. Repeats of empty cells (the padding LibreOffice writes
        to the sheet's edge) cost nothing and are not counted.
    max_line_bytes : int
        Longest line of a text file. A lab export's line is well under 1 kB;
        Excel's longest cell is 32,767 characters.
    max_columns : int
        Most cells on one line of a text file (Excel's 16,384 columns).
    max_xls_cells : int
        Largest xls (BIFF8) sheet extent. The xls reader holds about 100 bytes
        per cell of the extent (a cell at IV65536, 16.8 million cells, cost
        1.7 GB), so the default 4 million (a full-height sheet of 61 columns)
        bounds it near 400 MB.
    """

    max_cells: int = 50_000_000
    max_inflated: int = 2 * 1024**3
    max_repeated_cells: int = 100_000
    max_line_bytes: int = 256 * 1024
    max_columns: int = XLSX_MAX_COLUMN
    max_xls_cells: int = 4_000_000


def _too_big(name: str, what: str, fix: str = "delete the stray cells (Ctrl+End shows the last one) "
             "and save the file again") -> UnsafeInputError:
    return UnsafeInputError(f"{name}: {what}; markers refuses it before reading: {fix}.")


# -- ZIP-based workbooks -------------------------------------------------------------
_SST_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\s(?:uniqueCount|count)=\"(\d+)\"")


def _stream_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: list[int], limit: int,
                 sink, *, ahead=None) -> None:
    """Inflate one part in chunks, feeding ``sink(tail, chunk)`` (``tail``: the part's 256 bytes before
    ``chunk``), within the running budget; with ``ahead``, ``sink(tail, chunk, ahead(chunk))``, ``ahead``
    run in the thread that inflates (see :func:`read_ahead`)."""
    tail = b""
    try:
        with open_part(zf, info) as fh, read_ahead(fh, _CHUNK, each=ahead) as pieces:
            for piece in pieces:
                chunk, found = piece if ahead is not None else (piece, None)
                budget[0] += len(chunk)
                if budget[0] > limit:
                    raise _too_big(name, f"its XML parts inflate to more than {limit:,} bytes (counted while "
                                   "inflating, whatever the archive declares): this looks like a ZIP bomb",
                                   "re-save the file from Excel or LibreOffice")
                if sink is not None:
                    # a tag cut at the chunk edge is seen whole in the next piece (tags here are < 256 bytes)
                    if ahead is None:
                        sink(tail, chunk)
                    else:
                        sink(tail, chunk, found)
                    tail = chunk[-256:] if len(chunk) >= 256 else (tail + chunk)[-256:]
    except PART_ERRORS as exc:
        raise InputFormatError(
            f"{name}: the part {info.filename!r} is damaged ({type(exc).__name__}: {exc}); "
            "open the file in Excel or LibreOffice and save it again."
        ) from exc


def _joined(feed):
    """A sink that gives ``feed`` each chunk with the tail before it, and the tail's length."""
    def sink(tail: bytes, chunk: bytes) -> None:
        feed(tail + chunk, len(tail))

    return sink


def _refuse_extent(name: str, part: str, rows: int, columns: int, limits: ReadLimits, *, xlsx: bool) -> None:
    if xlsx and rows > XLSX_MAX_ROW:
        raise _too_big(name, f"the part {part!r} has a row numbered {rows:,}, past the last row a sheet can "
                       f"have ({XLSX_MAX_ROW:,})", "the file is damaged or forged; save it again from Excel")
    if xlsx and columns > XLSX_MAX_COLUMN:
        raise _too_big(name, f"the part {part!r} has a cell in column {columns:,}, past the last column a "
                       f"sheet can have ({XLSX_MAX_COLUMN:,}, XFD)", "the file is damaged or forged; save it "
                       "again from Excel")
    if rows * columns > limits.max_cells:
        raise _too_big(name, f"the sheet in {part!r} spans {rows:,} rows x {columns:,} columns "
                       f"({rows * columns:,} cells; limit {limits.max_cells:,})")


def _check_shared_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a shared-strings count no part of that size could hold (each ``<si/>`` takes 5 bytes at least)."""
    with zf.open(info) as fh:
        head = fh.read(4096)
    found = _SST_COUNT.search(head)
    if found and int(found.group(1)[:12]) > info.file_size // 5 + 1:
        raise _too_big(name, f"its shared-strings table claims {int(found.group(1)[:12]):,} strings in "
                       f"{info.file_size:,} bytes", "the file is damaged or forged; save it again from Excel")


def check_workbook_extent(path: str | pathlib.Path, kind: str, *, limits: ReadLimits | None = None,
                          count: bool = True, halves: Halves | None = None) -> dict[str, list[tuple[int, int]]]:
    """Refuse an xlsx/xlsm/ods whose sheets claim more than the reader may allocate.

    Every XML part is inflated once, in 1 MiB chunks, against a running byte
    budget; the sheet parts are scanned for their farthest row and column
    (xlsx: row and cell references; ods: rows and cells with their repeat
    counts, counting only cells that hold something), the shared-strings
    table for its declared count.

    Parameters
    ----------
    path : str or pathlib.Path
        A ZIP-based workbook that passed :func:`markers.readers.safety.check_input_file`.
    kind : str
        ``"xlsx"`` (also xlsm) or ``"ods"``.
    limits : ReadLimits, optional
        Default ``ReadLimits()``.
    count : bool
        xlsx: count rows and formulas here too (False: ``xlsx_counts`` does, beside the reader).
    halves : Halves, optional
        xlsx without ``count``: also write each large sheet part into two
        workbooks of half its rows each, for two readers at once
        (:mod:`markers.readers.xlsx_halves`); kept only for parts that pass.

    Returns
    -------
    dict
        Sheet name -> :class:`markers.readers.row_count.SheetScan`: the rows
        holding a value, counted apart from the reader, and the cells (1-based
        row, 0-based column) holding a formula without a cached value.

    Raises
    ------
    UnsafeInputError
        A row or column past the format's last one, an extent over
        ``limits.max_cells``, an impossible shared-strings count, or more
        inflated bytes than ``limits.max_inflated``.
    InputFormatError
        A part that cannot be inflated (damaged).
    """
    path = pathlib.Path(path)
    limits = limits or ReadLimits()
    name = path.name
    from markers.readers import sheet_scan  # it imports this module

    budget = [0]
    scans: dict = {}
    with zipfile.ZipFile(path) as zf:
        sheet_names = sheet_scan.sheet_names_by_part(zf) if kind == "xlsx" and count else {}
        sheets = sheet_parts(zf, name=name) if kind == "xlsx" else set()
        for info in zf.infolist():
            part = info.filename
            is_sheet = normal_part(part) in sheets  # wherever the workbook's relationships put it, any name
            if info.is_dir() or not (part.lower().endswith(".xml") or is_sheet):
                continue
            if kind == "xlsx" and part.lower() == "xl/sharedstrings.xml":
                _check_shared_strings(zf, info, name)
            if is_sheet:
                extent, scan = _XlsxExtent(exact=count), sheet_scan.XlsxPartScan(name, part) if count else None
                def both(chunk: bytes, overlap: int, extent=extent, scan=scan) -> None:
                    extent.feed(chunk, overlap)
                    scan.feed(chunk, overlap)

                writer = halves.writer(zf, info) if halves is not None and not count else None
                sink = _joined(both) if count else extent.feed_next if writer is None else writer.beside(extent.feed_next)
                _stream_part(zf, info, name, budget, limits.max_inflated, sink, ahead=None if count else extent.far_in)
                if count and part.lower() in sheet_names:
                    scans[sheet_names[part.lower()]] = scan.result()
                if not extent.settled(limits.max_cells):  # the bound alone does not pass: measure exactly
                    extent = _XlsxExtent()
                    _stream_part(zf, info, name, [0], limits.max_inflated, _joined(extent.feed))
                if extent.long_reference:
                    raise _too_big(name, f"the part {part!r} has a cell or row reference of 250 characters or more "
                                   "(Excel writes at most 10, XFD1048576)", "the file is damaged or forged; save it "
                                   "again from Excel")
                if extent.cells.unsure:
                    raise _too_big(name, f"the part {part!r} has a tag not closed within 64 KiB", "the file is "
                                   "damaged or forged; save it again from Excel")
                _refuse_extent(name, part, *extent.extent(), limits, xlsx=True)
                if writer is not None:
                    halves.done(writer, cells_without_reference=bool(extent.cells.columns) or extent.cells.unsure)
            elif kind == "ods" and part == "content.xml":
                ods, counted = OdsExtent(), sheet_scan.OdsPartScan(name)

                def both(chunk: bytes, overlap: int, ods=ods, counted=counted) -> None:
                    ods.feed(chunk, overlap)
                    counted.feed(chunk, overlap)

                _stream_part(zf, info, name, budget, limits.max_inflated, _joined(both))
                _refuse_extent(name, part, ods.rows, ods.columns, limits, xlsx=False)
                if ods.repeated > limits.max_repeated_cells:
                    raise _too_big(name, f"its repeat counts create {ods.repeated:,} cells from a few "
                                   f"(limit {limits.max_repeated_cells:,})", "save the sheet again from "
                                   "LibreOffice or Excel as .xlsx")
                scans.update(counted.result())
            else:
                _stream_part(zf, info, name, budget, limits.max_inflated, None)
    return scans


# -- text files ----------------------------------------------------------------------


@dataclass(frozen=True)
class TextStats:
    """What a streamed pass over a text file saw: its size and physical lines.

    ``lines`` counts line breaks as the :mod:`csv` module does (``\\r\\n``,
    ``\\n`` or a lone ``\\r`` each end one line; a last line without a break
    counts). For UTF-16 (``exact`` False) the bytes 0x0A and 0x0D are counted
    wherever they stand, an approximation: the reader counts the decoded text.
    """

    size: int
    lines: int
    exact: bool = True


def check_text_file(path: str | pathlib.Path, *, limits: ReadLimits | None = None,
                    utf16: bool = False) -> TextStats:
    """Stream a text file in 1 MiB chunks: refuse NUL bytes, over-long lines and over-wide rows.

    Runs before the file is read whole, so that a huge binary file or a line of
    a million commas is refused with constant memory. Lines are counted as the
    :mod:`csv` module counts them (a last line without a line break counts), an
    independent count the reader's rows are compared with.

    Parameters
    ----------
    path : str or pathlib.Path
        A csv/tsv/txt file.
    limits : ReadLimits, optional
        Default ``ReadLimits()``.
    utf16 : bool
        The file is UTF-16 (NUL bytes are part of its characters; lines are
        then counted at the byte 0x0A, an approximation).

    Returns
    -------
    TextStats

    Raises
    ------
    InputFormatError
        A NUL byte (a binary file), a line longer than ``limits.max_line_bytes``,
        or more than ``limits.max_columns`` delimiters of every kind on one line.
    """
    path = pathlib.Path(path)
    limits = limits or ReadLimits()
    name = path.name
    size = lines = breaks = 0
    line_start = 0  # offset of the current line's first byte
    last = b""  # the previous chunk's last byte (a \r\n cut at a chunk edge is one break)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            # the positions of \n are needed below anyway: their number is the count of \n; a \r is
            # looked for (one fast scan) before the \r and \r\n are counted, and most exports have none
            newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
            breaks += len(newlines)
            if b"\r" in chunk:
                breaks += chunk.count(b"\r") - chunk.count(b"\r\n")
            if last == b"\r" and chunk.startswith(b"\n"):
                breaks -= 1
            last = chunk[-1:]
            if not utf16 and b"\x00" in chunk:
                line = lines + chunk.count(b"\n", 0, chunk.index(b"\x00")) + 1
                raise InputFormatError(
                    f"{name}: contains NUL bytes (first on line {line}): "
                    "it is a binary file, not text; export the data again as CSV (UTF-8)."
                )
            # Every line break of the chunk at once (a Python loop per line cost seconds per million).
            ends = size + newlines
            if len(ends):
                lengths = np.diff(ends, prepend=line_start - 1) - 1
                too_long = np.flatnonzero(lengths > limits.max_line_bytes)
                if len(too_long):
                    _check_line(name, int(lengths[too_long[0]]), lines + int(too_long[0]) + 1, limits)
                lines += len(ends)
                line_start = int(ends[-1]) + 1
            size += len(chunk)
            _check_line(name, size - line_start, lines + 1, limits)
    lines = breaks + (1 if size and last not in (b"\n", b"\r") else 0)
    return TextStats(size=size, lines=lines, exact=not utf16)


def _check_line(name: str, length: int, line: int, limits: ReadLimits) -> None:
    if length > limits.max_line_bytes:
        raise InputFormatError(
            f"{name}: line {line:,} is longer than {limits.max_line_bytes:,} bytes (a lab export's line is "
            "under 1 kB): not a table markers can read; check the file, or export the data again as CSV."
        )


def check_width(name: str, width: int, limits: ReadLimits | None = None) -> None:
    """Refuse a text table wider than ``limits.max_columns`` cells before it becomes a frame."""
    limits = limits or ReadLimits()
    if width > limits.max_columns:
        raise InputFormatError(
            f"{name}: a line splits into {width:,} cells (limit {limits.max_columns:,}, Excel's column count): "
            "not a table markers can read; check the delimiter, or export the data again as CSV."
        )
