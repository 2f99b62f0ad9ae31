"""xls (BIFF8) sheet extents checked before the reader allocates: DIMENSIONS and every cell's address."""

from __future__ import annotations

import pathlib
import struct

from markers.errors import UnsafeInputError
from markers.readers.limits import ReadLimits
from markers.readers.ole2 import ole2_stream

__all__ = ["XLS_MAX_COLUMN", "XLS_MAX_ROW", "check_xls_extent", "xls_extents"]

#: The last row and column a BIFF8 sheet can have (Excel 97-2003: 65,536 rows, 256 columns, IV).
XLS_MAX_ROW = 65_536
XLS_MAX_COLUMN = 256

_BOF, _EOF, _DIMENSIONS = 0x0809, 0x000A, 0x0200
# Cell records (MS-XLS 2.4): FORMULA, LABELSST, BLANK, NUMBER, LABEL, BOOLERR, RK, RSTRING; each starts
# with its row (u16) and column (u16).
_CELLS = frozenset({0x0006, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00D6})
_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column, ..., last column (last u16)


def xls_extents(path: str | pathlib.Path) -> list[tuple[int, int]]:
    """Rows and columns each substream (globals, then each sheet) spans, from DIMENSIONS and its cells.

    The Workbook stream is read in pieces and walked record by record (a
    4-byte header: type and length, MS-XLS 2.1.4); a record's content is looked
    at only for the cell records and DIMENSIONS, so memory stays at one piece.

    Raises
    ------
    KeyError, ValueError
        No Workbook stream, or a damaged compound file (the xls reader then decides).
    """
    extents: list[tuple[int, int]] = []
    rows = columns = 0
    buffer, pos = b"", 0
    for piece in ole2_stream(pathlib.Path(path), "Workbook"):
        buffer, pos = buffer[pos:] + piece, 0
        end = len(buffer)
        while pos + 4 <= end:
            kind, length = struct.unpack_from("<HH", buffer, pos)
            if pos + 4 + length > end:
                break
            body = pos + 4
            if kind in _CELLS and length >= 4:
                row, column = struct.unpack_from("<HH", buffer, body)
                rows, columns = max(rows, row + 1), max(columns, column + 1)
            elif kind in _MULTI and length >= 6:
                row = struct.unpack_from("<H", buffer, body)[0]
                last = struct.unpack_from("<H", buffer, body + length - 2)[0]
                rows, columns = max(rows, row + 1), max(columns, last + 1)
            elif kind == _DIMENSIONS and length >= 14:  # BIFF8: first row, last row + 1 (u32); columns (u16)
                _, row_end, _, column_end = struct.unpack_from("<IIHH", buffer, body)
                rows, columns = max(rows, row_end), max(columns, column_end)
            elif kind == _DIMENSIONS and length >= 8:  # BIFF5 and older: u16 each
                _, row_end, _, column_end = struct.unpack_from("<HHHH", buffer, body)
                rows, columns = max(rows, row_end), max(columns, column_end)
            elif kind == _EOF:
                extents.append((rows, columns))
                rows = columns = 0
            pos = body + length
    if rows or columns:
        extents.append((rows, columns))
    return extents


def check_xls_extent(path: str | pathlib.Path, *, limits: ReadLimits | None = None) -> None:
    """Refuse an xls whose sheets claim more rows, columns or cells than the reader may allocate.

    Raises
    ------
    UnsafeInputError
        A row or column past BIFF8's last (65,536 x 256, from a forged DIMENSIONS
        record), or an extent over ``limits.max_xls_cells``.
    """
    path = pathlib.Path(path)
    limits = limits or ReadLimits()
    try:
        extents = xls_extents(path)
    except (KeyError, ValueError, OSError, struct.error):
        return  # not a readable BIFF stream: the xls reader says what is wrong
    name = path.name
    for rows, columns in extents:
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
