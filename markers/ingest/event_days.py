"""Therapy and disease events of a date-free table: each event's day since diagnosis (``event_day``).

Data-commons tables give no calendar dates. An event table says when by one of:

* the days since diagnosis themselves (a ``days since diagnosis`` column, as for results);
* the patient's age in days at the event, as the Pediatric Cancer Data Commons (INRG) dictionary
  keeps every time point (``age_at_disease_phase``, ``age_at_course_start``): the day since
  diagnosis is then that age minus the age at diagnosis, taken from an ``age at diagnosis``
  column in days or else from the patient's own diagnosis row in the same table (the disease
  phase "Initial Diagnosis").

A row whose day cannot be worked out (no age at diagnosis for its patient, a cell that is not a
whole number of days) is rejected with ``invalid-event`` at that cell, never dropped silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.readers.cells import cell_ids, cell_text
from markers.schema import (
    EVENT,
    EVENT_DATE,
    EVENT_DAY,
    EVENT_LABEL,
    PATIENT_ID,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_SHEET,
)

#: The column roles (``markers.ingest.mapping``) that place an event in a date-free table, in order.
DAY_ROLES = ("days_since_diagnosis", "age_at_event_days")


def has_event_days(column_map) -> bool:
    """True when a therapy sheet without a date column gives days since diagnosis or ages at the events."""
    return any(column_map.column(role) is not None for role in DAY_ROLES)


def _numbers(cells: pd.Series) -> pd.Series:
    """Whole days as written (``"-3"``, ``"120"``, ``"120,0"``) as float; NaN for anything else."""
    return pd.to_numeric(cell_text(cells).str.replace(",", ".", regex=False), errors="coerce").astype("float64")


def event_days(events: pd.Series, patients: pd.Series, *, days: pd.Series | None = None,
               ages: pd.Series | None = None, diagnosis_ages: pd.Series | None = None) -> pd.Series:
    """Days since diagnosis of each event row (float, NaN where it cannot be told).

    ``days`` given: taken as they are. Else ``ages`` (age in days at the event) minus the age at
    diagnosis: ``diagnosis_ages`` of the row where given, else the age at the patient's own
    ``diagnosis`` event in the same table (its earliest).

    Examples
    --------
    >>> ev = pd.Series(["diagnosis", "therapy_start", "relapse", "surgery"])
    >>> pid = pd.Series(["C1", "C1", "C1", "C2"])
    >>> event_days(ev, pid, ages=pd.Series([400.0, 404, 900, 50])).tolist()
    [0.0, 4.0, 500.0, nan]
    """
    if days is not None:
        return days.astype("float64")
    if ages is None:
        return pd.Series(np.nan, index=events.index)
    origin = pd.Series(np.nan, index=events.index) if diagnosis_ages is None else diagnosis_ages.astype("float64")
    is_dx = (events == "diagnosis").to_numpy(dtype=bool) & ages.notna().to_numpy(dtype=bool)
    own = ages[is_dx].groupby(patients[is_dx].astype(str)).min()
    origin = origin.fillna(pd.Series(patients.astype(str).map(own).to_numpy(dtype="float64"), index=events.index))
    return ages - origin


def therapy_day_records(reader, column_map, data: pd.DataFrame, *, id_col: int, event_col: int) -> pd.DataFrame:
    """The events of a date-free therapy sheet with ``event_day``; rows without a day rejected.

    ``reader`` is the sheet's :class:`markers.ingest.sheets.SheetReader` (issues, row marks, cells).
    """
    from markers.ingest.events import canonical_event

    sheet, headers = reader.sheet, column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = cell_ids(data[id_col])
    out[EVENT_LABEL] = cell_text(data[event_col])
    labels = {t: canonical_event(t, aliases=reader.config.events) for t in pd.unique(out[EVENT_LABEL])}
    out[EVENT] = out[EVENT_LABEL].map(labels).fillna("")
    day_col = column_map.column("days_since_diagnosis")
    age_col = column_map.column("age_at_event_days")
    dx_col = column_map.column("age_at_diagnosis_days")
    time_col = day_col if day_col is not None else age_col
    days = event_days(out[EVENT], out[PATIENT_ID].astype(object).fillna(""),
                      days=_numbers(data[day_col]) if day_col is not None else None,
                      ages=_numbers(data[age_col]) if age_col is not None else None,
                      diagnosis_ages=_numbers(data[dx_col]) if dx_col is not None else None)
    out[EVENT_DAY] = pd.array(np.floor(days.to_numpy()), dtype="Float64").astype("Int64")
    out[EVENT_DATE] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out[SOURCE_FILE] = sheet.file
    out[SOURCE_SHEET] = sheet.sheet
    out[SOURCE_CELL] = reader.cells_of(data.index, event_col)
    no_id, no_event = out[PATIENT_ID].isna(), out[EVENT_LABEL] == ""
    no_day = ~no_id & ~no_event & out[EVENT_DAY].isna()
    for row in out.index[no_id]:
        reader.add_issue("invalid-event", row, id_col, headers[id_col], "", "Therapy row without a patient ID")
    for row in out.index[~no_id & no_event]:
        reader.add_issue("invalid-event", row, event_col, headers[event_col], "", "Therapy row without an event")
    for row in out.index[no_day]:
        said = data.at[row, time_col]
        if np.isnan(_numbers(pd.Series([said], dtype=object)).iloc[0]):
            why = "Event without a number of days" if day_col is not None else "Event without an age in days"
        else:  # an age at the event, but none at diagnosis to count from
            why = "Event age given, but no age at diagnosis for the patient (an 'Initial Diagnosis' row or column)"
        reader.add_issue("invalid-event", row, time_col, headers[time_col], said, why)
    return kept_events(reader, out, no_id | no_event | no_day, event_col=event_col, header=headers[event_col])


def kept_events(reader, out: pd.DataFrame, bad: pd.Series, *, event_col: int, header: str) -> pd.DataFrame:
    """The therapy rows not ``bad`` (those are rejected as ``invalid-event``); an event name markers does
    not know is an ``unrecognised-event`` warning on a kept row. For dated and date-free tables alike."""
    unknown = ~bad & (out[EVENT] == "")
    for row in out.index[unknown]:
        reader.add_issue("unrecognised-event", row, event_col, header, out.at[row, EVENT_LABEL])
    reader.mark(out.index[bad], "rejected", "invalid-event")
    reader.mark(out.index[~bad], "kept", "therapy-event")
    return out[~bad.to_numpy()]
