"""Does marker status predict relapse? EFS and OS by panel status at landmarks.

A landmark analysis (Anderson, Cain & Gelber, J Clin Oncol 1983;1:710-9) starts the clock at a
milestone (end of induction, complete remission, ...): only patients alive, event-free and still
followed at the landmark are included, grouped by their marker status there, and their time counts
from the landmark. Counting the time before the landmark ("immortal time") or grouping by a status
reached later would flatter the positive group's comparators; every excluded patient is counted
with a reason instead. The landmark ``diagnosis`` is the plain analysis from diagnosis.

The status comes from a table with one row per patient and ``status_<milestone>`` columns holding
``"positive"``, ``"negative"`` or ``"unknown"`` (``markers.analysis.panel.patient_status``); until
that exists, a private stand-in in this module derives it from the per-analyte assessment.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from markers.analysis import survival
from markers.analysis.endpoints import endpoint_table
from markers.analysis.timeline import event_dates
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    EFS_DAYS,
    EFS_EVENT,
    EVENTS,
    ISSUE_COLUMNS,
    MYCN,
    OS_DAYS,
    OS_EVENT,
    PATIENT_ID,
    STAGE,
)

__all__ = [
    "DEFAULT_LANDMARKS", "Outcomes", "has_outcome_data", "landmark_cohort", "outcomes", "outcomes_of_analysis",
]

ENDPOINTS = {"EFS": (EFS_DAYS, EFS_EVENT), "OS": (OS_DAYS, OS_EVENT)}
DEFAULT_LANDMARKS = ("end_of_induction", "complete_remission")
GROUPS = ("positive", "negative", "unknown")
PATIENT_COLUMNS = ["patient_id", "endpoint", "landmark", "group", "included", "reason", "time_days", "event"]
CURVE_COLUMNS = ["endpoint", "landmark", "group", "time_days", "survival", "ci_low", "ci_high", "at_risk"]
TEST_COLUMNS = ["endpoint", "landmark", "n_positive", "n_negative", "events_positive", "events_negative",
                "logrank_chi2", "logrank_p", "hazard_ratio", "hr_ci_low", "hr_ci_high",
                "n_unknown", "adjusted_hazard_ratio", "adjusted_hr_ci_low", "adjusted_hr_ci_high", "adjusted_for",
                "warning"]
ESTIMATE_COLUMNS = ["endpoint", "landmark", "group", "n", "events", "median_days", "median_ci_low",
                    "median_ci_high", "survival_3y", "survival_3y_ci_low", "survival_3y_ci_high",
                    "survival_5y", "survival_5y_ci_low", "survival_5y_ci_high", "warning"]
YEAR_DAYS = 365.25
#: Age at diagnosis of 18 months: the INRG risk cut-off (Cohn et al., J Clin Oncol 2009;27:289-97).
AGE_CUTOFF_DAYS = 18 * 30.4375


@dataclass
class Outcomes:
    """The tables of :func:`outcomes` (columns ``PATIENT_COLUMNS``, ``CURVE_COLUMNS``, ``TEST_COLUMNS``,
    ``ESTIMATE_COLUMNS``) and the issue records of missing follow-up."""

    patients: pd.DataFrame
    curves: pd.DataFrame
    tests: pd.DataFrame
    estimates: pd.DataFrame
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ISSUE_COLUMNS))
    min_patients: int = 10
    min_events: int = 5

    def tables(self) -> dict[str, pd.DataFrame]:
        """``{"patients", "curves", "tests", "estimates"}``: what ``markers outcomes`` writes."""
        return {"patients": self.patients, "curves": self.curves, "tests": self.tests, "estimates": self.estimates}


# -- status -------------------------------------------------------------------------------------


# Fallback until markers.analysis.panel.patient_status is available: panel.patient_status replaces
# it (outcomes_of_analysis uses panel when it can be imported). Same columns, simpler rule.
def _fallback_patient_status(assessment: pd.DataFrame, *, milestones: Sequence[str]) -> pd.DataFrame:
    """Panel status per patient at each milestone, from the per-analyte assessment.

    Positive when any informative analyte (elevated at baseline) is elevated at the milestone's
    sample; negative when every informative analyte with a status there is normal and none is
    indeterminate; unknown otherwise (not informative, no sample near the milestone, milestone
    not reached). A stand-in with the columns of ``markers.analysis.panel.patient_status``
    (``patient_id``, ``informative``, ``informative_markers``, ``status_<milestone>``):
    that function replaces it where it is available (see :func:`outcomes_of_analysis`).
    """
    rows = []
    for pid, frame in assessment.groupby(PATIENT_ID, sort=True):
        informative = frame[frame["informative"].astype("boolean").fillna(False).astype(bool)]
        row = {PATIENT_ID: str(pid), "informative": len(informative) > 0,
               "informative_markers": ", ".join(informative["analyte"].astype(str))}
        for milestone in milestones:
            column = f"status_{milestone}"
            values = set(informative[column].fillna("").astype(str)) if column in informative else set()
            if "elevated" in values:
                row[column] = "positive"
            elif values == {"normal"}:
                row[column] = "negative"
            else:
                row[column] = "unknown"
        rows.append(row)
    columns = [PATIENT_ID, "informative", "informative_markers", *[f"status_{m}" for m in milestones]]
    return pd.DataFrame(rows, columns=columns)


# -- the per-patient table --------------------------------------------------------------------------


def landmark_cohort(endpoints: pd.DataFrame, *, landmark: str, landmark_days: pd.Series | None = None,
                    status: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who is in the landmark analysis, in which group, with what time and event: both endpoints.

    Parameters
    ----------
    endpoints
        :func:`markers.analysis.endpoints.endpoint_table` (``patient_id``, ``efs_days``, ``efs_event``,
        ``os_days``, ``os_event``; days from diagnosis).
    landmark
        ``"diagnosis"`` or a milestone event code.
    landmark_days
        Days from diagnosis to the landmark, by ``patient_id`` (NaN: not reached or not dated).
        Not needed for ``"diagnosis"``.
    status
        One row per patient with ``status_<landmark>`` (positive/negative/unknown). Without it
        (or without that column) every included patient is in group ``"all"``.

    Returns
    -------
    pandas.DataFrame
        ``PATIENT_COLUMNS``: two rows per patient (EFS, OS). Excluded patients have ``included``
        False, a ``reason`` and no time. Reasons: ``no outcome``, ``inconsistent outcome``,
        ``landmark not reached``, ``event before landmark``, ``follow-up ends before landmark``.
        An event on the landmark day counts as before it.
    """
    ids = endpoints[PATIENT_ID].astype(str).to_numpy()
    lm = np.zeros(len(ids)) if landmark == "diagnosis" else \
        (landmark_days.reindex(ids).to_numpy(dtype="float64") if landmark_days is not None else np.full(len(ids), np.nan))
    column = f"status_{landmark}"
    if status is not None and column in status.columns:
        groups = status.assign(**{PATIENT_ID: status[PATIENT_ID].astype(str)}).set_index(PATIENT_ID)[column]
        group = groups.reindex(ids).fillna("unknown").astype(str).where(lambda g: g.isin(GROUPS), "unknown").to_numpy()
    else:
        group = np.full(len(ids), "all", dtype=object)
    parts = []
    for endpoint, (days_col, event_col) in ENDPOINTS.items():
        days = endpoints[days_col].to_numpy(dtype="float64")
        event = endpoints[event_col].astype("boolean").fillna(False).to_numpy(dtype=bool)
        reason = np.select(
            [np.isnan(days), days < 0, np.isnan(lm), event & (days <= lm), ~event & (days <= lm)],
            ["no outcome", "inconsistent outcome", "landmark not reached", "event before landmark",
             "follow-up ends before landmark"], "")
        included = reason == ""
        parts.append(pd.DataFrame({
            "patient_id": ids, "endpoint": endpoint, "landmark": landmark, "group": group, "included": included,
            "reason": reason, "time_days": np.where(included, days - lm, np.nan),
            "event": pd.array(np.where(included, event, None), dtype="boolean"),
        }))
    return pd.concat(parts, ignore_index=True)[PATIENT_COLUMNS]


# -- statistics per endpoint × landmark -------------------------------------------------------------


def _estimates(rows: pd.DataFrame, *, endpoint: str, landmark: str, group: str, min_patients: int,
               min_events: int) -> tuple[pd.DataFrame, dict]:
    time, event = rows["time_days"].to_numpy(dtype="float64"), rows["event"].to_numpy(dtype=bool)
    curve = survival.kaplan_meier(time, event)
    out = curve[["time_days", "survival", "ci_low", "ci_high", "at_risk"]].assign(
        endpoint=endpoint, landmark=landmark, group=group)[CURVE_COLUMNS]
    median = survival.median_survival(time, event)
    at = survival.estimate_at(curve, [3 * YEAR_DAYS, 5 * YEAR_DAYS])
    n, events = len(time), int(event.sum())
    warning = ""
    if n < min_patients or events < min_events:
        warning = f"few patients or events ({n} patients, {events} events): estimate imprecise"
    estimate = {"endpoint": endpoint, "landmark": landmark, "group": group, "n": n, "events": events,
                "median_days": median[0], "median_ci_low": median[1], "median_ci_high": median[2],
                "warning": warning}
    for label, i in (("3y", 0), ("5y", 1)):
        estimate[f"survival_{label}"] = at["survival"].iloc[i]
        estimate[f"survival_{label}_ci_low"] = at["ci_low"].iloc[i]
        estimate[f"survival_{label}_ci_high"] = at["ci_high"].iloc[i]
    return out, estimate


def _covariates(ids: pd.Series, patients: pd.DataFrame | None) -> pd.DataFrame:
    """Age group (≥ 18 months), stage (indicators against the most common) and MYCN amplification."""
    if patients is None or not len(patients):
        return pd.DataFrame(index=ids.index)
    table = patients.drop_duplicates(PATIENT_ID).set_index(patients[PATIENT_ID].drop_duplicates().astype(str))
    cov = pd.DataFrame(index=ids.index)
    if AGE_AT_DIAGNOSIS_DAYS in table:
        age = pd.to_numeric(ids.map(table[AGE_AT_DIAGNOSIS_DAYS]), errors="coerce")
        cov["age >= 18 months"] = (age >= AGE_CUTOFF_DAYS).astype(float).where(age.notna())
    if STAGE in table:
        stage = ids.map(table[STAGE]).fillna("").astype(str).replace("", np.nan)
        if stage.nunique() > 1:
            reference = stage.value_counts().index[0]
            for level in sorted(set(stage.dropna()) - {reference}):
                cov[f"stage {level} (vs {reference})"] = (stage == level).astype(float).where(stage.notna())
    if MYCN in table:
        mycn = ids.map(table[MYCN]).fillna("").astype(str)
        cov["MYCN amplified"] = (mycn == "amplified").astype(float).where(mycn != "")
    return cov.loc[:, cov.nunique() > 1]


def _adjusted(rows: pd.DataFrame, patients: pd.DataFrame | None) -> dict:
    cov = _covariates(rows[PATIENT_ID].astype(str), patients)
    if cov.empty:
        return {"adjusted_for": ""}
    data = pd.concat([rows["group"].eq("positive").astype(float).rename("positive"), cov], axis=1)
    complete = data.notna().all(axis=1).to_numpy()
    events = int(rows["event"].to_numpy(dtype=bool)[complete].sum())
    names = ", ".join(cov.columns)
    if events < survival.EVENTS_PER_COEFFICIENT * data.shape[1]:
        return {"adjusted_for": f"not fitted: {events} events for {data.shape[1]} coefficients ({names})"}
    fit = survival.cox_model(rows["time_days"].to_numpy(dtype="float64")[complete],
                             rows["event"].to_numpy(dtype=bool)[complete], data[complete]).iloc[0]
    if not fit["converged"]:
        return {"adjusted_for": f"not fitted: the model did not converge ({names})"}
    return {"adjusted_hazard_ratio": fit["hazard_ratio"], "adjusted_hr_ci_low": fit["hr_ci_low"],
            "adjusted_hr_ci_high": fit["hr_ci_high"], "adjusted_for": f"{names} ({int(complete.sum())} patients)"}


def _analyse_one(rows: pd.DataFrame, *, endpoint: str, landmark: str, patients: pd.DataFrame | None,
                 min_patients: int, min_events: int) -> tuple[list[pd.DataFrame], list[dict], dict]:
    included = rows[rows["included"]]
    curves, estimates = [], []
    for group in ("all", *GROUPS):
        part = included if group == "all" else included[included["group"] == group]
        if len(part) == 0 or (group != "all" and (included["group"] == "all").all()):
            continue
        curve, estimate = _estimates(part, endpoint=endpoint, landmark=landmark, group=group,
                                     min_patients=min_patients, min_events=min_events)
        curves.append(curve)
        estimates.append(estimate)
    compared = included[included["group"].isin(("positive", "negative"))]
    test = {"endpoint": endpoint, "landmark": landmark, "n_unknown": int((included["group"] == "unknown").sum())}
    if (included["group"] == "all").all():
        test.update(n_positive=0, n_negative=0, events_positive=0, events_negative=0,
                    warning=f"no marker status at {landmark}: overall curve only")
        return curves, estimates, test
    result = survival.compare_groups(compared["time_days"].to_numpy(dtype="float64"),
                                     compared["event"].to_numpy(dtype=bool),
                                     compared["group"].eq("positive").to_numpy(),
                                     min_patients=min_patients, min_events=min_events)
    test.update(vars(result))
    if not result.warning:
        test.update(_adjusted(compared, patients))
    return curves, estimates, test


def outcomes(patients: pd.DataFrame | None, therapy: pd.DataFrame | None, *, status: pd.DataFrame | None,
             landmarks: Sequence[str] = DEFAULT_LANDMARKS, include_diagnosis: bool = True,
             patient_ids: Sequence[str] | None = None, min_patients: int = 10, min_events: int = 5) -> Outcomes:
    """EFS and OS from diagnosis and at each landmark, by marker status there.

    Parameters
    ----------
    patients, therapy
        The patients table (diagnosis date; outcome columns, age, stage, MYCN when given) and the
        therapy events (milestones; relapse, progression, second malignancy, death, last follow-up).
    status
        One row per patient with ``status_<landmark>`` columns (positive/negative/unknown), as
        ``markers.analysis.panel.patient_status`` gives (or :func:`patient_status_from_assessment`).
    landmarks
        Milestone event codes; ``"diagnosis"`` is added first unless ``include_diagnosis`` is False.
    patient_ids
        Patients to account for besides those in ``patients`` and ``therapy``.
    min_patients, min_events
        Below ``min_patients`` in a group, or ``min_events`` in the two groups together, no test
        and no hazard ratio are computed (a ``warning`` says why); estimates carry a warning.

    Returns
    -------
    Outcomes
    """
    unknown = [m for m in landmarks if m not in EVENTS]
    if unknown:
        from markers.errors import ConfigError

        raise ConfigError(f"landmark(s) {', '.join(map(repr, unknown))} not event code(s); use one of: {', '.join(EVENTS)}.")
    ends, issues = endpoint_table(patients, therapy, patient_ids=patient_ids)
    if len(issues):
        counts = issues["code"].value_counts()
        warnings.warn("outcome data: " + ", ".join(f"{n} {code}" for code, n in counts.items())
                      + " (those patients are left out of the analyses concerned; see Outcomes.issues)", stacklevel=2)
    dates = event_dates(therapy if therapy is not None else pd.DataFrame(), patients=patients)
    chosen = list(dict.fromkeys((["diagnosis"] if include_diagnosis else []) + list(landmarks)))
    people, curves, estimates, tests = [], [], [], []
    for landmark in chosen:
        days = None if landmark == "diagnosis" else (dates[landmark] - dates["diagnosis"]).dt.days.astype("float64")
        cohort = landmark_cohort(ends, landmark=landmark, landmark_days=days, status=status)
        people.append(cohort)
        for endpoint in ENDPOINTS:
            c, e, t = _analyse_one(cohort[cohort["endpoint"] == endpoint], endpoint=endpoint, landmark=landmark,
                                   patients=patients, min_patients=min_patients, min_events=min_events)
            curves += c
            estimates += e
            tests.append(t)
    return Outcomes(patients=_concat(people, PATIENT_COLUMNS), curves=_concat(curves, CURVE_COLUMNS),
                    tests=pd.DataFrame(tests).reindex(columns=TEST_COLUMNS),
                    estimates=pd.DataFrame(estimates).reindex(columns=ESTIMATE_COLUMNS), issues=issues,
                    min_patients=min_patients, min_events=min_events)


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def outcomes_of_analysis(assessment: pd.DataFrame, *, patients: pd.DataFrame | None, therapy: pd.DataFrame | None,
                         landmarks: Sequence[str] = DEFAULT_LANDMARKS, rules=None, **options) -> Outcomes:
    """:func:`outcomes` with the panel status taken from ``assessment``.

    Uses ``markers.analysis.panel.patient_status`` (with ``rules``) when that module exists, else a
    stand-in with the same columns: positive when any informative analyte is elevated at the
    landmark's sample, negative when all informative analytes are normal there, unknown otherwise.
    """
    try:
        from markers.analysis.panel import patient_status  # the clinical rules' own patient-level status
    except ImportError:
        status = _fallback_patient_status(assessment, milestones=[m for m in landmarks if m != "diagnosis"])
    else:
        status = patient_status(assessment, rules=rules)
    ids = sorted(set(assessment[PATIENT_ID].astype(str))) if len(assessment) else None
    return outcomes(patients, therapy, status=status, landmarks=landmarks, patient_ids=ids, **options)


def has_outcome_data(patients: pd.DataFrame | None, therapy: pd.DataFrame | None) -> bool:
    """True when the input holds any outcome: a follow-up or outcome event, or EFS/OS columns."""
    events = {"relapse", "progression", "second_malignancy", "death", "last_follow_up"}
    in_events = therapy is not None and len(therapy) and therapy["event"].isin(events).any()
    in_sheet = patients is not None and any(c in patients.columns and patients[c].notna().any()
                                            for c in (EFS_DAYS, OS_DAYS))
    return bool(in_events or in_sheet)
