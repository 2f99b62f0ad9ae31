"""The patient-level panel status as the report shows it: table cells, a patient's line and the footnote."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from markers.analysis.panel import patient_status
from markers.plot.days import day_origins
from markers.schema import PATIENT_ID

__all__ = ["PANEL_FOOTNOTE", "PANEL_HEADER", "PANEL_MILESTONES", "panel_cells", "panel_line", "panel_with_days",
           "report_panel"]

#: The milestones the report shows (the outcome literature's landmarks); every other one is in the tables.
PANEL_MILESTONES = ("end_of_induction", "complete_remission")

#: Column headings of the report's patient-level table, in the order of :func:`panel_cells`.
PANEL_HEADER = ["patient", "informative\nmarkers", "end of\ninduction", "complete\nremission", "persistent",
                "re-\nelevation", "unconfirmed\nrise (day)"]

#: Where the rule comes from, said under every table and line that shows it.
PANEL_FOOTNOTE = ("Patient-level status (Matser et al. 2025): positive = any informative marker elevated at "
                  "the milestone, negative = none elevated and at least one normal, unknown = no informative "
                  "marker could be judged. Persistent = positive in complete remission; unconfirmed rise = one "
                  "elevated sample after normalization, repeat advised. Rules and sources: docs/clinical-rules.md.")


def report_panel(assessment: pd.DataFrame, *, status: pd.DataFrame | None = None) -> pd.DataFrame:
    """The patient-level status for a report: ``status`` when given (a pseudonymized one carries its
    unconfirmed rise as ``unconfirmed_rise_day``), else computed from ``assessment`` with the default rules."""
    if status is not None:
        return status
    return patient_status(assessment)


def panel_with_days(status: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``status`` with ``unconfirmed_rise_day``: days since each patient's day 0, as on every page.

    Pseudonymized tables already carry the day (since the same anchor): it is kept.

    Examples
    --------
    >>> s = pd.DataFrame({"patient_id": ["A"], "unconfirmed_rise_date": pd.to_datetime(["2024-03-01"])})
    >>> d = pd.DataFrame({"patient_id": ["A"], "sample_date": pd.to_datetime(["2024-01-11"]), "day": [10]})
    >>> int(panel_with_days(s, d)["unconfirmed_rise_day"].iloc[0])  # day 0 = 2024-01-01
    60
    """
    out = status.copy()
    if "unconfirmed_rise_day" in out.columns or "unconfirmed_rise_date" not in out.columns:
        return out
    origins = day_origins(data)
    start = pd.to_datetime(origins.reindex(out[PATIENT_ID].astype(str).to_numpy())).to_numpy()
    days = (pd.to_datetime(out["unconfirmed_rise_date"]).to_numpy() - start) / np.timedelta64(1, "D")
    out["unconfirmed_rise_day"] = pd.array(np.floor(np.asarray(days, dtype="float64")), dtype="Float64").astype(
        "Int64") if len(out) else pd.array([], dtype="Int64")
    return out


def _yes_no(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "unknown"
    return "yes" if bool(value) else "no"


def _status(record: pd.Series, milestone: str) -> str:
    value = record.get(f"status_{milestone}")
    return str(value) if isinstance(value, str) and value else "unknown"


def _rise(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value)}"


def panel_cells(status: pd.DataFrame) -> list[list[str]]:
    """One row of cells per patient with an informative marker (``PANEL_HEADER`` order), in table order.

    Examples
    --------
    >>> s = pd.DataFrame({"patient_id": ["P1", "P2"], "informative": pd.array([True, False], dtype="boolean"),
    ...     "informative_markers": ["VMA, HVA", ""], "status_end_of_induction": ["positive", "unknown"],
    ...     "status_complete_remission": ["negative", "unknown"],
    ...     "persistent": pd.array([False, pd.NA], dtype="boolean"),
    ...     "reelevation": pd.array([pd.NA, pd.NA], dtype="boolean"),
    ...     "unconfirmed_rise_day": pd.array([412, pd.NA], dtype="Int64")})
    >>> panel_cells(s)
    [['P1', 'VMA, HVA', 'positive', 'negative', 'no', 'unknown', '412']]
    """
    rows = []
    informative = status["informative"].astype("boolean").fillna(False).to_numpy(dtype=bool) \
        if len(status) else np.array([], dtype=bool)
    for _, record in status[informative].iterrows():
        rows.append([str(record[PATIENT_ID]), str(record.get("informative_markers", "")),
                     *[_status(record, m) for m in PANEL_MILESTONES],
                     _yes_no(record.get("persistent")), _yes_no(record.get("reelevation")),
                     _rise(record.get("unconfirmed_rise_day"))])
    return rows


def panel_line(status: pd.DataFrame, patient: str) -> str:
    """The patient page's one line of panel status (empty when the patient has no row).

    Examples
    --------
    >>> s = pd.DataFrame({"patient_id": ["P1"], "informative": pd.array([True], dtype="boolean"),
    ...     "informative_markers": ["HVA"], "status_end_of_induction": ["positive"],
    ...     "status_complete_remission": ["negative"], "persistent": pd.array([False], dtype="boolean"),
    ...     "reelevation": pd.array([False], dtype="boolean"),
    ...     "unconfirmed_rise_day": pd.array([520], dtype="Int64")})
    >>> panel_line(s, "P1")
    'Patient-level status (Matser 2025; informative HVA): end of induction positive · complete remission negative · persistent no · re-elevation no · unconfirmed rise on day 520, repeat advised'
    """
    rows = status[status[PATIENT_ID].astype(str) == str(patient)] if len(status) else status
    if rows.empty:
        return ""
    record = rows.iloc[0]
    informative = record.get("informative")
    if informative is pd.NA or informative is None or pd.isna(informative):
        return "Patient-level status: informativeness unknown (no marker could be judged at baseline)"
    if not bool(informative):
        return "Patient-level status: not marker-informative (every marker normal at baseline)"
    parts = [f"{m.replace('_', ' ')} {_status(record, m)}" for m in PANEL_MILESTONES]
    parts += [f"persistent {_yes_no(record.get('persistent'))}", f"re-elevation {_yes_no(record.get('reelevation'))}"]
    rise = record.get("unconfirmed_rise_day")
    if rise is not None and not pd.isna(rise):
        parts.append(f"unconfirmed rise on day {int(rise)}, repeat advised")
    return f"Patient-level status (Matser 2025; informative {record.get('informative_markers', '')}): " + " · ".join(
        parts)
