"""Find a sheet's header row, and tell it from data rows above and footer lines below.

A lab export or a hand-kept workbook may carry title lines above its header and a line such as
``End of report`` below its data; the header is the row whose cells
:func:`markers.ingest.mapping.map_columns` recognises most often.
"""

from __future__ import annotations

import re

import pandas as pd

from markers.ingest.config import Config
from markers.ingest.mapping import ColumnMap, map_columns

__all__ = ["find_header", "is_footer_line", "looks_like_data"]


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (isinstance(value, str) and not value.strip())


def _leading_rows(cells: pd.DataFrame, *, block: int = 256):
    """``(row number, cells)`` from the top of a sheet, a block of rows at a time.

    Only the first rows are ever looked at, so only they become Python objects
    (``DataFrame.iterrows`` would first turn the whole sheet into one object array).
    """
    for start in range(0, len(cells), block):
        part = cells.iloc[start:start + block]
        yield from zip(part.index, part.to_numpy(dtype=object).tolist(), strict=True)


def find_header(cells: pd.DataFrame, *, config: Config | None = None, search_rows: int = 30) -> tuple[int, ColumnMap] | None:
    """The header row (sheet row number) and its column map, or ``None`` when no row looks like one.

    The header is the row among the first ``search_rows`` non-blank rows whose cells
    are recognised most often; it needs at least two recognised columns, one of them
    an ID, an analyte or an event column. Title lines above it (one cell, often merged)
    never score that high.
    """
    best: tuple[int, ColumnMap] | None = None
    seen = 0
    for row_number, row in _leading_rows(cells):
        values = pd.Series({c: v for c, v in zip(cells.columns, row, strict=True) if not _is_blank(v)}, dtype=object)
        if values.empty:
            continue
        seen += 1
        if seen > search_rows:
            break
        if len(values) < 2 or not all(isinstance(v, str) for v in values) or looks_like_data(values):
            continue
        column_map = map_columns(values, config=config)
        roles = set(column_map.roles.values())
        useful = "patient_id" in roles or column_map.analyte_columns or {"analyte", "result"} <= roles or "event" in roles
        if column_map.score >= 2 and useful and (best is None or column_map.score > best[1].score):
            best = (int(row_number), column_map)
    return best


_DATA_CELL = re.compile(
    r"""^\s*(?:[<>]=?\s*)?-?\d+(?:[.,]\d+)?\s*$                      # a number, maybe censored
      | ^\s*\d{4}-\d{1,2}-\d{1,2}(?:[ T].*)?$ | ^\s*\d{1,2}[./]\d{1,2}[./]\d{2,4}\s*$   # a date
      | ^\s*\(?\d+(?:[.,]\d+)?\s*[-–]\s*\d+(?:[.,]\d+)?\)?\s*$       # a range
    """,
    re.VERBOSE,
)


def looks_like_data(values: pd.Series) -> bool:
    """True when a row holds a number, a date, a range or a bare unit: data, never a header row."""
    from markers.ingest.units import parse_unit

    for value in values:
        text = str(value)
        if _DATA_CELL.match(text) or ("/" in text and parse_unit(text) is not None):
            return True
    return False


_FOOTER = re.compile(
    r"^\s*(\*+\s*)?(end of (report|file|export|list)|report end|page \d|printed|total|generated|"
    r"confidential|signed|validated by|\*\*\*|---|ende|seite \d)",
    re.IGNORECASE,
)


def is_footer_line(values: list[object]) -> bool:
    """A single text cell such as ``End of report`` or ``Page 2 of 3`` below the data."""
    texts = [v for v in values if not _is_blank(v)]
    return len(texts) == 1 and isinstance(texts[0], str) and bool(_FOOTER.match(texts[0]))
