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

The work is done on numpy arrays sorted once, for all (patient, analyte) courses at once over
their sorted boundaries (:mod:`markers.analysis.segments`): no Python call per course. Each
vectorised rule (:mod:`markers.analysis.grouped_rules`, :mod:`markers.analysis.grouped_fits`)
is the twin of a plain per-course function (:mod:`markers.analysis.course`,
:mod:`markers.analysis.response`), and ``tests/test_assess_fast.py`` holds the whole table to
the plain per-course implementation (:mod:`markers.analysis.assess_reference`) on random courses.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from markers.analysis.anchors import FIRST_TREATMENT, ORIGIN
from markers.analysis.assess_data import (
    ASSESSMENT_COLUMNS,
    DATE_COLUMNS,
    DAY_COLUMNS,
    DEFAULT_RULES,
    EXCLUDE_FROM_KINETICS,
    anchor_table,
    assessment_columns,
    boundaries,
    course_arrays,
    patient_runs,
    sorted_courses,
    typed_assessment,
    typed_columns,
)
from markers.analysis.assess_text import (
    INFORMATIVE_CODE_WORDS,
    STATUS_WORDS,
    append,
    informative_codes,
    limit_step_words,
    text_array,
    warn_assumed,
    when_words,
)
from markers.analysis.course import ELEVATED, LIMIT_STEP, NORMAL, UNKNOWN
from markers.analysis.grouped_fits import half_life_notes, half_lives, ratios
from markers.analysis.grouped_rules import (
    baselines,
    limit_step_states,
    milestone_samples,
    nadirs,
    normalizations,
    persistence,
    rises,
)
from markers.analysis.rules import AssessmentRules
from markers.analysis.segments import NONE, Segments
from markers.analysis.words import Words, coded_text
from markers.schema import ANALYTE, EVENTS, PATIENT_ID

logger = logging.getLogger(__name__)

__all__ = ["ASSESSMENT_COLUMNS", "DAY_COLUMNS", "EXCLUDE_FROM_KINETICS", "AssessmentRules", "assess", "assessment_columns"]


#: Columns of True/False/unknown, held as int8 codes (1, 0, -1) until the table is built.
_BOOLEAN = ("informative", "normalized", "persistent", "reelevation", "low_vma_hva_ratio")


class _Courses:
    """Every course's arrays, baseline and the columns filled so far (``out``, one array per column)."""

    def __init__(self, seg: Segments, arrays: dict, anchors: dict, rules: AssessmentRules) -> None:
        self.seg, self.arrays, self.anchors, self.rules = seg, arrays, anchors, rules
        self.days = arrays["days"]
        self.states = limit_step_states(seg, arrays["states"], arrays["values"], arrays["uln"], arrays["censored"])
        self.base, self.late, self.assumed = baselines(seg, self.days, anchors, rules)
        self.has_base = self.base != NONE
        self.out: dict[str, np.ndarray] = {}

    def column(self, name: str, fill: object, dtype: object = object) -> np.ndarray:
        self.out[name] = np.full(self.seg.size, fill, dtype=dtype)
        return self.out[name]

    def words(self, name: str, fill: str) -> Words:
        """A text column, as codes into its distinct words (:class:`~markers.analysis.words.Words`)."""
        self.out[name] = Words(self.seg.size, fill)
        return self.out[name]

    def put(self, name: str, groups: np.ndarray, rows: np.ndarray, source: np.ndarray) -> None:
        """Column ``name`` of ``groups`` from ``source`` at ``rows``."""
        self.out[name][groups] = source[rows]

    def when(self, groups: np.ndarray, rows: np.ndarray) -> list[str]:
        return when_words(groups, rows, self.days, self.arrays["dated"], self.anchors)


def _start(c: _Courses) -> None:
    """The columns every course has: size, last sample, milestone statuses, baseline, nadir, limit steps."""
    seg, out = c.seg, c.out
    status = c.states.astype(np.int64) + 1  # each sample's status, a code into STATUS_WORDS
    out["n_samples"] = seg.stops - seg.starts
    out["last_sample_date"] = c.days[seg.last]
    c.words("last_status", "").put(slice(None), status[seg.last], STATUS_WORDS)
    out["limit_steps"] = limit_step_words(seg, c.states, c.arrays)
    c.samples = milestone_samples(seg, c.days, c.anchors, c.rules)
    for milestone, rows in c.samples.items():
        present = ~np.isnan(c.anchors[milestone])
        code = np.where(rows == NONE, len(STATUS_WORDS), status[np.where(rows == NONE, 0, rows)])
        c.words(f"status_{milestone}", "").put(present, code[present], [*STATUS_WORDS, "no sample"])
    groups, rows = np.flatnonzero(c.has_base), c.base[c.has_base]
    for name in ("baseline_date", "baseline_value", "baseline_x_uln", "nadir_date", "nadir_value", "nadir_x_uln",
                 "first_normal_date"):
        c.column(name, np.nan, float)
    for name, source in (("baseline_date", c.days), ("baseline_value", c.arrays["values"]),
                         ("baseline_x_uln", c.arrays["x_uln"])):
        c.put(name, groups, rows, source)
    out["baseline_late"], out["baseline_assumed"] = c.late & c.has_base, c.assumed
    nadir = nadirs(seg, c.base, c.arrays["x_uln"], c.arrays["censored"], c.arrays["below"])
    found = np.flatnonzero(nadir != NONE)
    for name, source in (("nadir_date", c.days), ("nadir_value", c.arrays["values"]),
                         ("nadir_x_uln", c.arrays["x_uln"])):
        c.put(name, found, nadir[found], source)
    c.first_normal = seg.first(seg.after(c.base) & (c.states == NORMAL))
    found = np.flatnonzero(c.first_normal != NONE)
    c.put("first_normal_date", found, c.first_normal[found], c.days)


def _informative(c: _Courses) -> None:
    """``informative``, its words (the summary's start) and the half-life note of uninformative courses."""
    state = np.where(c.has_base, c.states[np.where(c.has_base, c.base, 0)], UNKNOWN)
    elevated = c.has_base & ((state == ELEVATED) | (state == LIMIT_STEP))
    unknown = c.has_base & ~elevated & (state == UNKNOWN)
    undecided = unknown | (c.has_base & ~elevated & (c.assumed | c.late))
    informative = c.column("informative", -1, np.int8)
    informative[elevated] = True
    informative[c.has_base & ~elevated & ~undecided] = False
    c.informative = elevated
    summary = c.words("summary", "no baseline sample")
    summary.put(c.has_base, informative_codes(elevated, c.late, c.assumed, unknown)[c.has_base],
                INFORMATIVE_CODE_WORDS)
    note = c.words("half_life_note", "no baseline sample")
    uninformative = c.has_base & ~elevated
    note.put(uninformative, undecided[uninformative].astype(np.int64), ["not informative", "informativeness unknown"])
    alone = elevated & (c.base == c.seg.last)
    note[alone] = "no sample after baseline"
    append(summary, np.flatnonzero(alone), "no sample after baseline")
    c.respond = elevated & ~alone


def _normalization(c: _Courses) -> None:
    respond = c.respond
    confirmed, unconfirmed = normalizations(c.seg, c.states, np.where(respond, c.base, NONE),
                                            c.rules.normalized_consecutive)
    normalized = c.column("normalized", -1, np.int8)
    normalized[respond] = False
    kind = c.words("normalization", "")
    kind[respond] = "none"
    date = c.column("normalized_date", np.nan, float)
    days_to = c.column("days_to_normalization", np.nan, float)
    groups = np.flatnonzero(confirmed != NONE)
    rows = confirmed[groups]
    normalized[groups], kind[groups] = True, "confirmed"
    date[groups] = c.days[rows]
    first = c.anchors[FIRST_TREATMENT][groups]
    days_to[groups] = np.where(np.isnan(first), np.nan, np.trunc(c.days[rows] - first))
    waiting = np.flatnonzero(unconfirmed != NONE)
    kind[waiting] = "unconfirmed"
    summary = c.out["summary"]
    # each course that responds gets one of the three (confirmed and waiting courses respond)
    append(summary, np.flatnonzero(respond & (confirmed == NONE) & (unconfirmed == NONE)), "not normalized")
    append(summary, groups, ["normalized on " + w for w in c.when(groups, rows)])
    append(summary, waiting, [f"normal at last sample ({w}), unconfirmed: repeat advised"
                              for w in c.when(waiting, unconfirmed[waiting])])
    c.normal_at = confirmed


def _persistence(c: _Courses) -> None:
    """``persistent`` at the persistence milestones (default: complete remission, Matser 2025 [S13])."""
    rules, respond, summary = c.rules, c.respond, c.out["summary"]
    found = persistence(c.samples, c.anchors, c.states, np.where(respond, c.base, NONE), rules)
    persistent = c.column("persistent", -1, np.int8)
    at_name = c.words("persistent_at", "")
    present = found["present"].any(axis=1) if found["present"].size else np.zeros(c.seg.size, dtype=bool)
    names = " or ".join(m.replace("_", " ") for m in rules.persistence_milestones)
    append(summary, np.flatnonzero(respond & ~present), f"persistence not judged (no {names} in the timeline)")
    judged = respond & present
    groups = np.flatnonzero(judged & (found["at"] != NONE))
    persistent[groups] = True
    at_name[groups] = found["names"][groups, found["at"][groups]]
    append(summary, groups, ["persistent at " + n.replace("_", " ") for n in at_name[groups].tolist()])
    open_ = judged & (found["at"] == NONE)
    for k in range(found["usable"].shape[1]):
        step = np.flatnonzero(open_ & found["usable"][:, k] & (found["states"][:, k] == LIMIT_STEP))
        append(summary, step, [f"elevated at {n.replace('_', ' ')} only because the age limit stepped down "
                               "(value within the previous limit): not counted as persistence"
                               for n in found["names"][step, k].tolist()])
    none = np.flatnonzero(open_ & ~found["usable"].any(axis=1))
    milestones = np.array(rules.persistence_milestones, dtype=object)
    append(summary, none, ["persistence not assessable (no sample after baseline near "
                           f"{' or '.join(m.replace('_', ' ') for m in milestones[mask])})"
                           for mask in found["present"][none]])
    persistent[open_ & found["judged"]] = False


def _rises(c: _Courses) -> None:
    """Re-elevation (confirmed) or an unconfirmed rise after a confirmed normalization."""
    reelevation = c.column("reelevation", -1, np.int8)
    reelevation[c.respond] = False
    date = c.column("reelevation_date", np.nan, float)
    rise_date = c.column("unconfirmed_rise_date", np.nan, float)
    rise_x = c.column("unconfirmed_rise_x_uln", np.nan, float)
    confirmed, unconfirmed = rises(c.seg, c.states, c.normal_at, c.rules.reelevation_consecutive,
                                   x_uln=c.arrays["x_uln"], below=c.arrays["below"],
                                   single_x_uln=c.rules.reelevation_single_x_uln)
    groups = np.flatnonzero(confirmed != NONE)
    reelevation[groups] = True
    date[groups] = c.days[confirmed[groups]]
    summary = c.out["summary"]
    append(summary, groups, ["re-elevated on " + w for w in c.when(groups, confirmed[groups])])
    groups = np.flatnonzero(unconfirmed != NONE)
    rows = unconfirmed[groups]
    rise_date[groups] = c.days[rows]
    rise_x[groups] = c.arrays["x_uln"][rows]
    last = (rows == c.seg.last[groups]).tolist()
    append(summary, groups, [f"unconfirmed rise on {w} ({x:.1f}x ULN): "
                             f"{'repeat advised' if end else 'not confirmed by the next sample'}"
                             for w, x, end in zip(c.when(groups, rows), rise_x[groups].tolist(), last, strict=True)])


def _kinetics(c: _Courses) -> None:
    """Half-life from the baseline to the first normal sample (or the sample before it); none without one."""
    fit = c.respond & (c.first_normal != NONE)
    note = c.out["half_life_note"]
    note[c.respond & ~fit] = "no normal sample after baseline: no end point for the fit"
    end = c.first_normal if c.rules.kinetics_end == "first_normal" else c.first_normal - 1
    fits = half_lives(c.seg, fit, c.base, end, c.arrays)
    for name in ("half_life_days", "k_per_day", "half_life_r2", "half_life_n"):
        c.out[name] = fits[name]  # NaN where not fitted
    c.out["half_life_points"] = fits["points"]  # a course has fit points only when it is fitted
    note[fit] = half_life_notes(fits)


def _place(c: _Courses) -> None:
    """Fill the ``<stem>_day`` columns from day 0; a date-free patient's date columns stay empty."""
    origin, undated = c.anchors[ORIGIN], ~c.arrays["dated"][c.seg.starts]
    for date_column, day_column in zip(DATE_COLUMNS, DAY_COLUMNS, strict=True):
        c.out[day_column] = c.out[date_column] - origin
        if undated.any():  # (a registry's courses are all dated: no copy of seven columns)
            c.out[date_column] = np.where(undated, np.nan, c.out[date_column])


def assess(
    measurements: pd.DataFrame,
    *,
    therapy: pd.DataFrame,
    patients: pd.DataFrame,
    rules: AssessmentRules | None = None,
    categorical_text: bool = False,
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
    categorical_text
        ``True``: the columns of words (statuses, notes, ``summary``, ``limit_steps``) as pandas
        Categoricals of the words they hold, not text: the same values, in a fraction of the memory
        at registry scale (a course's code, not its sentence), and what the CSV writer formats
        without hashing each row's text again. ``patient_id`` and ``analyte`` stay text.

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
    rules = rules if rules is not None else DEFAULT_RULES
    columns = assessment_columns(rules.all_milestones)
    data = sorted_courses(measurements)
    if data.empty:
        return typed_assessment(pd.DataFrame({c: [] for c in columns}))
    seg = Segments(*boundaries(data))
    # each course's patient and analyte as codes into their distinct values (courses are in patient
    # order, so a patient's number is its rank): no Python str per course
    patient, names = _course_patients(data, seg)
    analyte_code, analytes = pd.factorize(data[ANALYTE].take(seg.starts).astype(str))
    analyte = np.append(np.asarray(analytes, dtype=str), "")[analyte_code]  # fixed-width text: compared in C
    table = anchor_table(data, therapy=therapy, patients=patients)
    # one look-up per patient (-1, none: the NaN row appended); none when the table lists the patients as
    # the courses do (every patient assessed on dates, or every one on days; no missing ID)
    same = table.index.equals(names) and patient.min(initial=0) >= 0
    rows = patient if same else table.index.get_indexer(names)[patient]
    anchors = {name: _course_anchor(table[name].to_numpy(dtype=float), rows) for name in table.columns}
    for code in (*EVENTS, *rules.all_milestones):
        anchors.setdefault(code, _course_anchor(np.array([]), rows))
    arrays = course_arrays(data, rules)
    del data, table  # the sorted copy is in the arrays now: let it go before the rules run (peak memory)
    courses = _Courses(seg, arrays, anchors, rules)
    for step in (_start, _informative, _normalization, _persistence, _rises, _kinetics, _place):
        step(courses)
    out = courses.out
    out.update(ratios(seg, courses.base, courses.informative, patient, analyte, courses.arrays, rules, names=names))
    out[PATIENT_ID], out[ANALYTE] = coded_text(patient, names), coded_text(analyte_code, analytes)
    if courses.assumed.any():
        warn_assumed(patient, courses.assumed, names)
    # the courses' own arrays (samples, anchors, rule state: ~30 MB at 100,000 courses) let go, and each
    # column of ``out`` as it is converted: the table is then made in memory already mapped (fewer faults)
    del courses, arrays, anchors
    table = typed_columns({name: _table_column(name, out.pop(name), categorical_text) for name in columns})
    return pd.DataFrame(table, columns=columns, copy=False)


def _course_anchor(per_patient: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each course's day of an anchor given per patient (``rows``: each course's patient row, -1 for
    none). An anchor no patient has (most event codes of a registry without therapy dates) is one
    read-only NaN for every course, not an array per course: 100,000 courses, 0.8 MB each."""
    if np.isnan(per_patient).all():
        return np.broadcast_to(np.nan, rows.shape)
    return np.append(per_patient, np.nan)[rows]


def _course_patients(data: pd.DataFrame, seg: Segments) -> tuple[np.ndarray, pd.Index]:
    """Each course's patient as a code into the patients' IDs in course order (``pd.factorize`` of
    the courses' IDs), from the runs of the sort's patient codes: no hashing of an ID per course."""
    if data[PATIENT_ID].hasnans:  # a missing ID: factorize's -1, as before
        return pd.factorize(data[PATIENT_ID].take(seg.starts))
    names, _ = patient_runs(data)
    codes = data["_patient"].to_numpy()[seg.starts]
    return np.cumsum(np.r_[True, codes[1:] != codes[:-1]]) - 1, names.rename(None)


def _table_column(name: str, values: np.ndarray | Words, categorical: bool) -> object:
    """A column of ``out`` as the table holds it: words as text (``categorical``: as a Categorical),
    the int8 codes of :data:`_BOOLEAN` as booleans."""
    if isinstance(values, Words):
        return values.categorical() if categorical else values.text()
    if name in _BOOLEAN:
        return pd.arrays.BooleanArray(values == 1, values < 0)
    return text_array(values) if values.dtype == object else values
