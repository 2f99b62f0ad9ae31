"""CDISC ADaM-shaped tables: an ADLB-like lab table from the measurements, an ADTTE-like one from outcomes.

The variables, labels and types are listed in ``docs/adam.md`` (a define file in prose). These are
ADaM-*shaped* tables for a statistician's convenience, not a validated submission dataset: there is no
STUDYID, no TRTSDT (ADY counts from markers' anchor, the diagnosis date) and PARAMCD values are
markers' own codes, not CDISC controlled terminology.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.schema import (
    ANALYTE,
    CENSOR,
    CENSOR_INCLUSIVE,
    DAY,
    ELEVATED,
    PATIENT_ID,
    PHASE,
    SAMPLE_DATE,
    ULN,
    UNIT,
    VALUE,
    X_ULN,
)
from markers.write.codes import UCUM, loinc_for, param, paramcd

#: ADLB variables in order: name -> (label, type). Type ``Char``, ``Num`` or ``Date``.
ADLB_VARIABLES: dict[str, tuple[str, str]] = {
    "USUBJID": ("Unique Subject Identifier", "Char"),
    "PARAMCD": ("Parameter Code", "Char"),
    "PARAM": ("Parameter", "Char"),
    "AVAL": ("Analysis Value", "Num"),
    "AVALC": ("Analysis Value (C)", "Char"),
    "AVALU": ("Analysis Value Unit", "Char"),
    "ANRHI": ("Analysis Normal Range Upper Limit", "Num"),
    "R2ANRHI": ("Ratio to Analysis Range Upper Limit", "Num"),
    "ANRIND": ("Analysis Reference Range Indicator", "Char"),
    "ADT": ("Analysis Date", "Date"),
    "ADY": ("Analysis Relative Day", "Num"),
    "AVISIT": ("Analysis Visit", "Char"),
    "LBLOINC": ("LOINC Code", "Char"),
}

#: ADTTE variables in order: name -> (label, type).
ADTTE_VARIABLES: dict[str, tuple[str, str]] = {
    "USUBJID": ("Unique Subject Identifier", "Char"),
    "PARAMCD": ("Parameter Code", "Char"),
    "PARAM": ("Parameter", "Char"),
    "AVAL": ("Analysis Value", "Num"),
    "AVALU": ("Analysis Value Unit", "Char"),
    "CNSR": ("Censor", "Num"),
    "STARTDT": ("Time-to-Event Origin Date for Subject", "Date"),
    "ADT": ("Analysis Date", "Date"),
    "EVNTDESC": ("Event or Censoring Description", "Char"),
    "LANDMARK": ("Landmark (Time Origin Milestone)", "Char"),
    "LMGRP": ("Group at the Landmark", "Char"),
    "ANL01FL": ("Analysis Flag 01: Included", "Char"),
    "ANL01RSN": ("Reason Not Included", "Char"),
}

_ENDPOINTS = {"EFS": "Event-free survival (days)", "OS": "Overall survival (days)"}


def number_text(value: float) -> str:
    """A value's shortest exact text, without a trailing ``.0`` (``0.5``, ``12``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _avalc(frame: pd.DataFrame) -> list[str]:
    result = []
    for censor, inclusive, value in zip(frame[CENSOR], frame[CENSOR_INCLUSIVE], frame[VALUE], strict=True):
        if censor in ("<", ">") and not pd.isna(value):
            result.append(f"{censor}{'=' if inclusive is True else ''}{number_text(value)}")
        else:
            result.append("")
    return result


def _anrind(elevated: pd.Series) -> list[str]:
    return ["" if pd.isna(e) else ("HIGH" if bool(e) else "NORMAL") for e in elevated]


def adlb(measurements: pd.DataFrame) -> pd.DataFrame:
    """The flagged measurements as an ADLB-like table (one row per measurement).

    ``AVAL`` is the numeric result; a censored result (``<0.5``) has ``AVAL`` missing and
    ``AVALC`` holding it as written in the output unit. ``ANRIND`` is ``HIGH`` or ``NORMAL`` (blank when
    indeterminate or no limit). ``ADY`` is the day relative to the diagnosis (markers' ``day``) in ADaM's
    convention: day 1 is the anchor day, the day before it is -1 (there is no day 0). ``AVISIT`` is the
    treatment phase. A pseudonymized table (``sample_day`` instead of ``sample_date``) has no ``ADT``.

    Parameters
    ----------
    measurements
        :attr:`markers.pipeline.Analysis.measurements` (flagged, with the timeline).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`ADLB_VARIABLES` (without ``ADT`` when there are no dates), sorted by
        ``USUBJID``, ``PARAMCD``, ``ADY``; ``frame.attrs["labels"]`` holds the variable labels.
    """
    m = measurements.reset_index(drop=True)
    censored = m[CENSOR].isin(["<", ">"]).to_numpy(dtype=bool)
    units = m[UNIT].astype(str)
    codes = [loinc_for(a, u) for a, u in zip(m[ANALYTE], units, strict=True)]
    day = pd.array(m[DAY], dtype="Int64") if DAY in m else pd.array([pd.NA] * len(m), dtype="Int64")
    out = pd.DataFrame({
        "USUBJID": m[PATIENT_ID].astype(str),
        "PARAMCD": [paramcd(a, u) for a, u in zip(m[ANALYTE], units, strict=True)],
        "PARAM": [param(a, u) for a, u in zip(m[ANALYTE], units, strict=True)],
        "AVAL": np.where(censored, np.nan, m[VALUE].to_numpy(dtype=float)),
        "AVALC": _avalc(m),
        "AVALU": [UCUM.get(u, u) for u in units],
        "ANRHI": m[ULN].to_numpy(dtype=float),
        "R2ANRHI": np.where(censored, np.nan, m[X_ULN].to_numpy(dtype=float)),
        "ANRIND": _anrind(m[ELEVATED]),
        "ADT": m[SAMPLE_DATE] if SAMPLE_DATE in m else None,
        "ADY": pd.array([pd.NA if pd.isna(d) else (d + 1 if d >= 0 else d) for d in day], dtype="Int64"),
        "AVISIT": [p[:1].upper() + p[1:] if isinstance(p, str) else "" for p in m[PHASE]]
        if PHASE in m else "",
        "LBLOINC": ["" if c is None else c[0] for c in codes],
    })
    if SAMPLE_DATE not in m:
        out = out.drop(columns="ADT")
    out = out.sort_values(["USUBJID", "PARAMCD", "ADY"], kind="stable").reset_index(drop=True)
    out.attrs["labels"] = {name: ADLB_VARIABLES[name][0] for name in out.columns}
    return out


def adtte(patients: pd.DataFrame) -> pd.DataFrame:
    """An outcomes ``patients`` table as an ADTTE-like table (one row per patient, endpoint and landmark).

    Parameters
    ----------
    patients
        Columns ``patient_id``, ``endpoint`` (``EFS`` or ``OS``, any case), ``landmark``, ``group``,
        ``included`` (bool), ``reason``, ``time_days``, ``event`` (bool: True = event, False = censored);
        optionally ``start_date`` (the time origin). Without ``start_date`` (a pseudonymized table)
        there is no ``STARTDT`` nor ``ADT``.

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`ADTTE_VARIABLES`: ``CNSR`` is 0 for an event and 1 for a censored time (ADaM's
        convention, the opposite of an event indicator); ``ADT`` = ``STARTDT`` + ``AVAL`` days.

    Raises
    ------
    ValueError
        When a column is missing or an endpoint is not EFS or OS.
    """
    needed = ["patient_id", "endpoint", "landmark", "group", "included", "reason", "time_days", "event"]
    missing = [c for c in needed if c not in patients.columns]
    if missing:
        raise ValueError(f"the outcomes table lacks the column(s) {', '.join(missing)}")
    p = patients.reset_index(drop=True)
    endpoints = p["endpoint"].astype(str).str.upper()
    unknown = sorted(set(endpoints) - set(_ENDPOINTS))
    if unknown:
        raise ValueError(f"endpoint(s) {', '.join(unknown)} have no ADTTE parameter; use EFS or OS")
    event = p["event"].astype("boolean")
    included = p["included"].astype("boolean").fillna(False)
    time = pd.to_numeric(p["time_days"], errors="coerce").astype(float)
    out = pd.DataFrame({
        "USUBJID": p["patient_id"].astype(str),
        "PARAMCD": endpoints,
        "PARAM": [_ENDPOINTS[e] for e in endpoints],
        "AVAL": time,
        "AVALU": "DAYS",
        "CNSR": pd.array([pd.NA if pd.isna(e) else (0 if e else 1) for e in event], dtype="Int64"),
        "STARTDT": pd.to_datetime(p["start_date"]) if "start_date" in p else None,
        "ADT": None,
        "EVNTDESC": ["" if pd.isna(e) else ("Event" if e else "Censored") for e in event],
        "LANDMARK": p["landmark"].fillna("").astype(str),
        "LMGRP": p["group"].fillna("").astype(str),
        "ANL01FL": ["Y" if i else "" for i in included],
        "ANL01RSN": ["" if i else ("" if pd.isna(r) else str(r)) for i, r in zip(included, p["reason"], strict=True)],
    })
    if "start_date" in p:
        out["ADT"] = out["STARTDT"] + pd.to_timedelta(time.round(), unit="D")
    else:
        out = out.drop(columns=["STARTDT", "ADT"])
    out.attrs["labels"] = {name: ADTTE_VARIABLES[name][0] for name in out.columns}
    return out
