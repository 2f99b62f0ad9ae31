"""Records of a structured format (FHIR, HL7 v2, SDTM, REDCap) as a sheet of text cells with a location per row."""

from __future__ import annotations

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from markers.readers.files import CELL_DTYPE, RawSheet

#: Header of each column of a tidy long table, as markers' column recognition knows them
#: (see :data:`markers.ingest.mapping.COLUMN_SYNONYMS`).
PATIENT = "Patient ID"
SAMPLE_DATE = "Sample date"
DATE_OF_BIRTH = "Date of birth"
SEX = "Sex"
TEST = "Test"
LOINC = "LOINC"
RESULT = "Result"
UNIT = "Unit"
REFERENCE_RANGE = "Reference range"
FLAG = "Flag"
SPECIMEN = "Specimen type"
AGE_DAYS = "Age days"
DIAGNOSIS_DATE = "Diagnosis date"
DAYS_SINCE_DIAGNOSIS = "Days since diagnosis"

MEASUREMENT_HEADERS = (PATIENT, SAMPLE_DATE, AGE_DAYS, TEST, LOINC, RESULT, UNIT, REFERENCE_RANGE, FLAG, SPECIMEN)
PATIENT_HEADERS = (PATIENT, DATE_OF_BIRTH, SEX, DIAGNOSIS_DATE)


def measurement_headers(rows: Sequence[tuple[int, str, dict]]) -> tuple[str, ...]:
    """:data:`MEASUREMENT_HEADERS`, with the days since diagnosis when a record gives them.

    When no record has a sample date but some give the days since diagnosis (a pseudonymized
    export), there is no sample-date column: the table is read as date-free, on its day timeline.
    """
    if not any(values.get(DAYS_SINCE_DIAGNOSIS) for _, _, values in rows):
        return MEASUREMENT_HEADERS
    if any(values.get(SAMPLE_DATE) for _, _, values in rows):
        return (*MEASUREMENT_HEADERS, DAYS_SINCE_DIAGNOSIS)
    return tuple(h for h in MEASUREMENT_HEADERS if h != SAMPLE_DATE) + (DAYS_SINCE_DIAGNOSIS,)


@dataclass(frozen=True)
class RecordSheet(RawSheet):
    """A :class:`RawSheet` built from records: row 0 holds the headers, each later row one record.

    ``locations`` maps a row number to where its record sits in the source
    (``"entry 3 Observation/vma-1"``, ``"message 2 segment 5 OBX"``); ingestion cites it
    instead of a spreadsheet cell.
    """

    locations: dict[int, str] | None = None
    #: When set, every row of this sheet is skipped with this reason (segments and resources that hold no result).
    skip_reason: str | None = None


def record_sheet(path: pathlib.Path, *, sheet: str, headers: Sequence[str], rows: Sequence[tuple[int, str, dict]],
                 fmt: str, skip_reason: str | None = None) -> RecordSheet:
    """A sheet of ``headers`` and one row per ``(row number, location, {header: text})`` record.

    Row numbers must be ≥ 1 and increasing (the header is row 0). Empty texts become empty cells.
    """
    numbers = [0] + [number for number, _, _ in rows]
    table = [list(headers)] + [[_cell(values.get(h)) for h in headers] for _, _, values in rows]
    cells = pd.DataFrame(table, index=pd.Index(numbers), columns=range(len(headers)), dtype=object)
    cells = cells.astype(CELL_DTYPE)
    return RecordSheet(file=path.name, path=path, sheet=sheet, cells=cells, decimal_comma=False, fmt=fmt,
                       locations={number: where for number, where, _ in rows}, skip_reason=skip_reason)


def _cell(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
