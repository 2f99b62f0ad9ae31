"""All measurement records at once, vectorised: results, units, creatinine, ages, checks.

:func:`normalize_records` turns the records of every sheet into the tidy measurement
table in the output unit, with an issue record (and a rejection) for every cell that
cannot become a measurement; :func:`warn_and_deduplicate` adds the warnings (dilute urine,
duplicates, unknown patients, unknown ages) and collapses exact duplicates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from markers.errors import InputFormatError, UnknownUnitError
from markers.ingest.config import Config
from markers.ingest.interferences import interference_messages
from markers.ingest.issues import IssueLog, issue_frame
from markers.ingest.parse import parse_results, upper_limit
from markers.ingest.units import (
    ACCEPTED_SPELLINGS,
    Unit,
    concentration_to_output,
    creatinine_to_mmol_per_l,
    parse_unit,
    ratio_to_output,
)
from markers.readers import files as raw_io
from markers.readers.cells import as_text, cell_refs, cell_text, constant_text, distinct, stripped_text
from markers.readers.files import CELL_DTYPE
from markers.schema import (
    AGE_DAYS,
    ANALYTE,
    CENSOR,
    CENSOR_INCLUSIVE,
    CREATININE,
    DATE_OF_BIRTH,
    DAYS_SINCE_DIAGNOSIS,
    DILUTE,
    ISSUE_COLUMNS,
    MEASUREMENT_COLUMNS,
    PATIENT_ID,
    REPORTED_ULN,
    SAMPLE_DATE,
    SEX,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    SOURCE_UNIT,
    SOURCE_VALUE,
    UNIT,
    VALUE,
)


def _unit_lookup(records: pd.DataFrame, codes: np.ndarray, uniques: np.ndarray, open_rows: np.ndarray, *,
                 config: Config) -> list[Unit | None]:
    """Parse each distinct unit spelling once; an unknown spelling stops with an error naming its first cell.

    Only spellings on records not yet rejected count (a row already rejected for,
    say, a missing date does not stop the run for its unit).
    """
    first_open = pd.Series(np.flatnonzero(open_rows)).groupby(codes[open_rows]).first()
    table: list[Unit | None] = [None] * len(uniques)
    for code, position in first_open.items():
        text = uniques[code]
        if not text:
            continue
        unit = parse_unit(text, aliases=config.units)
        if unit is None:
            first = records.iloc[int(position)]
            col = int(first["unit_col"]) if first["unit_col"] is not None and first["unit_col"] == first["unit_col"] else 0
            where = f"{first['file']} {first['sheet']}!{raw_io.cell_ref(int(first['row']), col)}".replace(" !", " ")
            if isinstance(first.get("location"), str):
                where = f"{first['file']} {first['location']}"
            column = f" (column {first['unit_column']!r})" if first.get("unit_column") else ""
            raise UnknownUnitError(
                f"{where}{column}: unknown unit {text!r}. Accepted: {ACCEPTED_SPELLINGS}. "
                "Map other spellings in the config file's [units] table, e.g. \"" + str(text) + "\" = \"mg/g creatinine\"."
            )
        table[code] = unit
    return table


def _issue_rows(records: pd.DataFrame, mask: np.ndarray, code: str, col_field: str, header: str, value_field: str,
                message: str | pd.Series = "") -> pd.DataFrame:
    """Issue records of ``code`` for the records selected by ``mask``, at the cell ``col_field`` names.

    ``header`` is a column of ``records`` holding each record's header text, or the text itself.
    """
    fields = ["file", "sheet", "row", col_field, value_field] + ([header] if header in records else [])
    fields += ["location"] if "location" in records else []
    selected = records.loc[mask, list(dict.fromkeys(fields))]
    return issue_frame(
        code,
        file=selected["file"],
        sheet=selected["sheet"],
        cells=located_cells(selected, selected[col_field]),
        rows=selected["row"],
        column=selected[header] if header in selected else header,
        values=selected[value_field],
        messages=message,
    )


def located_cells(records: pd.DataFrame, columns: pd.Series | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``D14``-style references of records, or their ``location`` where a structured source gave one."""
    cells = cell_refs(records["row"], columns)
    if "location" not in records:
        return cells
    location = records["location"]
    given = location.notna().to_numpy(dtype=bool)
    if not given.any():
        return cells
    return pd.array(np.where(given, location.to_numpy(dtype=object, na_value=None), np.asarray(cells, dtype=object)),
                    dtype=CELL_DTYPE)


#: The unit kind each LOINC property (``data/loinc.csv`` ``measure``) goes with.
_LOINC_UNIT_KIND = {"mass_ratio": "mass_ratio", "mass_ratio_24h": "mass_ratio", "molar_ratio": "molar_ratio",
                    "mass_conc": "mass_conc", "mass_conc_24h": "mass_conc", "molar_conc": "molar_conc"}

#: What normalisation needs of each parsed result.
_RESULT_COLUMNS = ("value", "censor", "censor_inclusive", "status")


def _parsed_results(records: pd.DataFrame) -> pd.DataFrame:
    """Every result cell parsed, with the decimal convention of its file (one parse per convention)."""
    codes, conventions = pd.factorize(records["decimal_comma"].astype(object), use_na_sentinel=True)
    groups = np.unique(codes)  # -1: workbooks (no convention)
    parts = []
    for code in groups:
        flag = None if code < 0 else bool(conventions[code])
        cells = records["result_raw"] if len(groups) == 1 else records["result_raw"][codes == code]
        parts.append(parse_results(cells, decimal_comma=flag, columns=_RESULT_COLUMNS))
    return parts[0] if len(parts) == 1 else pd.concat(parts).reindex(records.index)


def _by_patient(ids: pd.Series, values: np.ndarray, wanted: np.ndarray, *, missing: object) -> np.ndarray:
    """``values`` of the patients ``wanted`` (by ID, one entry per wanted ID), ``missing`` for unknown IDs."""
    position = pd.Index(ids.astype(object)).get_indexer(pd.Index(wanted, dtype=object))
    return np.where(position >= 0, np.append(values, np.array([missing], dtype=values.dtype))[position], missing)


def _sorted_rank(uniques: np.ndarray) -> np.ndarray:
    """Each distinct value's rank in sorted order (``uniques`` from :func:`distinct`; the missing one last)."""
    names = uniques[:-1]
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(names.astype(str), kind="stable")] = np.arange(len(names))
    rank[-1] = len(names)
    return rank


def _patient_order(positions: np.ndarray, *, patient: np.ndarray, day: np.ndarray, analyte: np.ndarray) -> np.ndarray:
    """``positions`` sorted by patient, sample date (missing last) and analyte, stable.

    The three ranks are packed into one integer key, and a stable sort of it is fast
    on exports that already come nearly in order (by patient, then date).
    """
    dates = day[positions]
    missing = np.isnat(dates)
    days = dates.view(np.int64) // 86_400_000_000_000  # whole days: the dates are at midnight
    first = int(days[~missing].min(initial=0))
    last = int(days[~missing].max(initial=0))
    day_rank = np.where(missing, last - first + 1, days - first)  # (at most ~214,000 days in datetime64[ns])
    analytes = analyte[positions]
    width_a = int(analytes.max(initial=0)) + 1
    key = (patient[positions] * (last - first + 2) + day_rank) * width_a + analytes
    return positions[np.argsort(key, kind="stable")]


def _days_between(later: np.ndarray, earlier: np.ndarray) -> pd.arrays.IntegerArray:
    """Whole days from ``earlier`` to ``later`` (datetime64 arrays) as Int64, <NA> where either is missing."""
    later = later.astype("datetime64[ns]")
    earlier = earlier.astype("datetime64[ns]")
    missing = np.isnat(later) | np.isnat(earlier)
    days = np.zeros(len(later), dtype=np.int64)
    days[~missing] = (later[~missing] - earlier[~missing]) // np.timedelta64(1, "D")
    return pd.arrays.IntegerArray(days, missing)


def aligned_dates(sample_date: np.ndarray, *, dob: np.ndarray, age_days: pd.Series, dateless: np.ndarray) -> np.ndarray:
    """Sample dates, with a date-free row's date worked out as date of birth + age at sample where both are known."""
    ages = age_days.to_numpy(dtype="float64", na_value=np.nan)
    known = dateless & ~np.isnat(dob) & np.isfinite(ages)
    if not known.any():
        return sample_date
    out = sample_date.copy()
    out[known] = dob[known] + ages[known].astype(np.int64) * np.timedelta64(1, "D")
    return out


def refuse_mixed_dates(records: pd.DataFrame, kept: np.ndarray) -> None:
    """Stop when some kept results have calendar dates and others only ages or days: they cannot share a timeline.

    A date-free result is aligned (and so accepted) when its patient's date of birth is known.
    """
    dates = records["sample_date"].to_numpy(dtype="datetime64[ns]")
    dateless = kept & np.isnat(dates) & (records["date_status"] == "dateless").to_numpy(dtype=bool)
    dated = kept & ~np.isnat(dates)
    if dateless.any() and dated.any():
        first_free = records.iloc[int(np.flatnonzero(dateless)[0])]
        first_dated = records.iloc[int(np.flatnonzero(dated)[0])]
        raise InputFormatError(
            f"{first_free['file']} gives results without calendar dates (age or days since diagnosis) for "
            f"patient {first_free['patient_id']}, while {first_dated['file']} gives dated results: they cannot be "
            "put on one timeline. Give the date of birth of the patients of the date-free table (then each "
            "sample's date follows from its age), or read the date-free table on its own.")


def normalize_records(records: pd.DataFrame, *, output_unit: str, config: Config, patients: pd.DataFrame, today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # noqa: PLR0915 - long, to be split (docs/design.md)
    """All measurement records -> (tidy measurements, issue records, per-record rejection code).

    Vectorised over all records: masks are numpy arrays, every lookup is done once
    per distinct value (units, patients, analytes) and taken back by code.
    """
    n = len(records)
    issues: list[pd.DataFrame] = []
    reject = np.full(n, "", dtype=object)
    open_rows = np.ones(n, dtype=bool)  # records not rejected yet

    def fail(mask: np.ndarray | pd.Series, code: str, col_field: str, header: str, value_field: str, message: str = "") -> None:
        mask = np.asarray(mask, dtype=bool) & open_rows
        if mask.any():
            issues.append(_issue_rows(records, mask, code, col_field, header, value_field, message))
            reject[mask] = code
            open_rows[mask] = False

    date_status = records["date_status"]
    analyte = records["analyte"]
    fail(records["patient_id"].isna(), "missing-patient-id", "id_col", "patient ID", "patient_id")
    fail(date_status == "missing", "missing-date", "date_col", "sample date", "date_raw")
    fail(date_status == "invalid", "invalid-date", "date_col", "sample date", "date_raw")
    # a date-free row needs its age at sample or its days since diagnosis
    no_time = records["age_days_given"].isna() & (records["day_given"].isna() if "day_given" in records else True)
    fail((date_status == "dateless") & no_time, "missing-date", "date_col", "sample date", "date_raw",
         "No sample date, age at sample or days since diagnosis")
    is_creatinine = (analyte == "CREA").to_numpy(dtype=bool, na_value=False)
    fail(analyte.isna(), "unknown-analyte", "analyte_col", "result_header", "analyte_text",
         "Unrecognised analyte name or LOINC code")

    # results: one vectorised parse per decimal convention
    parsed = _parsed_results(records)
    status = parsed["status"]
    fail(status == "missing", "missing-result", "result_col", "result_header", "result_raw")
    fail(status == "text", "non-numeric-result", "result_col", "result_header", "result_raw")
    fail(status == "ambiguous", "ambiguous-number", "result_col", "result_header", "result_raw")
    fail(status == "negative", "negative-result", "result_col", "result_header", "result_raw")

    # units: each spelling parsed once
    unit_text = records["unit_text"].fillna("")
    records = records.assign(unit_text=unit_text)  # a new frame: the caller's records are untouched
    unit_codes, unit_spellings = distinct(unit_text)
    units = _unit_lookup(records, unit_codes, unit_spellings, open_rows, config=config)
    kind = np.array([u.kind if u is not None else "" for u in units], dtype=object)[unit_codes]
    scale = np.array([u.scale if u is not None else np.nan for u in units], dtype=float)[unit_codes]
    fail((kind == "") & ~is_creatinine, "missing-unit", "unit_col", "unit", "unit_text")
    per_time = (kind == "per_time") | records["loinc_measure"].isin(["mass_rate_24h"]).to_numpy(dtype=bool)
    fail(per_time & ~is_creatinine, "not-per-creatinine", "unit_col", "unit", "unit_text",
         "A 24-hour excretion is not a ratio to creatinine; spot-urine limits do not apply")

    # a LOINC code's property (mass ratio, molar ratio, concentration) must agree with the unit
    expected = records["loinc_measure"].map(_LOINC_UNIT_KIND).fillna("").to_numpy(dtype=object)
    mismatch = (expected != "") & (kind != "") & (kind != expected) & open_rows & ~is_creatinine
    if mismatch.any():
        issues.append(_issue_rows(records, mismatch, "loinc-unit-mismatch", "unit_col", "unit", "unit_text",
                                  "The LOINC code's property (mass ratio, molar ratio or concentration) "
                                  "does not match the unit"))

    # a drug or food known to interfere, named in a medication or comment cell: a warning on that sample
    if "comment_text" in records:
        named = interference_messages(records["comment_text"])
        interfering = (named != "") & open_rows
        if interfering.any():
            issues.append(_issue_rows(records, interfering, "interfering-substance", "comment_col", "comment",
                                      "comment_text", pd.Series(named[interfering])))

    # a ratio from a 24-hour collection, given as a ratio or as a 24-hour concentration plus creatinine
    day_ratio = records["loinc_measure"].isin(["mass_ratio_24h", "mass_conc_24h"]).to_numpy(dtype=bool) & open_rows
    if day_ratio.any():
        issues.append(_issue_rows(records, day_ratio, "24h-ratio", "analyte_col", "result_header", "analyte_text"))

    # creatinine: from the same row (wide) or from creatinine records of the same sample (long)
    creat_value = np.full(n, np.nan)
    creat_raw = records["creatinine_raw"]
    has_creat_cell = (creat_raw.notna() & ~stripped_text(creat_raw).eq("")).to_numpy(dtype=bool)
    if has_creat_cell.any():
        every = has_creat_cell.all()
        creat_parsed = parse_results(creat_raw if every else creat_raw[has_creat_cell], decimal_comma=None,
                                     columns=("value", "status"))
        creat_units = records["creatinine_unit"] if every else records["creatinine_unit"][has_creat_cell]
        # vectorised per distinct unit: value × (factor of that unit to mmol/L)
        unit_codes_c, unit_names_c = distinct(creat_units, exact=False)
        factors = []
        for text in unit_names_c:
            u = parse_unit(text or "", aliases=config.units)
            factors.append(creatinine_to_mmol_per_l(1.0, u) if u is not None and u.kind in ("mass_conc", "molar_conc") else np.nan)
        factor = np.array(factors, dtype=float)[unit_codes_c]
        usable = ((creat_parsed["status"] == "ok") & (creat_parsed["value"] > 0)).to_numpy(dtype=bool)
        creat_value[has_creat_cell] = np.where(usable, creat_parsed["value"].to_numpy(dtype=float) * factor, np.nan)
    # long layout: creatinine results are their own records; attach them to the sample's other results
    creat_records = is_creatinine & open_rows
    if creat_records.any():
        at = np.flatnonzero(creat_records)
        ok = ((status.to_numpy(dtype=object)[at] == "ok") & np.isin(kind[at], ["mass_conc", "molar_conc"]))
        bad_creat = np.zeros(n, dtype=bool)
        bad_creat[at[~ok]] = True
        fail(bad_creat, "invalid-creatinine", "result_col", "creatinine", "result_raw")
        good = at[ok]
        values = [creatinine_to_mmol_per_l(v, units[c]) for v, c in
                  zip(parsed["value"].to_numpy(dtype=float)[good], unit_codes[good], strict=True)]
        keys = records[["file", "patient_id", "sample_date"]]
        lookup = pd.Series(values, index=pd.MultiIndex.from_frame(keys.iloc[good]))
        lookup = lookup[~lookup.index.duplicated()]
        matched = lookup.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(dtype=float)
        creat_value = np.where(np.isnan(creat_value), matched, creat_value)

    needs_creat = np.isin(kind, ["mass_conc", "molar_conc"]) & ~is_creatinine
    fail(needs_creat & np.isnan(creat_value), "missing-creatinine", "result_col", "result_header", "result_raw")

    # values in the output unit: one conversion per (analyte, unit kind); the lab's own upper
    # limit (a ratio's reference range, in the result's unit) converted alongside
    value = np.full(n, np.nan)
    reported = np.full(n, np.nan)
    ok = open_rows & ~is_creatinine
    raw = parsed["value"].to_numpy(dtype=float) * scale
    range_codes, range_texts = distinct(records["range_raw"]) if "range_raw" in records else (np.zeros(n, dtype=np.int64), np.array([None], dtype=object))
    reported_raw = np.array([upper_limit(t) for t in range_texts], dtype=float)[range_codes] * scale
    analyte_codes, analyte_names = distinct(analyte)
    for code in np.unique(analyte_codes[ok]):
        name = analyte_names[code]
        for unit_kind in ("mass_ratio", "molar_ratio", "mass_conc", "molar_conc"):
            rows = ok & (analyte_codes == code) & (kind == unit_kind)
            if not rows.any():
                continue
            if unit_kind in ("mass_ratio", "molar_ratio"):
                value[rows] = ratio_to_output(raw[rows], unit=Unit(unit_kind, 1.0), analyte=name, output=output_unit)
                reported[rows] = ratio_to_output(reported_raw[rows], unit=Unit(unit_kind, 1.0), analyte=name,
                                                 output=output_unit)
            else:
                value[rows] = concentration_to_output(raw[rows], creat_value[rows], unit=Unit(unit_kind, 1.0),
                                                      analyte=name, output=output_unit)

    # age: a date of birth on the row, else from the patients table; else an age column
    dob = records["dob"]
    if not pd.api.types.is_datetime64_dtype(dob.dtype):
        dob = pd.to_datetime(dob.astype(object), errors="coerce")
    dob = dob.to_numpy(dtype="datetime64[ns]")
    patient_codes, patient_ids = distinct(records["patient_id"])
    known = patients.dropna(subset=[DATE_OF_BIRTH]).drop_duplicates(PATIENT_ID)
    if len(known):
        table_dob = _by_patient(known[PATIENT_ID], known[DATE_OF_BIRTH].to_numpy(dtype="datetime64[ns]"), patient_ids,
                                missing=np.datetime64("NaT", "ns"))[patient_codes]
        dob = np.where(np.isnat(dob), table_dob, dob)
    records = records.assign(dob=dob)
    sample_date = records["sample_date"].to_numpy(dtype="datetime64[ns]")
    sample_date = aligned_dates(sample_date, dob=dob, age_days=records["age_days_given"],
                                dateless=(date_status == "dateless").to_numpy(dtype=bool))
    records = records.assign(sample_date=sample_date)
    age = pd.Series(_days_between(sample_date, dob), index=records.index)
    age = age.where(age.notna(), records["age_days_given"])
    age_known = age.notna().to_numpy(dtype=bool)
    fail(ok & age_known & (age.to_numpy(dtype=float, na_value=0.0) < 0), "sample-before-birth", "date_col",
         "sample date", "date_raw", "Sample dated before the patient's date of birth")
    future = ~np.isnat(sample_date) & (sample_date > np.datetime64(pd.Timestamp(today), "ns"))
    fail(ok & future, "sample-in-future", "date_col", "sample date", "date_raw")
    refuse_mixed_dates(records, open_rows & ~is_creatinine)

    # the kept records, taken straight in patient order (patient, sample date, analyte; stable):
    # one take per column does both the selection and the sort
    kept = open_rows & ~is_creatinine
    order = _patient_order(np.flatnonzero(kept), patient=_sorted_rank(patient_ids)[patient_codes],
                           day=sample_date, analyte=_sorted_rank(analyte_names)[analyte_codes])
    sex = records["sex"].fillna("").to_numpy(dtype=object)[order]
    missing_sex = sex == ""
    if len(patients) and missing_sex.any():
        known_sex = patients[patients[SEX] != ""].drop_duplicates(PATIENT_ID)
        from_table = _by_patient(known_sex[PATIENT_ID], known_sex[SEX].to_numpy(dtype=object), patient_ids, missing="")
        sex = np.where(missing_sex, from_table[patient_codes[order]], sex)
    k = records[["patient_id", "sample_date", "analyte", "result_raw", "unit_text", "file", "sheet", "row",
                 "result_col"] + (["location"] if "location" in records else [])].take(order)
    measurements = pd.DataFrame(
        {
            PATIENT_ID: k["patient_id"],
            SAMPLE_DATE: k["sample_date"],
            ANALYTE: k["analyte"],
            VALUE: value[order],
            UNIT: constant_text(output_unit, len(order)),
            CENSOR: parsed["censor"].take(order).fillna("").to_numpy(),
            CENSOR_INCLUSIVE: parsed["censor_inclusive"].fillna(False).to_numpy(dtype=bool)[order],
            SOURCE_VALUE: cell_text(k["result_raw"]),
            SOURCE_UNIT: k["unit_text"],
            SOURCE_FILE: as_text(k["file"]),
            SOURCE_SHEET: as_text(k["sheet"]),
            SOURCE_CELL: located_cells(k, k["result_col"]),
            SOURCE_ROW: k["row"].astype(int),
            CREATININE: creat_value[order],
            DILUTE: np.nan_to_num(creat_value[order], nan=np.inf) < config.dilute_creatinine_mmol_l,
            SEX: pd.array(sex, dtype=CELL_DTYPE),
            DATE_OF_BIRTH: dob[order],
            AGE_DAYS: age.take(order).astype("Int64").to_numpy(),
            REPORTED_ULN: reported[order],
            DAYS_SINCE_DIAGNOSIS: pd.array((records["day_given"] if "day_given" in records
                                            else pd.Series(pd.NA, index=records.index)).take(order), dtype="Int64"),
        },
        index=k.index,
    )
    all_issues = pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=ISSUE_COLUMNS)
    # a wide row's missing ID or bad date is one problem of one cell, not one per analyte
    all_issues = all_issues.drop_duplicates(["code", "file", "sheet", "cell"]).reset_index(drop=True)
    record_status = pd.DataFrame({"file": records["file"], "sheet": records["sheet"], "row": records["row"],
                                  "reject": reject, "creatinine": is_creatinine & open_rows})
    return measurements[MEASUREMENT_COLUMNS], all_issues, record_status


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


