"""Per-patient assessment: baseline, response, persistence, re-elevation, kinetics, VMA/HVA ratio.

:func:`assess` turns flagged measurements (``markers.analysis.flags.flag``) and the therapy
timeline into one row per patient × analyte. Every rule is a field of
:class:`~markers.analysis.rules.AssessmentRules`; each rule, its default, its source and its
strength are set out in ``docs/clinical-rules.md``. In short:

* baseline: the last sample from 30 days before diagnosis up to the first treatment of any kind
  (surgery included); a *late* baseline (first sample within 14 days after it) only when there is
  none; without a diagnosis date or treatment event, the first sample as an *assumed* baseline;
* informative: baseline elevated; a normal late or assumed baseline leaves it unknown (<NA>);
* milestone status from samples that can speak for it (never across the day of surgery);
  ``persistent`` judged at complete remission (Matser 2025 [S13]);
* normalized: 2 consecutive normal samples; re-elevation: 2 consecutive elevated samples after
  normalization; a shorter rise is an *unconfirmed rise* (repeat advised);
* an elevation caused by a step down of the age-specific limit alone never makes a patient
  persistent or re-elevated;
* half-life fitted from the baseline to the first normal sample; VMA/HVA ratio interpreted only
  when VMA or HVA is elevated at baseline.

A patient without any sample date (a date-free source) is assessed the same way on its days since
diagnosis (``day``, else ``days_since_diagnosis``; diagnosis = day 0, therapy events from an
``event_day`` column); its date columns stay empty and the ``<finding>_day`` columns, which count
from the timeline's day 0 for every patient, are filled.

The work is done on numpy arrays sorted once and sliced by (patient, analyte) boundaries; the
rules themselves are the small functions of :mod:`markers.analysis.course`.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from markers.analysis.anchors import FIRST_TREATMENT, ORIGIN, as_days, day_anchors, patient_anchors
from markers.analysis.course import ELEVATED, LIMIT_STEP, NORMAL, UNKNOWN, baseline, limit_steps
from markers.analysis.ratio import fill_ratios
from markers.analysis.response import judge_course
from markers.analysis.rules import AssessmentRules
from markers.errors import MissingColumnError
from markers.schema import (
    ANALYTE,
    ANALYTES,
    CENSOR,
    DAY,
    DAYS_SINCE_DIAGNOSIS,
    PATIENT_ID,
    SAMPLE_DATE,
    ULN,
    UNIT,
    VALUE,
    X_ULN,
)
from markers.schema import (
    ELEVATED as ELEVATED_COLUMN,
)

logger = logging.getLogger(__name__)

__all__ = ["ASSESSMENT_COLUMNS", "DAY_COLUMNS", "EXCLUDE_FROM_KINETICS", "AssessmentRules", "assess", "assessment_columns"]

#: Optional measurements column: a true value leaves the sample out of the half-life fit.
EXCLUDE_FROM_KINETICS = "exclude_from_kinetics"

_DEFAULT_RULES = AssessmentRules()

_DATE_COLUMNS = ("baseline_date", "nadir_date", "first_normal_date", "normalized_date", "reelevation_date",
                 "unconfirmed_rise_date", "last_sample_date")
#: Beside each ``<stem>_date``, ``<stem>_day``: days since the timeline's day 0 (the diagnosis, else the
#: therapy start; the ``day`` of the measurements), filled for dated and date-free patients alike.
DAY_COLUMNS = tuple(c[: -len("_date")] + "_day" for c in _DATE_COLUMNS)


def assessment_columns(milestones: tuple[str, ...] = _DEFAULT_RULES.all_milestones) -> list[str]:
    """Column names of :func:`assess`'s result for the given milestones, in order."""
    return [
        PATIENT_ID, ANALYTE, "n_samples", "informative",
        "baseline_date", "baseline_value", "baseline_x_uln", "baseline_late", "baseline_assumed",
        "nadir_date", "nadir_value", "nadir_x_uln", "first_normal_date",
        "normalized", "normalized_date", "days_to_normalization", "normalization",
        *[f"status_{m}" for m in milestones],
        "persistent", "persistent_at", "reelevation", "reelevation_date",
        "unconfirmed_rise_date", "unconfirmed_rise_x_uln", "limit_steps",
        "last_sample_date", "last_status",
        "half_life_days", "k_per_day", "half_life_r2", "half_life_n", "half_life_points", "half_life_note",
        "vma_hva_ratio_mass", "vma_hva_ratio_molar", "low_vma_hva_ratio", "vma_hva_ratio_note", "summary",
        *DAY_COLUMNS,
    ]


#: Columns for the default rules.
ASSESSMENT_COLUMNS = assessment_columns()

_BOOLEAN_COLUMNS = ("informative", "normalized", "persistent", "reelevation", "low_vma_hva_ratio")
_FLOAT_COLUMNS = ("baseline_value", "baseline_x_uln", "nadir_value", "nadir_x_uln", "unconfirmed_rise_x_uln",
                  "half_life_days", "k_per_day", "half_life_r2", "vma_hva_ratio_mass", "vma_hva_ratio_molar")
_REQUIRED = (PATIENT_ID, SAMPLE_DATE, ANALYTE, VALUE, UNIT, CENSOR, X_ULN, ELEVATED_COLUMN)
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


def _choose_baseline(g: Group, anchors: dict, rules: AssessmentRules) -> tuple[int | None, bool, bool]:
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
    base, late, assumed = _choose_baseline(g, anchors, rules)
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


def _state_codes(elevated: pd.Series) -> np.ndarray:
    values = elevated.astype("boolean")
    codes = np.where(values.fillna(False).to_numpy(dtype=bool), ELEVATED, NORMAL).astype(np.int8)
    codes[values.isna().to_numpy()] = UNKNOWN
    return codes


def _exclusions(data: pd.DataFrame, rules: AssessmentRules) -> np.ndarray:
    """Samples the user leaves out of the half-life fit: the column, and the rules' triples."""
    exclude = np.zeros(len(data), dtype=bool)
    if EXCLUDE_FROM_KINETICS in data:
        column = data[EXCLUDE_FROM_KINETICS]
        text = column.astype(str).str.strip().str.casefold()
        exclude |= text.isin(["true", "1", "yes", "y", "x"]).to_numpy() & column.notna().to_numpy()
    if rules.kinetics_exclude:
        day = data[SAMPLE_DATE].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        pid = data[PATIENT_ID].to_numpy(dtype=object)
        analyte = data[ANALYTE].astype(str).to_numpy(dtype=object)
        for patient, code, date in rules.kinetics_exclude:
            exclude |= (pid == str(patient)) & (day == str(date)) & ((analyte == code) if code else True)
    return exclude


def _arrays(data: pd.DataFrame, rules: AssessmentRules) -> dict:
    censor = data[CENSOR].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    return {
        "days": np.where(data["_dated"].to_numpy(dtype=bool), as_days(data[SAMPLE_DATE]),
                         data["_day"].to_numpy(dtype=float)),
        "dated": data["_dated"].to_numpy(dtype=bool),
        "values": pd.to_numeric(data[VALUE], errors="coerce").to_numpy(dtype=float),
        "x_uln": pd.to_numeric(data[X_ULN], errors="coerce").to_numpy(dtype=float),
        "uln": (pd.to_numeric(data[ULN], errors="coerce").to_numpy(dtype=float) if ULN in data
                else np.full(len(data), np.nan)),
        "censored": censor != "",
        "below": np.isin(censor, ["<", "<="]),
        "exclude": _exclusions(data, rules),
        "states": _state_codes(data[ELEVATED_COLUMN]),
        "unit": data[UNIT].astype(str).to_numpy(dtype=object),
    }


def _prepared(measurements: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in measurements.columns]
    if missing:
        raise MissingColumnError(
            f"the measurements table lacks column(s) {', '.join(repr(c) for c in missing)}; "
            "assess flagged measurements: markers.analysis.flags.flag(measurements, limits=...)."
        )
    extra = [c for c in (ULN, EXCLUDE_FROM_KINETICS) if c in measurements.columns]
    data = measurements[[*_REQUIRED, *extra]].copy()
    data[PATIENT_ID] = data[PATIENT_ID].astype(str)
    data[SAMPLE_DATE] = pd.to_datetime(data[SAMPLE_DATE]).astype("datetime64[ns]")
    data["_day"] = _source_days(measurements)
    # a patient with any dated sample is assessed on dates; one without, on its days since diagnosis
    dated_patients = data.loc[data[SAMPLE_DATE].notna(), PATIENT_ID].unique()
    data["_dated"] = data[PATIENT_ID].isin(dated_patients)
    data = data[data[SAMPLE_DATE].notna() | (~data["_dated"] & data["_day"].notna())]
    order = {code: i for i, code in enumerate(ANALYTES)}
    data["_order"] = data[ANALYTE].map(order).fillna(len(ANALYTES))
    data["_axis"] = np.where(data["_dated"], as_days(data[SAMPLE_DATE]), data["_day"])
    return data.sort_values([PATIENT_ID, "_order", ANALYTE, "_axis"], kind="stable").reset_index(drop=True)


def _source_days(measurements: pd.DataFrame) -> np.ndarray:
    """Days since diagnosis of each sample without a date: the timeline's ``day``, else the source's own."""
    days = np.full(len(measurements), np.nan)
    for column in (DAYS_SINCE_DIAGNOSIS, DAY):
        if column in measurements.columns:
            given = pd.to_numeric(measurements[column], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
            days = np.where(np.isnan(given), days, given)
    return days


def _boundaries(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop positions of each (patient, analyte) run of the sorted table."""
    pid = pd.factorize(data[PATIENT_ID])[0]
    analyte = pd.factorize(data[ANALYTE].astype(str))[0]
    key = pid.astype(np.int64) * (int(analyte.max(initial=0)) + 1) + analyte
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return starts, np.r_[starts[1:], len(key)]


def _typed(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame({c: [] for c in columns})
    for column in _DATE_COLUMNS:
        days = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        frame[column] = pd.to_datetime(np.where(np.isnan(days), np.nan, days), unit="D").astype("datetime64[ns]")
    for column in _BOOLEAN_COLUMNS:
        frame[column] = frame[column].astype("boolean")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype(float)
    for column in ("baseline_late", "baseline_assumed"):
        frame[column] = frame[column].astype(bool)
    for column in DAY_COLUMNS:
        frame[column] = pd.array(pd.to_numeric(frame[column], errors="coerce"), dtype="Float64").astype("Int64")
    frame["n_samples"] = frame["n_samples"].astype("int64")
    frame["days_to_normalization"] = frame["days_to_normalization"].astype("Int64")
    frame["half_life_n"] = frame["half_life_n"].astype("Int64")
    return frame


def assess(
    measurements: pd.DataFrame,
    *,
    therapy: pd.DataFrame,
    patients: pd.DataFrame,
    rules: AssessmentRules | None = None,
) -> pd.DataFrame:
    """Assess each patient's markers against the therapy timeline.

    Parameters
    ----------
    measurements
        Flagged measurements (``markers.analysis.flags.flag``): ``patient_id``, ``sample_date``,
        ``analyte``, ``value``, ``unit``, ``censor``, ``x_uln``, ``elevated``; ``uln`` (for limit
        steps) and ``exclude_from_kinetics`` are used when present; a patient without any
        ``sample_date`` is assessed on ``day`` (else ``days_since_diagnosis``).
    therapy
        Therapy events (``patient_id``, ``event``, ``event_date``, or ``event_day`` since
        diagnosis for date-free patients); may be empty.
    patients
        Patients table (``patient_id``, ``diagnosis_date``); may be empty.
    rules
        The rules; :class:`AssessmentRules` defaults when ``None``.

    Returns
    -------
    pandas.DataFrame
        One row per patient × analyte present, sorted by ``patient_id`` then analyte in
        :data:`markers.schema.ANALYTES` order, with the columns of :func:`assessment_columns`.

    Raises
    ------
    MissingColumnError
        When ``measurements`` lacks a needed column (unflagged data lacks ``elevated``).
    UnknownUnitError
        When a VMA or HVA baseline is in a unit other than mg/g or mmol/mol creatinine.

    Warns
    -----
    UserWarning
        When some patients have neither a diagnosis date nor a treatment event, so their first
        sample is taken as an *assumed* baseline.

    Examples
    --------
    >>> m = pd.DataFrame({
    ...     "patient_id": ["P1"] * 3, "analyte": ["VMA"] * 3,
    ...     "sample_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-04-01"]),
    ...     "value": [90.0, 10.0, 8.0], "unit": ["mg/g creatinine"] * 3, "censor": [""] * 3,
    ...     "x_uln": [90 / 27, 10 / 27, 8 / 27],
    ...     "elevated": pd.array([True, False, False], dtype="boolean")})
    >>> t = pd.DataFrame({"patient_id": ["P1"], "event": ["therapy_start"],
    ...                   "event_date": pd.to_datetime(["2024-01-02"])})
    >>> assess(m, therapy=t, patients=pd.DataFrame())["summary"].item()
    'informative; normalized on day 59 after first treatment; persistence not judged (no complete remission in the timeline)'
    """
    rules = rules if rules is not None else _DEFAULT_RULES
    columns = assessment_columns(rules.all_milestones)
    data = _prepared(measurements)
    if data.empty:
        return _typed([], columns)
    starts, stops = _boundaries(data)
    pids = data[PATIENT_ID].to_numpy(dtype=object)
    analytes = data[ANALYTE].astype(str).to_numpy(dtype=object)
    anchor_rows = _anchor_rows(data, therapy=therapy, patients=patients)
    arrays = _arrays(data, rules)
    rows, bases = [], []
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        group = Group(arrays, start, stop, patient=pids[start], analyte=analytes[start])
        row, base = assess_group(group, anchors=anchor_rows[pids[start]], rules=rules)
        _place(row, group, anchor_rows[pids[start]][ORIGIN])
        rows.append(row)
        bases.append(None if base is None else start + base)
    fill_ratios(rows, bases, data, rules)
    _warn_assumed(rows)
    return _typed(rows, columns)


def _anchor_rows(data: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame) -> dict:
    """Per patient: anchors in float days since 1970 (dated patients) or since diagnosis (date-free)."""
    dated = data.groupby(PATIENT_ID, sort=False)["_dated"].first()
    rows = patient_anchors(therapy, patients=patients, index=pd.Index(dated.index[dated.to_numpy(dtype=bool)]))
    free = day_anchors(therapy, index=pd.Index(dated.index[~dated.to_numpy(dtype=bool)]))
    return {**rows.to_dict("index"), **free.to_dict("index")}


def _place(row: dict, g: Group, origin: float) -> None:
    """Fill the ``<stem>_day`` columns from day 0; a date-free patient's date columns stay empty."""
    for date_column, day_column in zip(_DATE_COLUMNS, DAY_COLUMNS, strict=True):
        value = row.get(date_column, np.nan)
        row[day_column] = value - origin if not (np.isnan(value) or np.isnan(origin)) else np.nan
        if not g.dated:
            row[date_column] = np.nan


def _warn_assumed(rows: list[dict]) -> None:
    assumed = sorted({r[PATIENT_ID] for r in rows if r["baseline_assumed"]})
    if assumed:
        warnings.warn(
            f"{len(assumed)} patient(s) have neither a diagnosis date nor a treatment event "
            f"({', '.join(assumed[:5])}{', ...' if len(assumed) > 5 else ''}): their first sample is taken as "
            "an assumed baseline (column baseline_assumed), so a normal first sample leaves informativeness "
            "unknown. Add a diagnosis date (patients or measurements sheet) or therapy events.",
            UserWarning,
            stacklevel=3,
        )
