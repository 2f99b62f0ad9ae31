"""Event-free and overall survival per patient from therapy events or patients-sheet outcome columns.

Two forms of outcome data give the same table:

* therapy events ``relapse``, ``progression``, ``second_malignancy``, ``death`` and
  ``last_follow_up`` (dates), with the diagnosis date from the patients sheet or a ``diagnosis``
  event;
* outcome columns on the patients sheet, as clinical trial tables carry them: ``efs_days``,
  ``efs_event``, ``os_days``, ``os_event`` (days from diagnosis), ``vital_status`` and
  ``first_event``. A value given there wins over one derived from events.

EFS ends at the first of relapse, progression, second malignancy or death, else is censored at
the last follow-up; OS ends at death, else at the last follow-up. A patient without a last
follow-up (and without the event that ends the endpoint) has no time for that endpoint: an
issue record ``missing-follow-up``, never a silent censoring at the last sample.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.timeline import event_dates
from markers.ingest.issues import IssueLog
from markers.schema import (
    DIAGNOSIS_DATE,
    EFS_DAYS,
    EFS_EVENT,
    EVENT,
    EVENT_DATE,
    FIRST_EVENT,
    OS_DAYS,
    OS_EVENT,
    PATIENT_ID,
    SOURCE_FILE,
    VITAL_STATUS,
)

__all__ = ["EFS_EVENTS", "ENDPOINT_COLUMNS", "endpoint_table"]

#: Events that end event-free survival, in the order used to name a tie.
EFS_EVENTS = ("relapse", "progression", "second_malignancy", "death")

#: Columns of :func:`endpoint_table`.
ENDPOINT_COLUMNS = [PATIENT_ID, DIAGNOSIS_DATE, EFS_DAYS, EFS_EVENT, FIRST_EVENT, OS_DAYS, OS_EVENT, "source"]


def _dates(therapy: pd.DataFrame, event: str, how: str) -> pd.Series:
    if therapy is None or not len(therapy) or EVENT not in therapy.columns:
        return pd.Series(dtype="datetime64[ns]")
    rows = therapy[therapy[EVENT] == event].dropna(subset=[EVENT_DATE])
    dates = pd.to_datetime(rows[EVENT_DATE]).astype("datetime64[ns]")
    return dates.groupby(rows[PATIENT_ID].astype(str)).agg(how)


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days.astype("float64")


def _from_events(ids: pd.Index, therapy: pd.DataFrame, diagnosis: pd.Series) -> pd.DataFrame:
    """EFS and OS from dated events (NaN where the events do not say)."""
    firsts = pd.DataFrame({e: _dates(therapy, e, "min").reindex(ids) for e in EFS_EVENTS}, index=ids)
    first_date = firsts.min(axis=1)
    first_code = firsts.apply(lambda row: next((e for e in EFS_EVENTS if row[e] == row.min()), ""), axis=1) \
        if len(firsts) else pd.Series(dtype=object)
    last_contact = _dates(therapy, "last_follow_up", "max").reindex(ids)
    death = firsts["death"]
    diag = diagnosis.reindex(ids)
    out = pd.DataFrame(index=ids)
    has_event = first_date.notna()
    out[EFS_DAYS] = np.where(has_event, _days(first_date, diag), _days(last_contact, diag))
    out[EFS_EVENT] = pd.array(np.where(has_event, True, np.where(last_contact.notna(), False, None)), dtype="boolean")
    out[FIRST_EVENT] = np.where(has_event, first_code.reindex(ids).fillna(""), "")
    dead = death.notna()
    out[OS_DAYS] = np.where(dead, _days(death, diag), _days(last_contact, diag))
    out[OS_EVENT] = pd.array(np.where(dead, True, np.where(last_contact.notna(), False, None)), dtype="boolean")
    out["last_contact"] = last_contact
    return out


def _sheet_value(patients: pd.DataFrame, column: str, ids: pd.Index) -> pd.Series:
    if patients is None or column not in patients.columns:
        return pd.Series(pd.NA, index=ids, dtype=object)
    values = patients.drop_duplicates(PATIENT_ID).set_index(patients[PATIENT_ID].drop_duplicates().astype(str))[column]
    return values.reindex(ids)


def _from_sheet(ids: pd.Index, patients: pd.DataFrame) -> pd.DataFrame:
    """EFS and OS from the patients sheet's outcome columns (NaN/<NA> where not given)."""
    out = pd.DataFrame(index=ids)
    out[EFS_DAYS] = pd.to_numeric(_sheet_value(patients, EFS_DAYS, ids), errors="coerce").astype("float64")
    out[OS_DAYS] = pd.to_numeric(_sheet_value(patients, OS_DAYS, ids), errors="coerce").astype("float64")
    first = _sheet_value(patients, FIRST_EVENT, ids).fillna("").astype(str)
    vital = _sheet_value(patients, VITAL_STATUS, ids).fillna("").astype(str)
    efs_event = _sheet_value(patients, EFS_EVENT, ids).astype("boolean")
    os_event = _sheet_value(patients, OS_EVENT, ids).astype("boolean")
    # the indicator, else what the first event or the vital status says
    from_first = pd.Series(np.where(first.isin(EFS_EVENTS), True, np.where(first == "none", False, None)),
                           index=ids).astype("boolean")
    from_vital = pd.Series(np.where(vital == "dead", True, np.where(vital == "alive", False, None)),
                           index=ids).astype("boolean")
    out[EFS_EVENT] = efs_event.fillna(from_first)
    out[OS_EVENT] = os_event.fillna(from_vital)
    out[FIRST_EVENT] = first.where(first.isin(EFS_EVENTS), "")
    return out


def endpoint_table(patients: pd.DataFrame | None, therapy: pd.DataFrame | None, *,
                   patient_ids=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """EFS and OS from diagnosis for each patient, and the issue records of missing follow-up.

    Parameters
    ----------
    patients
        The patients table (``diagnosis_date``; optionally the outcome columns of
        :data:`markers.schema.OUTCOME_COLUMNS`).
    therapy
        Therapy events, with the outcome events among them.
    patient_ids
        Patients to report on besides those in ``patients`` and ``therapy`` (e.g. those measured).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        ``ENDPOINT_COLUMNS`` one row per patient (``efs_days``/``os_days`` NaN when unknown;
        ``source`` "patients sheet", "events" or "both"), and issue records (``ISSUE_COLUMNS``).

    Examples
    --------
    >>> therapy = pd.DataFrame({"patient_id": ["A", "A", "A"], "event": ["diagnosis", "relapse", "last_follow_up"],
    ...                         "event_date": pd.to_datetime(["2020-01-01", "2020-07-19", "2021-01-01"])})
    >>> endpoint_table(None, therapy)[0][["efs_days", "efs_event", "os_days", "os_event"]].iloc[0].tolist()
    [200.0, True, 366.0, False]
    """
    therapy = therapy if therapy is not None else pd.DataFrame(columns=[PATIENT_ID, EVENT, EVENT_DATE])
    known = [therapy[PATIENT_ID].astype(str)] if len(therapy) else []
    if patients is not None and len(patients):
        known.append(patients[PATIENT_ID].astype(str))
    if patient_ids is not None:
        known.append(pd.Series(list(patient_ids), dtype=str))
    ids = pd.Index(sorted(set(pd.concat(known)) if known else set()), name=PATIENT_ID, dtype=object)
    diagnosis = event_dates(therapy, patients=patients)["diagnosis"].reindex(ids) if len(ids) \
        else pd.Series(dtype="datetime64[ns]")
    events = _from_events(ids, therapy, diagnosis)
    sheet = _from_sheet(ids, patients)
    table = pd.DataFrame(index=ids)
    table[DIAGNOSIS_DATE] = diagnosis
    for column in (EFS_DAYS, OS_DAYS):
        table[column] = sheet[column].fillna(events[column])
    for column in (EFS_EVENT, OS_EVENT):
        table[column] = sheet[column].fillna(events[column]).astype("boolean")
    table[FIRST_EVENT] = sheet[FIRST_EVENT].where(sheet[FIRST_EVENT] != "", events[FIRST_EVENT])
    in_sheet = sheet[[EFS_DAYS, OS_DAYS]].notna().any(axis=1)
    in_events = events[[EFS_DAYS, OS_DAYS]].notna().any(axis=1)
    table["source"] = np.select([in_sheet & in_events, in_sheet, in_events], ["both", "patients sheet", "events"], "")
    # a time without its indicator (or the reverse) is not an outcome
    for days, flag in ((EFS_DAYS, EFS_EVENT), (OS_DAYS, OS_EVENT)):
        unknown = table[days].isna() | table[flag].isna()
        table.loc[unknown, days] = np.nan
        table.loc[unknown, flag] = pd.NA
    issues = _issues(table, patients, therapy, events["last_contact"], diagnosis)
    return table.reset_index()[ENDPOINT_COLUMNS], issues


def _issues(table: pd.DataFrame, patients: pd.DataFrame | None, therapy: pd.DataFrame,
            last_contact: pd.Series, diagnosis: pd.Series) -> pd.DataFrame:
    log = IssueLog()
    where = {}
    if patients is not None and len(patients) and SOURCE_FILE in patients.columns:
        for row in patients.drop_duplicates(PATIENT_ID).itertuples():
            where[str(getattr(row, PATIENT_ID))] = (row.source_file, row.source_sheet, row.source_cell)
    for pid, row in table.iterrows():
        file, sheet, cell = where.get(pid, ("", "", ""))
        if pd.isna(diagnosis.get(pid, pd.NaT)) and (pd.isna(row[EFS_DAYS]) or pd.isna(row[OS_DAYS])):
            log.add("missing-diagnosis-date", file=file, sheet=sheet, cell=cell, column=DIAGNOSIS_DATE, value=pid,
                    message=f"Patient {pid} has no diagnosis date: EFS and OS cannot be counted from diagnosis")
            continue
        missing = [name for name, days in (("EFS", EFS_DAYS), ("OS", OS_DAYS)) if pd.isna(row[days])]
        if missing:
            log.add("missing-follow-up", file=file, sheet=sheet, cell=cell, column="last_follow_up", value=pid,
                    message=f"Patient {pid} has no last follow-up (nor the event that ends it): "
                            f"{' and '.join(missing)} not known; the patient is left out of those analyses")
        for name, days in (("EFS", EFS_DAYS), ("OS", OS_DAYS)):
            if pd.notna(row[days]) and row[days] < 0:
                log.add("inconsistent-outcome", file=file, sheet=sheet, cell=cell, column=days, value=pid,
                        message=f"Patient {pid}: {name} ends {int(row[days])} days before diagnosis")
        if pd.notna(row[EFS_DAYS]) and pd.notna(row[OS_DAYS]) and row[EFS_DAYS] > row[OS_DAYS]:
            log.add("inconsistent-outcome", file=file, sheet=sheet, cell=cell, column=EFS_DAYS, value=pid,
                    message=f"Patient {pid}: EFS ({int(row[EFS_DAYS])} days) is longer than OS ({int(row[OS_DAYS])} days)")
    return log.to_frame()
