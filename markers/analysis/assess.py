"""Per-patient marker assessment: baseline, response, persistence, re-elevation.

:func:`assess` turns flagged measurements (``markers.analysis.flags.flag``) and the
therapy timeline into one row per patient × analyte. Every rule below is a
field of :class:`AssessmentRules`, so a study can change it; the defaults and
where they come from (domain facts §4; source tags as there) are:

Baseline (``baseline_window_before_days`` = 30, ``late_baseline_days`` = 14)
    The last sample from diagnosis − 30 days up to and including the day of
    therapy start. Without one, the first sample within 14 days *after*
    therapy start is a *late baseline* (``baseline_late``); else there is no
    baseline (``informative`` <NA>, summary ``"no baseline sample"``). Without
    a diagnosis date the window opens 30 days before therapy start; without a
    therapy start it closes on the diagnosis day (and there is no late
    baseline). The 30- and 14-day windows are project conventions: no source
    gives a window; a textbook summary only says tests abnormal at diagnosis
    are repeated after 3–4 months and after each therapeutic step [S42].
Informative
    The baseline sample is elevated (``elevated`` True): surveillance by
    catecholamines is only meaningful "if levels were elevated at diagnosis"
    (NCCN 2024 via [S30]); 5–29 % of tumours do not secrete [S11, S21].
    Baseline indeterminate → ``informative`` <NA>. For a patient that is not
    (or not known to be) informative, ``normalized``, ``persistent`` and
    ``reelevation`` are <NA>: such a patient is never called normalized or
    persistent.
Nadir, first normal sample
    Among samples after the baseline: the lowest ``x_uln`` of uncensored and
    ``<``-censored results (a ``<x`` result is at most x, so x bounds it; ``>x``
    results are not nadirs), earliest on ties; and the first sample flagged
    normal. A censored ``<x`` result flags normal when x ≤ ULN, so it counts
    as normal.
Normalized (``normalized_consecutive`` = 2)
    Informative, and after the baseline either 2 consecutive normal samples
    (``normalized_date`` = the first of them) or a normal last sample
    (``normalized_date`` = that sample). An indeterminate sample breaks a run.
    ``days_to_normalization`` counts from therapy start. With no sample after
    the baseline, ``normalized`` and ``persistent`` are <NA> (summary "no
    sample after baseline"). The rule guards
    against calling a single normal result in a series a response; it is a
    project convention (no source gives a count).
Milestones (``milestones``; ``milestone_window_days`` = 30)
    For each milestone event in the patient's timeline (its earliest date):
    the sample nearest to it within ±30 days (ties: the later sample); its
    ``elevated`` gives ``status_<milestone>``: ``"elevated"``, ``"normal"``,
    ``"indeterminate"``, or ``"no sample"``; ``""`` when the event is not in
    the timeline. Milestones follow Matser 2025 [S13] (status after
    resection, after induction and at CR) plus end of therapy; the ±30 days
    is a project convention.
Persistent
    Informative, and elevated at any milestone in the timeline whose sample
    is after the baseline (the baseline sample itself is not evidence of
    persistence); ``persistent_at`` is the first such milestone in time (its
    event code). When no milestone is in the timeline, the last sample (after
    baseline) decides, with ``persistent_at`` = ``"last sample"``. Persistent
    positivity, notably at CR, is the signal that predicted relapse (EFS 38 %
    vs 80 %) in Matser 2025 [S13]. <NA> when no milestone has a usable sample
    or a sample is indeterminate and none is elevated.
Re-elevation (``reelevation_x_uln`` = 3.0, ``reelevation_consecutive`` = 2)
    After normalization: 2 consecutive elevated samples (date = the first),
    or one sample ≥ 3 × ULN (not ``<``-censored). A single mild rise followed
    by a normal sample is not a re-elevation: mild (1.5–4 × ULN) elevations
    during NED were compatible with continuous remission in 4 of 5 patients
    [S25]; ≥ 3 × ULN is where [S16] places an "increased probability of a
    neuroendocrine tumor" (for catecholamines). False for an informative
    patient never normalized; <NA> when not informative.
Decline kinetics (``kinetics_window_days`` = (0, 100))
    :func:`markers.analysis.kinetics.decline_half_life` over days 0–100 after therapy
    start, informative patients only. No published half-life exists to compare
    with (domain facts, open question 5): the window is a project convention.
VMA/HVA ratio (``low_ratio_cutoff`` = 1.5)
    From the VMA and HVA baseline values: the mass ratio (both in mg/g
    creatinine; mmol/mol results are converted with the molar masses) and the
    molar ratio = mass ratio × M_HVA / M_VMA (≈ 0.9193). Low when the mass
    ratio < 1.5: a cut-off from a *secondary* teaching page [S24], probably
    after Laug et al. [S23], whose units (mass or molar, ~8 % apart) are not
    stated. Censored baselines give no ratio. Reported on the VMA and HVA rows.

Summary
    Words, e.g. ``"informative; normalized on day 84 of therapy; persistent
    at end of induction"`` or ``"not marker-informative (normal at baseline)"``.
    Days in the summary count from therapy start, like ``days_to_normalization``
    (the timeline's ``day`` column counts from diagnosis).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from markers.analysis.kinetics import decline_half_life
from markers.analysis.timeline import event_dates
from markers.errors import ConfigError, MissingColumnError, UnknownUnitError
from markers.ingest.units import convert_ratio, molar_masses
from markers.schema import (
    ANALYTE,
    ANALYTES,
    CENSOR,
    ELEVATED,
    EVENTS,
    MASS_RATIO,
    MOLAR_RATIO,
    PATIENT_ID,
    SAMPLE_DATE,
    UNIT,
    VALUE,
    X_ULN,
)

logger = logging.getLogger(__name__)

__all__ = ["ASSESSMENT_COLUMNS", "AssessmentRules", "assess", "assessment_columns"]


@dataclass(frozen=True)
class AssessmentRules:
    """The tunable rules of :func:`assess`; defaults and sources are in the module docstring.

    Raises
    ------
    ConfigError
        When a milestone is not an event code, a window is negative, a count is below 1,
        or the kinetics window is reversed.

    Examples
    --------
    >>> AssessmentRules(milestones=("end_of_induction",)).milestone_window_days
    30
    """

    baseline_window_before_days: int = 30
    late_baseline_days: int = 14
    milestone_window_days: int = 30
    milestones: tuple[str, ...] = ("surgery", "end_of_induction", "complete_remission", "end_of_therapy")
    reelevation_x_uln: float = 3.0
    reelevation_consecutive: int = 2
    normalized_consecutive: int = 2
    low_ratio_cutoff: float = 1.5  # VMA/HVA mass ratio; secondary source S24, units unstated
    kinetics_window_days: tuple[int, int] = (0, 100)

    def __post_init__(self) -> None:
        unknown = [m for m in self.milestones if m not in EVENTS]
        if unknown:
            raise ConfigError(
                f"AssessmentRules.milestones: {', '.join(repr(m) for m in unknown)} not event code(s); "
                f"use codes from: {', '.join(EVENTS)}."
            )
        counts = {
            "baseline_window_before_days": self.baseline_window_before_days,
            "late_baseline_days": self.late_baseline_days,
            "milestone_window_days": self.milestone_window_days,
        }
        for name, value in counts.items():
            if value < 0:
                raise ConfigError(f"AssessmentRules.{name} must be 0 or more days, not {value}.")
        for name in ("reelevation_consecutive", "normalized_consecutive"):
            if getattr(self, name) < 1:
                raise ConfigError(f"AssessmentRules.{name} must be at least 1, not {getattr(self, name)}.")
        first, last = self.kinetics_window_days
        if first > last:
            raise ConfigError(f"AssessmentRules.kinetics_window_days: {first} is after {last}; give (first, last).")


_DEFAULT_RULES = AssessmentRules()


def assessment_columns(milestones: tuple[str, ...] = _DEFAULT_RULES.milestones) -> list[str]:
    """Column names of :func:`assess`'s result for the given milestones, in order."""
    return [
        PATIENT_ID, ANALYTE, "n_samples", "informative",
        "baseline_date", "baseline_value", "baseline_x_uln", "baseline_late",
        "nadir_date", "nadir_value", "nadir_x_uln", "first_normal_date",
        "normalized", "normalized_date", "days_to_normalization",
        *[f"status_{m}" for m in milestones],
        "persistent", "persistent_at", "reelevation", "reelevation_date",
        "last_sample_date", "last_status",
        "half_life_days", "k_per_day", "half_life_r2", "half_life_n", "half_life_note",
        "vma_hva_ratio_mass", "vma_hva_ratio_molar", "low_vma_hva_ratio", "summary",
    ]


#: Columns for the default rules.
ASSESSMENT_COLUMNS = assessment_columns()

_DATE_COLUMNS = ("baseline_date", "nadir_date", "first_normal_date", "normalized_date", "reelevation_date",
                 "last_sample_date")
_BOOLEAN_COLUMNS = ("informative", "normalized", "persistent", "reelevation", "low_vma_hva_ratio")
_FLOAT_COLUMNS = ("baseline_value", "baseline_x_uln", "nadir_value", "nadir_x_uln", "half_life_days",
                  "k_per_day", "half_life_r2", "vma_hva_ratio_mass", "vma_hva_ratio_molar")
_REQUIRED = (PATIENT_ID, SAMPLE_DATE, ANALYTE, VALUE, UNIT, CENSOR, X_ULN, ELEVATED)


def _status(elevated: object) -> str:
    if elevated is pd.NA or elevated is None or (isinstance(elevated, float) and np.isnan(elevated)):
        return "indeterminate"
    return "elevated" if bool(elevated) else "normal"


def _censor(value: object) -> str:
    """``"<"``, ``">"`` or ``""`` (a missing censor is an uncensored result)."""
    return value if isinstance(value, str) else ""


def _words(code: str) -> str:
    return code.replace("_", " ")


@dataclass(frozen=True)
class _Series:
    """One patient × analyte, sorted by date, as plain arrays (positions 0..n-1)."""

    dates: pd.DatetimeIndex
    values: np.ndarray
    x_uln: np.ndarray
    censor: list[str]
    unit: list[str]
    elevated: list[object]  # True / False / pd.NA

    def is_normal(self, i: int) -> bool:
        return self.elevated[i] is not pd.NA and self.elevated[i] is False

    def is_elevated(self, i: int) -> bool:
        return self.elevated[i] is not pd.NA and self.elevated[i] is True


def _as_series(frame: pd.DataFrame) -> _Series:
    elevated = frame[ELEVATED].astype("boolean")
    return _Series(
        dates=pd.DatetimeIndex(frame[SAMPLE_DATE]),
        values=frame[VALUE].to_numpy(dtype=float),
        x_uln=pd.to_numeric(frame[X_ULN], errors="coerce").to_numpy(dtype=float),
        censor=[_censor(c) for c in frame[CENSOR]],
        unit=[str(u) for u in frame[UNIT]],
        elevated=[pd.NA if pd.isna(v) else bool(v) for v in elevated],
    )


def _baseline(s: _Series, *, diagnosis: pd.Timestamp, start: pd.Timestamp,
              rules: AssessmentRules) -> tuple[int | None, bool]:
    """Position of the baseline sample and whether it is a late baseline."""
    before = pd.Timedelta(days=rules.baseline_window_before_days)
    opens = diagnosis - before if pd.notna(diagnosis) else (start - before if pd.notna(start) else pd.NaT)
    closes = start if pd.notna(start) else diagnosis
    if pd.isna(closes):
        return None, False
    inside = np.flatnonzero((s.dates >= opens) & (s.dates <= closes))
    if len(inside):
        return int(inside[-1]), False
    if pd.notna(start):
        late = np.flatnonzero((s.dates > start) & (s.dates <= start + pd.Timedelta(days=rules.late_baseline_days)))
        if len(late):
            return int(late[0]), True
    return None, False


def _normalization(s: _Series, after: int, rules: AssessmentRules) -> int | None:
    """Start of the first run of normal samples after ``after`` that is long enough or reaches the end."""
    n = len(s.dates)
    i = after + 1
    while i < n:
        if not s.is_normal(i):
            i += 1
            continue
        run_end = i
        while run_end + 1 < n and s.is_normal(run_end + 1):
            run_end += 1
        if run_end - i + 1 >= rules.normalized_consecutive or run_end == n - 1:
            return i
        i = run_end + 1
    return None


def _reelevation(s: _Series, after: int, rules: AssessmentRules) -> int | None:
    """First confirmed re-elevation after position ``after`` (a normal sample), or None."""
    n = len(s.dates)
    for i in range(after + 1, n):
        if not s.is_elevated(i):
            continue
        # a "<x" result is at most x, so it can never prove a value of >= 3x ULN
        if s.censor[i] != "<" and s.x_uln[i] >= rules.reelevation_x_uln:
            return i
        needed = rules.reelevation_consecutive
        if i + needed <= n and all(s.is_elevated(j) for j in range(i, i + needed)):
            return i
    return None


def _nearest(s: _Series, when: pd.Timestamp, window_days: int) -> int | None:
    """Position of the sample nearest ``when`` within ±window days; ties go to the later sample."""
    distance = np.abs((s.dates - when).days.to_numpy())
    inside = np.flatnonzero(distance <= window_days)
    if not len(inside):
        return None
    best = distance[inside].min()
    return int(inside[distance[inside] == best][-1])


def _days(later: pd.Timestamp, earlier: pd.Timestamp) -> object:
    if pd.isna(later) or pd.isna(earlier):
        return pd.NA
    return int((later - earlier).days)


def _assess_one(frame: pd.DataFrame, *, patient: str, analyte: str, dates: pd.Series,
                rules: AssessmentRules) -> dict:
    s = _as_series(frame)
    n = len(s.dates)
    diagnosis = dates.get("diagnosis", pd.NaT)
    start = dates.get("therapy_start", pd.NaT)
    row: dict[str, object] = {
        PATIENT_ID: patient, ANALYTE: analyte, "n_samples": n, "informative": pd.NA,
        "baseline_date": pd.NaT, "baseline_value": np.nan, "baseline_x_uln": np.nan, "baseline_late": False,
        "nadir_date": pd.NaT, "nadir_value": np.nan, "nadir_x_uln": np.nan, "first_normal_date": pd.NaT,
        "normalized": pd.NA, "normalized_date": pd.NaT, "days_to_normalization": pd.NA,
        "persistent": pd.NA, "persistent_at": "", "reelevation": pd.NA, "reelevation_date": pd.NaT,
        "last_sample_date": s.dates[-1], "last_status": _status(s.elevated[-1]),
        "half_life_days": np.nan, "k_per_day": np.nan, "half_life_r2": np.nan, "half_life_n": pd.NA,
        "half_life_note": "",
    }
    # milestones are reported whatever the baseline: they describe the samples, not the response
    milestone_samples: dict[str, int | None] = {}
    for milestone in rules.milestones:
        when = dates.get(milestone, pd.NaT)
        if pd.isna(when):
            row[f"status_{milestone}"] = ""
            continue
        pos = _nearest(s, when, rules.milestone_window_days)
        milestone_samples[milestone] = pos
        row[f"status_{milestone}"] = "no sample" if pos is None else _status(s.elevated[pos])

    base, late = _baseline(s, diagnosis=diagnosis, start=start, rules=rules)
    row["_baseline_pos"] = base
    if base is None:
        reason = "" if pd.notna(start) or pd.notna(diagnosis) else " (no diagnosis or therapy start date)"
        row["summary"] = "no baseline sample" + reason
        row["half_life_note"] = "no baseline sample"
        return row
    row.update(baseline_date=s.dates[base], baseline_value=s.values[base], baseline_x_uln=s.x_uln[base],
               baseline_late=late)
    after = range(base + 1, n)
    candidates = [i for i in after if s.censor[i] in ("", "<") and not np.isnan(s.x_uln[i])]
    if candidates:
        nadir = min(candidates, key=lambda i: (s.x_uln[i], i))
        row.update(nadir_date=s.dates[nadir], nadir_value=s.values[nadir], nadir_x_uln=s.x_uln[nadir])
    first_normal = next((i for i in after if s.is_normal(i)), None)
    if first_normal is not None:
        row["first_normal_date"] = s.dates[first_normal]

    informative = s.elevated[base]
    row["informative"] = informative
    if informative is pd.NA:
        row["summary"] = "informativeness unknown (baseline indeterminate)"
        row["half_life_note"] = "informativeness unknown"
        return row
    if informative is False:
        row["summary"] = "not marker-informative (normal at baseline)"
        row["half_life_note"] = "not informative"
        return row

    # -- informative --
    parts = ["informative (late baseline)" if late else "informative"]
    if base == n - 1:
        # nothing after the baseline: neither normalized nor persistent can be judged
        row["summary"] = "; ".join([*parts, "no sample after baseline"])
        row["half_life_note"] = "no sample after baseline"
        return row
    normal_at = _normalization(s, base, rules)
    row["normalized"] = normal_at is not None
    if normal_at is not None:
        row["normalized_date"] = s.dates[normal_at]
        row["days_to_normalization"] = _days(s.dates[normal_at], start)
        when = (f"day {row['days_to_normalization']} of therapy" if pd.notna(start)
                else s.dates[normal_at].date().isoformat())
        parts.append(f"normalized on {when}")
    else:
        parts.append("not normalized")

    present = [m for m in rules.milestones if m in milestone_samples]
    if present:
        usable = [(dates[m], rules.milestones.index(m), m) for m in present
                  if milestone_samples[m] is not None and milestone_samples[m] > base]
        flagged = sorted(u for u in usable if s.is_elevated(milestone_samples[u[2]]))
        if flagged:
            row.update(persistent=True, persistent_at=flagged[0][2])
        elif any(s.elevated[milestone_samples[m]] is pd.NA for _, _, m in usable):
            row["persistent"] = pd.NA
        elif usable:
            row["persistent"] = False
        else:
            parts.append("persistence not assessable (no sample near a milestone)")
    elif n - 1 > base:
        last = s.elevated[n - 1]
        row["persistent"] = last
        if last is True:
            row["persistent_at"] = "last sample"
    if row["persistent"] is True:
        parts.append(f"persistent at {_words(str(row['persistent_at']))}")

    # never normalized: nothing could re-elevate, so "no re-elevation" (False) is a plain fact
    row["reelevation"] = False
    if normal_at is not None:
        rise = _reelevation(s, normal_at, rules)
        row["reelevation"] = rise is not None
        if rise is not None:
            row["reelevation_date"] = s.dates[rise]
            when = (f"day {_days(s.dates[rise], start)} of therapy" if pd.notna(start)
                    else s.dates[rise].date().isoformat())
            parts.append(f"re-elevated on {when}")
        elif s.is_elevated(n - 1) and n - 1 > normal_at:
            parts.append("unconfirmed rise at last sample")

    if pd.isna(start):
        row["half_life_note"] = "no therapy start date"
    else:
        fit = decline_half_life(frame, therapy_start=start, window=rules.kinetics_window_days)
        row.update(half_life_days=fit["half_life_days"], k_per_day=fit["k_per_day"], half_life_r2=fit["r2"],
                   half_life_n=fit["n_points"], half_life_note=fit["note"])
    row["summary"] = "; ".join(parts)
    return row


def _mass_value(value: float, unit: str, *, analyte: str, patient: str) -> float:
    if unit not in (MASS_RATIO, MOLAR_RATIO):
        raise UnknownUnitError(
            f"patient {patient}, {analyte}: unit {unit!r} is not {MASS_RATIO!r} or {MOLAR_RATIO!r}; "
            "assess the measurements returned by markers.ingest.reader.read()."
        )
    return float(convert_ratio(value, analyte=analyte, from_unit=unit, to_unit=MASS_RATIO))


def _ratios(rows: list[dict], baselines: dict[tuple[str, str], tuple[object, float, str]],
            cutoff: float) -> None:
    """Fill the VMA/HVA ratio columns of the VMA and HVA rows of each patient (in place on ``rows``).

    ``baselines`` holds the censor, value and unit of each VMA and HVA baseline sample.
    """
    by_key = {(r[PATIENT_ID], r[ANALYTE]): r for r in rows}
    masses = molar_masses()
    for row in rows:
        row.update(vma_hva_ratio_mass=np.nan, vma_hva_ratio_molar=np.nan, low_vma_hva_ratio=pd.NA)
    for (patient, analyte), vma in by_key.items():
        hva = by_key.get((patient, "HVA"))
        if analyte != "VMA" or hva is None:
            continue
        if (patient, "VMA") not in baselines or (patient, "HVA") not in baselines:
            continue
        v_censor, v_value, v_unit = baselines[(patient, "VMA")]
        h_censor, h_value, h_unit = baselines[(patient, "HVA")]
        if _censor(v_censor) or _censor(h_censor):
            continue  # a censored value is a bound, not a value: no ratio (domain facts §5)
        v = _mass_value(v_value, v_unit, analyte="VMA", patient=patient)
        h = _mass_value(h_value, h_unit, analyte="HVA", patient=patient)
        if not h > 0:
            continue
        mass = v / h
        # (v/M_VMA) / (h/M_HVA) = mass × M_HVA / M_VMA
        molar = mass * masses["HVA"] / masses["VMA"]
        for row in (vma, hva):
            row.update(vma_hva_ratio_mass=mass, vma_hva_ratio_molar=molar, low_vma_hva_ratio=mass < cutoff)


def _empty(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for column in _DATE_COLUMNS:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    for column in _BOOLEAN_COLUMNS:
        frame[column] = frame[column].astype("boolean")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype(float)
    frame["baseline_late"] = frame["baseline_late"].astype(bool)
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
        Flagged measurements (``markers.analysis.flags.flag``): ``patient_id``,
        ``sample_date``, ``analyte``, ``value``, ``unit``, ``censor``, ``x_uln``, ``elevated``.
    therapy
        Therapy events (``patient_id``, ``event``, ``event_date``); may be empty.
    patients
        Patients table (``patient_id``, ``diagnosis_date``); may be empty.
    rules
        The rules; :class:`AssessmentRules` defaults when ``None``.

    Returns
    -------
    pandas.DataFrame
        One row per patient × analyte present, sorted by ``patient_id`` then
        analyte in :data:`markers.schema.ANALYTES` order, with the columns of
        :func:`assessment_columns` (see the module docstring for every rule).

    Raises
    ------
    MissingColumnError
        When ``measurements`` lacks a needed column (unflagged data lacks ``elevated``).
    UnknownUnitError
        When a VMA or HVA baseline is in a unit other than mg/g or mmol/mol creatinine.

    Warns
    -----
    UserWarning
        When some patients have neither a diagnosis date nor a therapy start,
        so no baseline can be chosen for them.

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
    'informative; normalized on day 59 of therapy'
    """
    rules = rules if rules is not None else _DEFAULT_RULES
    missing = [c for c in _REQUIRED if c not in measurements.columns]
    if missing:
        raise MissingColumnError(
            f"the measurements table lacks column(s) {', '.join(repr(c) for c in missing)}; "
            "assess flagged measurements: markers.analysis.flags.flag(measurements, limits=...)."
        )
    columns = assessment_columns(rules.milestones)
    data = measurements[list(_REQUIRED)].copy()
    data[PATIENT_ID] = data[PATIENT_ID].astype(str)
    data[SAMPLE_DATE] = pd.to_datetime(data[SAMPLE_DATE]).astype("datetime64[ns]")
    data = data[data[SAMPLE_DATE].notna()]
    if data.empty:
        return _empty(columns)
    dates = event_dates(therapy, patients=patients)
    order = {code: i for i, code in enumerate(ANALYTES)}
    data["_order"] = data[ANALYTE].map(order).fillna(len(ANALYTES))
    data = data.sort_values([PATIENT_ID, "_order", ANALYTE, SAMPLE_DATE], kind="stable")

    rows: list[dict] = []
    # Only each VMA and HVA baseline sample is kept for the ratio, not every patient's frame: a
    # thousand patients' frames held at once were most of what assessing them took in memory.
    baselines: dict[tuple[str, str], tuple[object, float, str]] = {}
    undated: set[str] = set()
    no_dates = pd.Series(dtype="datetime64[ns]")
    for (patient, analyte), frame in data.groupby([PATIENT_ID, ANALYTE], sort=False):
        frame = frame.reset_index(drop=True)
        patient_dates = dates.loc[patient] if patient in dates.index else no_dates
        if pd.isna(patient_dates.get("anchor", pd.NaT)):
            undated.add(patient)
        row = _assess_one(frame, patient=patient, analyte=analyte, dates=patient_dates, rules=rules)
        rows.append(row)
        if analyte in ("VMA", "HVA") and row["_baseline_pos"] is not None:
            base = row["_baseline_pos"]
            baselines[(patient, analyte)] = (frame[CENSOR].iloc[base], frame[VALUE].iloc[base],
                                             frame[UNIT].iloc[base])
    _ratios(rows, baselines, rules.low_ratio_cutoff)
    if undated:
        warnings.warn(
            f"{len(undated)} patient(s) have neither a diagnosis date nor a therapy start "
            f"({', '.join(sorted(undated)[:5])}{', ...' if len(undated) > 5 else ''}): no baseline can be "
            "chosen. Add a diagnosis date to the patients sheet or therapy events.",
            UserWarning,
            stacklevel=2,
        )
    result = pd.DataFrame(rows).reindex(columns=columns)
    return _typed(result).reset_index(drop=True)
