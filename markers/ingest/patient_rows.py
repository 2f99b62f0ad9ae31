"""Patient rows and therapy-event rows of a recognised sheet, each kept or rejected with its issue."""

from __future__ import annotations

import pandas as pd

from markers.ingest.event_days import has_event_days, kept_events, therapy_day_records
from markers.ingest.mapping import ColumnMap
from markers.ingest.outcome_cells import outcome_fields
from markers.ingest.record_cells import patient_ids, require_column, sex_code
from markers.readers.cells import cell_text, map_text
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    EVENT,
    EVENT_DATE,
    EVENT_LABEL,
    OUTCOME_COLUMNS,
    PATIENT_ID,
    SEX,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_SHEET,
)

__all__ = ["patient_records", "therapy_records"]


def patient_records(reader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    sheet = reader.sheet
    id_col = require_column(column_map, "patient_id", sheet, "patient ID")
    headers = column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = patient_ids(data[id_col])
    sex_col = column_map.column("sex")
    out[SEX] = map_text(data[sex_col], sex_code, default="") if sex_col is not None else ""
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
    outcome_roles = {role: column_map.column(role) for role in OUTCOME_COLUMNS if column_map.column(role) is not None}
    if outcome_roles:  # EFS/OS columns, vital status, first event, stage, MYCN (markers.ingest.outcome_cells)
        out = out.join(outcome_fields(data, outcome_roles, report=lambda row, position, value: reader.add_issue(
            "invalid-outcome", row, position, headers[position], value)))
    out[SOURCE_FILE] = sheet.file
    out[SOURCE_SHEET] = sheet.sheet
    out[SOURCE_CELL] = reader.cells_of(data.index, id_col)
    missing = out[PATIENT_ID].isna()
    for row in out.index[missing]:
        reader.add_issue("invalid-patient", row, id_col, headers[id_col], "", "Patient row without an ID")
    reader.mark(out.index[missing], "rejected", "invalid-patient")
    reader.mark(out.index[~missing], "kept", "patient")
    return out[~missing.to_numpy()]


def therapy_records(reader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    from markers.ingest.events import canonical_event

    sheet = reader.sheet
    id_col = require_column(column_map, "patient_id", sheet, "patient ID")
    event_col = require_column(column_map, "event", sheet, "event")
    date_col = column_map.column("event_date")
    if date_col is None and column_map.column("sample_date") is None:
        if has_event_days(column_map):  # a date-free table: days since diagnosis or ages at the events
            return therapy_day_records(reader, column_map, data, id_col=id_col, event_col=event_col)
    if date_col is None:
        date_col = require_column(column_map, "sample_date", sheet, "date")
    headers = column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = patient_ids(data[id_col])
    out[EVENT_LABEL] = cell_text(data[event_col])
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
    return kept_events(reader, out, bad, event_col=event_col, header=headers[event_col])
