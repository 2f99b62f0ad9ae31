"""The assessment one course at a time, in plain Python: the reference the vectorised code is held to.

:func:`assess_per_course` walks each patient × analyte with the small rule functions of
:mod:`markers.analysis.course` and :mod:`markers.analysis.response`, as the rules read in
``docs/clinical-rules.md``. It is slow on a registry (a Python loop per course) and not used by
the commands; ``tests/test_assess_fast.py`` checks on random courses that
:func:`markers.analysis.assess.assess` gives exactly the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.anchors import FIRST_TREATMENT, ORIGIN
from markers.analysis.assess_data import (
    DATE_COLUMNS,
    DAY_COLUMNS,
    DEFAULT_RULES,
    anchor_table,
    assessment_columns,
    boundaries,
    course_arrays,
    sorted_courses,
    typed_assessment,
)
from markers.analysis.course import ELEVATED, LIMIT_STEP, NORMAL, UNKNOWN, baseline, limit_steps
from markers.analysis.ratio import fill_ratios
from markers.analysis.response import judge_course
from markers.analysis.rules import AssessmentRules
from markers.schema import ANALYTE, PATIENT_ID

__all__ = ["Group", "assess_group", "assess_per_course", "when_sampled"]

_STATUS_WORDS = {NORMAL: "normal", ELEVATED: "elevated", LIMIT_STEP: "elevated", UNKNOWN: "indeterminate"}


class Group:
    """One patient × analyte: array slices of the sorted table (positions 0..n-1, by date)."""

    __slots__ = ("analyte", "censored", "censored_below", "dated", "days", "exclude", "patient", "states",
                 "uln", "unit", "values", "x_uln")

    def __init__(self, arrays: dict, start: int, stop: int, *, patient: str, analyte: str) -> None:
        self.patient, self.analyte = patient, analyte
        self.days = arrays["days"][start:stop].tolist()  # lists: a few samples, walked in Python
        self.values = arrays["values"][start:stop]
        self.x_uln = arrays["x_uln"][start:stop]
        self.uln = arrays["uln"][start:stop]
        self.censored = arrays["censored"][start:stop]
        self.censored_below = arrays["below"][start:stop]
        self.exclude = arrays["exclude"][start:stop]
        self.unit = arrays["unit"][start]
        self.dated = bool(arrays["dated"][start])  # False: ``days`` count from the diagnosis (date-free)
        raw = arrays["states"][start:stop].tolist()
        self.states = limit_steps(raw, self.values, self.uln, self.censored)

    def __len__(self) -> int:
        return len(self.days)

    def status(self, i: int) -> str:
        return _STATUS_WORDS[self.states[i]]


def _row_start(g: Group, anchors: dict, rules: AssessmentRules) -> dict:
    return {
        PATIENT_ID: g.patient, ANALYTE: g.analyte, "n_samples": len(g), "informative": pd.NA,
        "baseline_date": np.nan, "baseline_value": np.nan, "baseline_x_uln": np.nan, "baseline_late": False,
        "baseline_assumed": False, "nadir_date": np.nan, "nadir_value": np.nan, "nadir_x_uln": np.nan,
        "first_normal_date": np.nan, "normalized": pd.NA, "normalized_date": np.nan,
        "days_to_normalization": pd.NA, "normalization": "", "persistent": pd.NA, "persistent_at": "",
        "reelevation": pd.NA, "reelevation_date": np.nan, "unconfirmed_rise_date": np.nan,
        "unconfirmed_rise_x_uln": np.nan, "limit_steps": _limit_step_words(g),
        "last_sample_date": g.days[-1], "last_status": g.status(len(g) - 1),
        "half_life_days": np.nan, "k_per_day": np.nan, "half_life_r2": np.nan, "half_life_n": pd.NA,
        "half_life_points": "", "half_life_note": "",
    }


def _limit_step_words(g: Group) -> str:
    steps = [i for i, s in enumerate(g.states) if s == LIMIT_STEP]
    return "; ".join(f"{when_sampled(g, i)}: elevated only by a lower limit ({g.uln[i]:g} {g.unit})" for i in steps)


def when_sampled(g: Group, i: int) -> str:
    """The sample's ISO date, or ``day N`` (since diagnosis) for a date-free patient."""
    return str(np.datetime64(int(g.days[i]), "D")) if g.dated else f"day {int(g.days[i])}"


def choose_baseline(g: Group, anchors: dict, rules: AssessmentRules) -> tuple[int | None, bool, bool]:
    """(position, late, assumed) of the baseline sample."""
    diagnosis, first = anchors["diagnosis"], anchors[FIRST_TREATMENT]
    if np.isnan(diagnosis) and np.isnan(first):
        return 0, False, True  # documented fallback: the first sample as an assumed baseline
    before = rules.baseline_window_before_days
    opens = diagnosis - before if not np.isnan(diagnosis) else first - before
    closes = first if not np.isnan(first) else diagnosis
    pos, late = baseline(g.days, opens=opens, closes=closes, late_days=rules.late_baseline_days)
    return pos, late, False


def _nadir(g: Group, base: int, row: dict) -> None:
    after = [i for i in range(base + 1, len(g))
             if (not g.censored[i] or g.censored_below[i]) and np.isfinite(g.x_uln[i])]
    if after:
        nadir = min(after, key=lambda i: (g.x_uln[i], i))
        row.update(nadir_date=g.days[nadir], nadir_value=g.values[nadir], nadir_x_uln=g.x_uln[nadir])
    first_normal = next((i for i in range(base + 1, len(g)) if g.states[i] == NORMAL), None)
    if first_normal is not None:
        row["first_normal_date"] = g.days[first_normal]


def _informative(g: Group, base: int, late: bool, assumed: bool) -> tuple[object, str]:
    """``informative`` and the words for it."""
    state = g.states[base]
    if state in (ELEVATED, LIMIT_STEP):
        kind = " (assumed baseline: first sample)" if assumed else " (late baseline)" if late else ""
        return True, f"informative{kind}"
    if state == UNKNOWN:
        return pd.NA, "informativeness unknown (baseline indeterminate)"
    if assumed:
        return pd.NA, ("informativeness unknown (assumed baseline normal: first sample, no diagnosis date "
                       "or treatment event to tell whether it precedes treatment)")
    if late:
        return pd.NA, "informativeness unknown (normal late baseline: the first sample follows treatment)"
    return False, "not marker-informative (normal at baseline)"


def assess_group(g: Group, *, anchors: dict, rules: AssessmentRules) -> tuple[dict, int | None]:
    """One row of the assessment for one patient × analyte, and the baseline position."""
    row = _row_start(g, anchors, rules)
    base, late, assumed = choose_baseline(g, anchors, rules)
    judge = judge_course(g, base=base, anchors=anchors, rules=rules)
    row.update(judge.milestone_columns)
    if base is None:
        row["summary"] = "no baseline sample"
        row["half_life_note"] = "no baseline sample"
        return row, None
    row.update(baseline_date=g.days[base], baseline_value=g.values[base], baseline_x_uln=g.x_uln[base],
               baseline_late=late, baseline_assumed=assumed)
    _nadir(g, base, row)
    informative, words = _informative(g, base, late, assumed)
    row["informative"] = informative
    if informative is not True:
        row["summary"] = words
        row["half_life_note"] = "not informative" if informative is False else "informativeness unknown"
        return row, base
    row.update(judge.response_columns())
    row["summary"] = "; ".join([words, *judge.words])
    return row, base


def assess_per_course(measurements: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame,
                      rules: AssessmentRules | None = None) -> pd.DataFrame:
    """As :func:`markers.analysis.assess.assess` (without its warning), one course at a time."""
    rules = rules if rules is not None else DEFAULT_RULES
    columns = assessment_columns(rules.all_milestones)
    data = sorted_courses(measurements)
    if data.empty:
        return typed_assessment(pd.DataFrame({c: [] for c in columns}))
    starts, stops = boundaries(data)
    pids = data[PATIENT_ID].to_numpy(dtype=object)
    analytes = data[ANALYTE].astype(str).to_numpy(dtype=object)
    anchor_rows = anchor_table(data, therapy=therapy, patients=patients).to_dict("index")
    arrays = course_arrays(data, rules)
    rows, bases = [], []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        group = Group(arrays, start, stop, patient=pids[start], analyte=analytes[start])
        row, base = assess_group(group, anchors=anchor_rows[pids[start]], rules=rules)
        _place(row, group, anchor_rows[pids[start]][ORIGIN])
        rows.append(row)
        bases.append(None if base is None else start + base)
    fill_ratios(rows, bases, data, rules)
    return typed_assessment(pd.DataFrame(rows, columns=columns))


def _place(row: dict, g: Group, origin: float) -> None:
    """Fill the ``<stem>_day`` columns from day 0; a date-free patient's date columns stay empty."""
    for date_column, day_column in zip(DATE_COLUMNS, DAY_COLUMNS, strict=True):
        value = row.get(date_column, np.nan)
        row[day_column] = value - origin if not (np.isnan(value) or np.isnan(origin)) else np.nan
        if not g.dated:
            row[date_column] = np.nan
