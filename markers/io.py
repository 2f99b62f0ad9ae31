"""Raw readers: every sheet of every input file, cells as written, with row numbers.

:func:`read_raw` is the only place markers opens a spreadsheet. It first runs
:func:`markers.safety.check_input_file` (so every reader path is protected
against ZIP bombs, XML entities and mislabelled files), then reads:

* workbooks (xlsx, xlsm, xls, ods) with python-calamine, falling back to
  openpyxl (read-only, values only) for xlsx/xlsm when calamine fails;
* text files (csv, tsv, txt) with the :mod:`csv` module after decoding
  (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252) and sniffing
  the delimiter and the decimal separator.

The result keeps the cells exactly as the reader gives them and their exact
sheet positions, so that later stages can cite ``D14`` in a message.
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

from markers.errors import InputFormatError, MarkersError, UnsafeInputError
from markers.safety import SUPPORTED_SUFFIXES, check_input_file, content_kind, defusedxml_active

logger = logging.getLogger(__name__)

__all__ = [
    "RawSheet",
    "SUPPORTED_SUFFIXES",
    "cell_ref",
    "column_letter",
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
# Text shorter than this is split by the csv module alone (the C parser's set-up costs more).
_FAST_TEXT_MIN = 64 * 1024
_DECIMAL_COMMA = re.compile(r"^[<>]?=?\s*-?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[<>]?=?\s*-?\d+\.\d+$")
# Control characters tolerated in text: tab, newlines, form feed, vertical tab
# (Excel writes it for a line break inside a cell) and the DOS end-of-file mark.
# Every other C0/C1 control character counts as binary junk.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")


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
        Object dtype. The index holds the 1-based sheet row numbers (Excel row
        numbers; text files: line numbers), starting at 1 so leading blank
        rows are present (as all-``None`` rows). The columns are the 0-based
        column positions (0 = A), starting at 0. Values are as the reader
        gives them: ``str``, ``int``, ``float``, ``bool``,
        ``datetime.datetime``, ``datetime.date``, ``datetime.time`` (and
        ``datetime.timedelta`` for duration cells), or ``None`` for an empty
        cell. Text files: every non-empty cell is ``str``. Whichever reader
        is used, numbers are ``float`` and a date cell without a time of day
        is a ``datetime.date`` (calamine's conventions, to which the openpyxl
        fallback's cells are converted).
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
        (see :func:`markers.safety.check_input_file`).
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


# -- workbooks ---------------------------------------------------------------------


def _frame(
    rows: list[list[object]] | np.ndarray, *, empty: object = "", index: pd.Index | None = None
) -> pd.DataFrame:
    """Build the cells frame from rectangular rows (or a 2-D object array, used in place), in one go.

    ``empty`` is the reader's marker for an empty cell (calamine and csv:
    ``""``), turned into None; trailing all-empty columns are dropped.
    ``index`` defaults to row numbers 1, 2, ... (rows starting at A1).
    """
    if index is None:
        index = pd.RangeIndex(1, len(rows) + 1)
    if len(rows) == 0 or len(rows[0]) == 0:
        return pd.DataFrame(index=index, columns=pd.RangeIndex(0), dtype=object)
    if isinstance(rows, np.ndarray):
        arr = rows
    else:
        arr = np.empty((len(rows), len(rows[0])), dtype=object)
        arr[:] = rows  # object array from the list of lists without numpy guessing types
    if empty is not None:
        # Elementwise == on an object array compares each cell with "" in C;
        # date and number cells simply compare unequal.
        arr[arr == empty] = None
    width = arr.shape[1]
    while width and all(v is None for v in arr[:, width - 1]):
        width -= 1
    return pd.DataFrame(arr[:, :width], index=index, columns=pd.RangeIndex(width), dtype=object, copy=False)


def _password_error(name: str) -> UnsafeInputError:
    return UnsafeInputError(
        f"{name}: the workbook is password-protected (encrypted): remove the password in Excel and save "
        "again (File > Info > Protect Workbook > Encrypt with Password: clear the password)."
    )


def _read_workbook(
    path: pathlib.Path, *, fmt: str, by_content: bool, max_rows: int | None = None
) -> list[RawSheet]:
    try:
        sheets = _read_calamine(path, fmt=fmt, by_content=by_content, max_rows=max_rows)
    except MarkersError:
        raise
    except BaseException as exc:  # noqa: BLE001 - a bad file must never surface as a library traceback
        # calamine's Rust panics arrive as pyo3's PanicException, a BaseException.
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        if type(exc).__name__ == "PasswordError":
            raise _password_error(path.name) from exc
        if fmt not in ("xlsx", "xlsm"):
            raise InputFormatError(
                f"{path.name}: the {fmt} workbook cannot be read ({type(exc).__name__}: {exc}); "
                "open it in Excel or LibreOffice and save it again as .xlsx."
            ) from exc
        logger.info("calamine failed on %s (%s); trying openpyxl", path.name, exc)
        try:
            sheets = _read_openpyxl(path, fmt=fmt, max_rows=max_rows)
        except MarkersError:
            raise
        except Exception as exc2:  # noqa: BLE001
            raise InputFormatError(
                f"{path.name}: the workbook is damaged and cannot be read ({type(exc).__name__}: {exc}; "
                f"openpyxl: {type(exc2).__name__}: {exc2}); open it in Excel and save it again."
            ) from exc2
    if not sheets:
        raise InputFormatError(
            f"{path.name}: the workbook has no worksheets; check that the right file was exported."
        )
    return sheets


def _read_calamine(path: pathlib.Path, *, fmt: str, by_content: bool, max_rows: int | None = None) -> list[RawSheet]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    sheets: list[RawSheet] = []
    with open(path, "rb") as fh:
        # from_filelike detects the format from the content; from_path trusts the
        # extension, so it is used only when the two agree.
        book = CalamineWorkbook.from_filelike(fh) if by_content else CalamineWorkbook.from_path(str(path))
        try:
            for meta in book.sheets_metadata:
                if meta.typ != SheetTypeEnum.WorkSheet:
                    logger.debug("%s: skipping %s %r", path.name, meta.typ, meta.name)
                    continue
                sheet = book.get_sheet_by_name(meta.name)
                # skip_empty_area=False: the rows start at A1, so list position
                # + 1 is the exact Excel row number even when data starts at C4.
                # (calamine panics on nrows=0, hence the explicit empty case)
                rows = [] if max_rows == 0 else sheet.to_python(skip_empty_area=False, nrows=max_rows)
                sheets.append(RawSheet(path.name, path, meta.name, _frame(rows), None, fmt))
        finally:
            book.close()
    return sheets


def _like_calamine(value: object) -> object:
    """One openpyxl cell as calamine gives it, so that both readers give identical cells.

    calamine reads every number as ``float`` and a date-time cell without a time
    of day as ``datetime.date``; openpyxl gives ``int`` for whole numbers and
    always ``datetime.datetime``.
    """
    kind = type(value)
    if kind is int:
        return float(value)
    if kind is _dt.datetime and value.tzinfo is None and not (value.hour or value.minute or value.second or value.microsecond):
        return value.date()
    return value


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
                rows: list[list[object]] = []
                last_nonempty = 0
                # iter_rows starts at A1 and fills missing rows, so position = row number.
                # (max_row=0 would mean "no limit" to openpyxl)
                source = () if max_rows == 0 else ws.iter_rows(values_only=True, max_row=max_rows)
                for row in source:
                    rows.append([_like_calamine(v) for v in row])
                    if any(v is not None and v != "" for v in row):
                        last_nonempty = len(rows)
                del rows[last_nonempty:]  # a stale <dimension> can claim many trailing empty rows
                width = max((len(r) for r in rows), default=0)
                for r in rows:
                    r.extend([None] * (width - len(r)))
                sheets.append(RawSheet(path.name, path, ws.title, _frame(rows, empty=None), None, fmt))
        finally:
            book.close()
    return sheets


# -- text files ----------------------------------------------------------------------


def _decode(path: pathlib.Path, data: bytes) -> str:
    name = path.name
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")  # Excel's "Unicode text" export
        except UnicodeDecodeError as exc:
            raise InputFormatError(
                f"{name}: starts like UTF-16 text but cannot be decoded ({exc.reason}); "
                "export the data again as CSV (UTF-8)."
            ) from exc
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise InputFormatError(
            f"{name}: contains NUL bytes (first on line {line}): it is a binary file, not text; "
            "export the data again as CSV (UTF-8)."
        )
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
    controls = sum(1 for _ in _CONTROLS.finditer(text))
    if controls > max(10, len(text) // 100):
        raise InputFormatError(
            f"{name}: contains {controls:,} control characters: it looks like a binary file, not text; "
            "export the data again as CSV (UTF-8)."
        )
    return text


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter that splits the first records most consistently.

    For each candidate, parse the first records with :mod:`csv` (so quoted
    delimiters do not count) and find the most common field count above one;
    the score is how many records have it, then the count itself. Title lines
    (one field) lower every candidate alike.
    """
    sample = text[:_SNIFF_BYTES]
    if len(text) > _SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
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


def _sniff_decimal_comma(rows: list[list[str]], delimiter: str) -> bool:
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


def _physical_lines(text: str) -> int:
    """Lines as the csv module counts them (a last line without a line break counts)."""
    return text.count("\n") + (0 if not text or text.endswith("\n") else 1)


def _split_fast(text: str, delimiter: str) -> pd.DataFrame | None:
    """Split text with pandas' C parser; None when it cannot match the csv module exactly.

    The C parser is about ten times faster than :mod:`csv` on large exports but
    does not say on which line each record starts. When there are as many
    records as lines, no quoted field spans lines, so record *k* is line *k*.
    Otherwise (a line break inside quotes, a lone carriage return, an unclosed
    quote, anything the C parser refuses) the csv module does the work, with
    its exact line numbers and error messages. Cells are ``str``; a row shorter
    than the widest gets ``""``, like the padding of the csv path.
    """
    if not text or text.count("\r") != text.count("\r\n"):
        return None  # a lone carriage return: the C parser and the csv module may split it differently
    lines = _physical_lines(text)
    # Width: the widest of the first records; when a later row is wider, the C
    # parser refuses it and the upper bound (delimiters per line + 1, counting
    # quoted ones too) is used. Extra columns stay empty and are dropped later.
    head = text[:_SNIFF_BYTES]
    try:
        widths = [len(r) for _, r in zip(range(_SNIFF_RECORDS), csv.reader(_stdio.StringIO(head, newline=""),
                                                                           delimiter=delimiter), strict=False)]
    except csv.Error:
        return None
    for width in (max(widths, default=1), None):
        if width is None:
            raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
            breaks = np.flatnonzero(raw == 10)
            delims = np.flatnonzero(raw == ord(delimiter))
            width = int(np.bincount(np.searchsorted(breaks, delims), minlength=len(breaks) + 1).max()) + 1
        try:
            frame = pd.read_csv(
                _stdio.StringIO(text), sep=delimiter, header=None, names=range(max(width, 1)), index_col=False,
                dtype=object, na_filter=False, skip_blank_lines=False, engine="c", quotechar='"',
                doublequote=True, skipinitialspace=False, quoting=csv.QUOTE_MINIMAL,
            )
        except pd.errors.ParserError as exc:
            if width is not None and "Expected" in str(exc):
                continue  # a row wider than the first ones: retry with the upper bound
            return None
        except (ValueError, csv.Error):
            return None
        break
    else:  # pragma: no cover - the upper bound always fits
        return None
    if len(frame) != lines:
        return None
    return frame


def _read_text(path: pathlib.Path, *, fmt: str, max_rows: int | None = None) -> RawSheet:
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFormatError(f"{name}: cannot be read ({exc.strerror or exc}); check the file.") from exc
    text = _decode(path, data)
    delimiter = _sniff_delimiter(text)
    frame = _split_fast(text, delimiter) if max_rows is None and len(text) > _FAST_TEXT_MIN else None
    if frame is not None:
        # column by column: much faster than DataFrame.to_numpy's interleaving of object columns
        arr = np.empty(frame.shape, dtype=object)
        for position in range(frame.shape[1]):
            arr[:, position] = frame.iloc[:, position].to_numpy(dtype=object)
        del frame
        head = arr[:_DECIMAL_SAMPLE_ROWS].tolist()
        decimal_comma = _sniff_decimal_comma(head, delimiter)
        cells = _frame(arr, empty="", index=pd.RangeIndex(1, len(arr) + 1))
        logger.debug("%s: delimiter %r, decimal comma %s, %d lines (C parser)", name, delimiter, decimal_comma,
                     len(arr))
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
    cells = _frame(rows, empty="", index=pd.Index(index, dtype="int64"))
    logger.debug("%s: delimiter %r, decimal comma %s, %d lines", name, delimiter, decimal_comma, len(rows))
    return RawSheet(name, path, "", cells, decimal_comma, fmt)

