"""Parquet and Feather files read as one sheet of text cells, like a CSV file with the same rows.

The first row holds the column names; each value becomes the text a CSV written by markers holds:
dates ``YYYY-MM-DD``, date-times ``YYYY-MM-DD HH:MM:SS``, booleans ``True``/``False``, numbers in
their shortest exact form, categoricals their label, and an empty text an empty cell. So a table markers wrote as Parquet reads back
exactly as the same table written as CSV.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from markers.errors import InputFormatError
from markers.readers.files import CELL_DTYPE, RawSheet

#: Suffixes read by this module (also in :data:`markers.readers.safety.SUPPORTED_SUFFIXES`).
ARROW_SUFFIXES = (".parquet", ".feather")


def _cell_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """One column as text cells (null stays null)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_timestamp(kind):
        if kind.tz is not None:
            column = column.cast(pa.timestamp(kind.unit))  # UTC wall time, as the CSV writer gives
        return pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(kind):
        return pc.strftime(column.cast(pa.date32()), format="%Y-%m-%d")
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "True", "False")
    if pa.types.is_floating(kind):
        return pa.chunked_array([pa.array([None if v is None else repr(v) for v in column.to_pylist()],
                                          type=pa.large_string())])
    return column.cast(pa.large_string())


def read_arrow_table(path: str | pathlib.Path, *, max_rows: int | None = None) -> RawSheet:
    """Read a ``.parquet`` or ``.feather`` file as one :class:`~markers.readers.files.RawSheet`.

    Parameters
    ----------
    path
        The file (checked first by :func:`markers.readers.safety.check_input_file`).
    max_rows
        Read only sheet rows 1 to ``max_rows`` (row 1 is the header).

    Raises
    ------
    InputFormatError
        When the file is not a readable Parquet/Feather file.
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.feather as feather

            table = feather.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputFormatError(
            f"{path.name}: is not a readable {suffix[1:]} file ({str(exc).splitlines()[0]}); "
            "write it again or export the data as CSV."
        ) from None
    if max_rows is not None:
        table = table.slice(0, max(max_rows - 1, 0))
    names = [str(n) for n in table.column_names]
    columns = {}
    for position, name in enumerate(names):
        text = _cell_text(table.column(position)).cast(pa.large_string())
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.large_string()), text)
        values = pa.concat_arrays([pa.array([name], type=pa.large_string()), *text.chunks])
        columns[position] = pd.array(values, dtype=CELL_DTYPE)
    index = pd.RangeIndex(1, table.num_rows + 2)
    cells = pd.DataFrame(columns, index=index, columns=pd.RangeIndex(len(names)))
    return RawSheet(file=path.name, path=path, sheet="", cells=cells, decimal_comma=False, fmt=suffix[1:])
