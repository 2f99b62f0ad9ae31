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

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from markers.readers.sheet import text_offsets
from markers.write.number_text import large_text, number_text

#: Cells formatted per slice of rows: bounds the memory of the text built at once. A wide table
#: (the assessment's 48 columns) gets fewer rows per slice than a narrow one: its slices' text is
#: then made in memory the allocator has already mapped, not in fresh pages (faulting in 100 MB of
#: new pages cost more than formatting the text).
CHUNK_CELLS = 250_000
#: Rows whose columns are turned into codes and distinct texts at once (at most a few MB per column).
BLOCK_ROWS = 200_000


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=pa.large_string())


def _needs_quotes(sep: str) -> str:
    return "[" + ("\\t" if sep == "\t" else sep) + '"\\r\\n]'


def _quote(values: pa.Array, sep: str) -> pa.Array:
    """Quote the fields that need it, as ``csv.writer`` with ``QUOTE_MINIMAL`` does."""
    if not _may_need_quotes(values, sep):
        return values
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
    first, last = _byte_run(values)
    octets = buffers[2].slice(first, last - first).to_pybytes()  # ``in`` on bytes is a memchr per character
    return any(char in octets for char in (sep.encode(), b'"', b"\r", b"\n"))


#: A column's text: ``(codes, texts)``, each row's text being ``texts[code]`` (a column that repeats
#: its values), or ``(None, texts)``, one text per row.
Field = tuple[np.ndarray | None, pa.Array]


def _numbers_field(values: np.ndarray, missing: np.ndarray | None = None) -> Field:
    """``values.astype(str)`` (pandas' formatting of numbers), each distinct value formatted once;
    ``''`` where ``missing`` holds.

    Distinct by bit pattern, so ``-0.0`` keeps its sign; formatting is the slow part (shortest
    round-trip digits), and a lab table repeats its numbers a lot. A missing value is one more code.
    """
    if missing is not None and missing.all():  # an empty column (most of a registry's findings): one code
        return np.zeros(len(values), dtype=np.int64), large_text(np.array([""]))
    if values.dtype.kind == "b":  # two texts; the values are their codes (no hashing)
        codes = values.astype(np.int64)
        texts = np.array([False, True]).astype(str)
        if missing is not None:
            texts = np.append(texts, "")
            codes[missing] = 2
        return codes, large_text(texts)
    if missing is None and values.dtype.kind in "iu" and len(values) > 1_000 and len(np.unique(values[:1_000])) > 500:
        # integers mostly distinct (the source row numbers): Arrow writes every one faster than
        # hashing finds the few repeats
        return None, number_text(values)
    bits = values.view(f"u{values.dtype.itemsize}") if values.dtype.kind == "f" else values
    # Arrow's hashing of the integers (bit patterns): a third of pd.factorize's time
    encoded = pc.dictionary_encode(pa.array(bits))
    codes, uniques = encoded.indices.to_numpy().astype(np.int64), encoded.dictionary.to_numpy()
    if len(uniques) > len(values) // 2:
        text = number_text(values)
        return None, pc.if_else(pa.array(missing), _text(""), text) if missing is not None else text
    uniques = uniques.view(values.dtype) if values.dtype.kind == "f" else uniques
    texts = number_text(np.asarray(uniques))
    if missing is not None:
        texts = pa.concat_arrays([texts, pa.array([""], type=pa.large_string())])
        codes[missing] = len(uniques)
    return codes, texts


def _text_field(values: pa.Array, sep: str) -> Field:
    """Quoted text; a column that repeats its values (notes, summaries, dates) as codes into its
    distinct values, each quoted once."""
    if len(values) > 1_000 and not _text_bytes(values):  # every field empty: one code, no hashing
        return np.zeros(len(values), dtype=np.int64), pa.array([""], type=pa.large_string())
    # a sample's distinct values tell a column of IDs (one text per row: no codes) from a repetitive one
    sample = pc.unique(values.slice(0, 1_000)) if len(values) > 1_000 else None
    if sample is not None and len(sample) == 1 and pc.all(pc.equal(values, sample[0])).as_py():
        # one text in every row (the file's name, a unit, a reference set): a comparison with it
        # costs a quarter of hashing every row
        return np.zeros(len(values), dtype=np.int64), _quote(sample, sep)
    if sample is not None and len(sample) <= 250:
        encoded = pc.dictionary_encode(values)
        if 4 * len(encoded.dictionary) <= len(values):
            return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), _quote(encoded.dictionary, sep)
    return None, _quote(values, sep)


def _text_bytes(values: pa.Array) -> int:
    """The bytes of text the fields of ``values`` (a large_string array without missing values) hold."""
    if isinstance(values, pa.ChunkedArray):
        return sum(_text_bytes(chunk) for chunk in values.chunks)
    first, last = _byte_run(values)
    return last - first


def _byte_run(values: pa.Array) -> tuple[int, int]:
    """Where the fields of ``values`` (a string array, or a slice of one) start and stop in its data
    buffer: a slice shares its column's whole buffer, and only its own run of bytes is its text."""
    offsets = text_offsets(values)
    return int(offsets[0]), int(offsets[-1])


def _field(series: pd.Series, sep: str) -> Field | None:
    """The text pandas writes for each value of ``series`` (missing -> ''), quoted; None for other kinds."""
    dtype = series.dtype
    # Numbers (digits, '.', '-', '+', 'e', inf, True/False) never hold a separator or a quote.
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = series.to_numpy()
        if dtype.kind == "f":
            missing = np.isnan(values)
            return _numbers_field(values, missing) if missing.any() else _numbers_field(values)
        return _numbers_field(values)
    if _masked_int_or_bool(dtype):  # pandas writes str() of each value, '' for <NA>
        missing = series.isna().to_numpy()
        if missing.all():  # no value to convert (a finding no course reached)
            return np.zeros(len(missing), dtype=np.int64), large_text(np.array([""]))
        values = series.to_numpy(dtype=dtype.numpy_dtype, na_value=dtype.numpy_dtype.type(0))
        return _numbers_field(values, missing)
    if _text_categories(dtype):  # codes into the categories' texts (dates as text, see cells.date_text)
        codes = series.cat.codes.to_numpy().astype(np.int64)
        texts = _one_chunk(pa.array(dtype.categories.array, type=pa.large_string()))
        missing = codes < 0
        if missing.any():  # the missing ones' code: the text appended after the categories'
            codes[missing] = len(texts)
            texts = pa.concat_arrays([texts, pa.array([""], pa.large_string())])
        return codes, _quote(texts, sep)
    text = _field_text(series)
    return None if text is None else _text_field(text, sep)


def _text_categories(dtype: object) -> bool:
    """A categorical of text categories (written as its categories' text, ``''`` when missing)."""
    return isinstance(dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(dtype.categories, skipna=False) in (
        "string", "empty")


def _field_text(series: pd.Series) -> pa.Array | None:
    """The text of a text column (missing -> ''), unquoted; None for other kinds."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        values = _one_chunk(pa.array(series))  # the column's own Arrow data, no copy when in one piece
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


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """An Arrow column in one piece: a pandas column of concatenated tables (the issues of several
    sheets, a categorical's categories) holds several, and the writer reads one buffer per column."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _chunk_text(field: Field, start: int, stop: int) -> pa.Array:
    """The text of rows ``start:stop`` of a field."""
    codes, texts = field
    return texts.slice(start, stop - start) if codes is None else texts.take(pa.array(codes[start:stop]))


def _joined_runs(fields: Iterable[Field], sep: str, limit: int) -> list[Field]:
    """The fields, adjacent coded fields joined into one where their combinations are few.

    A run of columns with few distinct values (the assessment's flags, statuses, notes and empty
    columns) has few distinct combinations: each combination's text is joined once and taken per
    row, so the rows' join has a handful of parts instead of one per column. ``limit`` bounds the
    number of combinations of a run: those its fields could make, or, when a field would pass the
    limit, those its rows hold (a registry's 100,000 courses hold a few thousand of the 20,000 their
    statuses and notes could make). ``fields`` may be an iterator: each field's codes are folded
    into its run's combination as it comes, so a table's columns never hold their codes all at once.
    """
    parts: list[Field] = []
    run = _Run()
    for codes, texts in fields:
        if codes is not None and run.size * len(texts) > limit and len(run.texts) > 1:
            # too many combinations in principle: the run's combinations that occur, as one field, may
            # leave room for this one (the field's text is made now rather than when the run ends)
            joined = run.field(sep)
            run = _Run()
            run.add(*joined)
        if codes is not None and run.size * len(texts) <= limit:
            run.add(codes, texts)
            continue
        if run.texts:
            parts.append(run.field(sep))
        run = _Run()
        if codes is None:
            parts.append((codes, texts))
        else:
            run.add(codes, texts)
    if run.texts:
        parts.append(run.field(sep))
    return parts


class _Run:
    """Adjacent coded fields as one: each row's codes as one number (mixed radix, the first field the
    most significant digit), and the ``sep``-joined text of every combination of their codes (of
    those the rows hold, when that is less than half)."""

    def __init__(self) -> None:
        self.combination: np.ndarray | None = None
        self.texts: list[pa.Array] = []
        self.size = 1

    def add(self, codes: np.ndarray, texts: pa.Array) -> None:
        """Fold in the next field (its codes are the writer's own: the first field's become the run's, in place)."""
        if self.combination is None:
            self.combination = codes
        elif len(texts) > 1:  # a one-text field's digit is 0 in every row
            if self.combination.dtype != np.int64 or not self.combination.flags.writeable:
                self.combination = self.combination.astype(np.int64)
            self.combination *= len(texts)
            self.combination += codes
        self.texts.append(texts)
        self.size *= len(texts)

    def field(self, sep: str) -> Field:
        if len(self.texts) == 1:
            return self.combination, self.texts[0]
        number, combination = np.arange(self.size, dtype=np.int64), self.combination
        if self.size > 64:
            used = np.flatnonzero(np.bincount(combination, minlength=self.size))
            if 2 * len(used) < self.size:  # most combinations are in no row: the text of the others only
                renumbered = np.empty(self.size, dtype=np.int64)
                renumbered[used] = np.arange(len(used))
                number, combination = used, renumbered[combination]
        pieces, stride = [], 1
        for texts in reversed(self.texts):  # each combination's code of each field (the last field varies fastest)
            pieces.append(texts.take(pa.array(number // stride % len(texts))))
            stride *= len(texts)
        return combination, pc.binary_join_element_wise(*reversed(pieces), _text(sep))


def csv_chunks(frame: pd.DataFrame, *, sep: str = ",", lineterminator: str = "\r\n",
               chunk_rows: int | None = None) -> Iterator[bytes | memoryview] | None:
    """UTF-8 pieces (bytes-like) of ``frame.to_csv(index=False, sep=sep, lineterminator=lineterminator)``.

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
    if isinstance(dtype, pd.StringDtype) or _text_categories(dtype):
        return True
    return pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def _generate(columns: list[pd.Series], header: pa.Array, sep: str, eol: str, chunk_rows: int
              ) -> Iterator[bytes | memoryview]:
    quoted_header = _quote(header, sep).to_pylist()
    if len(quoted_header) == 1 and quoted_header[0] == "":
        quoted_header = ['""']
    yield (sep.join(quoted_header) + eol).encode("utf-8")
    rows = len(columns[0])
    # each column's codes and distinct texts once per block of rows (a column costs a few calls
    # whatever its length); the rows' text then a slice of rows at a time
    block_rows = max(chunk_rows, BLOCK_ROWS)
    for block in range(0, rows, block_rows):
        length = min(block_rows, rows - block)
        # a generator: each column's codes are folded into its run before the next column's are made
        fields = (_block_field(series, block, block + block_rows, sep) for series in columns)
        parts = _joined_runs(fields, sep, limit=max(16, length // 4))
        for start in range(0, length, chunk_rows):
            texts = [_chunk_text(part, start, min(start + chunk_rows, length)) for part in parts]
            if len(columns) == 1:  # csv.writer writes a lone empty field as "" so the row is not blank
                texts[0] = pc.if_else(pc.equal(texts[0], _text("")), _text('""'), texts[0])
            # the line end joins the last field (short), not the whole line: one pass over the row text less
            texts[-1] = pc.binary_join_element_wise(texts[-1], _text(eol), _text(""))
            yield _buffer_bytes(pc.binary_join_element_wise(*texts, _text(sep)) if len(texts) > 1 else texts[0])


def _block_field(series: pd.Series, start: int, stop: int, sep: str) -> Field:
    field = _field(series if start == 0 and stop >= len(series) else series.iloc[start:stop], sep)
    if field is None:
        raise ValueError(f"column {series.name!r} changed kind while writing")
    return field


def _buffer_bytes(lines: pa.Array) -> memoryview | bytes:
    """The concatenated UTF-8 of a string array without building Python strings per row: a view of
    the array's own buffer (no copy of the text, a slice's included: the view keeps the buffer alive)."""
    offsets = text_offsets(lines)
    data = lines.buffers()[2]
    if data is None:
        return b""
    return memoryview(data)[offsets[0]:offsets[-1]]
