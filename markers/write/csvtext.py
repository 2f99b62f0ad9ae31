"""Fast CSV/TSV text of a table: column-wise, byte for byte what ``DataFrame.to_csv`` writes.

pandas' writer hands every row to Python's ``csv`` module, which cost about half of ``markers
normalize`` on a million rows. Here each column becomes a string array once (numbers formatted as
pandas formats them: ``numpy.ndarray.astype(str)``), fields holding the separator, a quote, CR or LF
are quoted as the ``csv`` module does (``QUOTE_MINIMAL``, quotes doubled), and rows are joined with
Arrow compute, a slice of rows at a time so the text never exists whole in memory. A column of
another kind (categorical, nullable integer, mixed objects, ...) returns ``None``: the caller then
uses pandas' writer, so the file is the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Cells formatted per slice of rows: bounds the memory of the text built at once. A wide table
#: (the assessment's 48 columns) gets fewer rows per slice than a narrow one: its slices' text is
#: then made in memory the allocator has already mapped, not in fresh pages (faulting in 100 MB of
#: new pages cost more than formatting the text).
CHUNK_CELLS = 1_000_000


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=pa.large_string())


def _needs_quotes(sep: str) -> str:
    return "[" + ("\\t" if sep == "\t" else sep) + '"\\r\\n]'


def _quote(values: pa.Array, sep: str) -> pa.Array:
    """Quote the fields that need it, as ``csv.writer`` with ``QUOTE_MINIMAL`` does."""
    if not _may_need_quotes(values, sep):
        return values
    if isinstance(values, pa.Array) and len(values) > 1_000:
        encoded = pc.dictionary_encode(values)
        if 4 * len(encoded.dictionary) <= len(values):  # repetitive text (notes, summaries): each distinct value once
            return _quote(encoded.dictionary, sep).take(encoded.indices)
    mask = pc.match_substring_regex(values, _needs_quotes(sep))
    if not pc.any(mask).as_py():
        return values
    quoted = pc.binary_join_element_wise(_text('"'), pc.replace_substring(values, '"', '""'), _text('"'), _text(""))
    return pc.if_else(mask, quoted, values)


def _may_need_quotes(values: pa.Array, sep: str) -> bool:
    """Whether the fields of ``values`` hold a separator, quote, CR or LF anywhere (a byte search).

    The fields of a string array are one run of bytes in its data buffer, so when none of the
    four bytes is in that run no field needs quotes: the common case, decided without a
    per-field regex. A slice (a chunk of the rows) shares its column's whole buffer: only the
    slice's own run is read, so each chunk costs its own bytes, not the column's.
    """
    if isinstance(values, pa.ChunkedArray):
        return any(_may_need_quotes(chunk, sep) for chunk in values.chunks)
    buffers = values.buffers()
    if len(buffers) < 3 or buffers[2] is None or not len(values):
        return False
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=offset_type, count=values.offset + len(values) + 1)
    first, last = int(offsets[values.offset]), int(offsets[-1])
    octets = buffers[2].slice(first, last - first).to_pybytes()  # ``in`` on bytes is a memchr per character
    return any(char in octets for char in (sep.encode(), b'"', b"\r", b"\n"))


def _large_text(texts: np.ndarray) -> pa.Array:
    """A numpy array of str as Arrow large_string (pyarrow before 20 converts numpy text to string only)."""
    return pa.array(texts).cast(pa.large_string())


def _numbers_text(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """``values.astype(str)`` (pandas' formatting of numbers) as Arrow text, each distinct value formatted once;
    ``''`` where ``missing`` holds.

    Distinct by bit pattern, so ``-0.0`` keeps its sign; formatting is the slow part (shortest
    round-trip digits), and a lab table repeats its numbers a lot. A missing value is one more
    code, taken with the others (an often empty column costs one take, not a take and a choice).
    """
    bits = values.view(f"u{values.dtype.itemsize}") if values.dtype.kind == "f" else values
    codes, uniques = pd.factorize(bits, sort=False)
    if len(uniques) > len(values) // 2:
        text = _large_text(values.astype(str))
        return pc.if_else(pa.array(missing), _text(""), text) if missing is not None else text
    uniques = uniques.view(values.dtype) if values.dtype.kind == "f" else uniques
    texts = np.asarray(uniques).astype(str)
    if missing is not None:
        texts = np.append(texts, "")
        codes[missing] = len(uniques)
    return pc.take(_large_text(texts), pa.array(codes))


def _field_text(series: pd.Series) -> pa.Array | None:
    """The text pandas writes for each value of ``series`` (missing -> ''); None for other kinds."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = series.to_numpy()
        if dtype.kind == "f":
            missing = np.isnan(values)
            return _numbers_text(values, missing) if missing.any() else _numbers_text(values)
        return _numbers_text(values)
    if _masked_int_or_bool(dtype):  # pandas writes str() of each value, '' for <NA>
        values = series.to_numpy(dtype=dtype.numpy_dtype, na_value=dtype.numpy_dtype.type(0))
        return _numbers_text(values, series.isna().to_numpy())
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        values = pa.array(series)  # the column's own Arrow data, no copy
        return pc.fill_null(values.cast(pa.large_string()), _text(""))
    if isinstance(dtype, pd.StringDtype) or (
        pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")
    ):
        try:
            values = pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
        return pc.fill_null(values, _text(""))
    return None


def csv_chunks(frame: pd.DataFrame, *, sep: str = ",", lineterminator: str = "\r\n",
               chunk_rows: int | None = None) -> Iterator[bytes] | None:
    """UTF-8 pieces of ``frame.to_csv(index=False, sep=sep, lineterminator=lineterminator)``.

    ``None`` when a column is of a kind this writer does not format (the caller falls back to
    pandas), or the frame has no columns or non-text column labels. ``chunk_rows``: rows per
    slice (default: :data:`CHUNK_CELLS` cells' worth).
    """
    if not len(frame.columns) or any(isinstance(c, tuple) for c in frame.columns):
        return None
    header = pa.array([str(c) for c in frame.columns], type=pa.large_string())
    columns = [frame.iloc[:, position] for position in range(frame.shape[1])]
    if not all(_kind_ok(series) for series in columns):
        return None
    rows = chunk_rows if chunk_rows is not None else max(1_000, CHUNK_CELLS // len(columns))
    return _generate(columns, header, sep, lineterminator, rows)


#: pandas' nullable integers and booleans: written as ``str()`` of each value, ``<NA>`` empty.
_MASKED = (pd.BooleanDtype, pd.Int8Dtype, pd.Int16Dtype, pd.Int32Dtype, pd.Int64Dtype,
           pd.UInt8Dtype, pd.UInt16Dtype, pd.UInt32Dtype, pd.UInt64Dtype)


def _masked_int_or_bool(dtype: object) -> bool:
    return isinstance(dtype, _MASKED)


def _kind_ok(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub" or _masked_int_or_bool(dtype):
        return True
    if isinstance(dtype, pd.StringDtype):
        return True
    return pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _generate(columns: list[pd.Series], header: pa.Array, sep: str, eol: str, chunk_rows: int) -> Iterator[bytes]:
    quoted_header = _quote(header, sep).to_pylist()
    if len(quoted_header) == 1 and quoted_header[0] == "":
        quoted_header = ['""']
    yield (sep.join(quoted_header) + eol).encode("utf-8")
    rows = len(columns[0])
    for start in range(0, rows, chunk_rows):
        fields = []
        for series in columns:
            text = _field_text(series.iloc[start:start + chunk_rows])
            if text is None:
                raise ValueError(f"column {series.name!r} changed kind while writing")
            # Numbers (digits, '.', '-', '+', 'e', inf, True/False) never hold a separator or a quote.
            numeric = (isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub") or _masked_int_or_bool(
                series.dtype)
            fields.append(text if numeric else _quote(text, sep))
        if len(fields) == 1:  # csv.writer writes a lone empty field as "" so the row is not blank
            fields[0] = pc.if_else(pc.equal(fields[0], _text("")), _text('""'), fields[0])
        # the line end joins the last field (short), not the whole line: one pass over the row text less
        fields[-1] = pc.binary_join_element_wise(fields[-1], _text(eol), _text(""))
        yield _buffer_bytes(pc.binary_join_element_wise(*fields, _text(sep)) if len(fields) > 1 else fields[0])


def _buffer_bytes(lines: pa.Array) -> bytes:
    """The concatenated UTF-8 of a string array without building Python strings per row."""
    lines = pa.concat_arrays([lines]) if lines.offset else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64, count=len(lines) + 1)
    data = lines.buffers()[2]
    if data is None:
        return b""
    return data.to_pybytes()[offsets[0]:offsets[-1]]
