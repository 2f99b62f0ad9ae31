"""The cell model of every reader: RawSheet, Arrow-backed text cells, A1 references, cell text."""

from __future__ import annotations

import datetime as _dt
import pathlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["CELL_DTYPE", "RawSheet", "cell_ref", "cells_frame", "column_letter", "excel_text", "frame_from_rows",
           "text_offsets"]

#: The dtype of every column of :attr:`RawSheet.cells`: Arrow-backed text, NaN for an empty cell.
CELL_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


@dataclass(frozen=True)
class RawSheet:
    """The cells of one sheet (or one text file), as written.

    Attributes
    ----------
    file : str
        The file's base name, e.g. ``"lab.xlsx"``.
    path : pathlib.Path
        The file's path.
    sheet : str
        The sheet name; ``""`` for csv/tsv/txt files.
    cells : pandas.DataFrame
        Every column of dtype :data:`CELL_DTYPE` (Arrow-backed text; NaN for
        an empty cell). The index holds the 1-based sheet row numbers (Excel
        row numbers; text files: line numbers), starting at 1 so leading
        blank rows are present (as all-NaN rows). The columns are the 0-based
        column positions (0 = A), starting at 0. Every cell is text, whatever
        the reader: workbook numbers, dates and booleans are written as
        :func:`excel_text` writes them (``45``, ``0.3``,
        ``2024-03-05 00:00:00``, ``true``), so that the fast reader and the
        fallback give the same cells, and a column of a million cells never
        becomes a million Python objects.
    decimal_comma : bool or None
        Text files: True when numbers are written with a decimal comma
        (sniffed); workbooks: None.
    fmt : str
        What was read: ``"xlsx"``, ``"xlsm"``, ``"xls"``, ``"ods"``,
        ``"csv"``, ``"tsv"`` or ``"txt"``.
    """

    file: str
    path: pathlib.Path
    sheet: str
    cells: pd.DataFrame
    decimal_comma: bool | None
    fmt: str
    #: Workbooks: cells (1-based row, 0-based column) holding a formula saved without its value (read as empty).
    formulas_without_value: tuple[tuple[int, int], ...] = ()


def column_letter(index: int) -> str:
    """Return the spreadsheet column letters of a 0-based column position.

    Parameters
    ----------
    index : int
        0-based column position (0 = A).

    Returns
    -------
    str
        ``"A"``, ..., ``"Z"``, ``"AA"``, ...

    Raises
    ------
    ValueError
        If ``index`` is negative.

    Examples
    --------
    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16383)
    ('A', 'Z', 'AA', 'XFD')
    """
    if index < 0:
        raise ValueError(f"column index must be >= 0, got {index}")
    letters = ""
    number = index + 1
    while number:
        number, rem = divmod(number - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """Return the A1-style reference of a cell.

    Parameters
    ----------
    row : int
        1-based row number.
    col : int
        0-based column position.

    Returns
    -------
    str
        For example ``"D14"``.

    Raises
    ------
    ValueError
        If ``row`` < 1 or ``col`` < 0.

    Examples
    --------
    >>> cell_ref(14, 3)
    'D14'
    """
    if row < 1:
        raise ValueError(f"row number must be >= 1, got {row}")
    return f"{column_letter(col)}{row}"


def excel_text(value: object) -> str | None:
    """One cell value as text, the way the workbook reader writes it; None for an empty cell.

    Every reader hands over text, so that a number, a date or a flag reads the
    same whichever reader (or file format) it came from:

    * numbers: nine decimals at most, trailing zeros dropped (``45.0`` ->
      ``"45"``, ``1/3`` -> ``"0.333333333"``), as Excel shows them in a wide
      cell; lab results never carry more;
    * date and time cells: ``"2024-03-05 00:00:00"``, with fractions of a
      second when there are any (``"2024-03-05 10:30:15.500"``); a time or a
      duration counts from day 0 of the 1900 system (``"1899-12-31 14:05:00"``);
    * booleans: ``"true"`` / ``"false"``; text: as written; ``""``: empty.

    Examples
    --------
    >>> [excel_text(v) for v in (45.0, 0.1 + 0.2, -0.0, True, "0042", "", None)]
    ['45', '0.3', '-0', 'true', '0042', None, None]
    >>> excel_text(_dt.datetime(2024, 3, 5, 10, 30, 15, 500000))
    '2024-03-05 10:30:15.500'
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value or None
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, int | float):
        value = float(value)
        if value != value:  # NaN: no spreadsheet cell holds one
            return None
        return f"{value:.9f}".rstrip("0").rstrip(".")
    if isinstance(value, _dt.datetime):
        return _datetime_text(value.replace(tzinfo=None))
    if isinstance(value, _dt.date):
        return f"{value.isoformat()} 00:00:00"
    if isinstance(value, _dt.time):
        return _datetime_text(_dt.datetime.combine(_DAY_ZERO, value))
    if isinstance(value, _dt.timedelta):
        return _datetime_text(_DAY_ZERO_DT + value)
    return str(value) or None


_DAY_ZERO = _dt.date(1899, 12, 31)
_DAY_ZERO_DT = _dt.datetime(1899, 12, 31)


def _datetime_text(value: _dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` plus ``.fff`` or ``.ffffff`` when there is a fraction of a second."""
    text = value.strftime("%Y-%m-%d %H:%M:%S") if value.year >= 1000 else value.isoformat(sep=" ")[:19]
    micro = value.microsecond
    if micro:
        text += f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    return text


def text_offsets(values: pa.Array) -> np.ndarray:
    """Where each cell of an Arrow text array (``string`` or ``large_string``) starts in its data
    buffer, and where the last one ends: ``len(values) + 1`` numbers, a slice's own (a slice shares
    its column's whole buffers)."""
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    return np.frombuffer(values.buffers()[1], dtype=offset_type, count=values.offset + len(values) + 1)[values.offset:]


def cells_frame(columns: list[pa.Array | pa.ChunkedArray], *, index: pd.Index) -> pd.DataFrame:
    """The cells frame from one Arrow string column per sheet column (trailing empty columns dropped)."""
    width = len(columns)
    while width and columns[width - 1].null_count == len(columns[width - 1]):
        width -= 1
    data = {}
    for position in range(width):
        column = columns[position]
        if column.type != pa.large_string():
            column = column.cast(pa.large_string())
        if isinstance(column, pa.ChunkedArray) and column.num_chunks > 1:
            # one buffer per column: Arrow's take on many chunks would join them again on every call
            column = column.combine_chunks()
        data[position] = pd.array(column, dtype=CELL_DTYPE) if len(column) else pd.array([], dtype=CELL_DTYPE)
    frame = pd.DataFrame(data, index=index, columns=pd.RangeIndex(width))
    if not width:
        frame = pd.DataFrame(index=index, columns=pd.RangeIndex(0), dtype=CELL_DTYPE)
    return frame


def frame_from_rows(rows: list[list[str | None]], *, index: pd.Index | None = None) -> pd.DataFrame:
    """The cells frame from rectangular rows of text (``""`` or None for an empty cell)."""
    if index is None:
        index = pd.RangeIndex(1, len(rows) + 1)
    width = len(rows[0]) if rows else 0
    columns = [pa.array([row[c] or None for row in rows], type=pa.large_string()) for c in range(width)]
    return cells_frame(columns, index=index)
