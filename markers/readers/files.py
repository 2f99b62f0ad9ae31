"""Raw readers: every sheet of every input file, cells as written, with row numbers.

:func:`read_raw` is the only place markers opens a spreadsheet. It first runs
:func:`markers.readers.safety.check_input_file` (so every reader path is protected
against ZIP bombs, XML entities and mislabelled files), then reads:

* workbooks (xlsx, xlsm, xls, ods) with fastexcel (the calamine parser,
  straight into Arrow), falling back to openpyxl (read-only, values only) for
  xlsx/xlsm when it fails;
* text files (csv, tsv, txt), after decoding (UTF-8 with or without BOM,
  UTF-16 with BOM, else Windows-1252) and sniffing the delimiter and the
  decimal separator, with Arrow's CSV parser, falling back to the :mod:`csv`
  module when a record spans lines (and for small files).

Every cell arrives as text (see :func:`excel_text`), in Arrow-backed columns,
at its exact sheet position, so that later stages can cite ``D14`` in a
message and work on a million cells without a Python object for each.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io as _stdio
import logging
import os
import pathlib
import re
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.errors import InputFormatError, MarkersError, UnsafeInputError
from markers.readers.safety import SUPPORTED_SUFFIXES, check_input_file, content_kind, defusedxml_active

logger = logging.getLogger(__name__)

__all__ = [
    "CELL_DTYPE",
    "RawSheet",
    "SUPPORTED_SUFFIXES",
    "cell_ref",
    "column_letter",
    "excel_text",
    "read_raw",
    "sha256_of",
]

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

#: The dtype of every column of :attr:`RawSheet.cells`: Arrow-backed text, NaN for an empty cell.
CELL_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


@dataclass(frozen=True)
class RawSheet:
    """The cells of one sheet (or one text file), as written.

    Attributes
    ----------
    file : str
        The file's base name, e.g. ``"lab.xlsx"``.
    path : pathlib.Path
        The file's path.
    sheet : str
        The sheet name; ``""`` for csv/tsv/txt files.
    cells : pandas.DataFrame
        Every column of dtype :data:`CELL_DTYPE` (Arrow-backed text; NaN for
        an empty cell). The index holds the 1-based sheet row numbers (Excel
        row numbers; text files: line numbers), starting at 1 so leading
        blank rows are present (as all-NaN rows). The columns are the 0-based
        column positions (0 = A), starting at 0. Every cell is text, whatever
        the reader: workbook numbers, dates and booleans are written as
        :func:`excel_text` writes them (``45``, ``0.3``,
        ``2024-03-05 00:00:00``, ``true``), so that the fast reader and the
        fallback give the same cells, and a column of a million cells never
        becomes a million Python objects.
    decimal_comma : bool or None
        Text files: True when numbers are written with a decimal comma
        (sniffed); workbooks: None.
    fmt : str
        What was read: ``"xlsx"``, ``"xlsm"``, ``"xls"``, ``"ods"``,
        ``"csv"``, ``"tsv"`` or ``"txt"``.
    """

    file: str
    path: pathlib.Path
    sheet: str
    cells: pd.DataFrame
    decimal_comma: bool | None
    fmt: str


def column_letter(index: int) -> str:
    """Return the spreadsheet column letters of a 0-based column position.

    Parameters
    ----------
    index : int
        0-based column position (0 = A).

    Returns
    -------
    str
        ``"A"``, ..., ``"Z"``, ``"AA"``, ...

    Raises
    ------
    ValueError
        If ``index`` is negative.

    Examples
    --------
    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16383)
    ('A', 'Z', 'AA', 'XFD')
    """
    if index < 0:
        raise ValueError(f"column index must be >= 0, got {index}")
    letters = ""
    number = index + 1
    while number:
        number, rem = divmod(number - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def cell_ref(row: int, col: int) -> str:
    """Return the A1-style reference of a cell.

    Parameters
    ----------
    row : int
        1-based row number.
    col : int
        0-based column position.

    Returns
    -------
    str
        For example ``"D14"``.

    Raises
    ------
    ValueError
        If ``row`` < 1 or ``col`` < 0.

    Examples
    --------
    >>> cell_ref(14, 3)
    'D14'
    """
    if row < 1:
        raise ValueError(f"row number must be >= 1, got {row}")
    return f"{column_letter(col)}{row}"


def sha256_of(path: str | os.PathLike) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    str
        64 lowercase hex digits.

    Raises
    ------
    InputFormatError
        When the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_of(p)[:16]
    'ba7816bf8f01cfea'
    """
    path = pathlib.Path(path)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1024 * 1024), b""):
                digest.update(block)
    except OSError as exc:
        raise InputFormatError(f"{path.name}: cannot be read ({exc.strerror or exc}); check the path.") from exc
    return digest.hexdigest()


def read_raw(path: str | os.PathLike, *, max_rows: int | None = None) -> list[RawSheet]:
    """Read every sheet of a spreadsheet or text file, cells as written.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``, ``.csv``, ``.tsv`` or
        ``.txt`` file.
    max_rows : int, optional
        Read only sheet rows (text: lines) 1 to ``max_rows`` of each sheet,
        e.g. to preview a file. Default: all rows.

    Returns
    -------
    list of RawSheet
        One per worksheet (chart sheets are skipped), in workbook order; one
        for a text file.

    Raises
    ------
    UnsafeInputError
        A ZIP bomb, XML entity declarations or a password-protected file
        (see :func:`markers.readers.safety.check_input_file`).
    InputFormatError
        A missing, empty, corrupt, mislabelled or unreadable file, or a
        workbook without worksheets.

    Warns
    -----
    UserWarning
        When a workbook's content is another workbook format than its
        extension says (e.g. an xls saved as ``.xlsx``); it is read by its
        content.

    Notes
    -----
    Formulas give their cached value; a formula never calculated (a file
    written by a script, not saved by Excel) reads as an empty cell. Merged
    cells hold their value in the top-left cell only.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lab.csv"
    >>> _ = p.write_text("Patient;VMA\\nP1;<0,5\\n", encoding="utf-8")
    >>> [sheet] = read_raw(p)
    >>> sheet.cells.loc[2, 1], sheet.decimal_comma
    ('<0,5', True)
    """
    path = pathlib.Path(path)
    if max_rows is not None and max_rows < 0:
        raise ValueError(f"max_rows must be >= 0, got {max_rows}")
    check_input_file(path)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return [_read_text(path, fmt=suffix[1:], max_rows=max_rows)]
    if suffix in (".parquet", ".feather"):
        from markers.readers.arrow_tables import read_arrow_table  # arrow_tables imports this module

        return [read_arrow_table(path, max_rows=max_rows)]
    kind = content_kind(path)
    fmt = "xlsm" if kind == "xlsx" and suffix == ".xlsm" else kind
    if suffix[1:] != fmt and not (kind == "xlsx" and suffix in (".xlsx", ".xlsm")):
        warnings.warn(
            f"{path.name}: the file is really an {kind} workbook saved with a {suffix} name; "
            f"markers reads it as {kind}. Rename it to .{kind} to silence this warning.",
            UserWarning,
            stacklevel=2,
        )
    return _read_workbook(path, fmt=fmt, by_content=suffix[1:] != fmt, max_rows=max_rows)


# -- the cell model ------------------------------------------------------------------


def excel_text(value: object) -> str | None:
    """One cell value as text, the way the workbook reader writes it; None for an empty cell.

    Every reader hands over text, so that a number, a date or a flag reads the
    same whichever reader (or file format) it came from:

    * numbers: nine decimals at most, trailing zeros dropped (``45.0`` ->
      ``"45"``, ``1/3`` -> ``"0.333333333"``), as Excel shows them in a wide
      cell; lab results never carry more;
    * date and time cells: ``"2024-03-05 00:00:00"``, with fractions of a
      second when there are any (``"2024-03-05 10:30:15.500"``); a time or a
      duration counts from day 0 of the 1900 system (``"1899-12-31 14:05:00"``);
    * booleans: ``"true"`` / ``"false"``; text: as written; ``""``: empty.

    Examples
    --------
    >>> [excel_text(v) for v in (45.0, 0.1 + 0.2, -0.0, True, "0042", "", None)]
    ['45', '0.3', '-0', 'true', '0042', None, None]
    >>> excel_text(_dt.datetime(2024, 3, 5, 10, 30, 15, 500000))
    '2024-03-05 10:30:15.500'
    """
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        return value or None
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, int | float):
        value = float(value)
        if value != value:  # NaN: no spreadsheet cell holds one
            return None
        return f"{value:.9f}".rstrip("0").rstrip(".")
    if isinstance(value, _dt.datetime):
        return _datetime_text(value.replace(tzinfo=None))
    if isinstance(value, _dt.date):
        return f"{value.isoformat()} 00:00:00"
    if isinstance(value, _dt.time):
        return _datetime_text(_dt.datetime.combine(_DAY_ZERO, value))
    if isinstance(value, _dt.timedelta):
        return _datetime_text(_DAY_ZERO_DT + value)
    return str(value) or None


_DAY_ZERO = _dt.date(1899, 12, 31)
_DAY_ZERO_DT = _dt.datetime(1899, 12, 31)


def _datetime_text(value: _dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` plus ``.fff`` or ``.ffffff`` when there is a fraction of a second."""
    text = value.strftime("%Y-%m-%d %H:%M:%S") if value.year >= 1000 else value.isoformat(sep=" ")[:19]
    micro = value.microsecond
    if micro:
        text += f".{micro // 1000:03d}" if micro % 1000 == 0 else f".{micro:06d}"
    return text


def _cells_frame(columns: list[pa.Array | pa.ChunkedArray], *, index: pd.Index) -> pd.DataFrame:
    """The cells frame from one Arrow string column per sheet column (trailing empty columns dropped)."""
    width = len(columns)
    while width and columns[width - 1].null_count == len(columns[width - 1]):
        width -= 1
    data = {}
    for position in range(width):
        column = columns[position]
        if column.type != pa.large_string():
            column = column.cast(pa.large_string())
        if isinstance(column, pa.ChunkedArray) and column.num_chunks > 1:
            # one buffer per column: Arrow's take on many chunks would join them again on every call
            column = column.combine_chunks()
        data[position] = pd.array(column, dtype=CELL_DTYPE) if len(column) else pd.array([], dtype=CELL_DTYPE)
    frame = pd.DataFrame(data, index=index, columns=pd.RangeIndex(width))
    if not width:
        frame = pd.DataFrame(index=index, columns=pd.RangeIndex(0), dtype=CELL_DTYPE)
    return frame


def _frame_from_rows(rows: list[list[str | None]], *, index: pd.Index | None = None) -> pd.DataFrame:
    """The cells frame from rectangular rows of text (``""`` or None for an empty cell)."""
    if index is None:
        index = pd.RangeIndex(1, len(rows) + 1)
    width = len(rows[0]) if rows else 0
    columns = [pa.array([row[c] or None for row in rows], type=pa.large_string()) for c in range(width)]
    return _cells_frame(columns, index=index)


# -- workbooks ---------------------------------------------------------------------


def _password_error(name: str) -> UnsafeInputError:
    return UnsafeInputError(
        f"{name}: the workbook is password-protected (encrypted): remove the password in Excel and save "
        "again (File > Info > Protect Workbook > Encrypt with Password: clear the password)."
    )


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line (fastexcel adds lines of context)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _read_workbook(
    path: pathlib.Path, *, fmt: str, by_content: bool, max_rows: int | None = None
) -> list[RawSheet]:
    try:
        sheets = _read_fastexcel(path, fmt=fmt, by_content=by_content, max_rows=max_rows)
    except MarkersError:
        raise
    except BaseException as exc:  # noqa: BLE001 - a bad file must never surface as a library traceback
        # A Rust panic arrives as pyo3's PanicException, a BaseException.
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        if type(exc).__name__ == "PasswordError" or "password" in str(exc).lower():
            raise _password_error(path.name) from exc
        if fmt not in ("xlsx", "xlsm"):
            raise InputFormatError(
                f"{path.name}: the {fmt} workbook cannot be read ({type(exc).__name__}: {_first_line(exc)}); "
                "open it in Excel or LibreOffice and save it again as .xlsx."
            ) from exc
        logger.info("fastexcel failed on %s (%s); trying openpyxl", path.name, _first_line(exc))
        try:
            sheets = _read_openpyxl(path, fmt=fmt, max_rows=max_rows)
        except MarkersError:
            raise
        except Exception as exc2:  # noqa: BLE001
            raise InputFormatError(
                f"{path.name}: the workbook is damaged and cannot be read ({type(exc).__name__}: {_first_line(exc)}; "
                f"openpyxl: {type(exc2).__name__}: {_first_line(exc2)}); open it in Excel and save it again."
            ) from exc2
    if not sheets:
        raise InputFormatError(
            f"{path.name}: the workbook has no worksheets; check that the right file was exported."
        )
    return sheets


def _chart_sheets(path: pathlib.Path, fmt: str) -> set[str]:
    """Names of an xlsx workbook's chart sheets (they hold no cells; the reader lists them as sheets)."""
    if fmt not in ("xlsx", "xlsm"):
        return set()
    import zipfile
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as archive:
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return set()
    charts = {rel.get("Id") for rel in rels if (rel.get("Type") or "").endswith("/chartsheet")}
    rel_id = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    return {sheet.get("name") for sheet in book.iter() if sheet.tag.endswith("}sheet") and sheet.get(rel_id) in charts}


def _read_fastexcel(path: pathlib.Path, *, fmt: str, by_content: bool, max_rows: int | None = None) -> list[RawSheet]:
    """Every worksheet with fastexcel (calamine underneath), each cell as text, from A1."""
    import fastexcel

    # From bytes the format is detected from the content; from a path, from the extension.
    book = fastexcel.read_excel(path.read_bytes() if by_content else str(path))
    charts = _chart_sheets(path, fmt)
    sheets: list[RawSheet] = []
    for name in book.sheet_names:
        if name in charts:
            logger.debug("%s: skipping chart sheet %r", path.name, name)
            continue
        # header_row=None with skip_rows=0: the rows start at row 1 even when the
        # data starts lower, so position + 1 is the exact Excel row number; every
        # column as text, so a column mixing numbers, dates and words loses nothing.
        sheet = book.load_sheet(name, header_row=None, skip_rows=0, dtypes="string", n_rows=max_rows)
        first = min((c.absolute_index for c in sheet.available_columns()), default=0)
        batch = sheet.to_arrow()
        del sheet  # the parsed sheet is let go as soon as its text is out
        rows = batch.num_rows
        columns = [pa.nulls(rows, pa.large_string())] * first + list(batch.columns)
        del batch
        sheets.append(RawSheet(path.name, path, name, _cells_frame(columns, index=pd.RangeIndex(1, rows + 1)),
                               None, fmt))
    return sheets


_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                           "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#UNKNOWN!", "#BUSY!", "#CONNECT!"})


def _openpyxl_text(value: object) -> str | None:
    """An openpyxl cell as :func:`excel_text`; error values (``#N/A``) are empty, as the fast reader has them."""
    if type(value) is str and value in _EXCEL_ERRORS:
        return None
    return excel_text(value)


def _read_openpyxl(path: pathlib.Path, *, fmt: str, max_rows: int | None = None) -> list[RawSheet]:
    import openpyxl

    if not defusedxml_active():
        warnings.warn(
            "defusedxml is not installed: openpyxl parses XML without its protections "
            "(markers still refuses XML entity declarations); install defusedxml.",
            UserWarning,
            stacklevel=4,
        )
    sheets: list[RawSheet] = []
    # openpyxl leaves its archive open when loading fails; owning the file handle closes it.
    with open(path, "rb") as fh:
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        try:
            for ws in book.worksheets:
                rows: list[list[str | None]] = []
                last_nonempty = 0
                # iter_rows starts at A1 and fills missing rows, so position = row number.
                # (max_row=0 would mean "no limit" to openpyxl)
                source = () if max_rows == 0 else ws.iter_rows(values_only=True, max_row=max_rows)
                for row in source:
                    texts = [_openpyxl_text(v) for v in row]
                    rows.append(texts)
                    if any(t is not None for t in texts):
                        last_nonempty = len(rows)
                del rows[last_nonempty:]  # a stale <dimension> can claim many trailing empty rows
                width = max((len(r) for r in rows), default=0)
                for r in rows:
                    r.extend([None] * (width - len(r)))
                sheets.append(RawSheet(path.name, path, ws.title, _frame_from_rows(rows), None, fmt))
        finally:
            book.close()
    return sheets


# -- text files ----------------------------------------------------------------------


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
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")  # Excel's "Unicode text" export
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
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise InputFormatError(
                    f"{name}: is neither UTF-8 nor Windows-1252 text (byte {exc.object[exc.start]:#04x} "
                    f"at offset {exc.start}); export the data again as CSV (UTF-8)."
                ) from exc
            logger.info("%s: not UTF-8, decoded as Windows-1252", name)
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
    return _cells_frame(columns, index=pd.RangeIndex(1, lines + 1))


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


def _read_text(path: pathlib.Path, *, fmt: str, max_rows: int | None = None) -> RawSheet:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFormatError(f"{name}: cannot be read ({exc.strerror or exc}); check the file.") from exc
    text, utf8 = _decode(path, data)
    del data
    delimiter = _sniff_delimiter(text if text is not None else utf8[:_SNIFF_BYTES + 1].decode("ascii"))
    cells = _split_fast(utf8, delimiter) if max_rows is None and len(utf8) > _FAST_TEXT_MIN else None
    if text is None and cells is None:
        text = utf8.decode("ascii")
    del utf8
    if cells is not None:
        head = cells.iloc[:_DECIMAL_SAMPLE_ROWS].astype(object).where(cells.iloc[:_DECIMAL_SAMPLE_ROWS].notna(), None)
        decimal_comma = _sniff_decimal_comma(head.to_numpy().tolist(), delimiter)
        logger.debug("%s: delimiter %r, decimal comma %s, %d lines (Arrow parser)", name, delimiter, decimal_comma,
                     len(cells))
        return RawSheet(name, path, "", cells, decimal_comma, fmt)
    rows: list[list[str]] = []
    index: list[int] = []
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    line = 1  # first physical line of the next record
    try:
        for record in reader:
            if max_rows is not None and line > max_rows:
                break
            rows.append(record)
            index.append(line)
            line = reader.line_num + 1  # a quoted field may span lines
    except csv.Error as exc:
        raise InputFormatError(
            f"{name}: line {line}: cannot be split into cells ({exc}); check for a quote (\") that is "
            "opened but never closed."
        ) from exc
    decimal_comma = _sniff_decimal_comma(rows, delimiter)
    width = max((len(r) for r in rows), default=0)
    if width:
        # ragged rows (short data rows, one-cell title lines) are padded to a rectangle
        rows = [r if len(r) == width else r + [""] * (width - len(r)) for r in rows]
    cells = _frame_from_rows(rows, index=pd.Index(index, dtype="int64"))
    logger.debug("%s: delimiter %r, decimal comma %s, %d lines", name, delimiter, decimal_comma, len(rows))
    return RawSheet(name, path, "", cells, decimal_comma, fmt)
