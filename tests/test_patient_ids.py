"""Patient IDs of a text column without a Python call per ID: the same text as cell_ids gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.ingest.record_cells import _may_strip, patient_ids
from markers.readers.cells import cell_ids


def test_text_ids_stripped_blanks_missing():
    values = pd.Series(pd.array(["0042", " NB-1 ", "", "   ", None, "NB-1", "\u00a0P7\u2003", "a b"], dtype="str"))
    got = patient_ids(values)
    assert [None if pd.isna(v) else v for v in got] == ["0042", "NB-1", None, None, None, "NB-1", "P7", "a b"]
    pd.testing.assert_series_equal(got, cell_ids(values))


def test_clean_text_column_comes_back_as_it_is():
    values = pd.Series(pd.array([f"P{i:05d}" for i in range(1_000)] + [None], dtype="str"))
    assert patient_ids(values) is values


def test_other_columns_as_cell_ids():
    values = pd.Series([42.0, "0042", None, 7, np.nan, " x "], dtype=object)
    pd.testing.assert_series_equal(patient_ids(values), cell_ids(values))
    assert [None if pd.isna(v) else v for v in patient_ids(values)] == ["42", "0042", None, "7", None, "x"]


def test_every_whitespace_character_at_either_end_as_str_strip():
    # the quick test for a column that needs no change must catch every character str.strip removes
    spaces = [chr(c) for c in range(0x3000 + 1) if chr(c).isspace()]
    cells = [f"{s}P1" for s in spaces] + [f"P2{s}" for s in spaces] + ["P3", "\x1c", "P\x1f4"]
    for cell in cells:
        values = pd.Series(pd.array(["P0", cell], dtype="str"))
        pd.testing.assert_series_equal(patient_ids(values), cell_ids(values))
    values = pd.Series(pd.array(["\x1cP1", "P2\u3000", "P\x1f4"], dtype="str"))
    assert [None if pd.isna(v) else v for v in patient_ids(values)] == ["P1", "P2", "P\x1f4"]


def test_positions_of_wanted_ids_as_a_pandas_index_gives_them():
    from markers.ingest.normalize import _positions_of

    cases = [
        (pd.Series(pd.array(["P2", "P1", None, "P3"], dtype="str")), ["P1", "P3", "P9", None], [1, 3, -1, -1]),
        (pd.Series(pd.array(["P2", "P1"], dtype="str")), ["P1", "P3", None], [1, -1, -1]),
        (pd.Series(["P2", 7], dtype=object), ["P2", None], [0, -1]),
        (pd.Series(pd.array([], dtype="str")), [None], [-1]),
    ]
    for ids, wanted, expected in cases:
        wanted = np.array(wanted, dtype=object)
        assert _positions_of(ids, wanted).tolist() == expected
        assert pd.Index(ids.astype(object)).get_indexer(pd.Index(wanted, dtype=object)).tolist() == expected


#: What the byte test stands for: a blank cell, or one starting or ending with anything but printable ASCII.
MAY_STRIP = r"^[^\x21-\x7e]|[^\x21-\x7e]$|^$"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(st.sampled_from("aZ09-_ .\t\u00a0é日\u2003\x7f~!"), max_size=4)), max_size=12),
       st.integers(0, 3))
def test_may_strip_reads_the_first_and_last_byte_as_the_pattern_reads_the_cells(cells, skip):
    for text in (pa.array(cells, type=pa.large_string()), pa.array(cells, type=pa.string())):
        sliced = text.slice(min(skip, len(text)))  # a slice shares its buffers: its own cells only
        expected = pc.any(pc.match_substring_regex(sliced, MAY_STRIP)).as_py() or False
        assert _may_strip(sliced) == expected
        assert _may_strip(pa.chunked_array([sliced, sliced], type=sliced.type)) == expected
