"""ods table extents from rows and cells with their repeat counts, counting only cells that hold something.

Used by :func:`markers.readers.limits.check_workbook_extent` on ``content.xml``
before the fast reader runs: a row or cell repeated a million times is what an
ods file may claim in a few bytes, and the reader would fill it.

Examples
--------
>>> extent = OdsExtent()
>>> extent.feed(b'<table:table><table:table-row table:number-rows-repeated="3">'
...             b'<table:table-cell office:value-type="float"/><table:table-cell/></table:table-row>', 0)
>>> extent.rows, extent.columns, extent.repeated
(3, 1, 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["OdsExtent"]

_ODS_ROW = re.compile(rb"<table:table-row\b([^>]*)>|<table:table-row\b([^>]*)/>|</table:table-row>|"
                      rb"<table:table-cell\b([^>]*?)(/?)>|<table:table[\s>]")
_ODS_ROWS_REPEATED = re.compile(rb"table:number-rows-repeated=\"(\d+)\"")
_ODS_COLS_REPEATED = re.compile(rb"table:number-columns-repeated=\"(\d+)\"")


@dataclass
class OdsExtent:
    """Rows and columns an ods table expands to, counting repeats of cells that hold something."""

    rows: int = 0
    columns: int = 0
    row: int = 0
    column: int = 0
    row_repeat: int = 1
    row_has_value: bool = False
    row_valued: int = 0  # cells holding something in the current row, repeats counted
    row_written: int = 0  # cell elements holding something in the current row
    repeated: int = 0  # cells holding something that exist only through a repeat count

    def feed(self, chunk: bytes, overlap: int) -> None:
        """Take one piece of the content; a tag ending in its first ``overlap`` bytes was seen before."""
        for match in _ODS_ROW.finditer(chunk):
            if match.end() <= overlap:
                continue
            tag = match.group(0)
            if tag.startswith(b"<table:table-row"):
                found = _ODS_ROWS_REPEATED.search(match.group(1) or match.group(2) or b"")
                self.row_repeat, self.column, self.row_has_value = int(found.group(1)[:12]) if found else 1, 0, False
                self.row_valued = self.row_written = 0
                if tag.endswith(b"/>"):
                    self.row += self.row_repeat
            elif tag == b"</table:table-row>":
                self.row += self.row_repeat
                if self.row_has_value:
                    self.rows = max(self.rows, self.row)
                    self.repeated += self.row_repeat * self.row_valued - self.row_written
            elif tag.startswith(b"<table:table-cell"):
                attrs = match.group(3) or b""
                found = _ODS_COLS_REPEATED.search(attrs)
                repeat = int(found.group(1)[:12]) if found else 1
                self.column += repeat
                if b"office:value-type" in attrs or match.group(4) == b"":
                    # a cell with a value, or one with content (text) inside
                    self.row_has_value = True
                    self.row_valued += repeat
                    self.row_written += 1
                    self.columns = max(self.columns, self.column)
            else:  # a new table: positions restart
                self.row = self.column = 0
