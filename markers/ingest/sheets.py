"""One recognised sheet in, records out: one record per result cell, with its location.

:class:`SheetReader` finds the header and the sheet's role (via :mod:`markers.ingest.mapping`),
marks title, header, blank and footer rows as skipped, and turns the data rows into
records (long or wide layout), patient rows or therapy events. It keeps each row's
status for the accounting in :mod:`markers.ingest.reader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from markers.errors import InputFormatError, MissingColumnError, UnknownUnitError
from markers.ingest.config import Config
from markers.ingest.issues import IssueLog
from markers.ingest.mapping import (
    ColumnMap,
    analyte_from_text,
    find_header,
    is_footer_line,
    loinc_measure,
    sheet_role,
    split_header_unit,
)
from markers.ingest.outcome_cells import outcome_fields
from markers.ingest.parse import parse_dates
from markers.ingest.units import (
    ACCEPTED_SPELLINGS,
)
from markers.readers import files as raw_io
from markers.readers.cells import (
    SEX_CODES,
    blank_cells,
    cell_ids,
    cell_text,
    constant_category,
    constant_text,
    distinct,
    map_text,
    text_of,
    text_series,
)
from markers.readers.files import CELL_DTYPE
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


def repeated_header_rows(header: pd.Series, data: pd.DataFrame) -> np.ndarray:
    """Which rows of ``data`` repeat the header (every header cell, case and spaces aside; a BOM ignored)."""
    named = [column for column in header.index if isinstance(header[column], str) and header[column].strip()]
    if not named or data.empty:
        return np.zeros(len(data), dtype=bool)
    same = np.ones(len(data), dtype=bool)
    for column in named:
        if column not in data.columns:
            return np.zeros(len(data), dtype=bool)
        wanted = header[column].strip().lstrip("\ufeff").lower()
        # vectorised on the Arrow text, only over the rows still in the running
        cells = data[column].iloc[np.flatnonzero(same)].astype("string")
        hits = (cells.str.strip().str.lstrip("\ufeff").str.lower() == wanted).fillna(False).to_numpy(dtype=bool)
        same[np.flatnonzero(same)] = hits
        if not same.any():
            break
    return same


class SheetReader:
    """Turns one recognised sheet into records, and keeps that sheet's row statuses."""

    def __init__(self, sheet: raw_io.RawSheet, *, config: Config, day_first: bool | None, issues: IssueLog):
        self.sheet = sheet
        self.config = config
        self.day_first = day_first
        self.issues = issues
        self.status = pd.Series("skipped", index=sheet.cells.index, dtype=object)
        self.reason = pd.Series("blank", index=sheet.cells.index, dtype=object)
        for row, column in sheet.formulas_without_value:  # read as empty cells: said, not silent
            cell = raw_io.cell_ref(row, column)
            self.add_issue("formula-without-value", row, column, "", "",
                           f"{cell} holds a formula without a calculated value; it is read as an empty cell")

    def release_cells(self) -> None:
        """Drop the raw cells (kept: file, sheet, and the row statuses already made)."""
        self.sheet = replace(self.sheet, cells=self.sheet.cells.iloc[0:0])

    # -- helpers ------------------------------------------------------------------
    def where(self, header: str) -> str:
        place = f"{self.sheet.file} {self.sheet.sheet}" if self.sheet.sheet else self.sheet.file
        return f"{place}, column '{header}'"

    def cells_of(self, rows: pd.Index, column: int) -> list[str]:
        return [self.cell_of(int(r), column) for r in rows]

    def cell_of(self, row: int, column: int | None) -> str:
        """A cell's reference (``D14``), or the row's location in a structured source (``entry 3 Observation/x``)."""
        locations = getattr(self.sheet, "locations", None)
        if locations and row in locations:
            return locations[row]
        return raw_io.cell_ref(row, column) if column is not None else f"{row}"

    def dates(self, body: pd.DataFrame, column: int, header: str) -> pd.DataFrame:
        return parse_dates(body[column], day_first=self.day_first, where=self.where(header))

    def add_issue(self, code: str, row: int, column: int | None, header: str, value: object, message: str = "") -> None:
        self.issues.add(
            code,
            file=self.sheet.file,
            sheet=self.sheet.sheet,
            cell=self.cell_of(int(row), column),
            row=int(row),
            column=header,
            value=value,
            message=message,
        )

    # -- structure ----------------------------------------------------------------------
    def body(self) -> tuple[int, ColumnMap, str, pd.DataFrame] | None:
        """Find header and role; mark title/header/blank/footer rows; return the data rows."""
        cells = self.sheet.cells
        empty = blank_cells(cells)
        blank_rows = empty.all(axis=1)
        filled = (~empty).sum(axis=1)
        found = find_header(cells, config=self.config)
        skip_reason = getattr(self.sheet, "skip_reason", None)
        if skip_reason:  # segments or resources of a structured source that hold no result
            self.reason[~blank_rows] = skip_reason
            return None
        if found is None:
            if (~blank_rows).any():
                first = int(cells.index[~blank_rows][0])
                self.add_issue("unrecognised-sheet", first, None, "", self.sheet.sheet or self.sheet.file)
                self.reason[~blank_rows] = "unrecognised-sheet"
            return None
        header_row, column_map = found
        self.refuse_two_id_columns(header_row, column_map)
        role = sheet_role(self.sheet.sheet, column_map, config=self.config)
        row_numbers = cells.index.to_numpy()
        above = (row_numbers < header_row) & ~blank_rows
        self.reason[above] = "title"
        self.reason[row_numbers == header_row] = "header"
        if role == "ignore":
            below = (row_numbers > header_row) & ~blank_rows
            self.reason[below] = "unrecognised-sheet"
            self.add_issue("unrecognised-sheet", header_row, None, "", self.sheet.sheet or self.sheet.file)
            return None
        below = (row_numbers > header_row) & ~blank_rows
        first = int(np.argmax(below)) if below.any() else len(below)
        if below[first:].all():
            at = np.arange(first, len(below))
            data = cells.iloc[first:]  # the usual case, one block of data rows: a view, not a copy
        else:
            at = np.flatnonzero(below)
            data = cells.iloc[at]
        # footer lines ("End of report", "Page 2 of 3") below the data are skipped, not rejected;
        # only a row with a single filled cell can be one
        footer = np.zeros(len(at), dtype=bool)
        for i in np.flatnonzero(filled[at] == 1):
            footer[i] = is_footer_line(list(data.iloc[i]))
        self.reason[data.index[footer]] = "footer"
        # the header again below the data (a lab system's page break, two exports pasted together): skipped
        repeated = repeated_header_rows(cells.loc[header_row], data)
        self.reason[data.index[repeated]] = "repeated-header"
        footer |= repeated
        return header_row, column_map, role, (data[~footer] if footer.any() else data)

    def refuse_two_id_columns(self, header_row: int, column_map: ColumnMap) -> None:
        """Two patient-ID columns: which one names the patient cannot be guessed, so the sheet is refused."""
        ids = sorted(position for position, role in column_map.roles.items() if role == "patient_id")
        if len(ids) > 1:
            where = f"{self.sheet.file}" + (f", sheet {self.sheet.sheet!r}" if self.sheet.sheet else "")
            cells = " and ".join(raw_io.cell_ref(header_row, position) for position in ids)
            raise InputFormatError(
                f"{where}: two patient-ID columns ({cells}); markers cannot tell which one names the patient: "
                "delete or rename one of them (or map the columns in the config file's [columns] table)."
            )

    def mark(self, rows: Iterable[int], status: str, reason: str) -> None:
        index = pd.Index(list(rows))
        self.status[index] = status
        self.reason[index] = reason


def sheet_summary(reader: SheetReader, found: tuple[int, ColumnMap, str, pd.DataFrame] | None) -> str:
    """What one sheet looked like to markers, for the error of a run without measurements."""
    sheet = reader.sheet
    place = f"{sheet.file} sheet {sheet.sheet!r}" if sheet.sheet else sheet.file
    if found is None:
        reason = getattr(sheet, "skip_reason", None)
        if reason:
            return f"{place}: {reason}"
        filled = sheet.cells.dropna(how="all")
        first = ", ".join(repr(text_of(v)) for v in filled.iloc[0].dropna().tolist()[:12]) if len(filled) else ""
        return f"{place}: no header row recognised (first row {first})" if first else f"{place}: empty"
    _, column_map, role, data = found
    roles = ", ".join(f"{column_map.headers[p]!r} = {r}" for p, r in column_map.roles.items() if r != "ignore")
    analytes = ", ".join(f"{column_map.headers[p]!r} = {a}" for p, (a, _) in column_map.analyte_columns.items())
    known = "; ".join(x for x in (roles, analytes) if x) or "no column recognised"
    headers = ", ".join(repr(h) for h in column_map.headers.values())
    return f"{place}: read as {role} ({len(data)} rows), headers {headers}, recognised {known}"


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


def measurement_records(reader: SheetReader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:  # noqa: PLR0915 - long, to be split (docs/design.md)
    sheet = reader.sheet
    id_col = _require(column_map, "patient_id", sheet, "patient ID")
    date_col = column_map.column("sample_date")
    if date_col is None:
        date_col = column_map.column("event_date")
    dateless = date_col is None and any(column_map.column(r) is not None for r in _DATE_FREE_ROLES)
    if date_col is None and not dateless:
        date_col = _require(column_map, "sample_date", sheet, "sample date")
    if dateless:  # a date-free table: the age at sample or the days since diagnosis stand in for the date
        date_col = next(column_map.column(r) for r in _DATE_FREE_ROLES if column_map.column(r) is not None)
    headers = column_map.headers
    n = len(data)
    # the columns are gathered first and the frame built once; text constants are Arrow repeats
    fields: dict[str, object] = {
        "file": constant_category(sheet.file, n),
        "sheet": constant_category(sheet.sheet, n),
        "row": data.index.to_numpy(dtype=np.int64),
        "patient_id": cell_ids(data[id_col]).array,
        "id_col": np.full(n, id_col, dtype=np.int64),
    }
    if dateless:
        fields["sample_date"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        fields["date_status"] = constant_text("dateless", n)
    else:
        dates = reader.dates(data, date_col, headers[date_col])
        fields["sample_date"] = dates["date"].to_numpy()
        fields["date_status"] = dates["status"].array
    fields["date_raw"] = data[date_col].array  # Arrow arrays are immutable: the raw cells can still be freed
    fields["date_col"] = np.full(n, date_col, dtype=np.int64)
    dob_col = column_map.column("date_of_birth")
    if dob_col is not None:
        dob = reader.dates(data, dob_col, headers[dob_col])
        fields["dob"] = dob["date"].where(dob["status"] == "ok").to_numpy()
    else:
        fields["dob"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    sex_col = column_map.column("sex")
    fields["sex"] = map_text(data[sex_col], _sex_code, default="").array if sex_col is not None else constant_text("", n)
    fields["age_days_given"] = _age_days_from_columns(data, column_map).array
    day_col = column_map.column("days_since_diagnosis")
    fields["day_given"] = (_whole_days(data[day_col]) if day_col is not None
                           else pd.Series(pd.NA, index=data.index, dtype="Int64")).array
    creat_col = column_map.column("creatinine")
    creat_unit_col = column_map.column("creatinine_unit")
    fields["creatinine_raw"] = data[creat_col].array if creat_col is not None else constant_text(None, n)
    fields["creatinine_col"] = np.full(n, creat_col if creat_col is not None else -1, dtype=np.int64)
    if creat_unit_col is not None:
        fields["creatinine_unit"] = cell_text(data[creat_unit_col]).array
    else:
        fields["creatinine_unit"] = constant_text(column_map.creatinine_unit, n)
    locations = getattr(sheet, "locations", None)
    if locations:
        fields["location"] = pd.array([locations.get(int(r)) for r in data.index], dtype=CELL_DTYPE)
    range_col = column_map.column("reference_range")
    fields["range_raw"] = data[range_col].array if range_col is not None else constant_text(None, n)
    comment_col = column_map.column("comment")
    fields["comment_text"] = cell_text(data[comment_col]).array if comment_col is not None else constant_text("", n)
    fields["comment_col"] = np.full(n, comment_col if comment_col is not None else -1, dtype=np.int64)
    diagnosis_col = column_map.column("diagnosis_date")
    if diagnosis_col is not None:
        diagnosis = reader.dates(data, diagnosis_col, headers[diagnosis_col])
        fields["diagnosis"] = diagnosis["date"].where(diagnosis["status"] == "ok").to_numpy()
    else:
        fields["diagnosis"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    common = pd.DataFrame(fields, index=data.index)
    common["decimal_comma"] = sheet.decimal_comma

    unit_col = column_map.column("unit")
    if column_map.analyte_columns and not (column_map.column("analyte") is not None and column_map.column("result") is not None):
        # wide layout: one record per (row, analyte column) with a non-empty cell
        parts = []
        for position, (analyte, header_unit) in column_map.analyte_columns.items():
            values = data[position]
            present = ~cell_text(values).eq("")
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
                part["unit_text"] = cell_text(data.loc[part.index, ucol])
                part["unit_col"] = ucol
                part["unit_column"] = headers[ucol]
            elif header_unit:
                part["unit_text"] = header_unit
                part["unit_col"] = position
                part["unit_column"] = headers[position]
            elif unit_col is not None:
                part["unit_text"] = cell_text(data.loc[part.index, unit_col])
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
    # the analyte from the LOINC code, else from the test name: worked out once per distinct
    # (name, code) pair, of which a million rows hold a handful
    aliases = reader.config.analytes
    name_codes, names = distinct(data[analyte_col]) if analyte_col is not None else _no_cells(len(data))
    code_codes, codes = distinct(data[loinc_col]) if loinc_col is not None else _no_cells(len(data))
    pair_codes, pairs = pd.factorize(name_codes * len(codes) + code_codes)
    analyte, analyte_text, measure = [], [], []
    for pair in pairs.tolist():
        name, code = text_of(names[pair // len(codes)]), text_of(codes[pair % len(codes)])
        analyte.append(analyte_from_text(code, aliases=aliases) or analyte_from_text(name, aliases=aliases))
        analyte_text.append(name or code)
        measure.append(loinc_measure(code) if code else loinc_measure(name))
    records["analyte"] = text_series(analyte, pair_codes, index=data.index)
    records["analyte_text"] = text_series(analyte_text, pair_codes, index=data.index)
    records["loinc_measure"] = text_series(measure, pair_codes, index=data.index)
    comparator_col = column_map.column("comparator")
    if comparator_col is not None:
        inclusive_col = column_map.column("censor_inclusive")
        records["result_raw"] = joined_comparator(data[comparator_col], data[result_col],
                                                   inclusive=None if inclusive_col is None else data[inclusive_col])
    else:
        records["result_raw"] = data[result_col].copy()
    records["result_col"] = result_col
    records["result_header"] = constant_category(headers[result_col], len(records))
    records["analyte_col"] = analyte_col if analyte_col is not None else loinc_col
    if unit_col is not None:
        records["unit_text"] = cell_text(data[unit_col])
        records["unit_col"] = unit_col
        records["unit_column"] = constant_category(headers[unit_col], len(records))
    else:
        # "VMA (mg/g creat)" as the test name, or "Result (mg/g creat)" as the result header
        header_unit = split_header_unit(headers[result_col])[1]
        from_name = map_text(records["analyte_text"], lambda t: split_header_unit(t)[1] if t else "", default="")
        records["unit_text"] = from_name.where(from_name != "", header_unit)
        records["unit_col"] = analyte_col if analyte_col is not None else result_col
        records["unit_column"] = headers[records["unit_col"].iloc[0]] if len(records) else ""
    return records


#: A separate comparator column's words, as the sign they stand for.
COMPARATOR_WORDS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "≤": "<=", "≥": ">=", "=<": "<=", "=>": ">=",
                    "below": "<", "less than": "<", "lt": "<", "under": "<", "above": ">", "greater than": ">",
                    "gt": ">", "over": ">", "le": "<=", "ge": ">=", "=": "", "eq": "", "equal": ""}


def _sign(cell: object) -> str:
    """The sign a comparator cell stands for; an unknown word in brackets (``1`` and ``5.2`` must not make ``15.2``)."""
    word = text_of(cell)
    sign = COMPARATOR_WORDS.get(word.lower())
    return sign if sign is not None else (f"[{word}] " if word else "")


def joined_comparator(comparators: pd.Series, results: pd.Series, *, inclusive: pd.Series | None = None) -> pd.Series:
    """Each result with its comparator cell before it (``"<"`` and ``"0.5"`` -> ``"<0.5"``).

    An unknown comparator word is kept in brackets in front of the result, so that the result is
    rejected as text rather than read without its sign (or, for a digit, as another number). ``inclusive`` (markers' ``censor_inclusive``
    column) turns ``<`` into ``<=`` and ``>`` into ``>=`` where it is true.
    """
    signs = map_text(comparators, _sign, default="")
    if inclusive is not None:
        closed = map_text(inclusive, lambda c: "=" if text_of(c).lower() in ("true", "1") else "", default="")
        signs = signs.astype(object) + closed.astype(object).where(signs.isin(["<", ">"]), "")
    values = cell_text(results)
    joined = (signs.astype(object) + values.astype(object)).where(values != "", None)
    return joined.astype(CELL_DTYPE)


def _no_cells(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a column that is not there: every cell missing."""
    return np.zeros(n, dtype=np.int64), np.array([None], dtype=object)


def _sex_code(cell: object) -> str:
    """``M``, ``F`` or ``""`` for one sex cell, in any of the spellings of ``SEX_CODES``."""
    return SEX_CODES.get(text_of(cell).lower(), "")


#: Columns that stand in for the sample date in a date-free table, in order of preference.
_DATE_FREE_ROLES = ("age_days", "age_months", "age_years", "days_since_diagnosis")


def _whole_days(cells: pd.Series) -> pd.Series:
    """Day counts as written (``"-3"``, ``"120"``, ``"120,0"``) as Int64; <NA> for anything else."""
    numbers = pd.to_numeric(cell_text(cells).str.replace(",", ".", regex=False), errors="coerce")
    return np.floor(numbers).astype("Int64")


def _age_days_from_columns(data: pd.DataFrame, column_map: ColumnMap) -> pd.Series:
    """Age at sample in days from an age column (years × 365.25, months × 30.4375, or days)."""
    for role, factor in (("age_days", 1.0), ("age_months", 30.4375), ("age_years", 365.25)):
        position = column_map.column(role)
        if position is not None:
            numbers = pd.to_numeric(cell_text(data[position]).str.replace(",", ".", regex=False), errors="coerce")
            return np.floor(numbers * factor).astype("Int64")
    return pd.Series(pd.NA, index=data.index, dtype="Int64")


def patient_records(reader: SheetReader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    sheet = reader.sheet
    id_col = _require(column_map, "patient_id", sheet, "patient ID")
    headers = column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = cell_ids(data[id_col])
    sex_col = column_map.column("sex")
    out[SEX] = map_text(data[sex_col], _sex_code, default="") if sex_col is not None else ""
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


def therapy_records(reader: SheetReader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    from markers.ingest.events import canonical_event

    sheet = reader.sheet
    id_col = _require(column_map, "patient_id", sheet, "patient ID")
    event_col = _require(column_map, "event", sheet, "event")
    date_col = column_map.column("event_date")
    if date_col is None and column_map.column("sample_date") is None:
        from markers.ingest.event_days import has_event_days, therapy_day_records

        if has_event_days(column_map):  # a date-free table: days since diagnosis or ages at the events
            return therapy_day_records(reader, column_map, data, id_col=id_col, event_col=event_col)
    if date_col is None:
        date_col = _require(column_map, "sample_date", sheet, "date")
    headers = column_map.headers
    out = pd.DataFrame(index=data.index)
    out[PATIENT_ID] = cell_ids(data[id_col])
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
    unknown = ~bad & (out[EVENT] == "")
    for row in out.index[unknown]:
        reader.add_issue("unrecognised-event", row, event_col, headers[event_col], out.at[row, EVENT_LABEL])
    reader.mark(out.index[bad], "rejected", "invalid-event")
    reader.mark(out.index[~bad], "kept", "therapy-event")
    return out[~bad.to_numpy()]


# ---- the vectorised normalisation of all measurement records ----------------------------------


