"""Cell helpers of the record builders: required columns, comparator words, sex codes, ages and day counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.errors import MissingColumnError
from markers.ingest.mapping import ColumnMap
from markers.readers.cells import SEX_CODES, cell_ids, cell_text, distinct, map_text, text_of, text_series
from markers.readers.files import CELL_DTYPE, RawSheet
from markers.readers.sheet import text_offsets

__all__ = ["COMPARATOR_WORDS", "DATE_FREE_ROLES", "age_days_from_columns", "comparator_sign", "joined_comparator",
           "no_cells", "patient_ids", "require_column", "sex_code", "whole_days"]


def require_column(column_map: ColumnMap, role: str, sheet: RawSheet, what: str) -> int:
    """The position of the column with ``role``; a missing one is an error naming the headers found."""
    position = column_map.column(role)
    if position is None:
        place = f"{sheet.file} sheet {sheet.sheet!r}" if sheet.sheet else sheet.file
        found = ", ".join(repr(h) for h in column_map.headers.values())
        raise MissingColumnError(
            f"{place}: no {what} column was found (headers: {found}). "
            f"Rename the column, or map it in the config file's [columns] table, e.g. \"My header\" = \"{role}\"."
        )
    return position


def _may_strip(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a cell of ``text`` is blank or starts or ends with anything but printable ASCII other
    than the space: only such a cell can change under ``str.strip``.

    Read from each cell's first and last byte in the Arrow buffers, without a hash or a regex per
    cell: a UTF-8 character outside 0x21-0x7e starts and ends with a byte outside that range.
    """
    if isinstance(text, pa.ChunkedArray):
        return any(_may_strip(chunk) for chunk in text.chunks)
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        return True  # another layout: mapped once per distinct ID, as any column
    if not len(text):
        return False
    offsets = text_offsets(text)
    starts, stops = offsets[:-1], offsets[1:]
    filled = stops > starts
    if (~filled & text.is_valid().to_numpy(zero_copy_only=False)).any():  # a blank cell (missing ones are not)
        return True
    if not filled.any():
        return False
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)
    ends = np.concatenate([data[starts[filled]], data[stops[filled] - 1]])
    return bool(((ends < 0x21) | (ends > 0x7E)).any())


def patient_ids(values: pd.Series) -> pd.Series:
    """:func:`markers.readers.cells.cell_ids` (IDs as text, stripped, blanks missing), for a text column
    without a Python call per distinct ID: a registry has as many IDs as patients.

    A text column's distinct cells are ``str``, for which ``cell_ids`` gives ``v.strip() or None``.
    Arrow's buffers first tell whether a cell could change (:func:`_may_strip`); when none can, the
    column comes back as it is, without a Python object per row or per patient. Other columns,
    and text columns with such a cell, are mapped once per distinct ID.
    """
    if not isinstance(values.dtype, pd.StringDtype):
        return cell_ids(values)
    if values.dtype.storage == "pyarrow":
        if not _may_strip(pa.array(values.array)):  # Arrow text: no Python object per ID
            return values
    codes, uniques = distinct(values)
    texts = uniques[:-1].tolist()
    stripped = [text.strip() or None for text in texts]
    if stripped == texts:
        return values
    return text_series([*stripped, None], codes, index=values.index)


#: A separate comparator column's words, as the sign they stand for.
COMPARATOR_WORDS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "≤": "<=", "≥": ">=", "=<": "<=", "=>": ">=",
                    "below": "<", "less than": "<", "lt": "<", "under": "<", "above": ">", "greater than": ">",
                    "gt": ">", "over": ">", "le": "<=", "ge": ">=", "=": "", "eq": "", "equal": ""}


def comparator_sign(cell: object) -> str:
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
    signs = map_text(comparators, comparator_sign, default="")
    if inclusive is not None:
        closed = map_text(inclusive, lambda c: "=" if text_of(c).lower() in ("true", "1") else "", default="")
        signs = signs.astype(object) + closed.astype(object).where(signs.isin(["<", ">"]), "")
    values = cell_text(results)
    joined = (signs.astype(object) + values.astype(object)).where(values != "", None)
    return joined.astype(CELL_DTYPE)


def no_cells(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a column that is not there: every cell missing."""
    return np.zeros(n, dtype=np.int64), np.array([None], dtype=object)


def sex_code(cell: object) -> str:
    """``M``, ``F`` or ``""`` for one sex cell, in any of the spellings of ``SEX_CODES``."""
    return SEX_CODES.get(text_of(cell).lower(), "")


#: Columns that stand in for the sample date in a date-free table, in order of preference.
DATE_FREE_ROLES = ("age_days", "age_months", "age_years", "days_since_diagnosis")


def whole_days(cells: pd.Series) -> pd.Series:
    """Day counts as written (``"-3"``, ``"120"``, ``"120,0"``) as Int64; <NA> for anything else."""
    numbers = pd.to_numeric(cell_text(cells).str.replace(",", ".", regex=False), errors="coerce")
    return np.floor(numbers).astype("Int64")


def age_days_from_columns(data: pd.DataFrame, column_map: ColumnMap) -> pd.Series:
    """Age at sample in days from an age column (years × 365.25, months × 30.4375, or days)."""
    for role, factor in (("age_days", 1.0), ("age_months", 30.4375), ("age_years", 365.25)):
        position = column_map.column(role)
        if position is not None:
            numbers = pd.to_numeric(cell_text(data[position]).str.replace(",", ".", regex=False), errors="coerce")
            return np.floor(numbers * factor).astype("Int64")
    return pd.Series(pd.NA, index=data.index, dtype="Int64")
