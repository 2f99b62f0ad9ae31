"""xls (BIFF8) sheet extents checked before the reader allocates: DIMENSIONS and every cell's address."""

from __future__ import annotations

import pathlib
import struct

from markers.errors import UnsafeInputError
from markers.readers.limits import ReadLimits
from markers.readers.ole2 import ole2_stream
from markers.readers.row_count import RowCount, SheetScan

__all__ = ["XLS_MAX_COLUMN", "XLS_MAX_ROW", "check_xls_extent", "xls_extents", "xls_scan"]

#: The last row and column a BIFF8 sheet can have (Excel 97-2003: 65,536 rows, 256 columns, IV).
XLS_MAX_ROW = 65_536
XLS_MAX_COLUMN = 256

_BOF, _EOF, _DIMENSIONS, _BOUNDSHEET, _STRING = 0x0809, 0x000A, 0x0200, 0x0085, 0x0207
_FORMULA, _LABELSST, _NUMBER, _LABEL, _BOOLERR, _RK, _RSTRING, _MULRK = (0x0006, 0x00FD, 0x0203, 0x0204, 0x0205,
                                                                         0x027E, 0x00D6, 0x00BD)
# Cell records (MS-XLS 2.4): FORMULA, LABELSST, BLANK, NUMBER, LABEL, BOOLERR, RK, RSTRING; each starts
# with its row (u16) and column (u16).
_CELLS = frozenset({0x0006, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6})
_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column, ..., last column (last u16)


class _Substream:
    """What the walk saw in one substream (the globals, then each sheet)."""

    def __init__(self, offset: int) -> None:
        self.offset = offset  # of its BOF record in the Workbook stream
        self.rows = self.columns = 0
        self.counted = RowCount()  # rows with a cell holding a value (see markers.readers.row_count)
        self.formulas: list[tuple[int, int]] = []  # (1-based row, 0-based column): a formula without a value
        self.pending: tuple[int, int] | None = None  # a FORMULA whose string result is in the next record


def _cell_value(kind: int, body: bytes, pos: int, length: int) -> bool:
    """Whether a cell record (not FORMULA) holds a value: not a blank, not an error, not empty text."""
    if kind == _BOOLERR:
        return length >= 8 and body[pos + 7] == 0  # fError 0: a Boolean; 1: an error value (#N/A)
    if kind in (_LABEL, _RSTRING):
        return length >= 8 and struct.unpack_from("<H", body, pos + 6)[0] > 0
    return kind in (_NUMBER, _RK, _LABELSST, _MULRK)


def _formula(stream: _Substream, body: bytes, pos: int, row: int, column: int) -> None:
    """A FORMULA record's cached result (MS-XLS 2.5.133 FormulaValue): a value, or none saved."""
    if struct.unpack_from("<H", body, pos + 12)[0] != 0xFFFF:
        stream.counted.add(row + 1)  # a number
    elif body[pos + 6] == 0:
        stream.pending = (row, column)  # a string: its text is the STRING record that follows
    elif body[pos + 6] == 1:
        stream.counted.add(row + 1)  # a Boolean
    elif body[pos + 6] == 3:  # an empty result: not calculated (or a formula giving ""); read as empty text
        stream.counted.add(row + 1)
        stream.formulas.append((row + 1, column))


def _record(stream: _Substream, kind: int, body: bytes, pos: int, length: int) -> None:
    """Take one record of a substream: extents, rows with values, formulas without one."""
    if stream.pending is not None:
        row, column = stream.pending
        stream.pending = None
        if kind == _STRING and length >= 2 and struct.unpack_from("<H", body, pos)[0] > 0:
            stream.counted.add(row + 1)
        elif kind != _STRING:
            stream.formulas.append((row + 1, column))  # the string result is missing
    if kind in _CELLS and length >= 4:
        row, column = struct.unpack_from("<HH", body, pos)
        stream.rows, stream.columns = max(stream.rows, row + 1), max(stream.columns, column + 1)
        if kind == _FORMULA and length >= 20:
            _formula(stream, body, pos, row, column)
        elif _cell_value(kind, body, pos, length):
            stream.counted.add(row + 1)
    elif kind in _MULTI and length >= 6:
        row = struct.unpack_from("<H", body, pos)[0]
        last = struct.unpack_from("<H", body, pos + length - 2)[0]
        stream.rows, stream.columns = max(stream.rows, row + 1), max(stream.columns, last + 1)
        if kind == _MULRK:
            stream.counted.add(row + 1)
    elif kind == _DIMENSIONS and length >= 14:  # BIFF8: first row, last row + 1 (u32); columns (u16)
        _, row_end, _, column_end = struct.unpack_from("<IIHH", body, pos)
        stream.rows, stream.columns = max(stream.rows, row_end), max(stream.columns, column_end)
    elif kind == _DIMENSIONS and length >= 8:  # BIFF5 and older: u16 each
        _, row_end, _, column_end = struct.unpack_from("<HHHH", body, pos)
        stream.rows, stream.columns = max(stream.rows, row_end), max(stream.columns, column_end)


def _sheet_name(body: bytes, pos: int, length: int) -> tuple[int, int, str] | None:
    """A BOUNDSHEET8 record (MS-XLS 2.4.28): its substream's offset, its type (0: worksheet) and its name."""
    if length < 8:
        return None
    offset, _, kind, count, high = struct.unpack_from("<IBBBB", body, pos)
    raw = body[pos + 8:pos + min(length, 8 + count * (2 if high & 1 else 1))]
    return offset, kind, raw.decode("utf-16-le" if high & 1 else "latin-1", "replace")


def xls_scan(path: str | pathlib.Path) -> tuple[list[_Substream], list[tuple[int, int, str]]]:
    """Walk the Workbook stream once: each substream's extent, rows with values and formulas, and the sheet names.

    The stream is read in pieces and walked record by record (a 4-byte header:
    type and length, MS-XLS 2.1.4); a record's content is looked at only for
    the cell records, STRING, DIMENSIONS and BOUNDSHEET, so memory stays at one piece.

    Raises
    ------
    KeyError, ValueError
        No Workbook stream, or a damaged compound file (the xls reader then decides).
    """
    streams: list[_Substream] = []
    sheets: list[tuple[int, int, str]] = []
    current = _Substream(0)
    buffer, pos, consumed = b"", 0, 0
    for piece in ole2_stream(pathlib.Path(path), "Workbook"):
        consumed += pos
        buffer, pos = buffer[pos:] + piece, 0
        end = len(buffer)
        while pos + 4 <= end:
            kind, length = struct.unpack_from("<HH", buffer, pos)
            if pos + 4 + length > end:
                break
            if kind == _BOF:
                current.offset = consumed + pos
            elif kind == _BOUNDSHEET:
                found = _sheet_name(buffer, pos + 4, length)
                if found:
                    sheets.append(found)
            _record(current, kind, buffer, pos + 4, length)
            if kind == _EOF:
                streams.append(current)
                current = _Substream(consumed + pos + 4)
            pos += 4 + length
    if current.rows or current.columns:
        streams.append(current)
    return streams, sheets


def xls_extents(path: str | pathlib.Path) -> list[tuple[int, int]]:
    """Rows and columns each substream (globals, then each sheet) spans, from DIMENSIONS and its cells."""
    return [(s.rows, s.columns) for s in xls_scan(path)[0]]


def check_xls_extent(path: str | pathlib.Path, *, limits: ReadLimits | None = None) -> dict[str, SheetScan]:
    """Refuse an xls whose sheets claim more rows, columns or cells than the reader may allocate.

    Returns
    -------
    dict
        Worksheet name -> its rows with values and its formulas without a value
        (a FORMULA record whose cached result is empty, or a string result
        without its STRING record); empty when the stream cannot be walked.

    Raises
    ------
    UnsafeInputError
        A row or column past BIFF8's last (65,536 x 256, from a forged DIMENSIONS
        record), or an extent over ``limits.max_xls_cells``.
    """
    path = pathlib.Path(path)
    limits = limits or ReadLimits()
    try:
        streams, sheets = xls_scan(path)
    except (KeyError, ValueError, OSError, struct.error):
        return {}  # not a readable BIFF stream: the xls reader says what is wrong
    name = path.name
    for rows, columns in ((s.rows, s.columns) for s in streams):
        if rows > XLS_MAX_ROW or columns > XLS_MAX_COLUMN:
            raise UnsafeInputError(
                f"{name}: a sheet claims {rows:,} rows x {columns:,} columns, past the last row or column an xls "
                f"sheet can have ({XLS_MAX_ROW:,} x {XLS_MAX_COLUMN}, IV); markers refuses it before reading: "
                "the file is damaged or forged; open it in Excel and save it again as .xlsx."
            )
        if rows * columns > limits.max_xls_cells:
            raise UnsafeInputError(
                f"{name}: a sheet spans {rows:,} rows x {columns:,} columns ({rows * columns:,} cells; limit "
                f"{limits.max_xls_cells:,} for xls); markers refuses it before reading: delete the stray cells "
                "(Ctrl+End shows the last one) and save the file again, best as .xlsx."
            )
    by_offset = {s.offset: s for s in streams}
    return {sheet: SheetScan(by_offset[offset].counted, by_offset[offset].formulas)
            for offset, kind, sheet in sheets if kind == 0 and offset in by_offset}
