"""Sheet rows counted apart from the reader, while the sheet XML is streamed; a difference is an error.

What counts as a row: a sheet row with at least one cell holding a non-empty
value. Rows of empty cells (styled, bordered, the padding an editor writes to
a sheet's edge), formulas saved without their value and error values
(``#N/A``, which every reader reads as empty) do not count. The reader must
give exactly these rows a non-empty cell; a row counted here that the reader
gives empty was lost, a row the reader gives that is not counted here was
invented, and either is an :class:`~markers.errors.InputFormatError` naming the
file, the sheet and the rows.

* xlsx: ``<row>`` elements (their ``r``, else one past the previous row) and,
  in each, a ``<v>`` with text or an inline string ``<t>`` with text (ECMA-376
  Part 1, 18.3.1.73 and 18.3.1.4); a cell ``t="e"`` holds an error value.
* ods: ``table:table-row`` with ``table:number-rows-repeated`` (OpenDocument
  1.2 Part 1, 9.1.3), counted in :mod:`markers.readers.ods_scan`.
* xls: the BIFF8 cell records of each sheet, in :mod:`markers.readers.xls_extent`.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from markers.errors import InputFormatError
from markers.readers.byte_scan import count_tag
from markers.readers.formulas import open_cell_start

__all__ = ["RowCount", "SheetScan", "XlsxRowCount", "check_rows_agree", "counted_sheets", "rows_with_values"]

_ROW = re.compile(rb'<(?:\w+:)?row\b([^>]*)>')
_ROW_NUMBER = re.compile(rb'\br="(\d{1,12})"')
# every "<row"; when it is a row tag numbered first, its number and whether its first cell starts with a
# value (<v>) or an inline string (<is>)
_ROW_FIRST = re.compile(rb'<row(?: r="(\d{1,12})"[^>]*>(?:<c\b[^>]*>)?(<v>|<is)?)?')
_FIRST_CELL_ROW = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="[A-Za-z]{1,3}(\d{1,12})"')
# a value: <v>4.2</v> (also <v></v>, the empty text of a formula giving ""), or an inline string <is>;
# not <v/>, which every reader reads as no value
_VALUE = re.compile(rb'<(?:\w+:)?v>|<(?:\w+:)?is\b')
_CELL_TAG = re.compile(rb'<(?:\w+:)?c\b([^>]*)>')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_TAG_END = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_TAG_END_TABLE = np.zeros(256, dtype=bool)
_TAG_END_TABLE[list(b"".join(_TAG_END))] = True
_SPACE_R_QUOTE = np.frombuffer(b' r="', dtype=np.uint8)
_MAX_CARRY = 1 << 20  # longer than any tag Excel writes: a part holding one is damaged
_LISTED = 10  # row numbers named in a message


class RowCount:
    """The rows with a value of one sheet, as they are found: runs of rows (first, count), 16 bytes a run."""

    def __init__(self) -> None:
        self._first = array("q")
        self._count = array("q")

    def add(self, row: int) -> None:
        self.add_range(row, 1)

    def add_range(self, first: int, count: int) -> None:
        """Rows ``first`` to ``first + count - 1`` (a repeated ods row is one run, whatever its repeat count)."""
        if self._first and self._first[-1] <= first <= self._first[-1] + self._count[-1]:
            self._count[-1] = max(self._count[-1], first + count - self._first[-1])
        else:
            self._first.append(first)
            self._count.append(count)

    def add_many(self, rows: list[int]) -> None:
        """Rows found in one piece, mostly consecutive: added as runs."""
        if not len(rows):
            return
        numbers = np.asarray(rows, dtype=np.int64)
        breaks = np.flatnonzero(np.diff(numbers) != 1) + 1
        starts = np.concatenate(([0], breaks)).tolist()
        ends = np.concatenate((breaks, [len(numbers)])).tolist()
        for start, end in zip(starts, ends, strict=True):
            self.add_range(int(numbers[start]), end - start)

    def rows(self) -> np.ndarray:
        """The distinct rows counted, sorted (expanded only after the extent checks have bounded them)."""
        if not self._first:
            return np.zeros(0, dtype=np.int64)
        first = np.frombuffer(self._first, dtype=np.int64)
        count = np.frombuffer(self._count, dtype=np.int64)
        if len(first) == 1:
            return np.arange(first[0], first[0] + count[0], dtype=np.int64)
        starts = np.repeat(first - np.concatenate(([0], np.cumsum(count)[:-1])), count)
        rows = starts + np.arange(int(count.sum()), dtype=np.int64)
        if (first[1:] >= first[:-1] + count[:-1]).all():
            return rows  # runs in order, apart: already sorted and distinct
        return np.unique(rows)


@dataclass
class SheetScan:
    """What the streamed pass counted in one sheet: its rows with values, its formulas without a value."""

    rows: RowCount = field(default_factory=RowCount)
    formulas: list[tuple[int, int]] = field(default_factory=list)  # (1-based row, 0-based column)


class XlsxRowCount(RowCount):
    """Counts, piece by piece, the rows of one xlsx sheet part that hold a value.

    It keeps its own carry-over (a tag cut at a chunk edge), so a row or cell
    of any length is seen whole; memory is one piece plus 8 bytes per row counted.
    """

    def __init__(self, name: str = "", part: str = "") -> None:
        super().__init__()
        self.name, self.part = name, part
        self.row = 0  # the row now open (0: none yet)
        self.carry = b""

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the part; its first ``overlap`` bytes were in the previous piece (ignored here)."""
        piece = self.carry + memoryview(chunk)[overlap:]
        end = _complete(piece)
        self.carry = piece[end:]
        if len(self.carry) > _MAX_CARRY:
            raise InputFormatError(f"{self.name}: the part {self.part!r} holds a tag longer than "
                                   f"{_MAX_CARRY:,} bytes: it is damaged; open the file in Excel and save it again.")
        # no prefixed row tag and no error cell (t="e"), told by numpy: bytes.find stops at every "r" and "t"
        if not count_tag(piece, b":row") and not (count_tag(piece, b'="e"') and b't="e"' in piece):
            data = piece[:end]  # no prefixes, no error cells: by first cells, else vectorised
            if not self._feed_first_cells(data):
                self._feed_plain(data)
            return
        start = 0
        for match in _ROW.finditer(piece, 0, end):
            self._scan(piece, start, match.start())  # the rest of the row open before this one
            found = _ROW_NUMBER.search(match.group(1))
            if found:
                self.row = int(found.group(1))
            else:  # a row without its number: from its first cell, else one past the previous row
                following = _ROW.search(piece, match.end(), end)
                cell = _FIRST_CELL_ROW.search(piece, match.end(), following.start() if following else end)
                self.row = int(cell.group(1)) if cell else self.row + 1
            start = match.end()
        self._scan(piece, start, end)

    def _feed_first_cells(self, data: bytes) -> bool:
        """The count of :meth:`_feed_plain` when every row of the piece is numbered and its first cell holds a value.

        One regular expression reads, for each ``<row r="123" ...>``, whether its
        first cell starts with ``<v>`` or ``<is`` (then the row holds a value). A
        piece with a row tag it does not read so, or a row whose first cell is
        empty, styled or a formula, is left to the exact per-row count (False).
        """
        found = _ROW_FIRST.findall(data)  # one match for every "<row" of the piece
        if not found:
            return False
        numbers, firsts = zip(*found, strict=True)
        if b"" in firsts:
            return False  # not a numbered row tag (<rowBreaks ...), or a first cell without a value
        start = data.find(b"<row")
        if self.row > 0 and (data.find(b"<v>", 0, start) >= 0 or data.find(b"<is", 0, start) >= 0):
            self.add(self.row)  # the rest of the row open before this piece
        rows = np.array(list(map(int, numbers)), dtype=np.int64)
        self.add_many(rows)
        self.row = int(rows[-1])
        return True

    def _feed_plain(self, data: bytes) -> None:
        """The same count for a piece without namespace prefixes or error cells, vectorised.

        The positions of ``<row``, ``<v>`` and ``<is`` are found with NumPy; each
        value belongs to the last row tag before it. Rows are numbered by their
        ``r`` (when every row tag of the piece starts with it, as Excel, LibreOffice
        and openpyxl write them), else the piece goes to :meth:`_feed_rows`.
        """
        octets = np.frombuffer(data + b"\0" * 24, dtype=np.uint8)
        lt = np.flatnonzero(octets[:-24] == 60)  # "<"
        after = octets[lt + 1]
        tags = lt[(after == 114) & (octets[lt + 2] == 111) & (octets[lt + 3] == 119)  # "row"
                  & _TAG_END_TABLE[octets[lt + 4]]]
        rows = _row_numbers(octets, tags)
        if rows is None:
            self._feed_rows(data)
            return
        # "<v>" and "<is"
        values = lt[((after == 118) & (octets[lt + 2] == 62)) | ((after == 105) & (octets[lt + 2] == 115))]
        owner = np.searchsorted(tags, values, side="right") - 1  # non-decreasing
        if self.row > 0 and len(owner) and owner[0] < 0:
            self.add(self.row)  # the rest of the row open before this piece
        owner = owner[owner >= 0]
        if len(tags):
            first = owner[np.concatenate(([True], owner[1:] != owner[:-1]))] if len(owner) else owner
            self.add_many(rows[first].tolist())
            self.row = int(rows[-1])

    def _feed_rows(self, data: bytes) -> None:
        """:meth:`_feed_plain` row by row, for rows whose number is not their tag's first attribute."""
        segments = data.split(b"<row")
        if self.row > 0 and (b"<v>" in segments[0] or b"<is" in segments[0]):
            self.add(self.row)  # the rest of the row open before this piece
        row, rows = self.row, []
        for segment in segments[1:]:
            if segment[:1] not in _TAG_END:
                continue  # <rowBreaks> and the like: not a row, no values
            close = segment.find(b">")
            at = segment.find(b' r="', 0, close)
            number = segment[at + 4:segment.find(b'"', at + 4)][:12] if at >= 0 else b""
            if number.isdigit():
                row = int(number)
            else:  # a row without its number: from its first cell, else one past the previous row
                cell = _FIRST_CELL_ROW.search(segment)
                row = int(cell.group(1)) if cell else row + 1
            if b"<v>" in segment or b"<is" in segment:
                rows.append(row)
        self.row = row
        self.add_many(rows)

    def _scan(self, piece: bytes, start: int, end: int) -> None:
        """Count the open row when ``piece[start:end]`` (a part of its cells) holds a value."""
        if self.row <= 0 or start >= end:
            return
        found = _VALUE.search(piece, start, end)
        if found is None:
            return
        if _ERROR_TYPE.search(piece, start, end) is None:
            self.add(self.row)
            return
        # an error cell (#N/A) in the row: look at each cell's type
        cells = list(_CELL_TAG.finditer(piece, start, end))
        for i, cell in enumerate(cells):
            if _ERROR_TYPE.search(cell.group(1)):
                continue
            stop = cells[i + 1].start() if i + 1 < len(cells) else end
            if _VALUE.search(piece, cell.end(), stop):
                self.add(self.row)
                return


def _row_numbers(octets: np.ndarray, tags: np.ndarray) -> np.ndarray | None:
    """The numbers of row tags that start ``<row r="123"`` (digits read with NumPy); None if one does not."""
    if not len(tags):
        return np.zeros(0, dtype=np.int64)
    if not (octets[tags[:, None] + np.arange(4, 8)] == _SPACE_R_QUOTE).all():
        return None
    digits = octets[tags[:, None] + np.arange(8, 21)].astype(np.int64) - 48  # up to 12 digits and a quote
    is_digit = (digits >= 0) & (digits <= 9)
    length = np.argmin(is_digit, axis=1)
    if not ((length >= 1) & (digits[np.arange(len(tags)), length] == 34 - 48)).all():
        return None
    place = length[:, None] - 1 - np.arange(13)  # the power of ten of each digit
    return (np.where(place >= 0, digits, 0) * 10 ** np.clip(place, 0, 12)).sum(axis=1)


def _complete(piece: bytes) -> int:
    """How much of ``piece`` can be scanned now: up to a cell not closed in it, or a tag cut at its end."""
    end = open_cell_start(piece)  # a cell's type (t="e") and its value are seen together
    last = piece.rfind(b"<", 0, end)
    if last >= 0 and piece.find(b">", last, end) == end - 1:
        return last  # <v>: whether a value follows is in the next piece
    return end


def rows_with_values(cells: pd.DataFrame) -> np.ndarray:
    """The sheet rows (index labels) of a reader's cells where at least one cell is not empty."""
    if cells.empty:
        return np.zeros(0, dtype=np.int64)
    filled = cells.notna().to_numpy().any(axis=1)
    return cells.index.to_numpy(dtype=np.int64)[filled]


def _listed(rows: Iterable[int]) -> str:
    rows = list(rows)
    named = ", ".join(f"{r:,}" for r in rows[:_LISTED])
    return named + (f" and {len(rows) - _LISTED:,} more" if len(rows) > _LISTED else "")


def check_rows_agree(file: str, sheet: str, counted: np.ndarray, cells: pd.DataFrame, *,
                     max_rows: int | None = None) -> None:
    """Refuse a sheet whose reader did not give exactly the rows counted in the file.

    Parameters
    ----------
    file, sheet : str
        For the message.
    counted : numpy.ndarray
        Rows holding a value, counted from the file's XML or records.
    cells : pandas.DataFrame
        What the reader gave (:attr:`markers.readers.sheet.RawSheet.cells`).
    max_rows : int, optional
        Only rows 1 to ``max_rows`` were read.

    Raises
    ------
    InputFormatError
        Naming the file, the sheet, and the rows lost or invented.
    """
    if max_rows is not None:
        counted = counted[counted <= max_rows]
    delivered = rows_with_values(cells)
    if np.array_equal(counted, delivered):
        return  # both sorted and distinct: equal arrays are equal sets (no sort needed)
    lost = np.setdiff1d(counted, delivered)
    extra = np.setdiff1d(delivered, counted)
    if not len(lost) and not len(extra):
        return
    what = []
    if len(lost):
        what.append(f"row{'s' if len(lost) > 1 else ''} {_listed(lost.tolist())} hold{'' if len(lost) > 1 else 's'} "
                    "values in the file but the reader gave them empty")
    if len(extra):
        what.append(f"the reader gave values in row{'s' if len(extra) > 1 else ''} {_listed(extra.tolist())}, "
                    "where the file holds none")
    raise InputFormatError(
        f"{file}: sheet {sheet!r}: the file has {len(counted):,} rows with values, the reader gave "
        f"{len(delivered):,}: {'; '.join(what)}; no row may be lost or invented, so markers stops: open the "
        "file in Excel or LibreOffice, save it again as .xlsx, and report the file if this persists."
    )


def counted_sheets(file: str, sheets: list, scans: dict[str, SheetScan], *, max_rows: int | None = None) -> list:
    """The reader's sheets checked against the counts (:func:`check_rows_agree`), with their formulas without a value.

    A sheet the streamed pass could not name (an xlsx without a readable
    workbook part) is not compared.
    """
    out = []
    for sheet in sheets:
        scan = scans.get(sheet.sheet)
        if scan is not None:
            check_rows_agree(file, sheet.sheet, scan.rows.rows(), sheet.cells, max_rows=max_rows)
            if scan.formulas:
                sheet = replace(sheet, formulas_without_value=tuple(scan.formulas))
        out.append(sheet)
    return out
