"""Cells as written, sorted by Python type, and parsed once per distinct value (shared by results and dates).

Readers hand over cells *as written*: an object Series holding ``str``,
``int``, ``float``, ``bool``, ``datetime.datetime``, ``datetime.date`` or
``None``, indexed by source row. A column is split by cell type once
(``Series.map(type)``, a C-level map); a long column of text is factorised so that
each distinct cell is parsed once and the result broadcast back by code.
All the bookkeeping is positional, so a duplicated or non-default index is
handled like any other.
"""

from __future__ import annotations

import datetime as dt
import numbers

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.readers.cells import distinct
from markers.readers.files import CELL_DTYPE

# Column names of the frames the parsers return. They are local to this stage: the
# tidy-table names in markers.schema (VALUE, CENSOR, CENSOR_INCLUSIVE) are
# spelled the same, so the caller can copy these columns across unchanged.
VALUE = "value"
CENSOR = "censor"
CENSOR_INCLUSIVE = "censor_inclusive"
LAB_FLAG = "lab_flag"
STATUS = "status"
TEXT = "text"
DATE = "date"

# -- classification of cells by Python type --------------------------------------------

#: Cell kinds, one int8 code per cell (:func:`cell_kinds`).
MISSING, NUMBER, TEXT_KIND, BOOL, DATETIME, OTHER = range(6)


def _kind_of_type(kind: type) -> int:
    """Cell kind of one Python type (called once per distinct type, not per cell)."""
    if kind is type(None) or kind is type(pd.NaT) or kind is type(pd.NA):
        return MISSING
    if issubclass(kind, (bool, np.bool_)):  # before numbers: bool is an int subclass
        return BOOL
    if issubclass(kind, (dt.datetime, dt.date, np.datetime64)):
        return DATETIME
    if issubclass(kind, numbers.Real):
        return NUMBER
    if issubclass(kind, str):
        return TEXT_KIND
    return OTHER


#: infer_dtype results that mean "every non-missing cell is of one kind".
_UNIFORM_KINDS = {
    "string": TEXT_KIND,
    "integer": NUMBER,
    "floating": NUMBER,
    "mixed-integer-float": NUMBER,
    "decimal": NUMBER,
    "boolean": BOOL,
    "datetime": DATETIME,
    "datetime64": DATETIME,
    "date": DATETIME,
    "empty": MISSING,
}


def cell_kinds(values: pd.Series) -> np.ndarray:
    """One kind code per cell (an int8 array), NaN/None counted as missing."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        kinds = np.full(len(values), BOOL, dtype=np.int8)
    elif pd.api.types.is_numeric_dtype(dtype):
        kinds = np.full(len(values), NUMBER, dtype=np.int8)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        kinds = np.full(len(values), DATETIME, dtype=np.int8)
    elif (inferred := _UNIFORM_KINDS.get(pd.api.types.infer_dtype(values, skipna=True))) is not None:
        # One C-level pass tells a uniform column (the usual case) from a mixed one.
        kinds = np.full(len(values), inferred, dtype=np.int8)
    else:
        types = values.map(type)
        lookup = {t: _kind_of_type(t) for t in pd.unique(types.to_numpy())}
        kinds = types.map(lookup).to_numpy(dtype=np.int8)
    # NaN floats, NaT and pd.NA are "missing" whatever the dtype.
    kinds[values.isna().to_numpy()] = MISSING
    return kinds


# -- parsing each distinct cell once ---------------------------------------------------

#: Columns shorter than this are parsed cell by cell (factorising costs more than it saves).
_DISTINCT_MIN = 256


def distinct_cells(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, uniques)`` of a column (:func:`markers.readers.cells.distinct`), or None when it is
    parsed cell by cell: a short column, where factorising costs more than it saves.

    Lab columns repeat themselves (a million results hold a few thousand distinct spellings), and
    every cell's parse depends on that cell alone, so parsing the distinct cells and broadcasting
    the result back by code gives the same output much faster.
    """
    if len(values) < _DISTINCT_MIN or not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        return None
    return distinct(values)


def broadcast(parsed: pd.DataFrame, codes: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Rows of ``parsed`` (one per distinct cell) taken for every cell, on the cells' index.

    Column by column: numbers and dates with numpy, text with Arrow (a text
    column of a million cells, never a million Python objects).
    """
    taken = {}
    for name in parsed.columns:
        column = parsed[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            table = pa.array(column.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
            taken[name] = pd.array(table.take(pa.array(codes)), dtype=CELL_DTYPE)
        else:
            taken[name] = column.to_numpy()[codes]
    return pd.DataFrame(taken, index=index)


def as_object(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """The cells at ``positions`` as an object Series with a fresh RangeIndex."""
    return pd.Series(values.to_numpy(dtype=object)[positions], dtype=object)


def strip_text(text: pd.Series) -> pd.Series:
    """Strip whitespace; str.strip() also removes the non-breaking spaces spreadsheets love."""
    return text.str.strip()


# -- results -----------------------------------------------------------------------------
