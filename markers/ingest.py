"""Read lab spreadsheets into one :class:`~markers.dataset.Dataset`, accounting for every row.

This is the one entry point of ingestion (:func:`read`); the CLI calls it and so
do notebooks. The work is split by stage: :mod:`markers.io` gives the raw cells,
:mod:`markers.mapping` finds headers, roles and columns, :mod:`markers.parse`
reads numbers, comparators and dates, :mod:`markers.units` converts to the
output unit. This module turns each sheet into *records* (one per result cell),
then normalises all records at once, vectorised, and keeps the row accounting:
every source row ends ``kept``, ``rejected`` (with an error issue) or ``skipped``
(blank, title, header, footer, duplicate, unrecognised sheet).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from markers import io as raw_io
from markers.config import Config, load_config
from markers.dataset import Dataset
from markers.errors import ConfigError, MissingColumnError, UnknownUnitError
from markers.issues import IssueLog, issue_frame
from markers.mapping import (
    ColumnMap,
    analyte_from_text,
    find_header,
    is_footer_line,
    loinc_measure,
    sheet_role,
    split_header_unit,
)
from markers.parse import parse_dates, parse_results
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    AGE_DAYS,
    ANALYTE,
    CENSOR,
    CENSOR_INCLUSIVE,
    CREATININE,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    DILUTE,
    EVENT,
    EVENT_DATE,
    EVENT_LABEL,
    ISSUE_COLUMNS,
    MEASUREMENT_COLUMNS,
    OUTPUT_UNITS,
    PATIENT_COLUMNS,
    PATIENT_ID,
    SAMPLE_DATE,
    SEX,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    SOURCE_UNIT,
    SOURCE_VALUE,
    THERAPY_COLUMNS,
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

_SEX = {
    "m": "M", "male": "M", "boy": "M", "man": "M", "mannlich": "M", "männlich": "M", "masculin": "M", "1": "M",
    "f": "F", "female": "F", "girl": "F", "woman": "F", "w": "F", "weiblich": "F", "feminin": "F", "2": "F",
}


def _per_distinct(values: pd.Series, func, *, empty: object, exact: bool = True) -> np.ndarray:
    """``func`` of each cell, computed once per distinct cell value (``empty`` for missing cells).

    A million-row column holds few distinct values, and hashing them is far cheaper than a
    Python call per cell. Hashing treats ``True`` and ``1.0`` as one key: when ``exact`` and a
    column holds both a boolean and a 0 or 1, it is done cell by cell to keep each cell's own text.
    """
    cells = values.to_numpy(dtype=object)
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    if exact and any(type(u) is bool or (isinstance(u, int | float) and u in (0, 1)) for u in uniques) and (
        values.map(type).eq(bool).any()
    ):
        return np.array([empty if v is None or v is pd.NA or v != v else func(v) for v in cells], dtype=object)
    mapped = np.array([func(u) for u in uniques] + [empty], dtype=object)
    return mapped[codes]  # code -1 (missing) picks the last entry, ``empty``


def _stripped(values: pd.Series) -> pd.Series:
    """Text cells stripped of spaces; NaN for every cell that is not text (numbers, dates, empty)."""
    out = _per_distinct(values, lambda v: v.strip() if isinstance(v, str) else np.nan, empty=np.nan)
    return pd.Series(out, index=values.index, dtype=object)


def _blank_cells(frame: pd.DataFrame) -> np.ndarray:
    """Boolean matrix: True where a cell is empty (None, NaN or only whitespace)."""
    blank = np.ones(frame.shape, dtype=bool)
    for position, column in enumerate(frame.columns):
        blank[:, position] = _per_distinct(
            frame[column], lambda v: isinstance(v, str) and not v.strip(), empty=True, exact=False).astype(bool)
    return blank


def _blank_mask(frame: pd.DataFrame) -> pd.Series:
    """True for rows whose cells are all empty (None, NaN or whitespace)."""
    return pd.Series(_blank_cells(frame).all(axis=1), index=frame.index)


def _ids(values: pd.Series) -> pd.Series:
    """Patient IDs as text: ``42.0`` -> ``"42"``, ``"0042"`` stays ``"0042"``; blanks -> ``None``."""

    def one(v: object) -> object:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip() or None

    return pd.Series(_per_distinct(values, one, empty=None), index=values.index, dtype=object)


def _cell_refs(rows: pd.Series, columns: pd.Series) -> list[str]:
    """``D14``-style references, vectorised: each column's letters computed once."""
    columns = columns.astype(int)
    letters = columns.map({c: raw_io.column_letter(c) for c in pd.unique(columns)})
    return (letters.astype(str) + rows.astype(int).astype(str)).tolist()


def _text(values: pd.Series) -> pd.Series:
    """Cells as stripped text ("" for empty); numbers and dates as ``str()`` gives them."""
    out = _per_distinct(values, lambda v: v.strip() if isinstance(v, str) else str(v), empty="")
    return pd.Series(out, index=values.index, dtype=object)


class _SheetReader:
    """Turns one recognised sheet into records, and keeps that sheet's row statuses."""

    def __init__(self, sheet: raw_io.RawSheet, *, config: Config, day_first: bool | None, issues: IssueLog):
        self.sheet = sheet
        self.config = config
        self.day_first = day_first
        self.issues = issues
        self.status = pd.Series("skipped", index=sheet.cells.index, dtype=object)
        self.reason = pd.Series("blank", index=sheet.cells.index, dtype=object)

    def release_cells(self) -> None:
        """Drop the raw cells (kept: file, sheet, and the row statuses already made)."""
        self.sheet = replace(self.sheet, cells=self.sheet.cells.iloc[0:0])

    # -- helpers ------------------------------------------------------------------
    def where(self, header: str) -> str:
        place = f"{self.sheet.file} {self.sheet.sheet}" if self.sheet.sheet else self.sheet.file
        return f"{place}, column '{header}'"

    def cells_of(self, rows: pd.Index, column: int) -> list[str]:
        return [raw_io.cell_ref(int(r), column) for r in rows]

    def dates(self, body: pd.DataFrame, column: int, header: str) -> pd.DataFrame:
        return parse_dates(body[column], day_first=self.day_first, where=self.where(header))

    def add_issue(self, code: str, row: int, column: int | None, header: str, value: object, message: str = "") -> None:
        self.issues.add(
            code,
            file=self.sheet.file,
            sheet=self.sheet.sheet,
            cell=raw_io.cell_ref(int(row), column) if column is not None else f"{int(row)}",
            row=int(row),
            column=header,
            value=value,
            message=message,
        )

    # -- structure ----------------------------------------------------------------------
    def body(self) -> tuple[int, ColumnMap, str, pd.DataFrame] | None:
        """Find header and role; mark title/header/blank/footer rows; return the data rows."""
        cells = self.sheet.cells
        blank_cells = _blank_cells(cells)
        blank = pd.Series(blank_cells.all(axis=1), index=cells.index)
        filled = pd.Series((~blank_cells).sum(axis=1), index=cells.index)
        found = find_header(cells, config=self.config)
        if found is None:
            if (~blank).any():
                first = int(cells.index[~blank.to_numpy()][0])
                self.add_issue("unrecognised-sheet", first, None, "", self.sheet.sheet or self.sheet.file)
                self.reason[~blank] = "unrecognised-sheet"
            return None
        header_row, column_map = found
        role = sheet_role(self.sheet.sheet, column_map, config=self.config)
        above = (cells.index < header_row) & ~blank.to_numpy()
        self.reason[above] = "title"
        self.reason[cells.index == header_row] = "header"
        if role == "ignore":
            below = (cells.index > header_row) & ~blank.to_numpy()
            self.reason[below] = "unrecognised-sheet"
            self.add_issue("unrecognised-sheet", header_row, None, "", self.sheet.sheet or self.sheet.file)
            return None
        below = (cells.index > header_row) & ~blank.to_numpy()
        first = int(np.argmax(below)) if below.any() else len(below)
        if below[first:].all():
            data = cells.iloc[first:]  # the usual case, one block of data rows: a view, not a copy
        else:
            data = cells[below]
        # footer lines ("End of report", "Page 2 of 3") below the data are skipped, not rejected;
        # only a row with a single filled cell can be one
        footer = pd.Series(False, index=data.index, dtype=bool)
        single = data.index[(filled[data.index] == 1).to_numpy()]
        for row in single:
            footer[row] = is_footer_line(list(data.loc[row]))
        self.reason[footer[footer].index] = "footer"
        return header_row, column_map, role, (data[~footer.to_numpy()] if footer.any() else data)

    def mark(self, rows: Iterable[int], status: str, reason: str) -> None:
        index = pd.Index(list(rows))
        self.status[index] = status
        self.reason[index] = reason


def _require(column_map: ColumnMap, role: str, sheet: raw_io.RawSheet, what: str) -> int:
    position = column_map.column(role)
    if position is None:
        place = f"{sheet.file} sheet {sheet.sheet!r}" if sheet.sheet else sheet.file
        found = ", ".join(repr(h) for h in column_map.headers.values())
        raise MissingColumnError(
            f"{place}: no {what} column was found (headers: {found}). "
            f"Rename the column, or map it in the config file's [columns] table, e.g. \"My header\" = \"{role}\"."
        )
    return position


# ---- records from each kind of sheet ----------------------------------------------------------


def _measurement_records(reader: _SheetReader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    sheet = reader.sheet
    id_col = _require(column_map, "patient_id", sheet, "patient ID")
    date_col = column_map.column("sample_date")
    if date_col is None:
        date_col = _require(column_map, "event_date", sheet, "sample date")
    headers = column_map.headers
    common = pd.DataFrame(index=data.index)
    common["file"] = sheet.file
    common["sheet"] = sheet.sheet
    common["row"] = data.index.astype(int)
    common["patient_id"] = _ids(data[id_col])
    common["id_col"] = id_col
    dates = reader.dates(data, date_col, headers[date_col])
    common["sample_date"] = dates["date"]
    common["date_status"] = dates["status"]
    common["date_raw"] = data[date_col].copy()  # own array: the raw cells can be freed
    common["date_col"] = date_col
    dob_col = column_map.column("date_of_birth")
    if dob_col is not None:
        dob = reader.dates(data, dob_col, headers[dob_col])
        common["dob"] = dob["date"].where(dob["status"] == "ok")
    else:
        common["dob"] = pd.NaT
    sex_col = column_map.column("sex")
    common["sex"] = _text(data[sex_col]).str.lower().map(_SEX).fillna("") if sex_col is not None else ""
    common["age_days_given"] = _age_days_from_columns(data, column_map)
    creat_col = column_map.column("creatinine")
    creat_unit_col = column_map.column("creatinine_unit")
    common["creatinine_raw"] = data[creat_col].copy() if creat_col is not None else None
    common["creatinine_col"] = creat_col if creat_col is not None else -1
    if creat_unit_col is not None:
        common["creatinine_unit"] = _text(data[creat_unit_col])
    else:
        common["creatinine_unit"] = column_map.creatinine_unit
    common["decimal_comma"] = sheet.decimal_comma

    unit_col = column_map.column("unit")
    if column_map.analyte_columns and not (column_map.column("analyte") is not None and column_map.column("result") is not None):
        # wide layout: one record per (row, analyte column) with a non-empty cell
        parts = []
        for position, (analyte, header_unit) in column_map.analyte_columns.items():
            values = data[position]
            present = ~_text(values).eq("")
            part = common[present.to_numpy()].copy()
            part["analyte"] = analyte
            part["analyte_text"] = headers[position]
            part["loinc_measure"] = None
            part["result_raw"] = values[present.to_numpy()]
            part["result_col"] = position
            part["analyte_col"] = position
            part["result_header"] = headers[position]
            if analyte in column_map.analyte_unit_columns:
                ucol = column_map.analyte_unit_columns[analyte]
                part["unit_text"] = _text(data.loc[part.index, ucol])
                part["unit_col"] = ucol
                part["unit_column"] = headers[ucol]
            elif header_unit:
                part["unit_text"] = header_unit
                part["unit_col"] = position
                part["unit_column"] = headers[position]
            elif unit_col is not None:
                part["unit_text"] = _text(data.loc[part.index, unit_col])
                part["unit_col"] = unit_col
                part["unit_column"] = headers[unit_col]
            else:
                raise UnknownUnitError(
                    f"{reader.where(headers[position])}: the unit of {analyte} cannot be determined: "
                    f"give it in the header, e.g. '{analyte} (mg/g creat)', or in a unit column. "
                    f"Accepted: {ACCEPTED_SPELLINGS}."
                )
            parts.append(part)
        records = pd.concat(parts) if parts else common.iloc[0:0].assign(analyte=None)
        # rows with an ID and date but no result at all are rejected, not dropped silently
        empty_rows = common.index.difference(records.index)
        for row in empty_rows:
            first = min(column_map.analyte_columns)
            reader.add_issue("missing-result", row, first, headers[first], "", "No result in any analyte column")
            reader.mark([row], "rejected", "missing-result")
        return records

    # long layout
    result_col = _require(column_map, "result", sheet, "result")
    analyte_col = column_map.column("analyte")
    loinc_col = column_map.column("loinc")
    if analyte_col is None and loinc_col is None:
        _require(column_map, "analyte", sheet, "analyte (test name or LOINC)")
    records = common  # built above for this sheet alone: no copy needed
    analyte_text = _text(data[analyte_col]) if analyte_col is not None else pd.Series("", index=data.index)
    loinc_text = _text(data[loinc_col]) if loinc_col is not None else pd.Series("", index=data.index)
    lookup = {t: analyte_from_text(t, aliases=reader.config.analytes) for t in pd.unique(pd.concat([analyte_text, loinc_text]))}
    by_loinc = loinc_text.map(lookup)
    by_name = analyte_text.map(lookup)
    records["analyte"] = by_loinc.where(by_loinc.notna(), by_name)
    records["analyte_text"] = analyte_text.where(analyte_text != "", loinc_text)
    measures = {t: loinc_measure(t) for t in pd.unique(pd.concat([loinc_text, analyte_text]))}
    records["loinc_measure"] = loinc_text.map(measures).where(loinc_text != "", analyte_text.map(measures))
    records["result_raw"] = data[result_col].copy()
    records["result_col"] = result_col
    records["result_header"] = headers[result_col]
    records["analyte_col"] = analyte_col if analyte_col is not None else loinc_col
    if unit_col is not None:
        records["unit_text"] = _text(data[unit_col])
        records["unit_col"] = unit_col
        records["unit_column"] = headers[unit_col]
    else:
        # "VMA (mg/g creat)" as the test name, or "Result (mg/g creat)" as the result header
        header_unit = split_header_unit(headers[result_col])[1]
        from_name = analyte_text.map(lambda t: split_header_unit(t)[1] if t else "")
        records["unit_text"] = from_name.where(from_name != "", header_unit)
        records["unit_col"] = analyte_col if analyte_col is not None else result_col
        records["unit_column"] = headers[records["unit_col"].iloc[0]] if len(records) else ""
    return records


def _age_days_from_columns(data: pd.DataFrame, column_map: ColumnMap) -> pd.Series:
    """Age at sample in days from an age column (years × 365.25, months × 30.4375, or days)."""
    for role, factor in (("age_days", 1.0), ("age_months", 30.4375), ("age_years", 365.25)):
        position = column_map.column(role)
        if position is not None:
            numbers = pd.to_numeric(_text(data[position]).str.replace(",", ".", regex=False), errors="coerce")
            return np.floor(numbers * factor).astype("Int64")
    return pd.Series(pd.NA, index=data.index, dtype="Int64")


def _patient_records(reader: _SheetReader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    sheet = reader.sheet
    id_col = _require(column_map, "patient_id", sheet, "patient ID")
    headers = column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = _ids(data[id_col])
    sex_col = column_map.column("sex")
    out[SEX] = _text(data[sex_col]).str.lower().map(_SEX).fillna("") if sex_col is not None else ""
    for role, name in (("date_of_birth", DATE_OF_BIRTH), ("diagnosis_date", DIAGNOSIS_DATE)):
        position = column_map.column(role)
        if position is None:
            out[name] = pd.NaT
            continue
        parsed = reader.dates(data, position, headers[position])
        out[name] = parsed["date"]
        for row in parsed.index[parsed["status"] == "invalid"]:
            reader.add_issue("invalid-date", row, position, headers[position], data.at[row, position])
    out[AGE_AT_DIAGNOSIS_DAYS] = (out[DIAGNOSIS_DATE] - out[DATE_OF_BIRTH]).dt.days.astype("Int64")
    out[SOURCE_FILE] = sheet.file
    out[SOURCE_SHEET] = sheet.sheet
    out[SOURCE_CELL] = reader.cells_of(data.index, id_col)
    missing = out[PATIENT_ID].isna()
    for row in out.index[missing]:
        reader.add_issue("invalid-patient", row, id_col, headers[id_col], "", "Patient row without an ID")
    reader.mark(out.index[missing], "rejected", "invalid-patient")
    reader.mark(out.index[~missing], "kept", "patient")
    return out[~missing.to_numpy()]


def _therapy_records(reader: _SheetReader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    from markers.timeline import canonical_event

    sheet = reader.sheet
    id_col = _require(column_map, "patient_id", sheet, "patient ID")
    event_col = _require(column_map, "event", sheet, "event")
    date_col = column_map.column("event_date")
    if date_col is None:
        date_col = _require(column_map, "sample_date", sheet, "date")
    headers = column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = _ids(data[id_col])
    out[EVENT_LABEL] = _text(data[event_col])
    labels = {t: canonical_event(t, aliases=reader.config.events) for t in pd.unique(out[EVENT_LABEL])}
    out[EVENT] = out[EVENT_LABEL].map(labels).fillna("")
    parsed = reader.dates(data, date_col, headers[date_col])
    out[EVENT_DATE] = parsed["date"]
    out[SOURCE_FILE] = sheet.file
    out[SOURCE_SHEET] = sheet.sheet
    out[SOURCE_CELL] = reader.cells_of(data.index, event_col)
    bad = out[PATIENT_ID].isna() | (out[EVENT_LABEL] == "") | (parsed["status"] != "ok")
    for row in out.index[bad]:
        if out.at[row, PATIENT_ID] is None:
            reader.add_issue("invalid-event", row, id_col, headers[id_col], "", "Therapy row without a patient ID")
        elif out.at[row, EVENT_LABEL] == "":
            reader.add_issue("invalid-event", row, event_col, headers[event_col], "", "Therapy row without an event")
        else:
            reader.add_issue("invalid-event", row, date_col, headers[date_col], data.at[row, date_col], "Therapy event without a valid date")
    unknown = ~bad & (out[EVENT] == "")
    for row in out.index[unknown]:
        reader.add_issue("unrecognised-event", row, event_col, headers[event_col], out.at[row, EVENT_LABEL])
    reader.mark(out.index[bad], "rejected", "invalid-event")
    reader.mark(out.index[~bad], "kept", "therapy-event")
    return out[~bad.to_numpy()]


# ---- the vectorised normalisation of all measurement records ----------------------------------


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
    from markers.issues import ISSUE_TYPES

    selected = records[mask.to_numpy()]
    issue_type = ISSUE_TYPES[code]
    if selected.empty:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    cols = selected[col_field].astype(int).tolist()
    return pd.DataFrame(
        {
            "code": code,
            "severity": issue_type.severity,
            "file": selected["file"].tolist(),
            "sheet": selected["sheet"].tolist(),
            "cell": [raw_io.cell_ref(int(r), c) for r, c in zip(selected["row"], cols, strict=True)],
            "row": selected["row"].astype(int).tolist(),
            "column": selected[header_field].tolist() if header_field in selected else "",
            "value": ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in selected[value_field]],
            "message": message or issue_type.title,
            "hint": issue_type.hint,
        }
    )


def _normalise(records: pd.DataFrame, *, output_unit: str, config: Config, patients: pd.DataFrame, today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
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
    has_creat_cell = records["creatinine_raw"].notna() & ~_stripped(records["creatinine_raw"]).eq("")
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
            SOURCE_VALUE: _text(k["result_raw"]),
            SOURCE_UNIT: k["unit_text"].astype(object),
            SOURCE_FILE: k["file"].astype(object),
            SOURCE_SHEET: k["sheet"].astype(object),
            SOURCE_CELL: _cell_refs(k["row"], k["result_col"]),
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


def _warnings(measurements: pd.DataFrame, *, sheet_patient_ids: set[str] | None, log: IssueLog) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """Dilute urine, duplicates, unknown patients, unknown age; returns the deduplicated table and rows collapsed."""
    m = measurements
    dilute = m[m[DILUTE].to_numpy()]
    if len(dilute):  # vectorised: a registry export can hold tens of thousands of dilute samples
        text = "creatinine " + dilute[CREATININE].map("{:.2f}".format) + " mmol/L"
        log.extend(issue_frame("dilute-urine", file="", sheet="", cells=dilute[SOURCE_CELL], rows=dilute[SOURCE_ROW],
                               column="", values=text, messages="Dilute urine: " + text)
                   .assign(file=dilute[SOURCE_FILE].to_numpy(), sheet=dilute[SOURCE_SHEET].to_numpy(),
                           column=dilute[ANALYTE].to_numpy()))
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


def _merge_patients(frames: list[pd.DataFrame], records: pd.DataFrame, log: IssueLog) -> pd.DataFrame:
    """One row per patient from patients sheets, completed by dates of birth and sex given on measurement rows."""
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PATIENT_COLUMNS)
    if len(table):
        dup = table.duplicated(PATIENT_ID, keep="first")
        first = table.drop_duplicates(PATIENT_ID).set_index(PATIENT_ID)
        for rec in table[dup].itertuples():
            ref = first.loc[rec.patient_id]
            same_dob = (pd.isna(ref[DATE_OF_BIRTH]) and pd.isna(rec.date_of_birth)) or ref[DATE_OF_BIRTH] == rec.date_of_birth
            if not same_dob or ref[SEX] != rec.sex:
                log.add("conflicting-patient", file=rec.source_file, sheet=rec.source_sheet, cell=rec.source_cell,
                        column="patient ID", value=rec.patient_id,
                        message=f"Patient {rec.patient_id} is listed again with different details; the first is kept")
        table = table[~dup.to_numpy()]
    if len(records) and "dob" in records:
        extra = records.dropna(subset=["patient_id"])
        extra = extra[~extra["patient_id"].isin(set(table[PATIENT_ID]))]
        if len(extra):
            extra = extra.sort_values(["file", "sheet", "row"]).drop_duplicates("patient_id")
            add = pd.DataFrame(
                {
                    PATIENT_ID: extra["patient_id"].to_numpy(),
                    SEX: extra["sex"].to_numpy(),
                    DATE_OF_BIRTH: pd.to_datetime(extra["dob"]).to_numpy(),
                    DIAGNOSIS_DATE: pd.NaT,
                    AGE_AT_DIAGNOSIS_DAYS: pd.NA,
                    SOURCE_FILE: extra["file"].to_numpy(),
                    SOURCE_SHEET: extra["sheet"].to_numpy(),
                    SOURCE_CELL: [raw_io.cell_ref(int(r), int(c)) for r, c in zip(extra["row"], extra["id_col"], strict=True)],
                }
            )
            table = pd.concat([table, add], ignore_index=True) if len(table) else add
    table = table.reset_index(drop=True)
    for column in (DATE_OF_BIRTH, DIAGNOSIS_DATE):
        table[column] = pd.to_datetime(table[column])
    table[AGE_AT_DIAGNOSIS_DAYS] = (table[DIAGNOSIS_DATE] - table[DATE_OF_BIRTH]).dt.days.astype("Int64")
    return table[PATIENT_COLUMNS].sort_values(PATIENT_ID, kind="stable").reset_index(drop=True)


def _account_rows(reader: _SheetReader, record_status: pd.DataFrame, measurements: pd.DataFrame,
                  collapsed: list[tuple[str, str, int]]) -> pd.DataFrame:
    """The final status of each row of one sheet (vectorised).

    A row with records is ``kept`` when ≥ 1 of them made a measurement (or gave a creatinine
    used for its sample), ``skipped`` when all it held was an exact duplicate, and ``rejected``
    (with its first error code) otherwise. Rows without records keep what the sheet reader
    decided (title, header, blank, footer, patient, therapy event...).
    """
    sheet = reader.sheet
    status, reason = reader.status.copy(), reader.reason.copy()
    mine = record_status[(record_status["file"] == sheet.file) & (record_status["sheet"] == sheet.sheet)]
    if len(mine):
        by_row = mine.assign(rejected=mine["reject"].where(mine["reject"] != "")).groupby("row").agg(
            creatinine=("creatinine", "any"), rejected=("rejected", "first"))
        m = measurements[(measurements[SOURCE_FILE] == sheet.file) & (measurements[SOURCE_SHEET] == sheet.sheet)]
        produced = by_row.index.isin(m[SOURCE_ROW].unique())
        duplicate = by_row.index.isin([row for file, name, row in collapsed if file == sheet.file and name == sheet.sheet])
        creatinine = by_row["creatinine"].to_numpy(dtype=bool)
        has_error = by_row["rejected"].notna().to_numpy()
        conditions = [produced, creatinine, duplicate, has_error]
        row_status = np.select(conditions, ["kept", "kept", "skipped", "rejected"], default="")
        row_reason = np.select(conditions, ["measurement", "creatinine", "duplicate-result",
                                            by_row["rejected"].astype(object).to_numpy()], default="")
        decided = row_status != ""
        rows = by_row.index[decided]
        status[rows] = row_status[decided]
        reason[rows] = row_reason[decided]
    return pd.DataFrame({"file": sheet.file, "sheet": sheet.sheet, "row": status.index.astype(int),
                         "status": status.to_numpy(), "reason": reason.to_numpy()})


def read(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    unit: str = "mg/g",
    config: Config | str | os.PathLike | None = None,
    day_first: bool | None = None,
    today: dt.date | None = None,
) -> Dataset:
    """Read lab spreadsheets into tidy tables, accounting for every row.

    Parameters
    ----------
    paths
        One file or several: xlsx, xlsm, xls, ods, csv, tsv or txt. Every sheet is considered.
    unit
        Output unit of ``value``: ``"mg/g"`` (mg/g creatinine, the default) or ``"mmol/mol"``.
    config
        A :class:`~markers.config.Config` or the path of a TOML config file.
    day_first
        Day-first (``True``) or month-first (``False``) for columns whose dates are all ambiguous.
    today
        The date after which a sample is "in the future" (default: today).

    Returns
    -------
    Dataset
        ``measurements``, ``patients``, ``therapy``, ``issues``, ``rows`` (the accounting) and ``files``.

    Raises
    ------
    MarkersError
        For a file that cannot be read, a missing column, an unknown unit or undecidable dates.

    Examples
    --------
    >>> data = read(["sample_data/study_workbook.xlsx"])  # doctest: +SKIP
    >>> data.measurements[["patient_id", "sample_date", "analyte", "value"]].head()  # doctest: +SKIP
    """
    if unit not in OUTPUT_UNITS:
        raise ConfigError(f"unknown output unit {unit!r}; use one of: {', '.join(OUTPUT_UNITS)}.")
    output_unit = OUTPUT_UNITS[unit]
    if not isinstance(config, Config):
        config = load_config(config)
    if day_first is None:
        day_first = config.day_first
    today = today or dt.date.today()
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    if not paths:
        raise ConfigError("no input files given.")

    log = IssueLog()
    files, readers = [], []
    measurement_records, patient_frames, therapy_frames = [], [], []
    have_patient_sheet = False
    for path in paths:
        sheets = raw_io.read_raw(path)
        files.append({"file": Path(path).name, "path": str(path), "sha256": raw_io.sha256_of(path),
                      "format": sheets[0].fmt if sheets else Path(path).suffix.lstrip(".")})
        while sheets:
            # each sheet's raw cells are let go as soon as its records are out: a full sheet's
            # cells weigh as much as everything else together (peak memory, issue of scale)
            reader = _SheetReader(sheets.pop(0), config=config, day_first=day_first, issues=log)
            readers.append(reader)
            found = reader.body()
            if found is not None and not found[3].empty:
                _, column_map, role, data = found
                if role == "measurements":
                    measurement_records.append((reader, _measurement_records(reader, column_map, data)))
                elif role == "patients":
                    have_patient_sheet = True
                    patient_frames.append(_patient_records(reader, column_map, data))
                elif role == "therapy":
                    therapy_frames.append(_therapy_records(reader, column_map, data))
                del data
            del found
            reader.release_cells()

    records = pd.concat([r for _, r in measurement_records], ignore_index=True) if measurement_records else pd.DataFrame()
    patients = _merge_patients(patient_frames, records, log)
    if len(records):
        measurements, issues, record_status = _normalise(records, output_unit=output_unit, config=config, patients=patients, today=today)
        log.extend(issues)
        sheet_ids = {i for frame in patient_frames for i in frame[PATIENT_ID]} if have_patient_sheet else None
        measurements, collapsed = _warnings(measurements, sheet_patient_ids=sheet_ids, log=log)
    else:
        measurements = Dataset().measurements
        record_status = pd.DataFrame(columns=["file", "sheet", "row", "reject", "creatinine"])
        collapsed = []

    rows_frames = [_account_rows(reader, record_status, measurements, collapsed) for reader in readers]
    rows = pd.concat(rows_frames, ignore_index=True) if rows_frames else Dataset().rows
    therapy = pd.concat(therapy_frames, ignore_index=True)[THERAPY_COLUMNS] if therapy_frames else Dataset().therapy
    if len(therapy):
        therapy[EVENT_DATE] = pd.to_datetime(therapy[EVENT_DATE])
        therapy = therapy.sort_values([PATIENT_ID, EVENT_DATE], kind="stable").reset_index(drop=True)
    measurements = measurements.sort_values([PATIENT_ID, SAMPLE_DATE, ANALYTE], kind="stable").reset_index(drop=True)
    return Dataset(
        measurements=measurements,
        patients=patients,
        therapy=therapy,
        issues=log.to_frame(),
        rows=rows,
        files=pd.DataFrame(files, columns=["file", "path", "sha256", "format"]),
        unit=output_unit,
    )
