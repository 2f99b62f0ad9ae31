"""Formula cells an xlsx file holds without a cached value, found while its sheet parts are streamed."""

from __future__ import annotations

import posixpath
import re
import zipfile

from markers.readers.byte_scan import has_pair
from markers.readers.limits import column_number

__all__ = ["FormulaScan", "open_cell_start", "sheet_names_by_part"]

# A cell element with content: <c r="C3" ...>...</c> (self-closing cells hold no formula).
_CELL = re.compile(rb'<c\s([^>]*?)(?<!/)>(.*?)</c>', re.DOTALL)
_REF = re.compile(rb'\br="([A-Za-z]{1,3})(\d{1,7})"')
_MAX_KEPT = 10_000  # cells listed per sheet; a count of the rest is kept
# A cell element longer than this is not one Excel writes (a formula holds at most 8,192 characters): not carried.
_MAX_CARRY = 4 << 20


class FormulaScan:
    """Collects, piece by piece, the cells of one sheet part with a formula (``<f>``) but no value (``<v>``).

    Excel saves the last calculated value of every formula in ``<v>``; a file
    saved without calculation (by a script, or with calculation set to manual)
    has only ``<f>``, and every reader then sees an empty cell.
    """

    def __init__(self) -> None:
        self.cells: list[tuple[int, int]] = []  # (1-based row, 0-based column)
        self.more = 0  # found past the first _MAX_KEPT
        self.carry = b""  # the start of a cell element the last piece cut off, kept until it closes

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the part; its first ``overlap`` bytes were in the previous piece.

        The scan keeps its own carry-over instead of relying on the overlap: a
        cell element cut at the edge (a formula of any length) is kept from its
        ``<c`` and seen whole with the next piece, so it is found exactly once.
        """
        piece = self.carry + memoryview(chunk)[overlap:]
        cut = open_cell_start(piece)
        self.carry = piece[cut:]
        if len(self.carry) > _MAX_CARRY:  # not a cell Excel writes (a formula is at most 8,192 characters)
            self.carry = b""
        if not has_pair(memoryview(piece)[:cut], b"<f"):
            return  # no formula: nothing cut or copied
        piece = piece[:cut]
        for match in _CELL.finditer(piece):
            body = match.group(2)
            if b"<f" not in body or b"<v" in body:
                continue
            ref = _REF.search(match.group(1))
            if ref is None:
                continue
            if len(self.cells) < _MAX_KEPT:
                self.cells.append((int(ref.group(2)), column_number(ref.group(1)) - 1))
            else:
                self.more += 1


def open_cell_start(piece: bytes) -> int:
    """Where the last cell element of ``piece`` starts when it is not closed in it; else ``len(piece)``.

    A piece may also end inside any tag (``<c``, ``</c``): everything from the
    last ``<`` without its ``>`` is held back too.
    """
    end = len(piece)
    last_lt = piece.rfind(b"<")
    if last_lt >= 0 and piece.find(b">", last_lt) < 0:
        end = last_lt  # a tag cut in two
    # an open cell starts after the last closed one (cells do not nest): only that tail is searched
    closed = max(piece.rfind(b"</c>", 0, end), 0)
    start = max(piece.rfind(b"<c ", closed, end), piece.rfind(b"<c>", closed, end))
    if start < 0:
        return end
    close = piece.find(b">", start, end)
    if close >= 0 and piece[close - 1:close] == b"/":
        return end  # <c r="A1" s="2"/>: an empty cell, complete
    if piece.find(b"</c>", start, end) >= 0:
        return end
    return start


def sheet_names_by_part(zf: zipfile.ZipFile) -> dict[str, str]:
    """Map each worksheet part (``xl/worksheets/sheet1.xml``) to its sheet's name, from the workbook and its rels."""
    from defusedxml import ElementTree

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ValueError, SyntaxError):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = part
    names = {}
    for sheet in workbook.iter(f"{main}sheet"):
        part = targets.get(sheet.get(f"{rel_ns}id"))
        if part:
            names[part.lower()] = sheet.get("name", "")
    return names
