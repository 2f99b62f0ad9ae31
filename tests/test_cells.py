"""Cell helpers: work once per distinct cell, hand text back as Arrow-backed columns."""

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.readers.cells import (
    as_text,
    cell_ids,
    cell_refs,
    cell_text,
    constant_category,
    constant_text,
    distinct,
    filled_counts,
    map_text,
)
from markers.readers.files import CELL_DTYPE


def text(values):
    return pd.Series(pd.array(values, dtype=CELL_DTYPE))


def test_distinct_gives_every_cell_back_with_missing_last():
    codes, uniques = distinct(text(["b", None, "a", "b", None]))
    assert uniques.tolist() == ["b", "a", None]  # order of first appearance, then missing
    assert codes.tolist() == [0, 2, 1, 0, 2]
    assert [uniques[c] for c in codes] == ["b", None, "a", "b", None]


def test_distinct_keeps_a_boolean_apart_from_one():
    codes, uniques = distinct(pd.Series([True, 1.0, True], dtype=object))
    assert [type(uniques[c]) for c in codes] == [bool, float, bool]


def test_distinct_keeps_a_negative_zero_apart_from_zero():
    # 0.0 == -0.0 hashes as one key, but "-0" and "0" are different cells of a sheet
    codes, uniques = distinct(pd.Series([0.0, -0.0, 0.0], dtype=object))
    assert [str(uniques[c]) for c in codes] == ["0.0", "-0.0", "0.0"]


def test_distinct_merges_equal_cells_when_nothing_can_hide():
    codes, uniques = distinct(pd.Series([0.0, 2.5, 0.0, None], dtype=object))
    assert codes.tolist() == [0, 1, 0, 2]
    assert uniques.tolist() == [0.0, 2.5, None]


def test_parsing_a_long_column_tells_negative_zero_and_booleans_apart():
    from markers.ingest.parse import parse_results

    cells = pd.Series([0.0, -0.0, True, 1.0] * 100, dtype=object)  # long enough to parse per distinct cell
    short = pd.concat([parse_results(pd.Series([c], dtype=object)) for c in cells[:4]], ignore_index=True)
    long = parse_results(cells).iloc[:4].reset_index(drop=True)
    pd.testing.assert_frame_equal(long, short)


def test_clean_text_is_handed_back_as_is():
    ids = text(["NB-1", "0042", None])
    # nothing to strip or convert: the very same column, no new million-cell array
    assert cell_ids(ids) is ids
    assert map_text(ids, lambda v: v) is ids


def test_text_that_changes_is_taken_by_code():
    out = cell_text(text([" VMA ", "HVA", None, " VMA "]))
    assert out.dtype == CELL_DTYPE
    assert out.tolist() == ["VMA", "HVA", "", "VMA"]
    sexes = map_text(text(["m", "female", "x", None]), {"m": "M", "female": "F"}, default="")
    assert sexes.tolist() == ["M", "F", "", ""]


def test_constants_and_categories_as_text():
    assert constant_text("lab.csv", 3).tolist() == ["lab.csv"] * 3
    assert constant_text(None, 2).isna().tolist() == [True, True]
    # made from its buffers: offsets step by the text's UTF-8 bytes (é is two), an empty text and none
    accented = pa.array(constant_text("é.csv", 3))
    accented.validate(full=True)
    assert accented.to_pylist() == ["é.csv"] * 3
    assert np.frombuffer(accented.buffers()[1], dtype=np.int64).tolist() == [0, 6, 12, 18]
    assert constant_text("", 2).tolist() == ["", ""] and constant_text("x", 0).tolist() == []
    category = pd.Series(constant_category("Samples", 4))
    assert category.cat.codes.dtype == np.int8  # a byte a row
    assert list(as_text(category)) == ["Samples"] * 4 and as_text(category).dtype == CELL_DTYPE
    # two categories, or a missing cell, are taken by code; one category without gaps is a repeat
    two = pd.Series(pd.Categorical(["b.csv", "a.csv", "b.csv"]))
    assert as_text(two).tolist() == ["b.csv", "a.csv", "b.csv"]
    gap = pd.Series(pd.Categorical(["", None], categories=[""]))
    assert as_text(gap)[0] == "" and pd.isna(as_text(gap)[1]) and as_text(gap).dtype == CELL_DTYPE
    assert as_text(pd.Series(constant_category("", 2))).tolist() == ["", ""]


def test_cell_refs():
    # column 0 is A, 3 is D, 26 is AA; rows are 1-based
    assert list(cell_refs(np.array([14, 1, 3]), np.array([3, 0, 26]))) == ["D14", "A1", "AA3"]
    # every reference in one column (the usual result column): the same text, the letters joined once
    assert list(cell_refs(np.array([2, 10, 100]), np.array([6, 6, 6]))) == ["G2", "G10", "G100"]
    assert cell_refs(np.array([7]), np.array([27])).dtype == CELL_DTYPE and list(cell_refs([7], [27])) == ["AB7"]
    assert list(cell_refs(np.array([], dtype=np.int64), np.array([], dtype=np.int64))) == []


def test_filled_counts_counts_cells_that_are_neither_missing_nor_blank():
    frame = pd.DataFrame({
        0: pd.array(["ID", "  ", None, "", "P1", "\t"], dtype=CELL_DTYPE),
        1: pd.array(["Date", "x", None, "", " 2 ", None], dtype=CELL_DTYPE),
        2: pd.Series(["", 3.5, None, " ", "y", "z"], dtype=object),  # a column that is not text: per value
    })
    # row by row: "ID" and "Date"; "x" and 3.5 (a number is filled); nothing; nothing (empty, a space);
    # all three; "z" only (a tab is blank)
    assert filled_counts(frame).tolist() == [2, 2, 0, 0, 3, 1]
    assert filled_counts(pd.DataFrame(index=range(2))).tolist() == [0, 0]
