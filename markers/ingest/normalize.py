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
import pyarrow as pa
import pyarrow.compute as pc

from markers.errors import InputFormatError
from markers.ingest.config import Config
from markers.ingest.measurement_warnings import warn_and_deduplicate
from markers.ingest.parse import parse_results, upper_limit
from markers.ingest.record_checks import (
    Rejections,
    UnitColumns,
    check_cells,
    check_results,
    check_units,
    located_cells,
    warn_about,
)
from markers.ingest.units import (
    Unit,
    concentration_to_output,
    creatinine_to_mmol_per_l,
    parse_unit,
    ratio_to_output,
)
from markers.readers.cells import as_text, cell_text, constant_text, distinct, stripped_text
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

#: What normalisation needs of each parsed result.
_RESULT_COLUMNS = ("value", "censor", "censor_inclusive", "status")


__all__ = ["aligned_dates", "located_cells", "normalize_records", "refuse_mixed_dates", "warn_and_deduplicate"]


def _parsed_results(records: pd.DataFrame) -> pd.DataFrame:
    """Every result cell parsed, with the decimal convention of its file (one parse per convention)."""
    flags = records["decimal_comma"]
    # one text file's records hold one flag: a boolean column factorised as it is, not as a million objects
    codes, conventions = pd.factorize(flags if flags.dtype == bool else flags.astype(object), use_na_sentinel=True)
    groups = np.unique(codes)  # -1: workbooks (no convention)
    parts = []
    for code in groups:
        flag = None if code < 0 else bool(conventions[code])
        cells = records["result_raw"] if len(groups) == 1 else records["result_raw"][codes == code]
        parts.append(parse_results(cells, decimal_comma=flag, columns=_RESULT_COLUMNS))
    return parts[0] if len(parts) == 1 else pd.concat(parts).reindex(records.index)


def _positions_of(ids: pd.Series, wanted: np.ndarray) -> np.ndarray:
    """Each wanted ID's position in ``ids`` (distinct IDs), -1 where it is not there.

    Text IDs on both sides are matched by Arrow's hash table, without a Python object per patient;
    anything else by a pandas index. A missing wanted ID is not found in a text column, as with the index.
    """
    wanted_text = pa.array(wanted, from_pandas=True)
    if isinstance(ids.dtype, pd.StringDtype) and (pa.types.is_string(wanted_text.type)
                                                  or pa.types.is_large_string(wanted_text.type)):
        table = pa.array(ids.array)
        if pa.types.is_string(table.type) or pa.types.is_large_string(table.type):
            found = pc.index_in(wanted_text.cast(pa.large_string()), value_set=table.cast(pa.large_string()),
                                skip_nulls=True)
            return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return pd.Index(ids.astype(object)).get_indexer(pd.Index(wanted, dtype=object))


def _by_patient(ids: pd.Series, values: np.ndarray, wanted: np.ndarray, *, missing: object) -> np.ndarray:
    """``values`` of the patients ``wanted`` (by ID, one entry per wanted ID), ``missing`` for unknown IDs."""
    position = _positions_of(ids, wanted)
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


def _creatinine(rej: Rejections, parsed: pd.DataFrame, units: UnitColumns, *, is_creatinine: np.ndarray,
                config: Config) -> np.ndarray:
    """Creatinine (mmol/L) of each record: from the same row (wide) or from creatinine records of the sample (long)."""
    records = rej.records
    n = len(records)
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
    creat_records = is_creatinine & rej.open
    if creat_records.any():
        at = np.flatnonzero(creat_records)
        ok = ((parsed["status"].to_numpy(dtype=object)[at] == "ok") & units.is_kind("mass_conc", "molar_conc")[at])
        bad_creat = np.zeros(n, dtype=bool)
        bad_creat[at[~ok]] = True
        rej.fail(bad_creat, "invalid-creatinine", "result_col", "creatinine", "result_raw")
        good = at[ok]
        values = [creatinine_to_mmol_per_l(v, units.units[c]) for v, c in
                  zip(parsed["value"].to_numpy(dtype=float)[good], units.codes[good], strict=True)]
        keys = records[["file", "patient_id", "sample_date"]]
        lookup = pd.Series(values, index=pd.MultiIndex.from_frame(keys.iloc[good]))
        lookup = lookup[~lookup.index.duplicated()]
        matched = lookup.reindex(pd.MultiIndex.from_frame(keys)).to_numpy(dtype=float)
        creat_value = np.where(np.isnan(creat_value), matched, creat_value)
    needs_creat = units.is_kind("mass_conc", "molar_conc") & ~is_creatinine
    rej.fail(needs_creat & np.isnan(creat_value), "missing-creatinine", "result_col", "result_header", "result_raw")
    return creat_value


def _output_values(records: pd.DataFrame, parsed: pd.DataFrame, units: UnitColumns, creat_value: np.ndarray, *,
                   ok: np.ndarray, analyte: tuple[np.ndarray, np.ndarray], output_unit: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(value, reported ULN) in the output unit: one conversion per (analyte, unit kind); the lab's own
    upper limit (a ratio's reference range, in the result's unit) converted alongside."""
    n = len(records)
    value = np.full(n, np.nan)
    reported = np.full(n, np.nan)
    scale = units.scale
    raw = parsed["value"].to_numpy(dtype=float) * scale
    range_codes, range_texts = distinct(records["range_raw"]) if "range_raw" in records else (np.zeros(n, dtype=np.int64), np.array([None], dtype=object))
    reported_raw = np.array([upper_limit(t) for t in range_texts], dtype=float)[range_codes] * scale
    analyte_codes, analyte_names = analyte
    # each unit kind's records found once, by unit code (not by comparing a million kind names)
    of_kind = {unit_kind: ok & units.is_kind(unit_kind) for unit_kind in ("mass_ratio", "molar_ratio", "mass_conc", "molar_conc")}
    for code in np.unique(analyte_codes[ok]):
        name = analyte_names[code]
        of_analyte = analyte_codes == code
        for unit_kind, kept in of_kind.items():
            rows = kept & of_analyte
            if not rows.any():
                continue
            if unit_kind in ("mass_ratio", "molar_ratio"):
                value[rows] = ratio_to_output(raw[rows], unit=Unit(unit_kind, 1.0), analyte=name, output=output_unit)
                reported[rows] = ratio_to_output(reported_raw[rows], unit=Unit(unit_kind, 1.0), analyte=name,
                                                 output=output_unit)
            else:
                value[rows] = concentration_to_output(raw[rows], creat_value[rows], unit=Unit(unit_kind, 1.0),
                                                      analyte=name, output=output_unit)
    return value, reported


def _ages(rej: Rejections, patients: pd.DataFrame, patient: tuple[np.ndarray, np.ndarray], *, ok: np.ndarray,
          today: dt.date) -> tuple[np.ndarray, pd.Series]:
    """Dates of birth (the row's, else the patients table's) and ages at sample; date-free rows get their
    date from birth + age. ``rej.records`` gets the dates of birth and the aligned sample dates."""
    records = rej.records
    dob = records["dob"]
    if not pd.api.types.is_datetime64_dtype(dob.dtype):
        dob = pd.to_datetime(dob.astype(object), errors="coerce")
    dob = dob.to_numpy(dtype="datetime64[ns]")
    patient_codes, patient_ids = patient
    # the patients table is asked only for rows without their own date of birth (a lab export gives
    # one on every row: then no look-up of its patients)
    missing_dob = np.isnat(dob)
    if missing_dob.any():
        known = patients.dropna(subset=[DATE_OF_BIRTH]).drop_duplicates(PATIENT_ID)
        if len(known):
            table_dob = _by_patient(known[PATIENT_ID], known[DATE_OF_BIRTH].to_numpy(dtype="datetime64[ns]"),
                                    patient_ids, missing=np.datetime64("NaT", "ns"))[patient_codes]
            dob = np.where(missing_dob, table_dob, dob)
    sample_date = records["sample_date"].to_numpy(dtype="datetime64[ns]")
    sample_date = aligned_dates(sample_date, dob=dob, age_days=records["age_days_given"],
                                dateless=(records["date_status"] == "dateless").to_numpy(dtype=bool))
    rej.records = records = records.assign(dob=dob, sample_date=sample_date)
    age = pd.Series(_days_between(sample_date, dob), index=records.index)
    age = age.where(age.notna(), records["age_days_given"])
    age_known = age.notna().to_numpy(dtype=bool)
    rej.fail(ok & age_known & (age.to_numpy(dtype=float, na_value=0.0) < 0), "sample-before-birth", "date_col",
             "sample date", "date_raw", "Sample dated before the patient's date of birth")
    future = ~np.isnat(sample_date) & (sample_date > np.datetime64(pd.Timestamp(today), "ns"))
    rej.fail(ok & future, "sample-in-future", "date_col", "sample date", "date_raw")
    return dob, age


def _sexes(records: pd.DataFrame, patients: pd.DataFrame, order: np.ndarray, patient: tuple[np.ndarray, np.ndarray]
           ) -> pd.api.extensions.ExtensionArray:
    """Each kept record's sex (text): the row's, else the patients table's."""
    sex = records["sex"].fillna("")
    if isinstance(sex.dtype, pd.StringDtype):
        # Arrow text taken as it is: no Python object per record unless a sex must come from the table
        taken = pd.array(sex.array.take(order), dtype=CELL_DTYPE)
        if not (len(patients) and np.asarray(taken == "", dtype=bool).any()):
            return taken
    sex = sex.to_numpy(dtype=object)[order]
    missing_sex = sex == ""
    if len(patients) and missing_sex.any():
        patient_codes, patient_ids = patient
        known_sex = patients[patients[SEX] != ""].drop_duplicates(PATIENT_ID)
        from_table = _by_patient(known_sex[PATIENT_ID], known_sex[SEX].to_numpy(dtype=object), patient_ids, missing="")
        sex = np.where(missing_sex, from_table[patient_codes[order]], sex)
    return pd.array(sex, dtype=CELL_DTYPE)


def _taken_text(values: pd.Series, order: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``values`` at ``order``, missing cells as ``""``: Arrow text stays Arrow text (a column of
    Python strings would only be turned back into Arrow text by the frame)."""
    if values.dtype == CELL_DTYPE:
        return values.array.take(order).fillna("")
    return values.take(order).fillna("").to_numpy()


def _measurement_frame(records: pd.DataFrame, order: np.ndarray, columns: dict, *, output_unit: str,
                       config: Config) -> pd.DataFrame:
    """The tidy measurements: the kept records in ``order``, with the computed ``columns`` (full length)."""
    k = records[["patient_id", "sample_date", "analyte", "result_raw", "unit_text", "file", "sheet", "row",
                 "result_col"] + (["location"] if "location" in records else [])].take(order)
    creatinine = columns["creatinine"][order]
    parsed = columns["parsed"]
    frame = pd.DataFrame(
        {
            PATIENT_ID: k["patient_id"],
            SAMPLE_DATE: k["sample_date"],
            ANALYTE: k["analyte"],
            VALUE: columns["value"][order],
            UNIT: constant_text(output_unit, len(order)),
            CENSOR: _taken_text(parsed["censor"], order),
            CENSOR_INCLUSIVE: parsed["censor_inclusive"].fillna(False).to_numpy(dtype=bool)[order],
            SOURCE_VALUE: cell_text(k["result_raw"]),
            SOURCE_UNIT: k["unit_text"],
            SOURCE_FILE: as_text(k["file"]),
            SOURCE_SHEET: as_text(k["sheet"]),
            SOURCE_CELL: located_cells(k, k["result_col"]),
            SOURCE_ROW: k["row"].astype(int),
            CREATININE: creatinine,
            DILUTE: np.nan_to_num(creatinine, nan=np.inf) < config.dilute_creatinine_mmol_l,
            SEX: columns["sex"],
            DATE_OF_BIRTH: columns["dob"][order],
            AGE_DAYS: columns["age"].take(order).astype("Int64").to_numpy(),
            REPORTED_ULN: columns["reported"][order],
            DAYS_SINCE_DIAGNOSIS: pd.array((records["day_given"] if "day_given" in records
                                            else pd.Series(pd.NA, index=records.index)).take(order), dtype="Int64"),
        },
        index=k.index,
        copy=False,  # every column is a new array already: a copy (and stacking into blocks) would double the peak
    )
    return frame[MEASUREMENT_COLUMNS]


def normalize_records(records: pd.DataFrame, *, output_unit: str, config: Config, patients: pd.DataFrame,
                      today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All measurement records -> (tidy measurements, issue records, per-record rejection code).

    Vectorised over all records: masks are numpy arrays, every lookup is done once
    per distinct value (units, patients, analytes) and taken back by code. Each stage is a
    function whose temporaries are gone before the table is built (peak memory).
    """
    rej = Rejections(records)
    is_creatinine = check_cells(rej)
    parsed = _parsed_results(records)  # one vectorised parse per decimal convention
    check_results(rej, parsed["status"])
    units = check_units(rej, config=config, is_creatinine=is_creatinine)
    warn_about(rej, units.kind, is_creatinine)
    creatinine = _creatinine(rej, parsed, units, is_creatinine=is_creatinine, config=config)
    analyte = distinct(records["analyte"])
    value, reported = _output_values(rej.records, parsed, units, creatinine, ok=rej.open & ~is_creatinine,
                                     analyte=analyte, output_unit=output_unit)
    del units
    patient = distinct(records["patient_id"])
    dob, age = _ages(rej, patients, patient, ok=rej.open & ~is_creatinine, today=today)
    refuse_mixed_dates(rej.records, rej.open & ~is_creatinine)
    # the kept records, taken straight in patient order (patient, sample date, analyte; stable):
    # one take per column does both the selection and the sort
    kept = rej.open & ~is_creatinine
    order = _patient_order(np.flatnonzero(kept), patient=_sorted_rank(patient[1])[patient[0]],
                           day=rej.records["sample_date"].to_numpy(dtype="datetime64[ns]"),
                           analyte=_sorted_rank(analyte[1])[analyte[0]])
    columns = {"parsed": parsed[["censor", "censor_inclusive"]], "creatinine": creatinine, "value": value,
               "reported": reported, "dob": dob, "age": age,
               "sex": _sexes(rej.records, patients, order, patient)}
    del parsed, creatinine, value, reported, dob, age, analyte, patient
    measurements = _measurement_frame(rej.records, order, columns, output_unit=output_unit, config=config)
    del columns
    all_issues = pd.concat(rej.issues, ignore_index=True) if rej.issues else pd.DataFrame(columns=ISSUE_COLUMNS)
    # a wide row's missing ID or bad date is one problem of one cell, not one per analyte
    all_issues = all_issues.drop_duplicates(["code", "file", "sheet", "cell"]).reset_index(drop=True)
    record_status = pd.DataFrame({"file": records["file"], "sheet": records["sheet"], "row": records["row"],
                                  "reject": rej.reject, "creatinine": is_creatinine & rej.open})
    return measurements, all_issues, record_status
