"""Warnings on the tidy measurements and exact duplicates collapsed: dilute urine, duplicates,
unknown patients, unknown ages (the second step of :mod:`markers.ingest.normalize`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.ingest.issues import IssueLog, issue_frame
from markers.schema import (
    AGE_DAYS,
    ANALYTE,
    CENSOR,
    CREATININE,
    DILUTE,
    PATIENT_ID,
    SAMPLE_DATE,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    VALUE,
)

__all__ = ["warn_and_deduplicate"]


def _in_shared_runs(m: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Rows of a table sorted by ``key`` whose key equals the previous or the next row's."""
    same = np.ones(max(len(m) - 1, 0), dtype=bool)
    for column in key:
        values = m[column].array
        same &= np.asarray(values[1:] == values[:-1], dtype=bool)
    shared = np.zeros(len(m), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    return shared


def warn_and_deduplicate(measurements: pd.DataFrame, *, sheet_patient_ids: set[str] | None, log: IssueLog) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """Dilute urine, duplicates, unknown patients, unknown age; returns the deduplicated table and rows collapsed.

    ``measurements`` come in patient order (patient, sample date, analyte), as
    :func:`normalize_records` gives them, with each record's position as index.
    """
    # The measurements come in patient order; their index is each record's position, so the
    # issues below are written in record (sheet) order, as the sheet reads: sort_index on the few.
    m = measurements
    dilute = m[m[DILUTE].to_numpy()].sort_index()
    if len(dilute):  # vectorised: a registry export can hold tens of thousands of dilute samples
        text = "creatinine " + dilute[CREATININE].map("{:.2f}".format) + " mmol/L"
        log.extend(issue_frame("dilute-urine", file=dilute[SOURCE_FILE], sheet=dilute[SOURCE_SHEET],
                               cells=dilute[SOURCE_CELL], rows=dilute[SOURCE_ROW], column=dilute[ANALYTE],
                               values=text, messages="Dilute urine: " + text))
    key = [PATIENT_ID, SAMPLE_DATE, ANALYTE]
    # In patient order, results that share patient, date and analyte sit next to each other:
    # only those runs are searched for duplicates (a registry export has few or none).
    shared = _in_shared_runs(m, key)
    exact = pd.Series(False, index=m.index)
    if shared.any():
        exact[shared] = m[shared].duplicated(key + [VALUE, CENSOR], keep="first").to_numpy()
    collapsed = []
    for rec in m[exact].sort_index().itertuples():
        log.add("duplicate-result", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                column=rec.analyte, value=rec.source_value,
                message=f"Exact duplicate of an earlier {rec.analyte} result for {rec.patient_id} on {rec.sample_date:%Y-%m-%d}; kept once")
        collapsed.append((rec.source_file, rec.source_sheet, rec.source_row))
    if exact.any():
        m = m[~exact.to_numpy()]
        shared = _in_shared_runs(m, key)
    conflict = pd.Series(False, index=m.index)
    if shared.any():
        conflict[shared] = m[shared].duplicated(key, keep=False).to_numpy()
    for rec in m[conflict].sort_index().itertuples():
        log.add("conflicting-duplicate", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                column=rec.analyte, value=rec.source_value,
                message=f"{rec.analyte} for {rec.patient_id} on {rec.sample_date:%Y-%m-%d} has conflicting results; both kept")
    if sheet_patient_ids is not None:
        unknown = m[~m[PATIENT_ID].isin(sheet_patient_ids)].sort_index().drop_duplicates(PATIENT_ID)
        for rec in unknown.itertuples():
            log.add("unknown-patient", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                    column="patient ID", value=rec.patient_id, message=f"Patient {rec.patient_id} is not in any patients sheet")
    no_age = m[m[AGE_DAYS].isna()].sort_index().drop_duplicates(PATIENT_ID)
    for rec in no_age.itertuples():
        log.add("no-age", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                column="patient ID", value=rec.patient_id, message=f"No date of birth or age for patient {rec.patient_id}")
    return m, collapsed


