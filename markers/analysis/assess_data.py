"""The assessment's input made ready, and the shape of its result.

Both implementations of the assessment (the vectorised :func:`markers.analysis.assess.assess`
and the plain per-course :mod:`markers.analysis.assess_reference`) start here: the flagged
measurements checked, sorted once by patient, analyte and date, turned into plain arrays with
the (patient, analyte) boundaries and each patient's anchor days; and they end here, in one
typed table with the columns of :func:`assessment_columns`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.anchors import as_days, day_anchors, patient_anchors
from markers.analysis.course import ELEVATED, NORMAL, UNKNOWN
from markers.analysis.rules import AssessmentRules
from markers.analysis.segments import sorted_text_codes
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

__all__ = ["ASSESSMENT_COLUMNS", "DATE_COLUMNS", "DAY_COLUMNS", "DEFAULT_RULES", "EXCLUDE_FROM_KINETICS",
           "anchor_table", "assessment_columns", "boundaries", "course_arrays", "patient_runs", "sorted_courses",
           "typed_assessment", "typed_columns"]

#: Optional measurements column: a true value leaves the sample out of the half-life fit.
EXCLUDE_FROM_KINETICS = "exclude_from_kinetics"

DEFAULT_RULES = AssessmentRules()

DATE_COLUMNS = ("baseline_date", "nadir_date", "first_normal_date", "normalized_date", "reelevation_date",
                "unconfirmed_rise_date", "last_sample_date")
#: Beside each ``<stem>_date``, ``<stem>_day``: days since the timeline's day 0 (the diagnosis, else the
#: therapy start; the ``day`` of the measurements), filled for dated and date-free patients alike.
DAY_COLUMNS = tuple(c[: -len("_date")] + "_day" for c in DATE_COLUMNS)


def assessment_columns(milestones: tuple[str, ...] = DEFAULT_RULES.all_milestones) -> list[str]:
    """Column names of the assessment for the given milestones, in order."""
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


def course_arrays(data: pd.DataFrame, rules: AssessmentRules) -> dict:
    """Plain arrays of the sorted measurements: days, values, x ULN, ULN, censoring, exclusions, states."""
    # text columns by distinct value: a Python str per distinct value, never one per row
    censor_codes, censors = pd.factorize(data[CENSOR])
    signs = np.append(pd.Series(censors, dtype=object).fillna("").astype(str).str.strip().to_numpy(dtype=object), "")
    unit_codes, units = pd.factorize(data[UNIT].astype(str))
    return {
        "days": np.where(data["_dated"].to_numpy(dtype=bool), as_days(data[SAMPLE_DATE]),
                         data["_day"].to_numpy(dtype=float)),
        "dated": data["_dated"].to_numpy(dtype=bool),
        "values": pd.to_numeric(data[VALUE], errors="coerce").to_numpy(dtype=float),
        "x_uln": pd.to_numeric(data[X_ULN], errors="coerce").to_numpy(dtype=float),
        "uln": (pd.to_numeric(data[ULN], errors="coerce").to_numpy(dtype=float) if ULN in data
                else np.full(len(data), np.nan)),
        "censored": (signs != "")[censor_codes],  # each distinct sign judged once (-1, missing: the "" appended)
        "below": np.isin(signs, ["<", "<="])[censor_codes],
        "exclude": _exclusions(data, rules),
        "states": _state_codes(data[ELEVATED_COLUMN]),
        "unit": np.append(np.asarray(units, dtype=object), None)[unit_codes],
        # the same units as codes into ``units`` (a missing one: the appended None), compared as numbers
        "unit_code": unit_codes,
        "units": np.append(np.asarray(units, dtype=object), None),
    }


def sorted_courses(measurements: pd.DataFrame) -> pd.DataFrame:
    """The measurements the assessment uses, sorted by patient, analyte (panel order) and day.

    Raises
    ------
    MissingColumnError
        When a needed column is missing (unflagged data lacks ``elevated``).
    """
    missing = [c for c in _REQUIRED if c not in measurements.columns]
    if missing:
        raise MissingColumnError(
            f"the measurements table lacks column(s) {', '.join(repr(c) for c in missing)}; "
            "assess flagged measurements: markers.analysis.flags.flag(measurements, limits=...)."
        )
    extra = [c for c in (ULN, EXCLUDE_FROM_KINETICS) if c in measurements.columns]
    pid = measurements[PATIENT_ID].astype(str)
    dates = pd.to_datetime(measurements[SAMPLE_DATE]).astype("datetime64[ns]")
    day = _source_days(measurements)
    # a patient with any dated sample is assessed on dates; one without, on its days since diagnosis
    # codes in the order of the IDs (-1: missing), for both jobs; read from the runs of sorted IDs
    patient, ids = sorted_text_codes(pid) or pd.factorize(pid, sort=True)
    has_date = dates.notna().to_numpy()
    dated = (np.bincount(patient[patient >= 0], weights=has_date[patient >= 0],
                         minlength=patient.max(initial=-1) + 1) > 0)[patient] & (patient >= 0)
    rows = np.flatnonzero(has_date | (~dated & ~np.isnan(day)))
    axis = np.where(dated, as_days(dates), day)
    order = rows[_course_order(np.where(patient < 0, len(ids), patient), measurements[ANALYTE], axis, rows)]
    # one take of the columns used, in course order (no copy of the whole table, no second sort)
    data = measurements[[*_REQUIRED, *extra]].take(order).reset_index(drop=True)
    data[PATIENT_ID] = pid.take(order).array
    data["_patient"] = np.where(patient < 0, len(ids), patient)[order]  # nondecreasing: a run per patient
    data[SAMPLE_DATE] = dates.to_numpy()[order]
    data["_day"] = day[order]
    data["_dated"] = dated[order]
    return data


def _sort_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes in sorted order of the distinct values, a missing value after all of them."""
    codes, uniques = pd.factorize(values, sort=True)
    return np.where(codes < 0, len(uniques), codes), uniques


def _course_order(patient: np.ndarray, analyte: pd.Series, axis: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions into ``rows`` sorting them by patient (codes in ID order, a missing one last), analyte
    (panel order, then name) and day; stable."""
    code, analytes = _sort_codes(analyte)
    # the panel's order; any other code after it (a missing one: the appended last entry)
    rank = np.array([*(ANALYTES.index(a) if a in ANALYTES else len(ANALYTES) for a in analytes), len(ANALYTES)])
    # patient, rank and code as one number in the same order (one sort key instead of three)
    codes = len(analytes) + 1
    key = (patient[rows].astype(np.int64) * (len(ANALYTES) + 1) + rank[code[rows]]) * codes + code[rows]
    days = axis[rows]
    if len(days) and np.isfinite(days).all() and key.max() < 2**31 and days.max() - days.min() < 2**31:
        if np.array_equal(days, np.trunc(days)):  # whole days (dates): the day joins the key, one stable sort
            return np.argsort(key * 2**32 + (days - days.min()).astype(np.int64), kind="stable")
    return np.lexsort((days, key))


def _source_days(measurements: pd.DataFrame) -> np.ndarray:
    """Days since diagnosis of each sample without a date: the timeline's ``day``, else the source's own."""
    days = np.full(len(measurements), np.nan)
    for column in (DAYS_SINCE_DIAGNOSIS, DAY):
        if column in measurements.columns:
            given = pd.to_numeric(measurements[column], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
            days = np.where(np.isnan(given), days, given)
    return days


def boundaries(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop positions of each (patient, analyte) run of the sorted table."""
    pid = data["_patient"].to_numpy()  # the patient codes of the sort (equal codes: equal IDs)
    analyte = pd.factorize(data[ANALYTE].astype(str))[0]
    key = pid.astype(np.int64) * (int(analyte.max(initial=0)) + 1) + analyte
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    return starts, np.r_[starts[1:], len(key)]


def patient_runs(data: pd.DataFrame) -> tuple[pd.Index, np.ndarray]:
    """Each patient of the sorted table once, in table order (a missing ID left out), and whether the
    patient is assessed on dates (its ``_dated``): what a groupby of the IDs' first rows gives, read
    from the runs of the sort's patient codes instead of hashing every row's ID."""
    codes = data["_patient"].to_numpy()
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=np.int64)
    ids = data[PATIENT_ID].take(first)
    present = ids.notna().to_numpy()
    return pd.Index(ids.array[present], name=PATIENT_ID), data["_dated"].to_numpy(dtype=bool)[first[present]]


def anchor_table(data: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Per patient: anchors in float days since 1970 (dated patients) or since diagnosis (date-free)."""
    ids, dated = patient_runs(data)
    rows = patient_anchors(therapy, patients=patients, index=ids[dated])
    free = day_anchors(therapy, index=ids[~dated])
    parts = [table for table in (rows, free) if len(table)]
    return pd.concat(parts) if len(parts) > 1 else parts[0] if parts else rows


def _whole(values: np.ndarray, limit: float) -> np.ndarray | None:
    """``values`` (floats, NaN: missing) as int64 when every present one is a whole number within
    ``limit``; else None (the caller converts as pandas does, with its errors)."""
    present = values[~np.isnan(values)]
    if not (np.abs(present) < limit).all() or not np.array_equal(present, np.trunc(present)):
        return None
    return np.where(np.isnan(values), 0, values).astype(np.int64)


def _as_dates(days: np.ndarray) -> np.ndarray:
    """``pd.to_datetime(days, unit="D")`` (NaN: NaT) in datetime64[ns]; whole days by a numpy cast."""
    missing = np.isnan(days)
    if missing.all():  # a finding no course reached (most at one sample per course): no conversion
        return np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    whole = _whole(days, 100_000)  # within pandas' nanosecond range (about 1677-2262)
    if whole is None:
        return pd.to_datetime(np.where(np.isnan(days), np.nan, days), unit="D").astype("datetime64[ns]").to_numpy()
    return np.where(np.isnan(days), np.datetime64("NaT"), whole.astype("datetime64[D]")).astype("datetime64[ns]")


def _as_int64(values: pd.Series) -> pd.api.extensions.ExtensionArray:
    """``Float64`` -> ``Int64`` of the numbers (pandas' conversion, and its error for a fraction)."""
    floats = pd.to_numeric(values, errors="coerce")
    if floats.dtype == np.float64:
        missing = np.isnan(floats.to_numpy())
        if missing.all():  # no number at all: nothing to convert
            return pd.arrays.IntegerArray(np.zeros(len(missing), dtype=np.int64), missing)
        whole = _whole(floats.to_numpy(), 2.0**62)
        if whole is not None:  # the same values, without building a Float64 array first
            return pd.arrays.IntegerArray(whole, np.isnan(floats.to_numpy()))
    return pd.array(floats, dtype="Float64").astype("Int64")


def typed_columns(columns: dict[str, object]) -> dict[str, object]:
    """:func:`typed_assessment` on the columns before the table is built (numpy arrays, Boolean
    arrays, text): each column converted once, not set into a frame one at a time."""
    typed = dict(columns)
    for column in DATE_COLUMNS:
        typed[column] = _as_dates(_floats(typed[column]))
    for column in _FLOAT_COLUMNS:
        typed[column] = _floats(typed[column])
    for column in ("baseline_late", "baseline_assumed"):
        typed[column] = np.asarray(typed[column]).astype(bool)
    for column in (*DAY_COLUMNS, "days_to_normalization", "half_life_n"):
        values = typed[column]
        floats = isinstance(values, np.ndarray) and values.dtype == np.float64
        typed[column] = _as_int64(pd.Series(values)) if floats or column in DAY_COLUMNS else (
            pd.Series(values).astype("Int64").array)
    typed["n_samples"] = np.asarray(typed["n_samples"]).astype("int64")
    for column in _BOOLEAN_COLUMNS:
        if not isinstance(typed[column], pd.arrays.BooleanArray):
            typed[column] = pd.Series(typed[column]).astype("boolean").array
    return typed


def _floats(values: object) -> np.ndarray:
    """``pd.to_numeric(values, errors="coerce")`` as float64 (a float64 array as it is)."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def typed_assessment(frame: pd.DataFrame) -> pd.DataFrame:
    """The assessment's columns in their types: dates, nullable booleans and integers, floats."""
    for column in DATE_COLUMNS:
        frame[column] = _as_dates(pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float))
    for column in _BOOLEAN_COLUMNS:
        frame[column] = frame[column].astype("boolean")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype(float)
    for column in ("baseline_late", "baseline_assumed"):
        frame[column] = frame[column].astype(bool)
    for column in DAY_COLUMNS:
        frame[column] = _as_int64(frame[column])
    frame["n_samples"] = frame["n_samples"].astype("int64")
    for column in ("days_to_normalization", "half_life_n"):
        frame[column] = _as_int64(frame[column]) if frame[column].dtype == np.float64 else frame[column].astype("Int64")
    return frame
