"""xlsx sheet extents from row and cell references, exact or bounded in one pass of one regular expression.

Used by :func:`markers.readers.limits.check_workbook_extent` before the fast
reader runs. The extent of a part is the highest row (the highest ``r`` of a
row, or of a cell from column AA on, or the number of ``<row>`` tags, whichever
is larger) and the highest column (Z, or the farthest cell from column AA on).

* :class:`XlsxExtent` (``exact=True``) finds it exactly: it reads every row
  number from 100,000 on, which on a million-row sheet is a million numbers.
* ``exact=False`` finds an upper bound of it with one pattern that matches only
  row numbers of seven digits or more (from row 1,000,000 on: exact) and cells
  from column AA on (exact), and takes 999,999 for the six-digit rows it does not
  read. When the bound passes every limit, the exact extent passes too; when it
  does not (:meth:`XlsxExtent.settled` is False), the caller measures the part
  exactly and judges on that, so a file is refused exactly when the exact scan
  refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow.compute as pc

from markers.readers.byte_scan import count_tag, matches

__all__ = ["XLSX_MAX_COLUMN", "XLSX_MAX_ROW", "XlsxExtent", "column_number"]

#: The last row and column an xlsx sheet can have (ECMA-376 / Excel: 1,048,576 rows, XFD).
XLSX_MAX_ROW = 1_048_576
XLSX_MAX_COLUMN = 16_384
_SIX_DIGITS = 999_999

# Each pattern starts with a literal (r=") so that the regex engine skips ahead with a fast search:
# a leading \\s or optional namespace prefix made a 55 MB sheet take seconds per pattern.
# (No other SpreadsheetML attribute name ends in "r": r=" is the row or cell reference.)
_BIG_ROW = re.compile(rb'r="(\d{6,})"')  # row attributes from row 100,000 on (cells start with letters)
_WIDE_CELL = re.compile(rb'r="([A-Za-z]{2,})(\d+)"')  # cells from column AA on
# the bound: row attributes from row 1,000,000 on, and cells from column AA on, in one pass
_FAR = re.compile(rb'r="(?:(\d{7,})|([A-Za-z]{2,})(\d+))"')
# the same pattern for RE2 (pyarrow), which looks for it without the interpreter lock: Python's \d on bytes is
# [0-9], and a binary array is matched byte by byte (Latin-1), so both match exactly the same byte strings
_FAR_RE2 = pc.MatchSubstringOptions(r'r="(?:[0-9]{7,}|[A-Za-z]{2,}[0-9]+)"')
# a reference cut by the end of a piece: it may be the start of a match that ends in the next piece
_OPEN_REFERENCE = re.compile(rb'r="[A-Za-z0-9]*\Z')


def column_number(letters: bytes | str) -> int:
    """The 1-based column number of column letters (``A`` = 1, ``XFD`` = 16,384).

    Examples
    --------
    >>> column_number("A"), column_number("Z"), column_number("AA"), column_number("XFD")
    (1, 26, 27, 16384)
    """
    if isinstance(letters, bytes):
        letters = letters.decode("ascii")
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


@dataclass
class XlsxExtent:
    """The farthest row and column seen in one sheet part, from cell and row references.

    Examples
    --------
    >>> part = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="120000"><c r="AB120000"><v>2</v></c></row>'
    >>> exact, bound = XlsxExtent(), XlsxExtent(exact=False)
    >>> exact.feed(part, 0); bound.feed(part, 0)
    >>> exact.extent(), bound.extent()
    ((120000, 28), (999999, 28))
    >>> bound.settled(50_000_000), bound.settled(20_000_000)
    (True, False)
    """

    rows: int = 0
    row_tags: int = 0
    columns: int = 26  # single-letter columns are not looked at one by one: Z bounds them
    exact: bool = True

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the part; its first ``overlap`` bytes were in the previous piece."""
        # rows without a number count too: the n-th <row> is row n at least (one <rowBreaks> may count;
        # rows written with a namespace prefix, <x:row>, are bounded by their r attributes only)
        self.row_tags += chunk.count(b"<row") - chunk.count(b"<row", 0, overlap)
        if not self.exact:
            self._far(chunk)
            return
        numbers = _BIG_ROW.findall(chunk)
        if numbers:
            self.rows = max(self.rows, max(int(number[:12]) for number in numbers))
        for letters, number in _WIDE_CELL.findall(chunk):
            self.columns = max(self.columns, column_number(letters[:8]))
            self.rows = max(self.rows, int(number[:12]))

    def feed_next(self, tail: bytes, chunk: bytes) -> None:
        """The same as ``feed(tail + chunk, len(tail))``, mostly without the interpreter lock.

        For the bound: ``<row`` is counted by numpy in ``chunk``, plus the one
        that may cross from ``tail``; the bound pattern is looked for by RE2 in
        ``chunk`` and by ``re`` where a match could cross from ``tail``. Only
        when it may match is ``tail + chunk`` read as :meth:`feed` reads it (a
        piece without a match gives :meth:`feed` nothing either, beyond matches
        wholly in ``tail``, which the previous piece gave).
        """
        if self.exact:
            self.feed(tail + chunk, len(tail))
            return
        # a <row crossing the edge starts in the last three bytes of tail (it cannot overlap itself)
        self.row_tags += count_tag(chunk, b"<row") + (tail[-3:] + chunk[:3]).count(b"<row")
        edge = tail + chunk[:256]  # a match crossing the edge lies in it, or runs past its end (an open reference)
        if matches(chunk, _FAR_RE2) or (tail and (_FAR.search(edge) or _OPEN_REFERENCE.search(edge))):
            self._far(tail + chunk)

    def _far(self, chunk: bytes) -> None:
        for number, letters, cell_row in _FAR.findall(chunk):
            if number:
                self.rows = max(self.rows, int(number[:12]))
            else:
                self.columns = max(self.columns, column_number(letters[:8]))
                self.rows = max(self.rows, int(cell_row[:12]))

    def extent(self) -> tuple[int, int]:
        """(rows, columns): exact, or (``exact=False``) an upper bound of the exact extent."""
        rows = max(self.rows, self.row_tags)
        return (rows if self.exact else max(rows, _SIX_DIGITS), self.columns)

    def settled(self, max_cells: int) -> bool:
        """Whether :meth:`extent` decides the checks alone: exact, or a bound within every limit."""
        rows, columns = self.extent()
        return self.exact or (rows <= XLSX_MAX_ROW and columns <= XLSX_MAX_COLUMN and rows * columns <= max_cells)
