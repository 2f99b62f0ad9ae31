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

from markers import io as raw_io
from markers.cells import cell_refs, cell_text, stripped_text
from markers.config import Config
from markers.errors import UnknownUnitError
from markers.issues import IssueLog, issue_frame
from markers.parse import parse_results
from markers.schema import (
    AGE_DAYS,
    ANALYTE,
    CENSOR,
    CENSOR_INCLUSIVE,
    CREATININE,
    DATE_OF_BIRTH,
    DILUTE,
    ISSUE_COLUMNS,
    MEASUREMENT_COLUMNS,
    PATIENT_ID,
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
from markers.units import (
    ACCEPTED_SPELLINGS,
    Unit,
    concentration_to_output,
    creatinine_to_mmol_per_l,
    parse_unit,
    ratio_to_output,
)


def _unit_lookup(records: pd.DataFrame, *, config: Config, column: str, col_field: str) -> dict[str, Unit | None]:
    """Parse each distinct unit spelling once; an unknown spelling stops with an error naming its cell."""
    table: dict[str, Unit | None] = {}
    for text in pd.unique(records[column]):
        if not text:
            table[text] = None
            continue
        unit = parse_unit(text, aliases=config.units)
        if unit is None:
            first = records[records[column] == text].iloc[0]
            col = int(first[col_field]) if first[col_field] is not None and first[col_field] == first[col_field] else 0
            where = f"{first['file']} {first['sheet']}!{raw_io.cell_ref(int(first['row']), col)}".replace(" !", " ")
            column = f" (column {first['unit_column']!r})" if first.get("unit_column") else ""
            raise UnknownUnitError(
                f"{where}{column}: unknown unit {text!r}. Accepted: {ACCEPTED_SPELLINGS}. "
                "Map other spellings in the config file's [units] table, e.g. \"" + str(text) + "\" = \"mg/g creatinine\"."
            )
        table[text] = unit
    return table


def _issue_rows(records: pd.DataFrame, mask: pd.Series, code: str, col_field: str, header_field: str, value_field: str, message: str = "") -> pd.DataFrame:
    """Issue records of ``code`` for the records selected by ``mask``, at the cell ``col_field`` names."""
    selected = records[mask.to_numpy()]
    return issue_frame(
        code,
        file=selected["file"],
        sheet=selected["sheet"],
        cells=cell_refs(selected["row"], selected[col_field]),
        rows=selected["row"],
        column=selected[header_field] if header_field in selected else "",
        values=selected[value_field],
        messages=message,
    )


def normalize_records(records: pd.DataFrame, *, output_unit: str, config: Config, patients: pd.DataFrame, today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All measurement records -> (tidy measurements, issue records, per-record rejection code)."""
    issues: list[pd.DataFrame] = []
    reject = pd.Series("", index=records.index, dtype=object)

    def fail(mask: pd.Series, code: str, col_field: str, header_field: str, value_field: str, message: str = "") -> None:
        mask = mask & (reject == "")
        if mask.any():
            issues.append(_issue_rows(records, mask, code, col_field, header_field, value_field, message))
            reject[mask] = code

    records = records.assign(id_header="patient ID", date_header="sample date")  # new frame, input untouched
    fail(records["patient_id"].isna(), "missing-patient-id", "id_col", "id_header", "patient_id")
    fail(records["date_status"] == "missing", "missing-date", "date_col", "date_header", "date_raw")
    fail(records["date_status"] == "invalid", "invalid-date", "date_col", "date_header", "date_raw")
    is_creatinine = records["analyte"] == "CREA"
    fail(records["analyte"].isna(), "unknown-analyte", "analyte_col", "result_header", "analyte_text",
         "Unrecognised analyte name or LOINC code")

    # results: one vectorised parse per decimal convention
    parsed_parts = []
    for decimal_comma, group in records.groupby(records["decimal_comma"].astype(object).fillna("none"), sort=False):
        flag = None if decimal_comma == "none" else bool(decimal_comma)
        parsed_parts.append(parse_results(group["result_raw"], decimal_comma=flag))
    parsed = pd.concat(parsed_parts).reindex(records.index) if parsed_parts else pd.DataFrame(
        columns=["value", "censor", "censor_inclusive", "lab_flag", "status", "text"])
    fail(parsed["status"] == "missing", "missing-result", "result_col", "result_header", "result_raw")
    fail(parsed["status"] == "text", "non-numeric-result", "result_col", "result_header", "result_raw")
    fail(parsed["status"] == "ambiguous", "ambiguous-number", "result_col", "result_header", "result_raw")
    fail(parsed["status"] == "negative", "negative-result", "result_col", "result_header", "result_raw")

    # units
    records["unit_text"] = records["unit_text"].fillna("").astype(str)
    candidates = records.loc[(reject == "").to_numpy(), ["unit_text", "unit_col", "unit_column", "file", "sheet", "row"]]
    units = _unit_lookup(candidates.drop_duplicates("unit_text"), config=config, column="unit_text", col_field="unit_col")
    kind = records["unit_text"].map({t: (u.kind if u is not None else "") for t, u in units.items()}).astype(object).fillna("")
    scale = records["unit_text"].map({t: (u.scale if u is not None else np.nan) for t, u in units.items()}).astype(float)
    records["unit_header"] = "unit"
    fail((kind == "") & ~is_creatinine, "missing-unit", "unit_col", "unit_header", "unit_text")
    per_time = (kind == "per_time") | records["loinc_measure"].isin(["mass_rate_24h"])
    fail(per_time & ~is_creatinine, "not-per-creatinine", "unit_col", "unit_header", "unit_text",
         "A 24-hour excretion is not a ratio to creatinine; spot-urine limits do not apply")

    day_ratio = records["loinc_measure"].isin(["mass_ratio_24h"]) & (reject == "")
    if day_ratio.any():
        issues.append(_issue_rows(records, day_ratio, "24h-ratio", "analyte_col", "result_header", "analyte_text"))

    # creatinine: from the same row (wide) or from creatinine records of the same sample (long)
    creat_value = pd.Series(np.nan, index=records.index)
    has_creat_cell = records["creatinine_raw"].notna() & ~stripped_text(records["creatinine_raw"]).eq("")
    if has_creat_cell.any():
        sub = records[has_creat_cell]
        creat_parsed = parse_results(sub["creatinine_raw"], decimal_comma=None)
        creat_units = {t: parse_unit(t, aliases=config.units) for t in pd.unique(sub["creatinine_unit"].fillna(""))}
        # vectorised per distinct unit: value × (factor of that unit to mmol/L)
        to_mmol = {t: (creatinine_to_mmol_per_l(1.0, u) if u is not None and u.kind in ("mass_conc", "molar_conc")
                       else np.nan) for t, u in creat_units.items()}
        factor = sub["creatinine_unit"].fillna("").map(to_mmol).astype(float)
        usable = (creat_parsed["status"] == "ok") & (creat_parsed["value"] > 0)
        creat_value[has_creat_cell] = (creat_parsed["value"] * factor).where(usable).to_numpy(dtype=float)
    # long layout: creatinine results are their own records; attach them to the sample's other results
    creat_records = is_creatinine & (reject == "")
    if creat_records.any():
        cr = records[creat_records]
        ok = (parsed.loc[cr.index, "status"] == "ok") & kind[cr.index].isin(["mass_conc", "molar_conc"])
        bad_creat = pd.Series(False, index=records.index)
        bad_creat[cr.index] = ~ok
        records["creat_header"] = "creatinine"
        fail(bad_creat, "invalid-creatinine", "result_col", "creat_header", "result_raw")
        good = cr[ok.to_numpy()]
        values = [
            creatinine_to_mmol_per_l(v, u)
            for v, u in zip(parsed.loc[good.index, "value"], good["unit_text"].map(units.get), strict=True)
        ]
        lookup = pd.Series(values, index=pd.MultiIndex.from_frame(good[["file", "patient_id", "sample_date"]]))
        lookup = lookup[~lookup.index.duplicated()]
        keys = pd.MultiIndex.from_frame(records[["file", "patient_id", "sample_date"]])
        matched = pd.Series(lookup.reindex(keys).to_numpy(), index=records.index)
        creat_value = creat_value.where(creat_value.notna(), matched)

    needs_creat = kind.isin(["mass_conc", "molar_conc"]) & ~is_creatinine
    fail(needs_creat & creat_value.isna(), "missing-creatinine", "result_col", "result_header", "result_raw")

    # values in the output unit
    value = pd.Series(np.nan, index=records.index)
    ok = (reject == "") & ~is_creatinine
    raw = parsed["value"].to_numpy(dtype=float) * scale.to_numpy()
    analyte_of = records["analyte"].to_numpy(dtype=object)
    kind_of = kind.to_numpy(dtype=object)
    ok_array = ok.to_numpy(dtype=bool)
    for analyte in pd.unique(records.loc[ok_array, "analyte"]):
        for unit_kind in ("mass_ratio", "molar_ratio", "mass_conc", "molar_conc"):
            rows = ok_array & (analyte_of == analyte) & (kind_of == unit_kind)
            if not rows.any():
                continue
            if unit_kind in ("mass_ratio", "molar_ratio"):
                converted = ratio_to_output(raw[rows], unit=Unit(unit_kind, 1.0), analyte=analyte, output=output_unit)
            else:
                converted = concentration_to_output(raw[rows], creat_value.to_numpy()[rows], unit=Unit(unit_kind, 1.0),
                                                    analyte=analyte, output=output_unit)
            value.iloc[np.flatnonzero(rows)] = converted

    # age: a date of birth on the row, else from the patients table; else an age column
    dob = records["dob"]
    if not pd.api.types.is_datetime64_dtype(dob.dtype):
        dob = pd.to_datetime(dob.astype(object), errors="coerce")
    dob = dob.astype("datetime64[ns]")
    known = patients.dropna(subset=[DATE_OF_BIRTH]).drop_duplicates(PATIENT_ID).set_index(PATIENT_ID)[DATE_OF_BIRTH]
    if len(known):  # (mapping through an empty datetime Series fails in pandas)
        from_table = records["patient_id"].map(known.astype("datetime64[ns]"))
        dob = dob.where(dob.notna(), from_table)
    records["dob"] = dob
    age = (records["sample_date"] - records["dob"]).dt.days.astype("Int64")
    age = age.where(age.notna(), records["age_days_given"])
    fail(ok & (age < 0).fillna(False), "sample-before-birth", "date_col", "date_header", "date_raw",
         "Sample dated before the patient's date of birth")
    fail(ok & (records["sample_date"] > pd.Timestamp(today)).fillna(False), "sample-in-future", "date_col",
         "date_header", "date_raw")

    kept = (reject == "") & ~is_creatinine
    k = records.loc[kept.to_numpy(), ["patient_id", "sample_date", "analyte", "result_raw", "unit_text", "file",
                                      "sheet", "row", "result_col", "sex"]]
    sex = k["sex"] if "sex" in k else ""
    if len(patients):
        known_sex = patients[patients[SEX] != ""].drop_duplicates(PATIENT_ID).set_index(PATIENT_ID)[SEX]
        missing_sex = (k["sex"] == "").to_numpy()
        sex = k["sex"].astype(object).copy()
        if missing_sex.any():
            sex[missing_sex] = k.loc[missing_sex, "patient_id"].map(known_sex.to_dict()).astype(object).fillna("").to_numpy()
    censor = parsed.loc[k.index, "censor"].fillna("")
    measurements = pd.DataFrame(
        {
            PATIENT_ID: k["patient_id"].astype(object),
            SAMPLE_DATE: k["sample_date"],
            ANALYTE: k["analyte"].astype(object),
            VALUE: value[k.index].astype(float),
            UNIT: output_unit,
            CENSOR: censor.astype(object),
            CENSOR_INCLUSIVE: parsed.loc[k.index, "censor_inclusive"].fillna(False).astype(bool),
            SOURCE_VALUE: cell_text(k["result_raw"]),
            SOURCE_UNIT: k["unit_text"].astype(object),
            SOURCE_FILE: k["file"].astype(object),
            SOURCE_SHEET: k["sheet"].astype(object),
            SOURCE_CELL: cell_refs(k["row"], k["result_col"]),
            SOURCE_ROW: k["row"].astype(int),
            CREATININE: creat_value[k.index].astype(float),
            DILUTE: (creat_value[k.index] < config.dilute_creatinine_mmol_l).fillna(False).astype(bool),
            SEX: pd.Series(sex, index=k.index).astype(object),
            DATE_OF_BIRTH: records.loc[k.index, "dob"],
            AGE_DAYS: age[k.index].astype("Int64"),
        },
        index=k.index,
    )
    kept_creat = is_creatinine & (reject == "")
    all_issues = pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=ISSUE_COLUMNS)
    # a wide row's missing ID or bad date is one problem of one cell, not one per analyte
    all_issues = all_issues.drop_duplicates(["code", "file", "sheet", "cell"]).reset_index(drop=True)
    record_status = pd.DataFrame({"file": records["file"], "sheet": records["sheet"], "row": records["row"], "reject": reject, "creatinine": kept_creat})
    return measurements[MEASUREMENT_COLUMNS], all_issues, record_status


def warn_and_deduplicate(measurements: pd.DataFrame, *, sheet_patient_ids: set[str] | None, log: IssueLog) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """Dilute urine, duplicates, unknown patients, unknown age; returns the deduplicated table and rows collapsed."""
    m = measurements
    dilute = m[m[DILUTE].to_numpy()]
    if len(dilute):  # vectorised: a registry export can hold tens of thousands of dilute samples
        text = "creatinine " + dilute[CREATININE].map("{:.2f}".format) + " mmol/L"
        log.extend(issue_frame("dilute-urine", file=dilute[SOURCE_FILE], sheet=dilute[SOURCE_SHEET],
                               cells=dilute[SOURCE_CELL], rows=dilute[SOURCE_ROW], column=dilute[ANALYTE],
                               values=text, messages="Dilute urine: " + text))
    key = [PATIENT_ID, SAMPLE_DATE, ANALYTE]
    exact = m.duplicated(key + [VALUE, CENSOR], keep="first")
    collapsed = []
    for rec in m[exact].itertuples():
        log.add("duplicate-result", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                column=rec.analyte, value=rec.source_value,
                message=f"Exact duplicate of an earlier {rec.analyte} result for {rec.patient_id} on {rec.sample_date:%Y-%m-%d}; kept once")
        collapsed.append((rec.source_file, rec.source_sheet, rec.source_row))
    m = m[~exact.to_numpy()]
    conflict = m.duplicated(key, keep=False)
    for rec in m[conflict].itertuples():
        log.add("conflicting-duplicate", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                column=rec.analyte, value=rec.source_value,
                message=f"{rec.analyte} for {rec.patient_id} on {rec.sample_date:%Y-%m-%d} has conflicting results; both kept")
    if sheet_patient_ids is not None:
        unknown = m[~m[PATIENT_ID].isin(sheet_patient_ids)].drop_duplicates(PATIENT_ID)
        for rec in unknown.itertuples():
            log.add("unknown-patient", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                    column="patient ID", value=rec.patient_id, message=f"Patient {rec.patient_id} is not in any patients sheet")
    no_age = m[m[AGE_DAYS].isna()].drop_duplicates(PATIENT_ID)
    for rec in no_age.itertuples():
        log.add("no-age", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell, row=rec.source_row,
                column="patient ID", value=rec.patient_id, message=f"No date of birth or age for patient {rec.patient_id}")
    return m, collapsed


