"""One row per patient: the overall marker status, the markers and the key days, for tables people scan."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from markers.plot.frames import day_column, n_samples, sample_key
from markers.schema import ANALYTE, ANALYTES, DAY, PATIENT_ID

__all__ = ["OVERVIEW_COLUMNS", "PATIENT_STATUSES", "analyte_summary", "natural_key", "patient_overview",
           "patient_status", "status_counts"]

#: Patient statuses, most urgent first; a patient gets the first that applies (see :func:`patient_status`).
PATIENT_STATUSES: tuple[str, ...] = ("re-elevated", "persistent", "not normalized", "normalized",
                                     "not informative")

#: Columns of :func:`patient_overview`.
OVERVIEW_COLUMNS: tuple[str, ...] = (
    PATIENT_ID, "status", "markers", "informative", "samples", "first_day", "last_day",
    "max_baseline_x_uln", "normal_day", "reelevation_day",
)


def natural_key(text: str) -> list[Any]:
    """Sort key that puts ``P2`` before ``P10``.

    Examples
    --------
    >>> sorted(["P10", "P2"], key=natural_key)
    ['P2', 'P10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(text))]


def _true(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and np.isnan(value)) \
        and bool(value)


def patient_status(rows: pd.DataFrame) -> str:
    """One patient's status from the assessment rows of its analytes.

    ``re-elevated`` when an informative analyte came back after normalizing; else ``persistent``
    when one stayed elevated at a milestone; else ``not normalized`` when an informative analyte
    has not (yet) normalized; else ``normalized``; ``not informative`` when no analyte was
    elevated at baseline.

    Examples
    --------
    >>> a = pd.DataFrame({"informative": [True, False], "normalized": [True, False],
    ...                   "persistent": [False, None], "reelevation": [False, None]})
    >>> patient_status(a)
    'normalized'
    """
    informative = rows[rows["informative"].map(_true)] if "informative" in rows else rows.iloc[:0]
    if informative.empty:
        return "not informative"
    if "reelevation" in informative and informative["reelevation"].map(_true).any():
        return "re-elevated"
    if "persistent" in informative and informative["persistent"].map(_true).any():
        return "persistent"
    if "normalized" in informative and not informative["normalized"].map(_true).all():
        return "not normalized"
    return "normalized"


def _day_lookup(rows: pd.DataFrame) -> dict[Any, float]:
    """``{sample date (or pseudonymised sample day): day since diagnosis}`` for one patient's rows."""
    if DAY not in rows.columns:
        return {}
    key = sample_key(rows)
    if key == DAY:
        return {}
    days = pd.to_numeric(rows[DAY], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    return {k: d for k, d in zip(rows[key].tolist(), days, strict=True) if not np.isnan(d)}


def assessment_day(record: pd.Series, stem: str, lookup: dict[Any, float]) -> float:
    """The day since diagnosis of an assessment date (``normalized_date`` or its pseudonymised day).

    The assessment's dates are sample dates, so each is looked up among the patient's samples:
    the same day count the figures and the samples table show. ``nan`` when there is none.
    """
    for column in (f"{stem}_date", day_column(f"{stem}_date")):
        value = record.get(column)
        if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
            continue
        return float(lookup.get(value, np.nan))
    return float("nan")


def _per_analyte(parts: list[tuple[str, float]]) -> str:
    return ", ".join(f"{a} {int(d)}" for a, d in parts if not np.isnan(d))


def patient_overview(data: pd.DataFrame, assessment: pd.DataFrame) -> pd.DataFrame:
    """One row per patient (natural ID order): status, markers and key days since diagnosis.

    Parameters
    ----------
    data
        Flagged measurements with the timeline (``day``), as :func:`markers.pipeline.analyse` gives
        them (pseudonymised data work too).
    assessment
        One row per patient and analyte.

    Returns
    -------
    pandas.DataFrame
        ``OVERVIEW_COLUMNS``: ``status`` (one of ``PATIENT_STATUSES``); ``markers`` (the analytes
        measured, space-separated); ``informative`` (those elevated at baseline); ``samples`` (distinct
        sample dates); ``first_day`` / ``last_day`` (days since diagnosis of the first and latest
        sample); ``max_baseline_x_uln`` (highest baseline multiple of the ULN); ``normal_day`` (per
        informative analyte, the day it normalized, e.g. ``"VMA 81, HVA 53"``); ``reelevation_day``
        (the earliest day of a confirmed re-elevation, ``nan`` if none).
    """
    order = {a: i for i, a in enumerate(ANALYTES)}
    assessed = dict(tuple(assessment.groupby(assessment[PATIENT_ID].astype(str), sort=False))) \
        if len(assessment) else {}
    records = []
    for pid, rows in data.groupby(data[PATIENT_ID].astype(str), sort=False):
        lookup = _day_lookup(rows)
        a_rows = assessed.get(pid, assessment.iloc[:0])
        a_rows = a_rows.iloc[sorted(range(len(a_rows)), key=lambda i: order.get(a_rows[ANALYTE].iloc[i], 99))]
        informative = [str(r[ANALYTE]) for _, r in a_rows.iterrows() if _true(r.get("informative"))]
        normal = [(str(r[ANALYTE]), assessment_day(r, "normalized", lookup))
                  for _, r in a_rows.iterrows() if _true(r.get("informative"))]
        rises = [assessment_day(r, "reelevation", lookup) for _, r in a_rows.iterrows() if _true(r.get("reelevation"))]
        days = pd.to_numeric(rows[DAY], errors="coerce").astype("float64") if DAY in rows else pd.Series([np.nan])
        baseline = pd.to_numeric(a_rows.get("baseline_x_uln", pd.Series(dtype=float)), errors="coerce")
        records.append({
            PATIENT_ID: pid,
            "status": patient_status(a_rows),
            "markers": " ".join(sorted(set(rows[ANALYTE].astype(str)), key=lambda a: (order.get(a, 99), a))),
            "informative": " ".join(informative),
            "samples": n_samples(rows),
            "first_day": float(days.min()),
            "last_day": float(days.max()),
            "max_baseline_x_uln": float(baseline.max()) if baseline.notna().any() else float("nan"),
            "normal_day": _per_analyte(normal),
            "reelevation_day": min((d for d in rises if not np.isnan(d)), default=float("nan")),
        })
    frame = pd.DataFrame.from_records(records, columns=list(OVERVIEW_COLUMNS))
    if len(frame):
        frame = frame.iloc[sorted(range(len(frame)), key=lambda i: natural_key(frame[PATIENT_ID].iloc[i]))]
    return frame.reset_index(drop=True)


def status_counts(assessment: pd.DataFrame) -> dict[str, int]:
    """Patients per status (:func:`patient_status`), in the order of ``PATIENT_STATUSES``, zeros left out.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["P1", "P2"], "informative": [True, False],
    ...                   "normalized": [True, False], "persistent": [False, None], "reelevation": [False, None]})
    >>> status_counts(a)
    {'normalized': 1, 'not informative': 1}
    """
    if assessment.empty:
        return {}
    found = [patient_status(rows) for _pid, rows in assessment.groupby(assessment[PATIENT_ID].astype(str))]
    return {s: found.count(s) for s in PATIENT_STATUSES if s in found}


def analyte_summary(assessment: pd.DataFrame) -> pd.DataFrame:
    """Patients per analyte: assessed, informative, normalized, persistent and re-elevated.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["P1", "P2"], "analyte": ["VMA", "VMA"], "informative": [True, True],
    ...                   "normalized": [True, False], "persistent": [False, True], "reelevation": [False, False]})
    >>> analyte_summary(a).to_dict("records")
    [{'analyte': 'VMA', 'patients': 2, 'informative': 2, 'normalized': 1, 'persistent': 1, 're-elevated': 0}]
    """
    columns = ["analyte", "patients", "informative", "normalized", "persistent", "re-elevated"]
    order = {a: i for i, a in enumerate(ANALYTES)}
    records = []
    for analyte, rows in sorted(assessment.groupby(ANALYTE), key=lambda item: (order.get(item[0], 99), item[0])):
        informative = rows[rows["informative"].map(_true)] if "informative" in rows else rows.iloc[:0]

        def count(column: str, frame: pd.DataFrame = informative) -> int:
            return int(frame[column].map(_true).sum()) if column in frame else 0

        records.append({"analyte": str(analyte), "patients": int(rows[PATIENT_ID].nunique()),
                        "informative": len(informative), "normalized": count("normalized"),
                        "persistent": count("persistent"), "re-elevated": count("reelevation")})
    return pd.DataFrame.from_records(records, columns=columns)
