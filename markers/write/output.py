"""Every file markers writes goes through this package; this module keeps the public names in one place.

Three guarantees hold for all outputs:

* **Atomic.** Data goes to a temporary file beside the target, is flushed
  and ``fsync``-ed, then moved into place with :func:`os.replace`
  (:mod:`markers.write.atomic`).
* **Inputs are never overwritten.** Every writer takes ``inputs=`` and
  refuses a target that is the same file as one of them.
* **Text is never executed.** In XLSX every text cell is stored as a string
  cell; for CSV/TSV ``safe_csv=True`` applies the OWASP advice against CSV
  injection (:mod:`markers.write.cells`).

The work is split by job: :mod:`~markers.write.atomic` (atomic writes),
:mod:`~markers.write.provenance` (provenance records), :mod:`~markers.write.cells`
(cell conversion), :mod:`~markers.write.xlsx` (workbooks), :mod:`~markers.write.tables`
(the extension chooses the format), :mod:`~markers.write.arrow` (Parquet, Feather),
:mod:`~markers.write.stats` (Stata, SAS transport, SPSS), :mod:`~markers.write.adam` (CDISC shapes),
:mod:`~markers.write.fhir` (FHIR R4), :mod:`~markers.write.png` (PNG encoding).
"""

from __future__ import annotations

from markers.write.atomic import PathLike, atomic_write, check_target, write_bytes_atomic
from markers.write.cells import FORMULA_TRIGGERS, neutralise_formula
from markers.write.png import png_bytes
from markers.write.provenance import PROVENANCE_SUFFIX, provenance_record, sidecar_path
from markers.write.tables import TABLE_FORMATS, write_table, write_tables
from markers.write.xlsx import PROVENANCE_SHEET

__all__ = [
    "FORMULA_TRIGGERS",
    "PROVENANCE_SHEET",
    "PROVENANCE_SUFFIX",
    "TABLE_FORMATS",
    "PathLike",
    "atomic_write",
    "check_target",
    "neutralise_formula",
    "png_bytes",
    "provenance_record",
    "sidecar_path",
    "write_bytes_atomic",
    "write_table",
    "write_tables",
]
