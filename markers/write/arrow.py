"""Parquet and Feather tables with real Arrow types and the provenance in the file's metadata.

Types, column by column (what R's ``arrow::read_parquet`` and pandas then see without guessing):

* a datetime column whose values are all at midnight -> ``date32`` (a calendar date); with times of
  day -> ``timestamp[us]`` (UTC when the column has a time zone);
* ``bool`` and pandas' nullable ``boolean`` -> ``bool`` (missing stays null);
* integers, also pandas' nullable ``Int64`` -> ``int64`` (missing stays null, never a float);
* columns of a fixed vocabulary (:data:`CATEGORICAL_COLUMNS`: analyte, unit, grade, phase, ...)
  -> ``dictionary<int32, string>`` (an R factor, a pandas categorical);
* other text -> ``string``; a text column that mixes numbers and text keeps each value's text.

The provenance record (JSON) is stored in the schema metadata under ``markers.provenance``; variable
labels (``frame.attrs["labels"]``, e.g. of the CDISC-shaped tables) in each field's metadata (``label``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from markers.schema import ANALYTE, CENSOR, GRADE, PHASE, REFERENCE_SET, SEX, UNIT
from markers.write.cells import datetime_columns, is_missing
from markers.write.provenance import jsonable

#: Schema metadata key holding the provenance record as JSON.
PROVENANCE_KEY = b"markers.provenance"

#: Columns with a small fixed vocabulary, stored as dictionary (categorical) columns. The issue
#: table's ``code``/``severity`` and the CDISC-shaped tables' coded variables are included.
CATEGORICAL_COLUMNS = frozenset({
    ANALYTE, UNIT, CENSOR, GRADE, PHASE, SEX, REFERENCE_SET, "code", "severity",
    "PARAMCD", "PARAM", "AVALU", "ANRIND", "AVISIT", "PARCAT1", "EVNTDESC", "LANDMARK",
})


def _text_array(series: pd.Series) -> pa.Array:
    """Every present value as its text (a mixed column keeps what each cell says)."""
    return pa.array([None if is_missing(v) else str(v) for v in series], type=pa.string())


def column_array(series: pd.Series, *, date_only: bool | None, categorical: bool) -> pa.Array:
    """One pandas column as a typed Arrow array (see the module notes for the rules).

    Parameters
    ----------
    series
        The column.
    date_only
        For a datetime column: True when every value is at midnight (stored as ``date32``);
        ``None`` for any other column.
    categorical
        Store a text column as a dictionary (categorical) column.

    Examples
    --------
    >>> column_array(pd.Series([1, None], dtype="Int64"), date_only=None, categorical=False).type
    DataType(int64)
    """
    dtype = series.dtype
    if date_only is not None:
        stamps = series
        if getattr(series.dt, "tz", None) is not None:
            stamps = series.dt.tz_convert("UTC")
        array = pa.array(stamps, from_pandas=True)
        array = array.cast(pa.timestamp("us", tz=array.type.tz))
        return array.cast(pa.date32()) if date_only else array
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(series, type=pa.bool_(), from_pandas=True)
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(series, type=pa.int64(), from_pandas=True)
    if pd.api.types.is_float_dtype(dtype):
        return pa.array(series, type=pa.float64(), from_pandas=True)
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = _text_array(series)
    if pa.types.is_large_string(array.type) or pa.types.is_null(array.type):
        array = array.cast(pa.string())
    if pa.types.is_string(array.type) and categorical:
        return array.dictionary_encode()
    if not (pa.types.is_string(array.type) or pa.types.is_boolean(array.type)
            or pa.types.is_integer(array.type) or pa.types.is_floating(array.type)
            or pa.types.is_date(array.type) or pa.types.is_timestamp(array.type)):
        return _text_array(series)  # lists, dicts, decimals...: their text, not a nested type
    return array


def arrow_table(frame: pd.DataFrame, *, provenance: Mapping[str, object] | None = None) -> pa.Table:
    """The frame as an Arrow table with real types; the provenance in the schema metadata.

    Parameters
    ----------
    frame
        The table (not modified; its index is not written).
    provenance
        A record such as :func:`markers.write.provenance.provenance_record` returns.

    Examples
    --------
    >>> table = arrow_table(pd.DataFrame({"sample_date": pd.to_datetime(["2024-03-10"]),
    ...                                   "analyte": ["VMA"]}))
    >>> [str(t) for t in table.schema.types]
    ['date32[day]', 'dictionary<values=string, indices=int32, ordered=0>']
    """
    dates = datetime_columns(frame)
    arrays = []
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        arrays.append(column_array(series, date_only=dates.get(name) if name in dates else None,
                                   categorical=name in CATEGORICAL_COLUMNS))
    metadata = None
    if provenance is not None:
        metadata = {PROVENANCE_KEY: json.dumps(jsonable(provenance), sort_keys=True, ensure_ascii=False)}
    labels = frame.attrs.get("labels") or {}
    fields = [pa.field(str(name), array.type, metadata={b"label": str(labels[name]).encode()} if name in labels else None)
              for name, array in zip(frame.columns, arrays, strict=True)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))


def arrow_bytes(frame: pd.DataFrame, fmt: str, *, provenance: Mapping[str, object] | None = None) -> bytes:
    """The bytes of a Parquet (``fmt="parquet"``) or Feather v2 (``"feather"``) file of ``frame``.

    Parquet is compressed with zstd, Feather (Arrow IPC) with lz4, the defaults of pyarrow and
    what R's arrow reads.
    """
    table = arrow_table(frame, provenance=provenance)
    sink = pa.BufferOutputStream()
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, sink, compression="zstd")
    elif fmt == "feather":
        import pyarrow.feather as feather

        feather.write_feather(table, sink, compression="lz4")
    else:
        raise ValueError(f"fmt must be 'parquet' or 'feather', not {fmt!r}")
    return sink.getvalue().to_pybytes()


def read_provenance(schema: pa.Schema) -> dict[str, object] | None:
    """The provenance record stored in an Arrow schema's metadata, or ``None``."""
    raw = (schema.metadata or {}).get(PROVENANCE_KEY)
    return None if raw is None else json.loads(raw)
