"""XLSX tables: typed cells, text never a formula, byte-reproducible workbooks."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from markers.errors import OutputError
from markers.write.cells import datetime_columns, is_missing
from markers.write.provenance import flatten, jsonable, provenance_time

#: Name of the XLSX sheet holding the provenance key/value rows.
PROVENANCE_SHEET = "provenance"

# Zip entry timestamps: the earliest a zip file can hold, for every entry.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_MAX_COLUMN_WIDTH = 60
_MIN_COLUMN_WIDTH = 6
_EXCEL_MAX_TEXT = 32767
# Characters XML 1.0 cannot carry (openpyxl refuses them); replaced visibly.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _set_cell(ws: Any, row: int, column: int, value: object, *, date_format: str | None = None) -> int:
    """Write one value with the right cell type; return its display width."""
    if is_missing(value):
        return 0
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        value = value.to_pydatetime()
    if isinstance(value, bool):
        ws.cell(row=row, column=column, value=value)
        return 5
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            value = "inf" if value > 0 else "-inf"  # Excel has no infinity
        else:
            ws.cell(row=row, column=column, value=value)
            return len(repr(value))
    if isinstance(value, dt.datetime | dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        cell = ws.cell(row=row, column=column, value=value)
        if date_format is None:
            is_midnight = not isinstance(value, dt.datetime) or value == dt.datetime.combine(
                value.date(), dt.time()
            )
            date_format = "yyyy-mm-dd" if is_midnight else "yyyy-mm-dd hh:mm:ss"
        cell.number_format = date_format
        return len(date_format)
    text = value if isinstance(value, str) else str(value)
    text = _ILLEGAL_XML.sub("\ufffd", text)[:_EXCEL_MAX_TEXT]
    cell = ws.cell(row=row, column=column, value=text)
    # openpyxl turns any text starting with "=" into a formula; a data value
    # must never run, so every text cell is forced to be a string cell.
    cell.data_type = "s"
    return len(text)


def _write_sheet(ws: Any, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
    dates = datetime_columns(frame)
    n_rows, n_cols = frame.shape
    widths = []
    for j, name in enumerate(frame.columns, start=1):
        width = _set_cell(ws, 1, j, str(name))
        header = ws.cell(row=1, column=j)
        header.font = bold
        header.fill = fill
        date_format = None
        if name in dates:
            date_format = "yyyy-mm-dd" if dates[name] else "yyyy-mm-dd hh:mm:ss"
        for i, value in enumerate(frame.iloc[:, j - 1].tolist(), start=2):
            width = max(width, _set_cell(ws, i, j, value, date_format=date_format))
        widths.append(width)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(
            _MAX_COLUMN_WIDTH, max(_MIN_COLUMN_WIDTH, width + 2)
        )
    if n_cols:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{n_rows + 1}"


def _normalise_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed entry timestamps and attributes (byte-reproducible)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, source.read(info.filename))
    return buffer.getvalue()


def _check_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _INVALID_SHEET_CHARS.search(name):
        raise OutputError(
            f"sheet name {name!r} is not allowed in Excel: use 1-31 characters without [ ] : * ? / \\"
        )


def xlsx_bytes(
    frame: pd.DataFrame, *, sheet_name: str, provenance: Mapping[str, object] | None
) -> bytes:
    """One table as the bytes of an xlsx workbook (plus the provenance sheet), byte-reproducible."""
    return workbook_bytes({sheet_name: frame}, provenance=provenance)


def workbook_bytes(tables: Mapping[str, pd.DataFrame], *, provenance: Mapping[str, object] | None) -> bytes:
    """Named tables as the sheets of one xlsx workbook, in the order given (plus the provenance sheet)."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    for name in tables:
        _check_sheet_name(name)
        if provenance is not None and name == PROVENANCE_SHEET:
            raise OutputError(
                f"sheet name {name!r} is used for the provenance record; choose another sheet_name"
            )
    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in tables.items():
        _write_sheet(wb.create_sheet(name), frame)
    if provenance is not None:
        rows = flatten(dict(provenance))
        _write_sheet(
            wb.create_sheet(PROVENANCE_SHEET),
            pd.DataFrame({"key": [k for k, _ in rows], "value": [v for _, v in rows]}, dtype=object),
        )
        wb.properties.description = json.dumps(jsonable(provenance), sort_keys=True, ensure_ascii=False)
    stamp = provenance_time(provenance)
    wb.properties.creator = "markers"
    wb.properties.lastModifiedBy = "markers"
    wb.properties.title = "markers " + ", ".join(tables)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    # ExcelWriter rather than wb.save(): save() stamps "modified" with the
    # current time, which would make every file different.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return _normalise_zip(buffer.getvalue())
