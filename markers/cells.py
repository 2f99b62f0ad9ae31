"""Cell-level helpers shared by the sheet readers and the normaliser.

A million-row sheet holds few distinct values per column, so each helper works
once per distinct cell value (``per_distinct``) rather than once per cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers import io as raw_io

SEX_CODES = {
    "m": "M", "male": "M", "boy": "M", "man": "M", "mannlich": "M", "männlich": "M", "masculin": "M", "1": "M",
    "f": "F", "female": "F", "girl": "F", "woman": "F", "w": "F", "weiblich": "F", "feminin": "F", "2": "F",
}


def per_distinct(values: pd.Series, func, *, empty: object, exact: bool = True) -> np.ndarray:
    """``func`` of each cell, computed once per distinct cell value (``empty`` for missing cells).

    A million-row column holds few distinct values, and hashing them is far cheaper than a
    Python call per cell. Hashing treats ``True`` and ``1.0`` as one key: when ``exact`` and a
    column holds both a boolean and a 0 or 1, it is done cell by cell to keep each cell's own text.
    """
    cells = values.to_numpy(dtype=object)
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    if exact and any(type(u) is bool or (isinstance(u, int | float) and u in (0, 1)) for u in uniques) and (
        values.map(type).eq(bool).any()
    ):
        return np.array([empty if v is None or v is pd.NA or v != v else func(v) for v in cells], dtype=object)
    mapped = np.array([func(u) for u in uniques] + [empty], dtype=object)
    return mapped[codes]  # code -1 (missing) picks the last entry, ``empty``


def stripped_text(values: pd.Series) -> pd.Series:
    """Text cells stripped of spaces; NaN for every cell that is not text (numbers, dates, empty)."""
    out = per_distinct(values, lambda v: v.strip() if isinstance(v, str) else np.nan, empty=np.nan)
    return pd.Series(out, index=values.index, dtype=object)


def blank_cells(frame: pd.DataFrame) -> np.ndarray:
    """Boolean matrix: True where a cell is empty (None, NaN or only whitespace)."""
    blank = np.ones(frame.shape, dtype=bool)
    for position, column in enumerate(frame.columns):
        blank[:, position] = per_distinct(
            frame[column], lambda v: isinstance(v, str) and not v.strip(), empty=True, exact=False).astype(bool)
    return blank


def cell_ids(values: pd.Series) -> pd.Series:
    """Patient IDs as text: ``42.0`` -> ``"42"``, ``"0042"`` stays ``"0042"``; blanks -> ``None``."""

    def one(v: object) -> object:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip() or None

    return pd.Series(per_distinct(values, one, empty=None), index=values.index, dtype=object)


def cell_refs(rows: pd.Series, columns: pd.Series) -> list[str]:
    """``D14``-style references, vectorised: each column's letters computed once."""
    columns = columns.astype(int)
    letters = columns.map({c: raw_io.column_letter(c) for c in pd.unique(columns)})
    return (letters.astype(str) + rows.astype(int).astype(str)).tolist()


def cell_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text ("" for empty); numbers and dates as ``str()`` gives them."""
    out = per_distinct(values, lambda v: v.strip() if isinstance(v, str) else str(v), empty="")
    return pd.Series(out, index=values.index, dtype=object)


