"""Text split into records: Arrow's CSV parser on one line per record, else the csv module; every line accounted for.

Both splitters must account for every physical line of the file (counted apart
by :func:`markers.readers.limits.check_text_file`): Arrow's records are lines
one for one, the csv module's records plus the line breaks inside quoted
cells. A record swallowing lines that look like rows, or a quote still open at
the end of the file, is refused naming the line where the quote opened.
"""

from __future__ import annotations

import csv
import io as _stdio
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.errors import InputFormatError
from markers.readers.sheet import cells_frame

__all__ = ["SNIFF_BYTES", "SNIFF_RECORDS", "csv_lines", "head_of", "line_breaks", "lone_carriage_return", "refuse_line_count", "split_fast", "split_records"]

SNIFF_BYTES = 64 * 1024
SNIFF_RECORDS = 50
# Blocks of a threaded parse: on a large export, two cores parse two blocks at once (the split of a
# million-row export took 0.9 s in one block, 0.6 s in blocks of 8 MiB); smaller files keep one block.
_BLOCK_BYTES = 8 << 20
# A threaded parse hands over its odd lines without their line numbers; they are found again in the
# text, which is worth it for a few (title lines, a footer, some short rows), not for many.
_MAX_ODD_TEXTS = 32
_MAX_CANDIDATES = 4096


def head_of(text: str) -> str:
    """The first ``SNIFF_BYTES`` characters of ``text``, cut after a line break."""
    sample = text[:SNIFF_BYTES]
    if len(text) > SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    return sample


def _physical_lines(data: bytes | str) -> int:
    """Lines as the csv module counts them (a last line without a line break counts)."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline) + (0 if not data or data.endswith(newline) else 1)


def lone_carriage_return(utf8: bytes) -> bool:
    """Whether a carriage return in ``utf8`` is not followed by a line feed (an old Mac line break)."""
    if b"\r" not in utf8:
        return False
    if utf8.endswith(b"\r"):
        return True
    octets = np.frombuffer(utf8, dtype=np.uint8)
    # Vectorised, a few MiB at a time: counting the two-byte b"\r\n" with bytes.count took three
    # times as long, and one comparison of the whole file would allocate (and fault in) a
    # temporary as large as the file.
    step = 1 << 22
    for start in range(0, len(octets) - 1, step):
        chunk = octets[start:start + step + 1]  # one byte more: the byte after a CR at the edge
        returns = np.flatnonzero(chunk[:-1] == 13)
        if len(returns) and (chunk[returns + 1] != 10).any():
            return True
    return False


def split_fast(utf8: bytes, delimiter: str) -> pd.DataFrame | None:
    """Split UTF-8 text with Arrow's CSV parser; None when it cannot match the csv module exactly.

    Arrow's parser is many times faster than :mod:`csv` on large exports and
    hands over Arrow strings (no Python object per cell). Each record must be
    one physical line, so that record *k* is line *k*: a lone carriage return
    sends the file to the csv module at once, and a line break inside quotes
    (one record over two lines) shows as fewer records than lines. The width is that of the first records;
    lines of another width (title lines, short or long rows) are handed back by
    the parser and split by the csv module, then put back at their lines. A
    large file is parsed in blocks on all cores, which hands the odd lines back
    without their numbers: they are found again in the text, or the file is
    parsed again in one block. Anything else the parser refuses goes to the csv
    module as a whole. Cells are text; an empty cell is missing.
    """
    if not utf8 or lone_carriage_return(utf8):
        return None
    head = utf8[:SNIFF_BYTES].decode("utf-8", "ignore")
    try:
        widths = [len(r) for _, r in zip(range(SNIFF_RECORDS), csv.reader(_stdio.StringIO(head_of(head), newline=""),
                                                                           delimiter=delimiter), strict=False)]
    except csv.Error:
        return None
    width = max(Counter(w for w in widths if w > 1).most_common(1), default=(max(widths, default=1), 0))[0]
    lines = _physical_lines(utf8)  # records and lines must match one for one, threads or not
    parsed = None
    pool = _threads_pool() if len(utf8) >= 2 * _BLOCK_BYTES else None
    if pool is not None:
        parsed = _parse(utf8, delimiter, width, threads=True, pool=pool)
        if parsed is not None and parsed[0].num_rows + len(parsed[1]) == lines:
            parsed = _number_odd_lines(utf8, *parsed)
    if parsed is None:  # small, or the threaded parse could not place its odd lines: one block, in order
        parsed = _parse(utf8, delimiter, width, threads=False)
    if parsed is None:
        return None
    table, odd_lines = parsed
    if table.num_rows + len(odd_lines) != lines or any(number is None for number, _ in odd_lines):
        return None
    columns: list[pa.ChunkedArray | pa.Array] = list(table.columns)
    del table
    if odd_lines:
        try:
            odd = [next(csv.reader([text], delimiter=delimiter), []) for _, text in odd_lines]
        except csv.Error:
            return None
        total = max(width, max(len(fields) for fields in odd))
        numbers = np.array([number for number, _ in odd_lines], dtype=np.int64)
        columns = [_interleave(columns[p] if p < width else None, [(f[p] or None) if p < len(f) else None for f in odd],
                               numbers=numbers, lines=lines) for p in range(total)]
    return cells_frame(columns, index=pd.RangeIndex(1, lines + 1))


def _threads_pool() -> pa.MemoryPool | None:
    """The memory pool for a threaded parse: jemalloc's, or None where pyarrow is built without it.

    With the default pool (mimalloc) the buffers Arrow's worker threads free
    stay in those threads' heaps: a threaded parse raised the peak memory of
    normalizing a million-row export by a third (1.30 GB against 0.97 GB in
    one block), above the twice-a-plain-read budget; with jemalloc's pool the
    peak stayed at 1.00 GB.
    """
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowException):
        return None


def _parse(utf8: bytes, delimiter: str, width: int, *, threads: bool,
           pool: pa.MemoryPool | None = None) -> tuple[pa.Table, list[tuple[int | None, str]]] | None:
    """Arrow's parse of ``utf8`` into ``width`` text columns, and the lines of another width (number, text).

    With threads Arrow gives no line numbers (``InvalidRow.number`` is None,
    whatever ``newlines_in_values`` and the blocks), and may hand the odd lines
    over out of order.
    """
    import pyarrow.csv as pacsv

    names = [str(i) for i in range(width)]
    odd_lines: list[tuple[int | None, str]] = []

    def other_width(row) -> str:
        odd_lines.append((row.number, row.text))
        return "skip"

    block = _BLOCK_BYTES if threads else min(max(len(utf8) + 1, 1 << 20), 1 << 30)
    try:
        table = pacsv.read_csv(
            _stdio.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=threads, block_size=block),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True, ignore_empty_lines=False,
                                             invalid_row_handler=other_width),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.large_string()), null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True),
            memory_pool=pool,
        )
    except (pa.ArrowException, ValueError):
        return None  # threaded: e.g. a record longer than a block; the one-block parse decides
    return table, odd_lines


def _number_odd_lines(utf8: bytes, table: pa.Table, odd_lines: list[tuple[int | None, str]]
                      ) -> tuple[pa.Table, list[tuple[int | None, str]]] | None:
    """The odd lines with their line numbers, found again in the text; None when that is not certain.

    Called only when the parse has as many records as the text has lines, so
    each record is one whole line: every line whose text is that of an odd line
    is itself an odd line (the same text splits the same way). A text found as
    often as the parser handed it over is therefore at exactly those lines;
    any other count (or too many texts to look for) gives None.
    """
    if all(number is not None for number, _ in odd_lines):
        return table, odd_lines
    counts = Counter(text for _, text in odd_lines)
    if len(counts) > _MAX_ODD_TEXTS:
        return None
    found: list[tuple[int, str]] = []
    for text, count in counts.items():
        starts = _whole_line_starts(utf8, text.encode("utf-8"), most=count)
        if starts is None or len(starts) != count:
            return None
        found.extend((start, text) for start in starts)
    found.sort()
    numbered: list[tuple[int | None, str]] = []
    line, counted = 1, 0
    for start, text in found:
        line += utf8.count(b"\n", counted, start)
        counted = start
        numbered.append((line, text))
    return table, numbered


def _whole_line_starts(utf8: bytes, needle: bytes, *, most: int) -> list[int] | None:
    """Offsets of the lines of ``utf8`` that are exactly ``needle`` (before ``\\n``, ``\\r\\n`` or the end).

    None when there are more than ``most``, or when too many lines merely
    begin with ``needle`` to look through.
    """
    starts: list[int] = []
    pattern = b"\n" + needle
    at = 0 if utf8.startswith(needle) else utf8.find(pattern) + 1
    if at == 0 and not utf8.startswith(needle):
        return starts
    for _ in range(_MAX_CANDIDATES):
        end = at + len(needle)
        if (end == len(utf8) and at < len(utf8)) or (end < len(utf8) and utf8[end] == 10) or utf8[end:end + 2] == b"\r\n":
            starts.append(at)
            if len(starts) > most:
                return None
        at = utf8.find(pattern, at) + 1
        if at == 0:
            return starts
    return None


def _interleave(block: pa.ChunkedArray | None, odd: list[str | None], *, numbers: np.ndarray,
                lines: int) -> pa.ChunkedArray:
    """One column of every line: the parsed block's cells, with the odd lines' cells put back at their lines.

    ``numbers`` are the odd lines' 1-based line numbers, increasing. A few odd
    lines (titles above, a footer below, some short rows) become zero-copy
    slices of the block with the odd cells between them; many become one take.
    """
    regular = lines - len(numbers)
    if block is None:
        block = pa.chunked_array([pa.nulls(regular, pa.large_string())])
    extra = pa.array(odd, type=pa.large_string())
    if len(numbers) > 256:
        source = np.empty(lines, dtype=np.int64)
        is_regular = np.ones(lines, dtype=bool)
        is_regular[numbers - 1] = False
        source[is_regular] = np.arange(regular)
        source[numbers - 1] = regular + np.arange(len(numbers))
        return pa.chunked_array([*block.chunks, extra], type=pa.large_string()).take(pa.array(source))
    pieces: list[pa.Array] = []
    start = 0
    for i, number in enumerate(numbers.tolist()):
        before = number - 1 - i  # regular lines above this odd line
        if before > start:
            pieces.extend(block.slice(start, before - start).chunks)
        pieces.append(extra.slice(i, 1))
        start = before
    if regular > start:
        pieces.extend(block.slice(start, regular - start).chunks)
    return pa.chunked_array(pieces, type=pa.large_string())


def split_records(name: str, text: str, delimiter: str, max_rows: int | None) -> tuple[list[list[str]], list[int]]:
    """Records with the csv module, each with its first physical line; a record swallowing rows is refused."""
    rows: list[list[str]] = []
    index: list[int] = []
    stream = _stdio.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    line = 1  # first physical line of the next record
    start = 0  # offset of the next record in the text
    try:
        for record in reader:
            if max_rows is not None and line > max_rows:
                break
            rows.append(record)
            index.append(line)
            if reader.line_num > line:  # a quoted field spans lines: legal, unless it swallowed rows
                _refuse_swallowed_rows(name, record, delimiter, line, reader.line_num)
                if stream.tell() == len(text):  # the last record: its quote must be closed
                    _refuse_open_quote(name, text[start:], delimiter, line, reader.line_num)
            line = reader.line_num + 1
            start = stream.tell()
    except csv.Error as exc:
        raise InputFormatError(
            f"{name}: line {line}: cannot be split into cells ({exc}); check for a quote (\") that is "
            "opened but never closed."
        ) from exc
    return rows, index


def _refuse_swallowed_rows(name: str, record: list[str], delimiter: str, first: int, last: int) -> None:
    """Stop when a quoted cell over several lines holds lines that look like rows (a quote never closed).

    A comment over two or three lines is legal CSV; a cell holding two or more
    lines with as many delimiters as a row has is not a comment but the rows
    after an unmatched quote, which would otherwise vanish from the count.
    """
    width = len(record)
    for cell in record:
        if "\n" not in cell and "\r" not in cell:
            continue
        inner = cell.splitlines()[1:]
        row_like = sum(1 for text in inner if width > 1 and text.count(delimiter) >= width - 1)
        if row_like >= 2:
            raise InputFormatError(
                f"{name}: line {first}: a quote (\") opened there is not closed before line {last:,}, so "
                f"{last - first:,} lines that look like rows would be read as one cell; close or remove the "
                "quote and export the data again."
            )


def line_breaks(text: str | bytes) -> int:
    """Line breaks as the csv module counts them: ``\\r\\n``, ``\\n`` and a lone ``\\r`` are one each."""
    if isinstance(text, bytes):
        return text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def csv_lines(utf8: bytes) -> int:
    """Physical lines of UTF-8 text as the csv module counts them (a last line without a break counts)."""
    return line_breaks(utf8) + (1 if utf8 and not utf8.endswith((b"\n", b"\r")) else 0)


def _refuse_open_quote(name: str, tail: str, delimiter: str, first: int, last: int) -> None:
    """Stop when the file's last record ends inside a quoted cell: the quote opened on ``first`` never closes."""
    try:
        for _ in csv.reader(_stdio.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "end of data" not in str(exc):
            return  # a sloppy quote elsewhere in the record, which the lenient parse read as text
        raise InputFormatError(
            f"{name}: line {first}: a quote (\") opened there is never closed, so the {last - first + 1:,} "
            f"lines {first:,} to {last:,} (the end of the file) would be read as one cell; close or remove "
            "the quote and export the data again."
        ) from exc


def refuse_line_count(name: str, lines: int, rows: int, inner: int) -> None:
    """Stop when the parse does not account for every physical line of the file (rows would be lost)."""
    raise InputFormatError(
        f"{name}: the file has {lines:,} lines, but the parse accounts for {rows + inner:,} ({rows:,} rows and "
        f"{inner:,} line breaks inside quoted cells): {abs(lines - rows - inner):,} lines would be lost or "
        "invented; check for a quote (\") that is opened but never closed, and export the data again."
    )
