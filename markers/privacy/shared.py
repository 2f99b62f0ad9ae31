"""Whole results made fit for sharing: an analysis (every table, one pass) and an outcome analysis.

:func:`pseudonymized_analysis` takes an analysis as :func:`markers.pipeline.analyse` returns it
(``dataset``, ``measurements``, ``assessment``, ``patient_status``) and gives a copy whose tables
went through :mod:`markers.privacy.pseudonym` together, with the same pseudonyms and day anchors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from markers.privacy.pseudonym import pseudonym, pseudonymize_with, status_rise_days

__all__ = ["pseudonymized_analysis", "pseudonymized_outcomes"]


def pseudonymized_analysis(analysis: Any, *, key: bytes) -> Any:
    """A copy of ``analysis`` with keyed pseudonyms for patient IDs and days for dates (see
    :func:`markers.pipeline.pseudonymize_analysis`)."""
    # one pass: the patients, therapy and issue tables are shared by the dataset and the analysis
    extra = {"flagged": analysis.measurements}
    if analysis.assessment is not None:
        extra["assessment"] = analysis.assessment
        extra["patient_status"] = analysis.patient_status  # from the dates, before they become days
    dataset, tables = pseudonymize_with(analysis.dataset, key=key, extra=extra)
    panel = status_rise_days(tables["patient_status"]) if "patient_status" in tables else None
    return replace(analysis, dataset=dataset, measurements=tables["flagged"], assessment=tables.get("assessment"),
                   panel=panel)


def pseudonymized_outcomes(result: Any, *, key: bytes) -> Any:
    """The outcome analysis (:class:`markers.analysis.outcomes.Outcomes`) with pseudonyms in its
    per-patient table; its issue records go (their messages name patients). Changed in place, returned."""
    result.patients = result.patients.assign(patient_id=[pseudonym(p, key=key) for p in result.patients["patient_id"]])
    result.issues = result.issues.iloc[0:0]
    return result
