"""markers: urinary catecholamine metabolites (VMA, HVA, ...) from lab spreadsheets to assessments.

The package is cut by stage; each stage imports only the ones above it in this list::

    readers/    files -> raw cells (safety checks, workbook and text readers)
    ingest/     raw cells -> Dataset (mapping, results, dates, units, issues)      read()
    analysis/   limits, flags, timeline, assessment, kinetics     flag(), add_timeline(), assess()
    plot/       patient page and cohort figures (ax=None -> Axes)
    report/     PDF/PNG report, text summaries
    write/      tables for the next tool (CSV, XLSX, JSON), atomic writes, provenance
    privacy/    pseudonymization
    pipeline    analyse(): all of the above in one call; the CLI is its client

Heavy modules are imported on first use, so that ``markers --help`` starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "read",
    "analyse",
    "outcomes",
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
    "read": "markers.ingest.reader",
    "analyse": "markers.pipeline",
    "Analysis": "markers.pipeline",
    "outcomes": "markers.pipeline",
    "flag": "markers.analysis.flags",
    "add_timeline": "markers.analysis.timeline",
    "assess": "markers.analysis.assess",
    "AssessmentRules": "markers.analysis.assess",
    "load_reference_limits": "markers.analysis.reference",
    "reference_sets": "markers.analysis.reference",
    "Dataset": "markers.ingest.dataset",
    "MarkersError": "markers.errors",
}

if TYPE_CHECKING:  # pragma: no cover
    from markers.analysis.assess import AssessmentRules, assess
    from markers.analysis.flags import flag
    from markers.analysis.reference import load_reference_limits, reference_sets
    from markers.analysis.timeline import add_timeline
    from markers.errors import MarkersError
    from markers.ingest.dataset import Dataset
    from markers.ingest.reader import read
    from markers.pipeline import Analysis, analyse, outcomes


def __getattr__(name: str):
    # PEP 562: import pandas-heavy modules only when their names are first used
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'markers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
