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
from dataclasses import dataclass, field

import pyarrow.compute as pc

from markers.readers.byte_scan import count_tag, matches

__all__ = ["TAG_ATTRIBUTE", "TAG_PREFIX", "TAG_VALUES", "XLSX_MAX_COLUMN", "XLSX_MAX_ROW", "XlsxExtent", "column_number"]

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

# Cells without an r attribute. The fast reader (calamine, xlsx/cells_reader.rs, XlsxCellReader::next_cell)
# keeps a 0-based row_index and col_index: a <row> start tag with r sets row_index to that row; a </row> end
# tag adds 1 to row_index and sets col_index to 0; a <c> start tag with r is placed at its reference and sets
# col_index to its column; one without r is placed at (row_index, col_index); after either, col_index += 1.
# Tags are matched by local name (<x:c> is a cell). There, empty elements (<c/>, <row r="5"/>) do nothing; the
# reader fastexcel ships takes one as a start and an end tag (<row r="5"/><row><c> puts the cell in row 6,
# <c r="F3"/><c> in G3): an empty tag is followed the way that reaches farther.
# So <row r="1048576"> and 16,384 <c><v>1</v></c> reach XFD1048576. _RLESS_RE2 flags a piece holding a cell
# tag not written as <c r= (or with a prefix, or a row tag with a prefix); such pieces are followed tag by tag
# (_RlessCells).
_BLANK = rb'[ \t\n\r]'
# a tag's namespace prefix (x:), an attribute and a tag's attributes: also how xlsx_halves reads row tags
TAG_PREFIX = rb'[^ \t\n\r<>/:="\']+:'
_RLESS = re.compile(rb'<(?:c(?:[>/]|' + _BLANK + rb'+(?:[^r \t\n\r]|r[^ \t\n\r=]))|'
                    + TAG_PREFIX + rb'(?:c|row)[ \t\n\r>/])')
_RLESS_RE2 = pc.MatchSubstringOptions(_RLESS.pattern.decode("ascii"))
_BLANKS = b" \t\n\r"
_OPEN_TAG_END = re.compile(rb'<(?:c|' + TAG_PREFIX + rb'(?:c|row))\Z')  # before a run of blanks that ends a piece
# a tag: its attribute values may hold ">" (and another attribute's value " r='A1'", hence TAG_ATTRIBUTE)
# (an attribute value holds no "<": each try stops at the next tag, so a forged quote costs no more than a tag)
TAG_VALUES = rb'(?:[^<>"\']|"[^<"]*"|\'[^<\']*\')*'
_TAG = re.compile(rb'<(/?)(?:' + TAG_PREFIX + rb')?(row|c)(?=[ \t\n\r>/])(' + TAG_VALUES + rb')>')
_ANY_TAG = re.compile(rb'<' + TAG_VALUES + rb'>')
TAG_ATTRIBUTE = re.compile(rb'([^ \t\n\r=/]+)' + _BLANK + rb'*=' + _BLANK + rb'*(?:"([^"]*)"|\'([^\']*)\')')
_ROW_COLUMN = re.compile(rb'([A-Za-z]*)0*(\d*)')
_LONG_TAG = 1 << 16  # a tag not closed within 64 KiB: forged


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


def _reference(attributes: bytes) -> tuple[bytes, bytes] | None:
    """The column letters and row digits (leading zeros dropped) of the ``r`` attribute; of several, the farthest."""
    found = [_ROW_COLUMN.match(a or b).groups() for name, a, b in TAG_ATTRIBUTE.findall(attributes) if name == b"r"]
    return max(found, key=lambda ref: (column_number(ref[0][:8]), len(ref[1]), ref[1])) if found else None


def _may_hold_rless(tail: bytes, chunk: bytes) -> bool:
    """Whether ``chunk`` (after ``tail``) may hold a cell tag not written as ``<c r=`` (see _RLESS).

    RE2 looks in ``chunk``; ``re`` where a tag crosses from ``tail``, with the blanks at the edge taken as one (a
    tag name and the rest of its tag may be far apart); a piece ending in 200 blanks or more after a tag name
    (the tail of the next piece may not hold the name) is taken too.
    """
    if matches(chunk, _RLESS_RE2):
        return True
    if tail:
        head = chunk.lstrip(_BLANKS) if chunk[:1].isspace() else chunk
        edge = tail.rstrip(_BLANKS)
        if _RLESS.search(edge + (b" " if len(edge) < len(tail) or len(head) < len(chunk) else b"") + head[:256]):
            return True
    if chunk[-1:].isspace():
        body = chunk.rstrip(_BLANKS)
        return len(chunk) - len(body) >= 200 and _OPEN_TAG_END.search(body[-300:]) is not None
    return False


@dataclass
class _RlessCells:
    """The farthest row and column (1-based) that cells without ``r`` reach, following the tags of a part.

    ``known`` is False once a piece was skipped (the position is then not known) or a tag ran over 64 KiB;
    ``unsure`` notes a cell without ``r`` met while the position was not known (or such a tag).

    Examples
    --------
    >>> cells = _RlessCells()
    >>> cells.feed(b'<row r="3"><c r="B3"><v>1</v></c><c><v>2</v></c><c/><c t="s"><v>0</v></c></row><row><c')
    >>> cells.feed(b'><v>4</v></c></row>')
    >>> cells.rows, cells.columns, cells.unsure
    (4, 5, False)
    """

    row: int = 0  # the fast reader's row_index and col_index (0-based)
    column: int = 0
    rows: int = 0
    columns: int = 0
    known: bool = True
    unsure: bool = False
    pending: bytes = b""  # a tag cut at the end of the last piece

    def feed(self, data: bytes) -> None:
        """Follow the tags of ``data``, the bytes right after the last piece fed (or after a skip)."""
        data = self.pending + data if self.pending else data
        end = 0
        for match in _TAG.finditer(data):
            end = match.end()
            closing, name, attributes = match.groups()
            if closing:
                if name == b"row":
                    self.row, self.column = self.row + 1, 0
                continue
            empty = attributes.endswith(b"/")  # ignored, or a start and an end tag: whichever reaches farther
            reference = _reference(attributes)
            if name == b"row":
                number = int(reference[1][:_DIGITS]) - 1 if reference and reference[1] else self.row
                self.row = max(self.row, number + 1) if empty else number
                continue
            if reference:
                number = column_number(reference[0][:8]) - 1
                self.column = max(self.column - 1, number) if empty else number
            elif not self.known:
                self.unsure = True
            else:
                self.rows, self.columns = max(self.rows, self.row + 1), max(self.columns, self.column + 1)
            self.column += 1
        cut = data.rfind(b"<", end)  # a tag cut at the end of the piece: kept for the next one
        self.pending = data[cut:] if cut >= 0 and not _ANY_TAG.match(data, cut) else b""
        if len(self.pending) > _LONG_TAG:
            self.skip()
            self.unsure = True

    def skip(self) -> None:
        """A piece was not followed: the position is no longer known."""
        self.known, self.pending = False, b""


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
    cells: _RlessCells = field(default_factory=_RlessCells)  # cells without r

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the part; its first ``overlap`` bytes were in the previous piece."""
        # rows without a number count too: the n-th <row> is row n at least (one <rowBreaks> may count;
        # rows written with a namespace prefix, <x:row>, are bounded by their r attributes only)
        self.row_tags += chunk.count(b"<row") - chunk.count(b"<row", 0, overlap)
        self.cells.feed(chunk[overlap:])
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

    @staticmethod
    def far_in(chunk: bytes) -> bool:
        """Whether the bound pattern (or a long reference) may match within ``chunk`` (RE2, without the
        interpreter lock): what :meth:`feed_next` looks for first, so the thread that inflates the next
        piece can look for it."""
        return matches(chunk, _TRIGGER_RE2)

    def feed_next(self, tail: bytes, chunk: bytes, far: bool | None = None) -> None:
        """The same as ``feed(tail + chunk, len(tail))``, mostly without the interpreter lock.

        For the bound: ``<row`` is counted by numpy in ``chunk``, plus the one
        that may cross from ``tail``; the bound pattern (or a long reference)
        is looked for by RE2 in ``chunk`` and by ``re`` where a match could
        cross from ``tail`` (a match is under 256 bytes). Only when one may
        match is ``tail + chunk`` read as :meth:`feed` reads it (a piece without
        a match gives :meth:`feed` nothing either, beyond matches wholly in
        ``tail``, which the previous piece gave). ``far``: :meth:`far_in` of ``chunk``,
        when it was looked for already.
        """
        if self.exact:
            self.feed(tail + chunk, len(tail))
            return
        # a <row crossing the edge starts in the last three bytes of tail (it cannot overlap itself)
        self.row_tags += count_tag(chunk, b"<row") + (tail[-3:] + chunk[:3]).count(b"<row")
        if (self.far_in(chunk) if far is None else far) or (tail and _TRIGGER.search(tail + chunk[:256])):
            self._far(tail + chunk)
        cells = self.cells
        if cells.pending or (cells.known and cells.columns) or _may_hold_rless(tail, chunk):
            # once cells without r were followed, every piece is (a piece without any changes the running
            # position too); after a skipped piece, from the tail: any cell without r is then unsure, and the
            # part is measured exactly
            cells.feed(chunk if cells.known else tail + chunk)
        else:
            cells.skip()

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
        rows = max(self.rows, self.row_tags, self.cells.rows)
        return (rows if self.exact else max(rows, _SIX_DIGITS), max(self.columns, self.cells.columns))

    def settled(self, max_cells: int) -> bool:
        """Whether :meth:`extent` decides the checks alone: exact, or a bound within every limit."""
        rows, columns = self.extent()
        return self.exact or (not self.long_reference and not self.cells.unsure and rows <= XLSX_MAX_ROW and columns <= XLSX_MAX_COLUMN
                              and rows * columns <= max_cells)
