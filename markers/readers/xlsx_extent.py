"""xlsx sheet extents from row and cell references, exact or bounded in one pass of one regular expression.

Used by :func:`markers.readers.limits.check_workbook_extent` before the fast
reader runs. The extent of a part is the highest row (the highest ``r`` of a
row or of a cell in any column, or the number of ``<row>`` tags, whichever is
larger) and the highest column (Z, or the farthest cell from column AA on). A
number is read as the fast reader reads it: ``A0001048577`` is row 1,048,577.

* :class:`XlsxExtent` (``exact=True``) finds it exactly: it reads every row
  number, which on a million-row sheet is millions of numbers.
* ``exact=False`` finds an upper bound of it with one pattern that matches only
  row numbers from 1,000,000 on (of rows and of cells in any column: exact) and
  cells from column AA on (exact), and takes 999,999 for the rows it does not
  read. When the bound passes every limit, the exact extent passes too; when it
  does not (:meth:`XlsxExtent.settled` is False), the caller measures the part
  exactly and judges on that, so a file is refused exactly when the exact scan
  refuses it.
* A reference of 250 characters or more (Excel writes at most 10,
  ``XFD1048576``) may be longer than the overlap of two pieces, where neither
  sees it whole: both scans note it (:attr:`XlsxExtent.long_reference`) and the
  file is refused.
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

# Each pattern starts with a literal (r) so that the regex engine skips ahead with a fast search:
# a leading \\s or optional namespace prefix made a 55 MB sheet take seconds per pattern.
# (No other SpreadsheetML attribute name ends in "r": r= is the row or cell reference.) XML allows blanks
# around "=" and either quote, and the fast reader takes them all. Leading zeros are matched apart (0*), so a
# captured number has none: the fast reader reads r="XFD0001048576" as row 1,048,576.
_R = rb'r[ \t\n\r]*=[ \t\n\r]*["\']'
_END = rb'["\']'
# exact: the row number of every reference (rows and cells), and the column letters of cells from AA on
_ROW_NUMBER = re.compile(_R + rb'[A-Za-z]*0*(\d+)' + _END)
_WIDE_CELL = re.compile(_R + rb'([A-Za-z]{2,})\d+' + _END)
# the bound: row numbers from 1,000,000 on (rows, and cells of columns A-Z), and cells from column AA on
_FAR = re.compile(_R + rb'(?:[A-Za-z]?0*([1-9]\d{6,})|([A-Za-z]{2,})0*(\d+))' + _END)
# a reference of 250 characters or more: longer than the 256 bytes two pieces share, it may be cut where
# neither piece holds it whole
_LONG_REFERENCE = re.compile(_R + rb'[A-Za-z0-9]{250}')
# what makes a piece worth reading with _FAR and _LONG_REFERENCE: a match of either
_TRIGGER = re.compile(_R + rb'(?:[A-Za-z]?0*[1-9]\d{6,}' + _END + rb'|[A-Za-z]{2,}0*\d+' + _END
                      + rb'|[A-Za-z0-9]{250})')
# the same pattern for RE2 (pyarrow), which looks for it without the interpreter lock: Python's \d on bytes is
# [0-9], and a binary array is matched byte by byte (Latin-1), so both match exactly the same byte strings
_TRIGGER_RE2 = pc.MatchSubstringOptions(_TRIGGER.pattern.decode("ascii").replace("\\d", "[0-9]"))
_DIGITS = 12  # a row number of more digits is past the last row whatever they are


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
    long_reference: bool = False  # a reference of 250 characters or more: refused

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the part; its first ``overlap`` bytes were in the previous piece."""
        # rows without a number count too: the n-th <row> is row n at least (one <rowBreaks> may count;
        # rows written with a namespace prefix, <x:row>, are bounded by their r attributes only)
        self.row_tags += chunk.count(b"<row") - chunk.count(b"<row", 0, overlap)
        if not self.exact:
            self._far(chunk)
            return
        self.long_reference = self.long_reference or _LONG_REFERENCE.search(chunk) is not None
        numbers = _ROW_NUMBER.findall(chunk)
        if numbers:  # the highest: among the longest (they have no leading zeros), the greatest
            longest = max(map(len, numbers))
            self.rows = max(self.rows, int(max(n for n in numbers if len(n) == longest)[:_DIGITS]))
        wide = set(_WIDE_CELL.findall(chunk))
        if wide:
            self.columns = max(self.columns, max(column_number(column[:8]) for column in wide))

    def feed_next(self, tail: bytes, chunk: bytes) -> None:
        """The same as ``feed(tail + chunk, len(tail))``, mostly without the interpreter lock.

        For the bound: ``<row`` is counted by numpy in ``chunk``, plus the one
        that may cross from ``tail``; the bound pattern (or a long reference)
        is looked for by RE2 in ``chunk`` and by ``re`` where a match could
        cross from ``tail`` (a match is under 256 bytes). Only when one may
        match is ``tail + chunk`` read as :meth:`feed` reads it (a piece without
        a match gives :meth:`feed` nothing either, beyond matches wholly in
        ``tail``, which the previous piece gave).
        """
        if self.exact:
            self.feed(tail + chunk, len(tail))
            return
        # a <row crossing the edge starts in the last three bytes of tail (it cannot overlap itself)
        self.row_tags += count_tag(chunk, b"<row") + (tail[-3:] + chunk[:3]).count(b"<row")
        if matches(chunk, _TRIGGER_RE2) or (tail and _TRIGGER.search(tail + chunk[:256])):
            self._far(tail + chunk)

    def _far(self, chunk: bytes) -> None:
        self.long_reference = self.long_reference or _LONG_REFERENCE.search(chunk) is not None
        for number, letters, cell_row in _FAR.findall(chunk):
            if number:
                self.rows = max(self.rows, int(number[:_DIGITS]))
            else:
                self.columns = max(self.columns, column_number(letters[:8]))
                self.rows = max(self.rows, int(cell_row[:_DIGITS]))

    def extent(self) -> tuple[int, int]:
        """(rows, columns): exact, or (``exact=False``) an upper bound of the exact extent."""
        rows = max(self.rows, self.row_tags)
        return (rows if self.exact else max(rows, _SIX_DIGITS), self.columns)

    def settled(self, max_cells: int) -> bool:
        """Whether :meth:`extent` decides the checks alone: exact, or a bound within every limit."""
        rows, columns = self.extent()
        return self.exact or (not self.long_reference and rows <= XLSX_MAX_ROW and columns <= XLSX_MAX_COLUMN
                              and rows * columns <= max_cells)
