"""markers: urinary catecholamine metabolites (VMA, HVA, ...) from lab spreadsheets to assessments.

The pipeline, one module per stage::

    read()      ingest.py     files -> Dataset (tidy measurements, patients, therapy, issues, row accounting)
    flag()      flags.py      + age-specific upper limit, x ULN, grade   (reference.py: limits as data)
    add_timeline() timeline.py + day since diagnosis, therapy phase
    assess()    assess.py     one row per patient and analyte
    analyse()   pipeline.py   all of the above in one call

Plotting lives in :mod:`markers.plotting` (per patient) and :mod:`markers.cohort`;
reports in :mod:`markers.report`. Heavy modules are imported on first use, so that
``markers --help`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "read",
    "analyse",
    "flag",
    "add_timeline",
    "assess",
    "load_reference_limits",
    "reference_sets",
    "Dataset",
    "Analysis",
    "AssessmentRules",
    "MarkersError",
]

_LAZY = {
    "read": "markers.ingest",
    "analyse": "markers.pipeline",
    "Analysis": "markers.pipeline",
    "flag": "markers.flags",
    "add_timeline": "markers.timeline",
    "assess": "markers.assess",
    "AssessmentRules": "markers.assess",
    "load_reference_limits": "markers.reference",
    "reference_sets": "markers.reference",
    "Dataset": "markers.dataset",
    "MarkersError": "markers.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from markers.assess import AssessmentRules, assess
    from markers.dataset import Dataset
    from markers.errors import MarkersError
    from markers.flags import flag
    from markers.ingest import read
    from markers.pipeline import Analysis, analyse
    from markers.reference import load_reference_limits, reference_sets
    from markers.timeline import add_timeline


def __getattr__(name: str):
    # PEP 562: import pandas-heavy modules only when their names are first used
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'markers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
