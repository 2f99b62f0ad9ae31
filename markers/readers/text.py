"""Text reader: csv/tsv/txt decoded, delimiter and decimal comma sniffed, split by Arrow or the csv module."""

from __future__ import annotations

import csv
import io as _stdio
import logging
import pathlib
import re
from collections import Counter

import pandas as pd

from markers.errors import InputFormatError
from markers.readers.encoding import decode_as, decode_text, utf16_without_bom
from markers.readers.limits import ReadLimits, check_text_file, check_width
from markers.readers.sheet import RawSheet, frame_from_rows
from markers.readers.text_split import (
    SNIFF_BYTES,
    SNIFF_RECORDS,
    csv_lines,
    head_of,
    line_breaks,
    refuse_line_count,
    split_fast,
    split_records,
)

logger = logging.getLogger(__name__)

__all__ = ["DELIMITERS", "read_text"]

# Delimiters markers recognises in text files, in order of preference on a tie
# (a tab or semicolon that splits every line evenly is more telling than a comma,
# which also appears inside decimal-comma numbers).
DELIMITERS = ("\t", ";", "|", ",")
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
    sample = head_of(text)
    best = (0, 0, 0)
    chosen = ","
    for rank, delim in enumerate(reversed(DELIMITERS)):
        counts: Counter[int] = Counter()
        try:
            reader = csv.reader(_stdio.StringIO(sample, newline=""), delimiter=delim)
            for i, record in enumerate(reader):
                if i >= SNIFF_RECORDS:
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
    lines = stats.lines if stats.exact and encoding is None else csv_lines(utf8)
    delimiter = _sniff_delimiter(text if text is not None else utf8[:SNIFF_BYTES + 1].decode("ascii"))
    cells = split_fast(utf8, delimiter) if max_rows is None and len(utf8) > _FAST_TEXT_MIN else None
    if text is None and cells is None:
        text = utf8.decode("ascii")
    del utf8
    if cells is not None:
        if len(cells) != lines:
            refuse_line_count(name, lines, len(cells), 0)
        check_width(name, cells.shape[1], limits)
        head = cells.iloc[:_DECIMAL_SAMPLE_ROWS].astype(object).where(cells.iloc[:_DECIMAL_SAMPLE_ROWS].notna(), None)
        decimal_comma = _sniff_decimal_comma(head.to_numpy().tolist(), delimiter)
        logger.debug("%s: delimiter %r, decimal comma %s, %d lines (Arrow parser)", name, delimiter, decimal_comma,
                     len(cells))
        return RawSheet(name, path, "", cells, decimal_comma, fmt)
    rows, index = split_records(name, text, delimiter, max_rows)
    if max_rows is None:
        inner = sum(line_breaks(cell) for row in rows for cell in row if "\n" in cell or "\r" in cell)
        if len(rows) + inner != lines:
            refuse_line_count(name, lines, len(rows), inner)
    decimal_comma = _sniff_decimal_comma(rows, delimiter)
    width = max((len(r) for r in rows), default=0)
    check_width(name, width, limits)
    if width:
        # ragged rows (short data rows, one-cell title lines) are padded to a rectangle
        rows = [r if len(r) == width else r + [""] * (width - len(r)) for r in rows]
    cells = frame_from_rows(rows, index=pd.Index(index, dtype="int64"))
    logger.debug("%s: delimiter %r, decimal comma %s, %d lines", name, delimiter, decimal_comma, len(rows))
    return RawSheet(name, path, "", cells, decimal_comma, fmt)
