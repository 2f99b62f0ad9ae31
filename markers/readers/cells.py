"""Cell-level helpers shared by the sheet readers and the normaliser.

A million-row sheet holds few distinct values per column, so each helper works
once per distinct cell value (:func:`distinct`, :func:`per_distinct`) rather than
once per cell, and hands text back as Arrow-backed columns (``CELL_DTYPE``), never
as a million Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from markers.readers import files as raw_io
from markers.readers.files import CELL_DTYPE

SEX_CODES = {
    "m": "M", "male": "M", "boy": "M", "man": "M", "mannlich": "M", "männlich": "M", "masculin": "M", "1": "M",
    "f": "F", "female": "F", "girl": "F", "woman": "F", "w": "F", "weiblich": "F", "feminin": "F", "2": "F",
}


def distinct(values: pd.Series, *, exact: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of a column: ``uniques[codes]`` gives every cell back.

    ``uniques`` is an object array in order of first appearance, ending with one
    ``None`` that stands for every missing cell (None, NaN, NaT, pd.NA), so codes
    are never negative. Text columns (what every reader gives) are factorised by
    Arrow without a Python object per cell.

    Hashing treats ``True == 1 == 1.0`` and ``0.0 == -0.0`` as one key, although they read
    differently: when ``exact`` and an object column holds a 0 or 1 next to a boolean or a
    negative zero, every cell gets its own code.
    """
    if isinstance(values.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    else:
        cells = values.to_numpy(dtype=object)
        codes, uniques = pd.factorize(cells, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
        if exact and any(type(u) in (bool, np.bool_) or (isinstance(u, int | float) and u in (0, 1)) for u in uniques) and (
            any(type(v) in (bool, np.bool_) or _negative_zero(v) for v in cells)
        ):
            missing = pd.isna(cells)
            codes = np.where(missing, -1, np.arange(len(cells)))
            uniques = cells
    uniques = np.append(uniques, None)
    return np.where(codes < 0, len(uniques) - 1, codes), uniques


def _negative_zero(value: object) -> bool:
    return isinstance(value, float) and value == 0.0 and math.copysign(1.0, value) < 0


def per_distinct(values: pd.Series, func: Callable[[object], object], *, empty: object, exact: bool = True) -> np.ndarray:
    """``func`` of each cell, computed once per distinct cell value (``empty`` for missing cells)."""
    codes, uniques = distinct(values, exact=exact)
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [func(u) for u in uniques[:-1]] + [empty]
    return mapped[codes]


def text_series(mapped: np.ndarray | list, codes: np.ndarray, *, index: pd.Index) -> pd.Series:
    """A text column (``CELL_DTYPE``) of ``mapped[codes]``, taken by Arrow (None or NaN -> missing)."""
    table = pa.array(list(mapped), type=pa.large_string(), from_pandas=True)
    return pd.Series(pd.array(table.take(pa.array(codes)), dtype=CELL_DTYPE), index=index, copy=False)


def constant_text(text: str | None, n: int) -> pd.api.extensions.ExtensionArray:
    """A text array of ``n`` times ``text`` (None: missing), made from its buffers: the text repeated
    and evenly spaced offsets (a file's name on a million rows: 9 ms, against 21 ms for an Arrow
    repeat), no Python list of a million items."""
    if text is None:
        return pd.array(pa.nulls(n, pa.large_string()), dtype=CELL_DTYPE)
    octets = text.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(octets)
    return pd.array(pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(octets * n)),
                    dtype=CELL_DTYPE)


def constant_category(text: str, n: int) -> pd.Categorical:
    """``n`` times ``text`` as a one-category Categorical: for internal frames, where a constant
    column (file, sheet, header) costs one byte a row and is taken or filtered as integers."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([text], dtype=object))


def as_text(values: pd.Series) -> pd.api.extensions.ExtensionArray:
    """A column as text (``CELL_DTYPE``): categories taken by their codes, anything else converted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        names = [str(c) for c in values.cat.categories] + [None]
        if len(names) == 2 and not (codes < 0).any():  # one sheet's file or sheet name: an Arrow repeat, not a take
            return constant_text(names[0], len(codes))
        return text_series(names, np.where(codes < 0, len(names) - 1, codes), index=values.index).array
    return values.array if isinstance(values.dtype, pd.StringDtype) else pd.array(values.astype(object), dtype=CELL_DTYPE)


def _mapped_text(values: pd.Series, codes: np.ndarray, uniques: np.ndarray, mapped: list, *, missing: object) -> pd.Series:
    """``mapped[codes]`` as text; the column itself when every distinct cell maps to itself.

    Lab columns are mostly clean already (no stray spaces, IDs as text), and then
    the column is handed back as is, missing cells filled with ``missing``, without
    building a new million-cell column.
    """
    if isinstance(values.dtype, pd.StringDtype) and all(m == u for m, u in zip(mapped[:-1], uniques[:-1], strict=True)):
        if missing is None or not values.hasnans:
            return values
        return values.fillna(missing)
    return text_series(mapped, codes, index=values.index)


def map_text(values: pd.Series, mapping: Mapping[object, object] | Callable[[object], object], *,
             default: object = None) -> pd.Series:
    """Each cell mapped through ``mapping`` (a dict or a function), once per distinct value, as text.

    Cells the dict does not know, and missing cells, get ``default``.
    """
    codes, uniques = distinct(values, exact=False)
    lookup = mapping.get if isinstance(mapping, Mapping) else mapping
    mapped = [default if u is None else _or_default(lookup(u), default) for u in uniques[:-1]] + [default]
    return _mapped_text(values, codes, uniques, mapped, missing=default)


def _or_default(value: object, default: object) -> object:
    return default if value is None else value


def stripped_text(values: pd.Series) -> pd.Series:
    """Text cells stripped of spaces; missing for every cell that is not text (numbers, dates, empty)."""
    codes, uniques = distinct(values)
    mapped = [v.strip() if isinstance(v, str) else None for v in uniques]
    return _mapped_text(values, codes, uniques, mapped, missing=None)


def filled_counts(frame: pd.DataFrame) -> np.ndarray:
    """How many cells of each row are filled (neither missing nor empty nor only whitespace).

    Counted column by column into one integer a row: a sheet's rows need only this count (blank
    rows hold none, a footer line one), not a matrix of every cell.
    """
    filled = np.zeros(len(frame), dtype=np.int32)
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.StringDtype):
            # Arrow passes in C: missing, empty, or nothing but whitespace
            text = pa.array(values.array)
            empty = pc.or_(pc.utf8_is_space(text), pc.equal(text, pa.scalar("", text.type))).fill_null(True)
            filled += ~empty.to_numpy(zero_copy_only=False)
        else:
            filled += ~per_distinct(values, lambda v: isinstance(v, str) and not v.strip(), empty=True,
                                    exact=False).astype(bool)
    return filled


def cell_ids(values: pd.Series) -> pd.Series:
    """Patient IDs as text: ``42.0`` -> ``"42"``, ``"0042"`` stays ``"0042"``; blanks -> missing."""

    def one(v: object) -> object:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip() or None

    codes, uniques = distinct(values)
    return _mapped_text(values, codes, uniques, [one(u) for u in uniques[:-1]] + [None], missing=None)


def cell_refs(rows: pd.Series | np.ndarray, columns: pd.Series | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``D14``-style references (a text array), vectorised: each column's letters computed once, joined by Arrow."""
    rows = np.asarray(rows, dtype=np.int64)
    columns = np.asarray(columns, dtype=np.int64)
    if len(columns) and (columns == columns[0]).all():
        # the usual case, every result in one column: its letters joined as a scalar, no column of letters
        letters = pa.scalar(raw_io.column_letter(int(columns[0])), pa.large_string())
    else:
        codes, positions = pd.factorize(columns)
        letters = pa.array([raw_io.column_letter(int(c)) for c in positions], type=pa.large_string()).take(pa.array(codes))
    joined = pc.binary_join_element_wise(letters, pa.array(rows).cast(pa.large_string()), pa.scalar("", pa.large_string()))
    return pd.array(joined, dtype=CELL_DTYPE)


def text_of(cell: object) -> str:
    """One cell as stripped text, ``""`` when missing (None); numbers and dates as ``str()`` gives them."""
    if cell is None:
        return ""
    return cell.strip() if isinstance(cell, str) else str(cell)


def cell_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text ("" for empty); numbers and dates as ``str()`` gives them (:func:`text_of`)."""
    codes, uniques = distinct(values)
    return _mapped_text(values, codes, uniques, [text_of(v) for v in uniques], missing="")


class _Digits(dict):
    """``str.translate`` table: every Unicode decimal digit (category Nd: Arabic-Indic, full-width,
    Devanagari ...) to its ASCII digit, the full-width and Arabic separators to ``.`` and ``,``;
    looked up lazily, one character at a time."""

    def __missing__(self, code: int) -> str:
        import unicodedata

        char = chr(code)
        if code < 128 or unicodedata.category(char) != "Nd":
            raise LookupError(code)  # str.translate keeps the character
        self[code] = str(unicodedata.digit(char))
        return self[code]


_DIGITS = _Digits({0xFF0E: ".", 0x066B: ".", 0xFF0C: ",", 0x066C: ","})


def ascii_digits(texts: pd.Series) -> pd.Series:
    """Text cells with every non-ASCII decimal digit written as the ASCII digit it is.

    A result typed as ``٣٥`` (Arabic-Indic) or ``３５`` (full-width) is 35: the
    Unicode standard gives each such character its decimal value. Only cells
    holding a non-ASCII character are rewritten.

    Examples
    --------
    >>> ascii_digits(pd.Series(["٣٥", "３５．５", "4.2", "<٠٫٥"])).tolist()
    ['35', '35.5', '4.2', '<0.5']
    """
    if texts.empty:
        return texts
    ascii_only = texts.str.isascii().fillna(True).to_numpy(dtype=bool)
    if ascii_only.all():
        return texts
    out = texts.copy()
    out[~ascii_only] = texts[~ascii_only].str.translate(_DIGITS)
    return out
