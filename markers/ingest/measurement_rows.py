"""Measurement records of a recognised sheet: one record per result cell (long or wide layout), with its location.

The columns of every record are gathered for the whole sheet at once (Arrow
text, NumPy dates) and the frame is built once; :mod:`markers.ingest.normalize`
then reads the results, units and creatinine of all sheets together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.errors import UnknownUnitError
from markers.ingest.mapping import ColumnMap, analyte_from_text, loinc_measure, split_header_unit
from markers.ingest.record_cells import (
    DATE_FREE_ROLES,
    age_days_from_columns,
    joined_comparator,
    no_cells,
    patient_ids,
    require_column,
    sex_code,
    whole_days,
)
from markers.ingest.units import ACCEPTED_SPELLINGS
from markers.readers.cells import (
    cell_text,
    constant_category,
    constant_text,
    distinct,
    map_text,
    text_of,
    text_series,
)
from markers.readers.files import CELL_DTYPE

__all__ = ["measurement_records"]


def measurement_records(reader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    """One record per result cell of ``data`` (the data rows of a measurements sheet read by ``reader``).

    Wide layout (one column per analyte): a record per (row, analyte column)
    with a non-empty cell; a row without any result is rejected
    (``missing-result``). Long layout (test and result columns): a record per row.
    """
    common = _common_fields(reader, column_map, data)
    if column_map.analyte_columns and not (column_map.column("analyte") is not None
                                           and column_map.column("result") is not None):
        return _wide_records(reader, column_map, data, common)
    return _long_records(reader, column_map, data, common)


def _date_column(column_map: ColumnMap, sheet) -> tuple[int, bool]:
    """The column dating each sample, and whether the table is date-free (an age or day count stands in)."""
    date_col = column_map.column("sample_date")
    if date_col is None:
        date_col = column_map.column("event_date")
    dateless = date_col is None and any(column_map.column(r) is not None for r in DATE_FREE_ROLES)
    if date_col is None and not dateless:
        date_col = require_column(column_map, "sample_date", sheet, "sample date")
    if dateless:  # a date-free table: the age at sample or the days since diagnosis stand in for the date
        date_col = next(column_map.column(r) for r in DATE_FREE_ROLES if column_map.column(r) is not None)
    return date_col, dateless


def _ok_dates(reader, column_map: ColumnMap, data: pd.DataFrame, role: str) -> np.ndarray:
    """The dates of the column with ``role`` where they read well; NaT elsewhere, or everywhere without the column."""
    position = column_map.column(role)
    if position is None:
        return np.full(len(data), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed = reader.dates(data, position, column_map.headers[position])
    return parsed["date"].where(parsed["status"] == "ok").to_numpy()


def _common_fields(reader, column_map: ColumnMap, data: pd.DataFrame) -> pd.DataFrame:
    """The columns every record of a row shares: where it is, whose, when, the creatinine and comment."""
    sheet = reader.sheet
    id_col = require_column(column_map, "patient_id", sheet, "patient ID")
    date_col, dateless = _date_column(column_map, sheet)
    n = len(data)
    # the columns are gathered first and the frame built once; text constants are Arrow repeats
    fields: dict[str, object] = {
        "file": constant_category(sheet.file, n),
        "sheet": constant_category(sheet.sheet, n),
        "row": data.index.to_numpy(dtype=np.int64),
        "patient_id": patient_ids(data[id_col]).array,
        "id_col": np.full(n, id_col, dtype=np.int64),
    }
    if dateless:
        fields["sample_date"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        fields["date_status"] = constant_text("dateless", n)
    else:
        dates = reader.dates(data, date_col, column_map.headers[date_col])
        fields["sample_date"] = dates["date"].to_numpy()
        fields["date_status"] = dates["status"].array
    fields["date_raw"] = data[date_col].array  # Arrow arrays are immutable: the raw cells can still be freed
    fields["date_col"] = np.full(n, date_col, dtype=np.int64)
    fields["dob"] = _ok_dates(reader, column_map, data, "date_of_birth")
    sex_col = column_map.column("sex")
    fields["sex"] = map_text(data[sex_col], sex_code, default="").array if sex_col is not None else constant_text("", n)
    fields["age_days_given"] = age_days_from_columns(data, column_map).array
    day_col = column_map.column("days_since_diagnosis")
    fields["day_given"] = (whole_days(data[day_col]) if day_col is not None
                           else pd.Series(pd.NA, index=data.index, dtype="Int64")).array
    fields.update(_sample_fields(sheet, column_map, data))
    fields["diagnosis"] = _ok_dates(reader, column_map, data, "diagnosis_date")
    # every field is a new array (or an immutable Arrow one): no copy, and no stacking of the
    # same-typed columns into blocks (a copy of each, on memory touched for the first time)
    common = pd.DataFrame(fields, index=data.index, copy=False)
    common["decimal_comma"] = sheet.decimal_comma
    return common


def _sample_fields(sheet, column_map: ColumnMap, data: pd.DataFrame) -> dict[str, object]:
    """The urine creatinine (cells, column, unit), the location in a structured source, the lab's range, the comment."""
    n = len(data)
    fields: dict[str, object] = {}
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
    return fields


def _wide_records(reader, column_map: ColumnMap, data: pd.DataFrame, common: pd.DataFrame) -> pd.DataFrame:
    """Wide layout: one record per (row, analyte column) with a non-empty cell; rows without any are rejected."""
    headers = column_map.headers
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
        _wide_unit(reader, column_map, data, part, position, analyte, header_unit)
        parts.append(part)
    records = pd.concat(parts) if parts else common.iloc[0:0].assign(analyte=None)
    # rows with an ID and date but no result at all are rejected, not dropped silently
    empty_rows = common.index.difference(records.index)
    for row in empty_rows:
        first = min(column_map.analyte_columns)
        reader.add_issue("missing-result", row, first, headers[first], "", "No result in any analyte column")
        reader.mark([row], "rejected", "missing-result")
    return records


def _wide_unit(reader, column_map: ColumnMap, data: pd.DataFrame, part: pd.DataFrame, position: int, analyte: str,
               header_unit: str) -> None:
    """The unit of one analyte column's records: its own unit column, its header, or the sheet's unit column."""
    headers = column_map.headers
    unit_col = column_map.column("unit")
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


def _long_records(reader, column_map: ColumnMap, data: pd.DataFrame, common: pd.DataFrame) -> pd.DataFrame:
    """Long layout: one record per row, the analyte from its test name or LOINC code."""
    sheet = reader.sheet
    headers = column_map.headers
    result_col = require_column(column_map, "result", sheet, "result")
    analyte_col = column_map.column("analyte")
    loinc_col = column_map.column("loinc")
    if analyte_col is None and loinc_col is None:
        require_column(column_map, "analyte", sheet, "analyte (test name or LOINC)")
    records = common  # built for this sheet alone: no copy needed
    # the analyte from the LOINC code, else from the test name: worked out once per distinct
    # (name, code) pair, of which a million rows hold a handful
    aliases = reader.config.analytes
    name_codes, names = distinct(data[analyte_col]) if analyte_col is not None else no_cells(len(data))
    code_codes, codes = distinct(data[loinc_col]) if loinc_col is not None else no_cells(len(data))
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
    _long_unit(column_map, data, records, result_col, analyte_col)
    return records


def _long_unit(column_map: ColumnMap, data: pd.DataFrame, records: pd.DataFrame, result_col: int,
               analyte_col: int | None) -> None:
    """The unit of long-layout records: the unit column, else the test name or the result header."""
    headers = column_map.headers
    unit_col = column_map.column("unit")
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
