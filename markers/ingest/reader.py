"""Read lab spreadsheets into one :class:`~markers.ingest.dataset.Dataset`, accounting for every row.

This is the one entry point of ingestion (:func:`read`); the CLI calls it and so
do notebooks. The work is split by stage: :mod:`markers.readers.files` gives the raw cells,
:mod:`markers.ingest.mapping` finds headers, roles and columns, :mod:`markers.ingest.parse`
reads numbers, comparators and dates, :mod:`markers.ingest.units` converts to the
output unit. :mod:`markers.ingest.sheets` turns each sheet into *records* (one per result cell),
:mod:`markers.ingest.normalize` normalises all records at once, vectorised, and this
module keeps the row accounting:
every source row ends ``kept``, ``rejected`` (with an error issue) or ``skipped``
(blank, title, header, footer, duplicate, unrecognised sheet).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from markers.errors import ConfigError
from markers.ingest.config import Config, load_config
from markers.ingest.dataset import Dataset
from markers.ingest.issues import IssueLog
from markers.ingest.normalize import normalize_records, warn_and_deduplicate
from markers.ingest.patient_table import merge_patients
from markers.ingest.redcap_run import redcap_dictionaries, structured_sheets
from markers.ingest.sheets import (
    SheetReader,
    measurement_records,
    patient_records,
    sheet_summary,
    therapy_records,
)
from markers.readers import files as raw_io
from markers.readers.cells import constant_text, text_series
from markers.readers.encoding import check_encoding
from markers.readers.formats import read_sheets
from markers.schema import (
    EVENT_DATE,
    EVENT_DAY,
    OUTPUT_UNITS,
    PATIENT_ID,
    SOURCE_FILE,
    SOURCE_ROW,
    SOURCE_SHEET,
    THERAPY_COLUMNS,
)


def _account_rows(reader: SheetReader, mine: pd.DataFrame, m: pd.DataFrame,
                  collapsed: list[tuple[str, str, int]]) -> pd.DataFrame:
    """The final status of each row of one sheet (vectorised over positions in the sheet).

    A row with records is ``kept`` when ≥ 1 of them made a measurement (or gave a creatinine
    used for its sample), ``skipped`` when all it held was an exact duplicate, and ``rejected``
    (with its first error code) otherwise. Rows without records keep what the sheet reader
    decided (title, header, blank, footer, patient, therapy event...). ``mine`` and ``m`` are
    this sheet's record statuses and measurements.
    """
    sheet = reader.sheet
    index = reader.status.index
    n = len(index)
    if len(mine):
        status, reason = _decided_rows(reader, mine, m, collapsed)
    else:
        status = _text(reader.status.to_numpy(dtype=object))
        reason = _text(reader.reason.to_numpy(dtype=object))
    frame = pd.DataFrame({"file": constant_text(sheet.file, n), "sheet": constant_text(sheet.sheet, n),
                          "row": index.to_numpy(dtype=int), "status": status, "reason": reason})
    if getattr(sheet, "locations", None) is not None:
        # a record sheet's header (row 0) is markers' own, not a row of the source
        frame = frame[frame["row"] != 0].reset_index(drop=True)
    return frame


#: A row's decision (1 measurement, 2 creatinine, 3 duplicate, 4 error; 0: the sheet reader's own
#: status) as its status: a code into ``_DECIDED_STATUS``, and its reason: a code into ``_DECIDED_REASON``
#: (an error row's reason is its error code, placed after these).
_DECIDED_STATUS = ["kept", "skipped", "rejected"]
_STATUS_OF_DECISION = np.array([-1, 0, 0, 1, 2])
_DECIDED_REASON = ["measurement", "creatinine", "duplicate-result"]
_REASON_OF_DECISION = np.array([-1, 0, 1, 2, -1])


def _decided_rows(reader: SheetReader, mine: pd.DataFrame, m: pd.DataFrame,
                  collapsed: list[tuple[str, str, int]]) -> tuple[pd.api.extensions.ExtensionArray, ...]:
    """(status, reason) text of every row of a sheet with records, made as codes into their few words.

    Only the rows the records leave undecided read the sheet reader's own words (a Python object
    each); the others (on a registry export, nearly every row) are integer codes.
    """
    sheet = reader.sheet
    index = reader.status.index
    rows = mine["row"].to_numpy(dtype=np.int64)
    reject = mine["reject"].to_numpy(dtype=object)
    rejected = reject != ""
    # each row's first error code, in record order (few records are rejected)
    first_error = pd.Series(reject[rejected]).groupby(rows[rejected], sort=False).first()

    def positions(row_numbers: np.ndarray) -> np.ndarray:
        if isinstance(index, pd.RangeIndex) and index.step == 1:
            return row_numbers - index.start  # the usual case: rows 1..n, position = row - 1
        return index.get_indexer(row_numbers)

    def at(row_numbers: np.ndarray) -> np.ndarray:
        flags = np.zeros(len(index), dtype=bool)
        flags[positions(row_numbers)] = True
        return flags

    produced = at(m[SOURCE_ROW].to_numpy(dtype=np.int64))
    creatinine = at(rows[mine["creatinine"].to_numpy(dtype=bool)])
    duplicate = at(np.array([row for file, name, row in collapsed if file == sheet.file and name == sheet.sheet],
                            dtype=np.int64))
    error_codes, error_words = pd.factorize(first_error.to_numpy(dtype=object))
    error = np.full(len(index), -1, dtype=np.int64)
    error[positions(first_error.index.to_numpy(dtype=np.int64))] = error_codes
    decision = np.select([produced, creatinine, duplicate, error >= 0], [1, 2, 3, 4], default=0)
    undecided = decision == 0
    own_status, own_status_words = pd.factorize(reader.status.to_numpy(dtype=object)[undecided])
    own_reason, own_reason_words = pd.factorize(reader.reason.to_numpy(dtype=object)[undecided])
    status = _STATUS_OF_DECISION[decision]
    status[undecided] = len(_DECIDED_STATUS) + own_status
    reason = _REASON_OF_DECISION[decision]
    is_error = decision == 4
    reason[is_error] = len(_DECIDED_REASON) + error[is_error]
    reason[undecided] = len(_DECIDED_REASON) + len(error_words) + own_reason
    whole = pd.RangeIndex(len(index))
    return (text_series([*_DECIDED_STATUS, *own_status_words], status, index=whole).array,
            text_series([*_DECIDED_REASON, *error_words, *own_reason_words], reason, index=whole).array)


def _by_sheet(frame: pd.DataFrame, file_column: str, sheet_column: str) -> dict[tuple[str, str], pd.DataFrame]:
    """The rows of ``frame`` for each (file, sheet), without a copy when they all come from one sheet."""
    if not len(frame):
        return {}
    first = (frame[file_column].iloc[0], frame[sheet_column].iloc[0])
    if (frame[file_column] == first[0]).all() and (frame[sheet_column] == first[1]).all():
        return {first: frame}
    groups = frame.groupby([file_column, sheet_column], sort=False).indices
    return {key: frame.iloc[positions] for key, positions in groups.items()}


def _text(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """An object array of a few distinct strings as a text column (factorised, then taken by Arrow)."""
    codes, uniques = pd.factorize(values)
    return text_series(list(uniques), codes, index=pd.RangeIndex(len(values))).array


def input_labels(paths: list) -> list[str]:
    """How each input is named in the accounting: its file name, or its path as given when two share a name.

    Examples
    --------
    >>> input_labels(["a/lab.csv", "b/lab.csv", "c/other.csv"])
    ['a/lab.csv', 'b/lab.csv', 'other.csv']
    """
    names = [Path(p).name for p in paths]
    seen = {name: names.count(name) for name in names}
    labels = [name if seen[name] == 1 else os.fspath(p) for name, p in zip(names, paths, strict=True)]
    if len(set(labels)) != len(labels):
        duplicate = next(label for label in labels if labels.count(label) > 1)
        raise ConfigError(f"{duplicate}: given twice as an input; give each file once.")
    return labels


_TEXT_ENCODING: ContextVar[str | None] = ContextVar("markers_text_encoding", default=None)


@contextlib.contextmanager
def text_encoding(encoding: str | None) -> Iterator[None]:
    """Within the block, :func:`read` decodes text files with ``encoding`` when its call gives none.

    The CLI's ``--encoding`` option: every command reads through :func:`read`,
    most of them via :func:`markers.pipeline.analyse`.
    """
    token = _TEXT_ENCODING.set(encoding)  # checked by read(), where a bad name becomes one Error: line
    try:
        yield
    finally:
        _TEXT_ENCODING.reset(token)


def read(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    unit: str = "mg/g",
    config: Config | str | os.PathLike | None = None,
    day_first: bool | None = None,
    today: dt.date | None = None,
    dictionary: str | os.PathLike | None = None,
    encoding: str | None = None,
) -> Dataset:
    """Read lab spreadsheets into tidy tables, accounting for every row.

    Parameters
    ----------
    paths
        One file or several: xlsx, xlsm, xls, ods, csv, tsv or txt. Every sheet is considered.
    unit
        Output unit of ``value``: ``"mg/g"`` (mg/g creatinine, the default) or ``"mmol/mol"``.
    config
        A :class:`~markers.ingest.config.Config` or the path of a TOML config file.
    day_first
        Day-first (``True``) or month-first (``False``) for columns whose dates are all ambiguous.
    today
        The date after which a sample is "in the future" (default: today).
    dictionary
        A REDCap data dictionary CSV for the REDCap exports among ``paths``. Without it, a
        dictionary given among ``paths`` or found beside an export (``*DataDictionary*.csv``)
        is used.
    encoding
        Decode csv/tsv/txt files with this codec (e.g. ``"shift_jis"``) instead of recognising
        UTF-8, UTF-16 or Windows-1252 (default: the one set by :func:`text_encoding`, else none).

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

    encoding = encoding if encoding is not None else _TEXT_ENCODING.get()
    encoding = check_encoding(encoding) if encoding is not None else None
    log = IssueLog()
    found = _Found()
    dictionaries = redcap_dictionaries(paths, dictionary)
    for path, label in zip(paths, input_labels(paths), strict=True):
        sheets = _read_file(path, label, found, encoding=encoding, config=config, dictionaries=dictionaries)
        while sheets:
            # each sheet's raw cells are let go as soon as its records are out: a full sheet's
            # cells weigh as much as everything else together (peak memory, issue of scale)
            _take_sheet(SheetReader(sheets.pop(0), config=config, day_first=day_first, issues=log), found)

    patients, measurements, record_status, collapsed = _measured(
        found, log, output_unit=output_unit, config=config, today=today
    )
    # normalize_records gives the measurements in patient order (patient, sample date, analyte)
    return Dataset(
        measurements=measurements.reset_index(drop=True),
        patients=patients,
        therapy=_therapy(found.therapy),
        issues=log.to_frame(),
        rows=_rows(found.readers, record_status, measurements, collapsed),
        files=pd.DataFrame(found.files, columns=["file", "path", "sha256", "format"]),
        unit=output_unit,
        seen=tuple(found.seen),
    )


@dataclass
class _Found:
    """What the sheets of a run gave, in reading order: files, sheet readers and their records."""

    files: list[dict] = dataclasses.field(default_factory=list)
    readers: list[SheetReader] = dataclasses.field(default_factory=list)
    seen: list = dataclasses.field(default_factory=list)
    records: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    patients: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    therapy: list[pd.DataFrame] = dataclasses.field(default_factory=list)
    have_patient_sheet: bool = False


def _read_file(path, label: str, found: _Found, *, encoding: str | None, config: Config, dictionaries) -> list:
    """One input file's sheets (records of structured formats included); its entry added to ``found.files``."""
    # the checksum is computed on the other core while the file is parsed (hashlib and
    # file reads let go of the interpreter lock)
    with ThreadPoolExecutor(max_workers=1) as pool:
        checksum = pool.submit(raw_io.sha256_of, path)
        sheets = structured_sheets(read_sheets(path, encoding=encoding, limits=config.limits), dictionaries=dictionaries, config=config)
        if label != Path(path).name:  # two inputs of one name: each is told by its path as given
            sheets = [replace(sheet, file=label) for sheet in sheets]
        found.files.append({"file": label, "path": str(path), "sha256": checksum.result(),
                            "format": sheets[0].fmt if sheets else Path(path).suffix.lstrip(".")})
    return sheets


def _take_sheet(reader: SheetReader, found: _Found) -> None:
    """One sheet's records by its role, added to ``found``; the sheet's cells let go."""
    found.readers.append(reader)
    body = reader.body()
    found.seen.append(sheet_summary(reader, body))
    if body is not None and not body[3].empty:
        _, column_map, role, data = body
        if role == "measurements":
            found.records.append(measurement_records(reader, column_map, data))
        elif role == "patients":
            found.have_patient_sheet = True
            found.patients.append(patient_records(reader, column_map, data))
        elif role == "therapy":
            found.therapy.append(therapy_records(reader, column_map, data))
        del data
    del body
    reader.release_cells()


def _measured(found: _Found, log: IssueLog, *, output_unit: str, config: Config,
              today: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list]:
    """The patients, the tidy measurements, each record's status and the rows collapsed as duplicates.

    The records are taken out of ``found`` and let go as soon as they are normalized: on a million
    rows they weigh a few hundred MB that would otherwise stay alive until the end of the read.
    """
    if len(found.records) == 1:
        records = found.records.pop().reset_index(drop=True)  # one sheet: no copy of a million records
    else:
        records = pd.concat(found.records, ignore_index=True) if found.records else pd.DataFrame()
        found.records.clear()
    patients = merge_patients(found.patients, records, log)
    if not len(records):
        record_status = pd.DataFrame(columns=["file", "sheet", "row", "reject", "creatinine"])
        return patients, Dataset().measurements, record_status, []
    measurements, issues, record_status = normalize_records(records, output_unit=output_unit, config=config,
                                                            patients=patients, today=today)
    del records
    log.extend(issues)
    sheet_ids = {i for frame in found.patients for i in frame[PATIENT_ID]} if found.have_patient_sheet else None
    measurements, collapsed = warn_and_deduplicate(measurements, sheet_patient_ids=sheet_ids, log=log)
    return patients, measurements, record_status, collapsed


def _rows(readers: list[SheetReader], record_status: pd.DataFrame, measurements: pd.DataFrame,
          collapsed: list) -> pd.DataFrame:
    """The row accounting of every sheet read."""
    status_by_sheet = _by_sheet(record_status, "file", "sheet")
    measurements_by_sheet = _by_sheet(measurements, SOURCE_FILE, SOURCE_SHEET)
    no_status, no_measurements = record_status.iloc[0:0], measurements.iloc[0:0]
    rows_frames = [
        _account_rows(reader, status_by_sheet.get(key, no_status), measurements_by_sheet.get(key, no_measurements),
                      collapsed)
        for reader in readers
        for key in [(reader.sheet.file, reader.sheet.sheet)]
    ]
    return pd.concat(rows_frames, ignore_index=True) if rows_frames else Dataset().rows


def _therapy(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The therapy events of every therapy sheet, sorted by patient and date."""
    therapy = pd.concat(frames, ignore_index=True) if frames else Dataset().therapy
    days = [EVENT_DAY] if EVENT_DAY in therapy.columns else []  # a date-free table's days since diagnosis
    therapy = therapy[[*THERAPY_COLUMNS, *days]]
    if len(therapy):
        therapy[EVENT_DATE] = pd.to_datetime(therapy[EVENT_DATE])
        therapy = therapy.sort_values([PATIENT_ID, EVENT_DATE, *days], kind="stable").reset_index(drop=True)
    return therapy
