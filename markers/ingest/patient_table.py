"""The run's patient table: patients sheets merged, completed from what the measurement rows say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from markers.ingest.issues import IssueLog
from markers.ingest.normalize import located_cells
from markers.readers.cells import as_text
from markers.readers.files import CELL_DTYPE
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    OUTCOME_COLUMNS,
    PATIENT_COLUMNS,
    PATIENT_ID,
    SEX,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_SHEET,
)


def merge_patients(frames: list[pd.DataFrame], records: pd.DataFrame, log: IssueLog) -> pd.DataFrame:
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
        ids = records["patient_id"]
        wanted = (ids.notna() & ~ids.isin(set(table[PATIENT_ID]))).to_numpy(dtype=bool)
        columns = ["patient_id", "sex", "dob", "file", "sheet", "row", "id_col"] + (["location"] if "location" in records else [])
        extra = records[columns] if wanted.all() else records.loc[wanted, columns]
        if len(extra):
            in_row_order = (extra["file"].iloc[0] == extra["file"]).all() and (extra["sheet"].iloc[0] == extra["sheet"]).all() \
                and extra["row"].is_monotonic_increasing
            if not in_row_order:
                extra = extra.sort_values(["file", "sheet", "row"], kind="stable")
            extra = extra.take(_first_rows_in_id_order(extra["patient_id"]))
            add = pd.DataFrame(
                {
                    PATIENT_ID: _as_given(extra["patient_id"]),
                    SEX: _as_given(extra["sex"]),
                    DATE_OF_BIRTH: pd.to_datetime(extra["dob"]).to_numpy(),
                    DIAGNOSIS_DATE: pd.NaT,
                    AGE_AT_DIAGNOSIS_DAYS: pd.NA,
                    SOURCE_FILE: as_text(extra["file"]),
                    SOURCE_SHEET: as_text(extra["sheet"]),
                    SOURCE_CELL: located_cells(extra, extra["id_col"]),
                }
            )
            table = pd.concat([table, add], ignore_index=True) if len(table) else add
    table = table.reset_index(drop=True)
    for column in (DATE_OF_BIRTH, DIAGNOSIS_DATE):
        table[column] = pd.to_datetime(table[column])
    _fill_dates_from_records(table, records)
    table[AGE_AT_DIAGNOSIS_DAYS] = (table[DIAGNOSIS_DATE] - table[DATE_OF_BIRTH]).dt.days.astype("Int64")
    outcome = [c for c in OUTCOME_COLUMNS if c in table.columns]  # only when a patients sheet carries them
    return _in_id_order(table[PATIENT_COLUMNS + outcome])


def _in_id_order(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` sorted by patient ID (stable), on a fresh RangeIndex; no sort when the IDs are in
    order already (a lab export lists its patients one after another, in ID order)."""
    ids = table[PATIENT_ID]
    if len(ids) > 1 and ids.dtype == CELL_DTYPE and not ids.hasnans:
        text = pa.array(ids.array)  # Arrow compares text by its UTF-8 bytes: the order of the sort below
        if pc.all(pc.less_equal(text[:-1], text[1:])).as_py():
            return table.reset_index(drop=True)
    return table.sort_values(PATIENT_ID, kind="stable").reset_index(drop=True)


def _first_rows_in_id_order(ids: pd.Series) -> np.ndarray:
    """The position of each patient's first row (``drop_duplicates``), ordered by ID as the table ends
    (:func:`_in_id_order`): a registry's rows are taken once, already sorted, not taken and sorted again."""
    codes, uniques = pd.factorize(ids.array)  # codes in order of first appearance
    first = np.flatnonzero(codes > np.maximum.accumulate(np.r_[-1, codes[:-1]]))  # a code above every earlier one
    return first[uniques.argsort(kind="stable")]


def _fill_dates_from_records(table: pd.DataFrame, records: pd.DataFrame) -> None:
    """Fill a patient's missing date of birth or diagnosis date from the measurement rows (first given)."""
    for field, column in (("dob", DATE_OF_BIRTH), ("diagnosis", DIAGNOSIS_DATE)):
        if not len(records) or field not in records or not table[column].isna().any():
            continue
        dates = pd.to_datetime(pd.Series(records[field].to_numpy())).to_numpy(dtype="datetime64[ns]")
        dated = ~np.isnat(dates)
        if not dated.any():  # the column is there but empty (a registry without diagnosis dates): no hashing
            continue
        # each patient's first given date, found by the IDs' codes: no Python object per record
        codes, ids = pd.factorize(records["patient_id"].array, use_na_sentinel=True)
        given = np.flatnonzero((codes >= 0) & dated)
        if not len(given):
            continue
        patients, first_of = np.unique(codes[given], return_index=True)
        first = pd.Series(dates[given[first_of]], index=pd.Index(ids.take(patients)))
        table[column] = table[column].fillna(table[PATIENT_ID].map(first)).astype("datetime64[ns]")


def _as_given(values: pd.Series) -> object:
    """A text column's own Arrow array (what the frame would infer again from a Python string per patient);
    other columns as an object array, as before."""
    return values.array if values.dtype == CELL_DTYPE else values.to_numpy()
