"""The counts taken of each workbook sheet while its XML is streamed once: rows with values, formulas without one."""

from __future__ import annotations

from markers.readers.formulas import FormulaScan, sheet_names_by_part
from markers.readers.ods_scan import OdsScan
from markers.readers.row_count import SheetScan, XlsxRowCount

__all__ = ["OdsPartScan", "XlsxPartScan", "sheet_names_by_part"]


class XlsxPartScan:
    """One xlsx worksheet part, fed piece by piece: its formulas without a value and its rows with one."""

    def __init__(self, name: str, part: str) -> None:
        self.formulas = FormulaScan()
        self.rows = XlsxRowCount(name, part)

    def feed(self, chunk: bytes, overlap: int) -> None:
        self.formulas.feed(chunk, overlap)
        self.rows.feed(chunk, overlap)

    def result(self) -> SheetScan:
        return SheetScan(self.rows, self.formulas.cells)


class OdsPartScan(OdsScan):
    """An ods ``content.xml``, fed piece by piece: per table, its rows with values and formulas without one."""

    def result(self) -> dict[str, SheetScan]:
        return {table: SheetScan(rows, self.formulas.get(table, [])) for table, rows in self.rows.items()}
