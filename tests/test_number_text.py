"""The text of numbers in written tables (markers.write.number_text): what pandas writes, faster."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.write.csvtext import csv_chunks
from markers.write.number_text import float_text, integer_text, number_text


def test_float_text_as_pandas_writes_it():
    # each text worked out from the float's shortest round-trip digits; exponent form from 1e16 up
    # and below 1e-4, as CPython's repr and numpy's str both write them
    values = np.array([0.1 + 0.2, -0.0, 1e-7, 1e16, 9999999999999998.0, 0.0001, 1.95, 5e-324, -1.5e300,
                       np.inf, 123456789.125, 1.0])
    expected = ["0.30000000000000004", "-0.0", "1e-07", "1e+16", "9999999999999998.0", "0.0001", "1.95", "5e-324",
                "-1.5e+300", "inf", "123456789.125", "1.0"]
    assert number_text(values).to_pylist() == expected
    assert number_text(values[[2, 6]].astype(np.float32)).to_pylist() == ["1e-07", "1.95"]  # numpy's own text
    frame = pd.DataFrame({"x": np.r_[values, np.nan]})  # every value distinct: one text per row
    assert b"".join(csv_chunks(frame)) == frame.to_csv(index=False, lineterminator="\r\n").encode()


def test_fractions_written_by_arrow_and_the_rest_by_repr_read_as_repr():
    # Arrow writes the fractional numbers from 1e-4 up to 1e10; each text below is the shortest
    # round-trip digits, positional in that range, with exponent or ".0" outside it (as repr)
    values = np.array([1 / 3, -2 / 3, 0.0001, 9.99e-05, 9999999999.5, 10000000000.5, 1e10, 5.0, -1.25, np.nan,
                       0.1 + 0.2, 0.00010000000000000002, -np.inf])
    expected = ["0.3333333333333333", "-0.6666666666666666", "0.0001", "9.99e-05", "9999999999.5", "10000000000.5",
                "10000000000.0", "5.0", "-1.25", "nan", "0.30000000000000004", "0.00010000000000000002", "-inf"]
    assert float_text(values).to_pylist() == expected
    assert float_text(values[[0, 1, 4]]).to_pylist() == [expected[0], expected[1], expected[4]]  # Arrow's only
    assert float_text(values[[3, 7]]).to_pylist() == [expected[3], expected[7]]  # repr's only
    assert float_text(np.array([], dtype=np.float64)).to_pylist() == []


@given(st.lists(st.one_of(st.floats(min_value=1e-4, max_value=1e10), st.floats(min_value=-1e10, max_value=-1e-4),
                          st.floats(allow_nan=True, allow_infinity=True, width=64)), max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_floats_read_as_repr_gives_them(numbers):
    # most drawn from the range Arrow writes, some from anywhere: the text is repr's whoever writes it
    values = np.array(numbers, dtype=np.float64)
    assert float_text(values).to_pylist() == [repr(float(x)) for x in values]


def test_integer_digits_and_signs():
    values = np.array([0, 7, 9, 10, -10, 99, 100, -1, 1_000_003, -(2**63), 2**63 - 1], dtype=np.int64)
    assert integer_text(values).to_pylist() == [
        "0", "7", "9", "10", "-10", "99", "100", "-1", "1000003", "-9223372036854775808", "9223372036854775807"]
    assert integer_text(np.array([2**64 - 1, 0, 42], dtype=np.uint64)).to_pylist() == [
        "18446744073709551615", "0", "42"]
    assert integer_text(np.array([-128, 127, 5], dtype=np.int8)).to_pylist() == ["-128", "127", "5"]
    assert integer_text(np.array([], dtype=np.int64)).to_pylist() == []
    # the source row numbers of a table: one text per row, all distinct
    rows = np.arange(2, 100_002)
    assert integer_text(rows).to_pylist() == [str(n) for n in range(2, 100_002)]


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=60),
       st.booleans())
@settings(max_examples=200, deadline=None)
def test_any_float_column_written_as_pandas_writes_it(numbers, repeat):
    values = np.array(numbers * (3 if repeat else 1), dtype=np.float64)  # repeated: coded by distinct value
    frame = pd.DataFrame({"x": values, "y": values[::-1].copy()})
    assert b"".join(csv_chunks(frame)) == frame.to_csv(index=False, lineterminator="\r\n").encode()


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=80),
       st.sampled_from(["int64", "int32", "int16", "uint8"]))
@settings(max_examples=200, deadline=None)
def test_any_integers_as_numpy_writes_them(numbers, dtype):
    info = np.iinfo(dtype)
    values = np.array([min(max(n, info.min), info.max) for n in numbers], dtype=dtype)
    assert integer_text(values).to_pylist() == values.astype(str).tolist()
    frame = pd.DataFrame({"n": values})
    if len(values):
        assert b"".join(csv_chunks(frame)) == frame.to_csv(index=False, lineterminator="\r\n").encode()
