"""Formula cells an xlsx file holds without a cached value, found while its sheet parts are streamed."""

from __future__ import annotations

import posixpath
import re
import zipfile

from markers.readers.limits import column_number

__all__ = ["FormulaScan", "sheet_names_by_part"]

# A cell element with content: <c r="C3" ...>...</c> (self-closing cells hold no formula).
_CELL = re.compile(rb'<c\s([^>]*?)(?<!/)>(.*?)</c>', re.DOTALL)
_REF = re.compile(rb'\br="([A-Za-z]{1,3})(\d{1,7})"')
_MAX_KEPT = 10_000  # cells listed per sheet; a count of the rest is kept


class FormulaScan:
    """Collects, piece by piece, the cells of one sheet part with a formula (``<f>``) but no value (``<v>``).

    Excel saves the last calculated value of every formula in ``<v>``; a file
    saved without calculation (by a script, or with calculation set to manual)
    has only ``<f>``, and every reader then sees an empty cell.
    """

    def __init__(self) -> None:
        self.cells: list[tuple[int, int]] = []  # (1-based row, 0-based column)
        self.more = 0  # found past the first _MAX_KEPT

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the part; a cell ending in its first ``overlap`` bytes was seen before."""
        if b"<f" not in chunk:
            return
        for match in _CELL.finditer(chunk):
            if match.end() <= overlap:
                continue
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
