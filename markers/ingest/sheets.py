"""One recognised sheet in, records out: one record per result cell, with its location.

:class:`SheetReader` finds the header and the sheet's role (via :mod:`markers.ingest.mapping`),
marks title, header, blank and footer rows as skipped, and turns the data rows into
records (long or wide layout, :mod:`markers.ingest.measurement_rows`), patient rows or
therapy events (:mod:`markers.ingest.patient_rows`). It keeps each row's status for the
accounting in :mod:`markers.ingest.reader`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from markers.errors import InputFormatError
from markers.ingest.config import Config
from markers.ingest.header_row import find_header, is_footer_line
from markers.ingest.issues import IssueLog
from markers.ingest.mapping import ColumnMap, sheet_role
from markers.ingest.measurement_rows import measurement_records
from markers.ingest.parse import parse_dates
from markers.ingest.patient_rows import patient_records, therapy_records
from markers.readers import files as raw_io
from markers.readers.cells import filled_counts, text_of

__all__ = ["SheetReader", "measurement_records", "patient_records", "repeated_header_rows", "sheet_summary",
           "therapy_records"]


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
        # vectorised on the Arrow text, only over the rows still in the running (the first column: all, no take)
        running = np.flatnonzero(same)
        cells = (data[column] if len(running) == len(data) else data[column].iloc[running]).astype("string")
        hits = (cells.str.strip().str.lstrip("\ufeff").str.lower() == wanted).fillna(False).to_numpy(dtype=bool)
        same[running] = hits
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
        filled = filled_counts(cells)
        blank_rows = filled == 0
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
