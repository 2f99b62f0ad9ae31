"""The public names of cell parsing in one place: results (:mod:`.results`) and dates (:mod:`.dates`).

Readers hand over cells *as written*; each parser returns a DataFrame aligned on the
cells' index, with one status per cell, so that the caller can turn every cell that is
not ``"ok"`` into an issue record (see :mod:`markers.ingest.issues`) without re-reading
the cell. How cells are sorted by type and parsed once per distinct value is in
:mod:`markers.ingest.cell_kinds`.
"""

from __future__ import annotations

from markers.ingest.date_parts import EXCEL_EPOCH, EXCEL_SERIAL_MAX
from markers.ingest.dates import infer_day_first, parse_dates
from markers.ingest.results import RESULT_STATUS, parse_results, upper_limit

__all__ = [
    "EXCEL_EPOCH",
    "EXCEL_SERIAL_MAX",
    "RESULT_STATUS",
    "infer_day_first",
    "parse_dates",
    "parse_results",
    "upper_limit",
]
