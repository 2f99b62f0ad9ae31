"""Read lab spreadsheets into one :class:`~markers.dataset.Dataset`, accounting for every row.

This is the one entry point of ingestion (:func:`read`); the CLI calls it and so
do notebooks. The work is split by stage: :mod:`markers.io` gives the raw cells,
:mod:`markers.mapping` finds headers, roles and columns, :mod:`markers.parse`
reads numbers, comparators and dates, :mod:`markers.units` converts to the
output unit. :mod:`markers.sheets` turns each sheet into *records* (one per result cell),
:mod:`markers.normalize` normalises all records at once, vectorised, and this
module keeps the row accounting:
every source row ends ``kept``, ``rejected`` (with an error issue) or ``skipped``
(blank, title, header, footer, duplicate, unrecognised sheet).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from markers import io as raw_io
from markers.config import Config, load_config
from markers.dataset import Dataset
from markers.errors import ConfigError
from markers.issues import IssueLog
from markers.normalize import normalize_records, warn_and_deduplicate
from markers.schema import (
    AGE_AT_DIAGNOSIS_DAYS,
    ANALYTE,
    DATE_OF_BIRTH,
    DIAGNOSIS_DATE,
    EVENT_DATE,
    OUTPUT_UNITS,
    PATIENT_COLUMNS,
    PATIENT_ID,
    SAMPLE_DATE,
    SEX,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    THERAPY_COLUMNS,
)
from markers.sheets import SheetReader, measurement_records, patient_records, therapy_records


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


def _account_rows(reader: SheetReader, record_status: pd.DataFrame, measurements: pd.DataFrame,
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
    record_frames, patient_frames, therapy_frames = [], [], []
    have_patient_sheet = False
    for path in paths:
        sheets = raw_io.read_raw(path)
        files.append({"file": Path(path).name, "path": str(path), "sha256": raw_io.sha256_of(path),
                      "format": sheets[0].fmt if sheets else Path(path).suffix.lstrip(".")})
        while sheets:
            # each sheet's raw cells are let go as soon as its records are out: a full sheet's
            # cells weigh as much as everything else together (peak memory, issue of scale)
            reader = SheetReader(sheets.pop(0), config=config, day_first=day_first, issues=log)
            readers.append(reader)
            found = reader.body()
            if found is not None and not found[3].empty:
                _, column_map, role, data = found
                if role == "measurements":
                    record_frames.append(measurement_records(reader, column_map, data))
                elif role == "patients":
                    have_patient_sheet = True
                    patient_frames.append(patient_records(reader, column_map, data))
                elif role == "therapy":
                    therapy_frames.append(therapy_records(reader, column_map, data))
                del data
            del found
            reader.release_cells()

    records = pd.concat(record_frames, ignore_index=True) if record_frames else pd.DataFrame()
    patients = _merge_patients(patient_frames, records, log)
    if len(records):
        measurements, issues, record_status = normalize_records(records, output_unit=output_unit, config=config, patients=patients, today=today)
        log.extend(issues)
        sheet_ids = {i for frame in patient_frames for i in frame[PATIENT_ID]} if have_patient_sheet else None
        measurements, collapsed = warn_and_deduplicate(measurements, sheet_patient_ids=sheet_ids, log=log)
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

