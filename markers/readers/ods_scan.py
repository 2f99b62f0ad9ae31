"""ods sheets counted apart from the reader: rows with a value (repeats included) and formulas without a value.

One pass over ``content.xml`` while it is streamed for the extent checks
(OpenDocument 1.2 Part 1: 9.1.2 ``table:table``, 9.1.3 ``table:table-row``
with ``table:number-rows-repeated``, 9.1.4 ``table:table-cell`` with
``table:number-columns-repeated``, 19.386 ``office:value-type`` and the value
attributes of 19.385-19.389, 19.642 ``table:formula``). A cell holds a value
when it has a value attribute (``office:value``, ``office:date-value``,
``office:time-value``, ``office:boolean-value``, ``office:string-value``) or
text in its paragraphs. A cell with ``table:formula`` and neither was saved
without its calculated value (written by a script, or by a program that does
not calculate): every reader reads it as empty.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import unescape

from markers.errors import InputFormatError
from markers.readers.row_count import RowCount

__all__ = ["OdsScan"]

_TOKEN = re.compile(
    rb"<table:table(?=[\s>/])([^>]*)>"  # 1: a table (sheet)
    rb"|<table:table-row\b([^>]*)>"  # 2: a row
    rb"|(</table:table-row>)"  # 3
    rb"|<table:(?:covered-)?table-cell\b([^>]*)>"  # 4: a cell (covered: hidden by a merge)
    rb"|(</table:(?:covered-)?table-cell>)"  # 5
    rb"|(<office:annotation\b[^>]*?/?>)"  # 6: a comment on the cell (its text is no value)
    rb"|(</office:annotation>)"  # 7
    rb"|>\s*[^<\s]"  # text inside a cell's paragraph
)
_NAME = re.compile(rb'table:name="([^"]*)"')
_ROWS_REPEATED = re.compile(rb'table:number-rows-repeated="(\d{1,12})"')
_COLUMNS_REPEATED = re.compile(rb'table:number-columns-repeated="(\d{1,12})"')
_VALUE_ATTR = re.compile(rb'office:(?:value|date-value|time-value|boolean-value|string-value)="')
_MAX_CARRY = 4 << 20
_MAX_KEPT = 10_000


class OdsScan:
    """Fed the pieces of ``content.xml``; per table: rows holding a value, formula cells without one."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.rows: dict[str, RowCount] = {}
        self.formulas: dict[str, list[tuple[int, int]]] = {}
        self._table: str | None = None
        self._row = 0  # rows of the table before the open row
        self._repeat = 1
        self._row_value = False
        self._column = 0
        self._cell: tuple[bool, bool, int] | None = None  # (has a value, has a formula, its column) of the open cell
        self._carry = b""
        self._note = False  # inside an office:annotation

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece; its first ``overlap`` bytes were in the previous piece (ignored: the scan carries its own)."""
        piece = self._carry + chunk[overlap:]
        cut = piece.rfind(b"<")  # the last tag and what follows it are scanned with the next piece
        cut = len(piece) if cut < 0 else cut
        self._carry = piece[cut:]
        if len(self._carry) > _MAX_CARRY:
            raise InputFormatError(f"{self.name}: content.xml holds a tag or text longer than {_MAX_CARRY:,} "
                                   "bytes: it is damaged; open the file in LibreOffice and save it again.")
        for match in _TOKEN.finditer(piece, 0, cut):
            self._token(match)

    def _token(self, match: re.Match) -> None:
        table, row, row_end, cell, cell_end, note, note_end = match.groups()
        if note is not None:
            self._note = not note.endswith(b"/>")
        elif note_end is not None:
            self._note = False
        elif table is not None:
            found = _NAME.search(table)
            self._table = unescape(found.group(1).decode("utf-8", "replace"), {"&quot;": '"', "&apos;": "'"}) \
                if found else f"Sheet{len(self.rows) + 1}"
            self.rows.setdefault(self._table, RowCount())
            self._row = 0
        elif row is not None:
            found = _ROWS_REPEATED.search(row)
            self._repeat, self._row_value, self._column = int(found.group(1)) if found else 1, False, 0
            if row.endswith(b"/"):
                self._row += self._repeat
        elif row_end is not None:
            if self._row_value and self._table is not None:
                self.rows[self._table].add_range(self._row + 1, self._repeat)
            self._row += self._repeat
        elif cell is not None:
            found = _COLUMNS_REPEATED.search(cell)
            column = self._column
            self._column += int(found.group(1)) if found else 1
            value = _VALUE_ATTR.search(cell) is not None or b'office:value-type="string"' in cell
            self._cell = (value, b"table:formula=" in cell, column)
            if cell.endswith(b"/"):
                self._close_cell()
        elif cell_end is not None:
            self._close_cell()
        elif self._cell is not None and not self._note:  # text in the open cell
            self._cell = (True, *self._cell[1:])

    def _close_cell(self) -> None:
        if self._cell is None:
            return
        value, formula, column = self._cell
        self._cell = None
        if value:
            self._row_value = True
        elif formula and self._table is not None:
            cells = self.formulas.setdefault(self._table, [])
            if len(cells) < _MAX_KEPT:
                cells.append((self._row + 1, column))
