"""Text reader: csv/tsv/txt decoded, delimiter and decimal comma sniffed, split by Arrow or the csv module."""

from __future__ import annotations

import csv
import io as _stdio
import logging
import pathlib
import re
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.errors import InputFormatError
from markers.readers.encoding import decode_as, decode_text, utf16_without_bom
from markers.readers.limits import ReadLimits, check_text_file, check_width
from markers.readers.sheet import RawSheet, cells_frame, frame_from_rows

logger = logging.getLogger(__name__)

__all__ = ["DELIMITERS", "read_text"]

# Delimiters markers recognises in text files, in order of preference on a tie
# (a tab or semicolon that splits every line evenly is more telling than a comma,
# which also appears inside decimal-comma numbers).
DELIMITERS = ("\t", ";", "|", ",")
_SNIFF_BYTES = 64 * 1024
_SNIFF_RECORDS = 50
_DECIMAL_SAMPLE_ROWS = 2000
# Text shorter than this is split by the csv module alone (Arrow's set-up costs more).
_FAST_TEXT_MIN = 64 * 1024
_DECIMAL_COMMA = re.compile(r"^[<>]?=?\s*-?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[<>]?=?\s*-?\d+\.\d+$")
# Control characters tolerated in text: tab, newlines, form feed, vertical tab
# (Excel writes it for a line break inside a cell) and the DOS end-of-file mark.
# Every other C0 control byte, DEL, and the C1 controls (U+0080..U+009F) count as binary junk.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1B, 0x20), 0x7F])
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_C1_CONTROLS = re.compile(rb"\xc2[\x80-\x9f]")


def _count_controls(utf8: bytes) -> int:
    """Control characters in UTF-8 text (C0 bytes but the tolerated ones, DEL, and C1 controls).

    ``bytes.translate`` deleting every other byte value counts the C0 controls in
    one C pass; C1 controls (U+0080..U+009F, encoded 0xC2 0x80..0x9F) are looked
    for only when a 0xC2 byte occurs at all.
    """
    count = len(utf8.translate(None, _NOT_CONTROL_BYTES))
    if b"\xc2" in utf8:
        count += len(_C1_CONTROLS.findall(utf8))
    return count


def _decode(path: pathlib.Path, data: bytes) -> tuple[str | None, bytes]:
    """The file's text and the same text as UTF-8 bytes (without a byte-order mark).

    The text is None for plain ASCII, which is its own UTF-8: decode ``utf8`` when needed.
    """
    name = path.name
    bomless = None if data.startswith((b"\xff\xfe", b"\xfe\xff")) else utf16_without_bom(data[:4096])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or bomless:
        try:
            text = data.decode(bomless or "utf-16")  # Excel's "Unicode text" export
        except UnicodeDecodeError as exc:
            raise InputFormatError(
                f"{name}: starts like UTF-16 text but cannot be decoded ({exc.reason}); "
                "export the data again as CSV (UTF-8)."
            ) from exc
        utf8 = text.encode("utf-8", "surrogatepass")
    else:
        if b"\x00" in data:
            line = data.count(b"\n", 0, data.index(b"\x00")) + 1
            raise InputFormatError(
                f"{name}: contains NUL bytes (first on line {line}): it is a binary file, not text; "
                "export the data again as CSV (UTF-8)."
            )
        utf8 = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        if utf8.isascii():
            # plain ASCII (most exports): valid UTF-8 as it stands, and decoded only if the csv
            # module has to read it (a million-row file never becomes one more copy in memory)
            _refuse_controls(name, utf8, len(utf8))
            return None, utf8
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = decode_text(name, data)  # Windows-1252, or a message naming what the bytes are
            logger.info("%s: not UTF-8, decoded as Windows-1252", name)
            utf8 = text.encode("utf-8")
        else:
            if "\ufeff" in text:  # a second export (its BOM before its header) pasted below the first
                text = text.replace("\n\ufeff", "\n")
                utf8 = text.encode("utf-8")
    _refuse_controls(name, utf8, len(text))
    return text, utf8


def _refuse_controls(name: str, utf8: bytes, length: int) -> None:
    """Stop on text with more control characters than 1 in 100 (and more than 10): a binary file."""
    controls = _count_controls(utf8)
    if controls > max(10, length // 100):
        raise InputFormatError(
            f"{name}: contains {controls:,} control characters: it looks like a binary file, not text; "
            "export the data again as CSV (UTF-8)."
        )


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first records most consistently.

    For each candidate, parse the first records with :mod:`csv` (so quoted
    delimiters do not count) and find the most common field count above one;
    the score is how many records have it, then the count itself. Title lines
    (one field) lower every candidate alike.
    """
    sample = _head(text)
    best = (0, 0, 0)
    chosen = ","
    for rank, delim in enumerate(reversed(DELIMITERS)):
        counts: Counter[int] = Counter()
        try:
            reader = csv.reader(_stdio.StringIO(sample, newline=""), delimiter=delim)
            for i, record in enumerate(reader):
                if i >= _SNIFF_RECORDS:
                    break
                if len(record) > 1:
                    counts[len(record)] += 1
        except csv.Error:
            continue
        if not counts:
            continue
        width, hits = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        score = (hits, width, rank)
        if score > best:
            best, chosen = score, delim
    return chosen


def _head(text: str) -> str:
    """The first ``_SNIFF_BYTES`` characters of ``text``, cut after a line break."""
    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    return sample


def _sniff_decimal_comma(rows: list[list[str | None]], delimiter: str) -> bool:
    if delimiter == ",":
        return False
    commas = points = 0
    for row in rows[:_DECIMAL_SAMPLE_ROWS]:
        for cell in row:
            if not cell or len(cell) > 40:
                continue
            cell = cell.strip()
            if _DECIMAL_COMMA.match(cell):
                commas += 1
            elif _DECIMAL_POINT.match(cell):
                points += 1
    return commas > points


def _physical_lines(data: bytes | str) -> int:
    """Lines as the csv module counts them (a last line without a line break counts)."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline) + (0 if not data or data.endswith(newline) else 1)


def _lone_carriage_return(utf8: bytes) -> bool:
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


def _split_fast(utf8: bytes, delimiter: str) -> pd.DataFrame | None:
    """Split UTF-8 text with Arrow's CSV parser; None when it cannot match the csv module exactly.

    Arrow's parser is many times faster than :mod:`csv` on large exports and
    hands over Arrow strings (no Python object per cell). Each record must be
    one physical line, so that record *k* is line *k*: a lone carriage return
    sends the file to the csv module at once, and a line break inside quotes
    (one record over two lines) shows as fewer records than lines. The width is that of the first records;
    lines of another width (title lines, short or long rows) are handed back by
    the parser with their line numbers and split by the csv module, then put
    back at their lines. Anything else the parser refuses goes to the csv
    module as a whole. Cells are text; an empty cell is missing.
    """
    if not utf8 or _lone_carriage_return(utf8):
        return None
    import pyarrow.csv as pacsv

    head = utf8[:_SNIFF_BYTES].decode("utf-8", "ignore")
    try:
        widths = [len(r) for _, r in zip(range(_SNIFF_RECORDS), csv.reader(_stdio.StringIO(_head(head), newline=""),
                                                                           delimiter=delimiter), strict=False)]
    except csv.Error:
        return None
    width = max(Counter(w for w in widths if w > 1).most_common(1), default=(max(widths, default=1), 0))[0]
    names = [str(i) for i in range(width)]
    odd_lines: list[tuple[int, str]] = []

    def other_width(row) -> str:
        odd_lines.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            _stdio.BytesIO(utf8),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False,
                                           block_size=min(max(len(utf8) + 1, 1 << 20), 1 << 30)),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                             newlines_in_values=True, ignore_empty_lines=False,
                                             invalid_row_handler=other_width),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.large_string()), null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except (pa.ArrowException, ValueError):
        return None
    lines = _physical_lines(utf8)
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


def read_text(path: pathlib.Path, *, fmt: str, max_rows: int | None = None, encoding: str | None = None,
              limits: ReadLimits | None = None) -> RawSheet:
    """Read one text file into a :class:`RawSheet` (the checks of :func:`markers.readers.limits.check_text_file` first).

    ``encoding`` (e.g. ``"shift_jis"``) decodes the file with that codec instead of
    recognising UTF-8, UTF-16 or Windows-1252.
    """
    name = path.name
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or utf16_without_bom(head) is not None
        stats = check_text_file(path, utf16=utf16, limits=limits)  # streamed: NUL bytes and huge lines refused before a whole read
        data = path.read_bytes()
    except OSError as exc:
        raise InputFormatError(f"{name}: cannot be read ({exc.strerror or exc}); check the file.") from exc
    if encoding is not None:
        text = decode_as(name, data, encoding)
        utf8 = text.encode("utf-8", "surrogatepass")
        _refuse_controls(name, utf8, len(text))
    else:
        text, utf8 = _decode(path, data)
    del data
    # the lines the parse must account for, counted apart from it (UTF-16, a given encoding: on the decoded text)
    lines = stats.lines if stats.exact and encoding is None else _csv_lines(utf8)
    delimiter = _sniff_delimiter(text if text is not None else utf8[:_SNIFF_BYTES + 1].decode("ascii"))
    cells = _split_fast(utf8, delimiter) if max_rows is None and len(utf8) > _FAST_TEXT_MIN else None
    if text is None and cells is None:
        text = utf8.decode("ascii")
    del utf8
    if cells is not None:
        if len(cells) != lines:
            _refuse_line_count(name, lines, len(cells), 0)
        check_width(name, cells.shape[1], limits)
        head = cells.iloc[:_DECIMAL_SAMPLE_ROWS].astype(object).where(cells.iloc[:_DECIMAL_SAMPLE_ROWS].notna(), None)
        decimal_comma = _sniff_decimal_comma(head.to_numpy().tolist(), delimiter)
        logger.debug("%s: delimiter %r, decimal comma %s, %d lines (Arrow parser)", name, delimiter, decimal_comma,
                     len(cells))
        return RawSheet(name, path, "", cells, decimal_comma, fmt)
    rows, index = _split_records(name, text, delimiter, max_rows)
    if max_rows is None:
        inner = sum(_line_breaks(cell) for row in rows for cell in row if "\n" in cell or "\r" in cell)
        if len(rows) + inner != lines:
            _refuse_line_count(name, lines, len(rows), inner)
    decimal_comma = _sniff_decimal_comma(rows, delimiter)
    width = max((len(r) for r in rows), default=0)
    check_width(name, width, limits)
    if width:
        # ragged rows (short data rows, one-cell title lines) are padded to a rectangle
        rows = [r if len(r) == width else r + [""] * (width - len(r)) for r in rows]
    cells = frame_from_rows(rows, index=pd.Index(index, dtype="int64"))
    logger.debug("%s: delimiter %r, decimal comma %s, %d lines", name, delimiter, decimal_comma, len(rows))
    return RawSheet(name, path, "", cells, decimal_comma, fmt)


def _split_records(name: str, text: str, delimiter: str, max_rows: int | None) -> tuple[list[list[str]], list[int]]:
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


def _line_breaks(text: str | bytes) -> int:
    """Line breaks as the csv module counts them: ``\\r\\n``, ``\\n`` and a lone ``\\r`` are one each."""
    if isinstance(text, bytes):
        return text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _csv_lines(utf8: bytes) -> int:
    """Physical lines of UTF-8 text as the csv module counts them (a last line without a break counts)."""
    return _line_breaks(utf8) + (1 if utf8 and not utf8.endswith((b"\n", b"\r")) else 0)


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


def _refuse_line_count(name: str, lines: int, rows: int, inner: int) -> None:
    """Stop when the parse does not account for every physical line of the file (rows would be lost)."""
    raise InputFormatError(
        f"{name}: the file has {lines:,} lines, but the parse accounts for {rows + inner:,} ({rows:,} rows and "
        f"{inner:,} line breaks inside quoted cells): {abs(lines - rows - inner):,} lines would be lost or "
        "invented; check for a quote (\") that is opened but never closed, and export the data again."
    )
