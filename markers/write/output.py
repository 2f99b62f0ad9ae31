"""Every file markers writes goes through this module.

Three guarantees hold for all outputs:

* **Atomic.** Data goes to a temporary file beside the target, is flushed
  and ``fsync``-ed, then moved into place with :func:`os.replace`. A crash,
  an exception or Ctrl-C leaves the previous file (or no file) untouched and
  no temporary file behind.
* **Inputs are never overwritten.** Every writer takes ``inputs=`` and
  refuses a target that is the same file as one of them (also through a
  different relative path, a symbolic link or a hard link).
* **Text is never executed.** In XLSX every text cell is stored as a string
  cell, so ``=1+1`` stays the text ``=1+1`` and is not turned into a
  formula; for CSV/TSV ``safe_csv=True`` applies the OWASP advice against
  CSV injection (a leading ``'`` before text starting with ``= + - @``, tab
  or carriage return).

Tables are written as CSV, TSV, XLSX or JSON (chosen by the extension), with
ISO dates and an optional provenance record (markers version, input file
hashes, options, reference set). XLSX files are byte-reproducible: the same
frame and provenance give the same bytes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import math
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from markers import __version__
from markers.errors import ConfigError, OutputError
from markers.readers.files import sha256_of

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: Extensions :func:`write_table` understands, with the format each selects.
TABLE_FORMATS: dict[str, str] = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".json": "json"}

#: First characters that make a spreadsheet treat a text cell as a formula
#: (OWASP "CSV injection"); tab and carriage return are included because
#: some applications strip them and then see the character that follows.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Suffix of the provenance sidecar written next to a CSV/TSV table.
PROVENANCE_SUFFIX = ".provenance.json"

#: Name of the XLSX sheet holding the provenance key/value rows.
PROVENANCE_SHEET = "provenance"

# Used for the workbook's created/modified properties when the provenance does
# not say when the data were produced: any fixed value keeps the bytes stable.
_DEFAULT_TIMESTAMP = dt.datetime(2000, 1, 1)
# Zip entry timestamps: the earliest a zip file can hold, for every entry.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_MAX_COLUMN_WIDTH = 60
_MIN_COLUMN_WIDTH = 6
_EXCEL_MAX_TEXT = 32767
# A text that is a plain decimal number ("-1.5", "+3", "-2,5e3") is read by a
# spreadsheet as a number, never as a formula: prefixing it would only damage it.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
# Characters XML 1.0 cannot carry (openpyxl refuses them); replaced visibly.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


# -- atomic writing ------------------------------------------------------------------


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file (after symlinks; hard links when both exist)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_target(path: PathLike, inputs: Iterable[PathLike]) -> Path:
    """Validate an output path; return the file to replace (symlinks followed).

    Raises
    ------
    OutputError
        When the path is an input, a directory, or its directory is missing.
    """
    target = Path(path).expanduser()
    for source in inputs:
        if _same_file(target, Path(source).expanduser()):
            raise OutputError(
                f"refusing to overwrite the input file {source}; choose another output name"
            )
    # Writing through a symbolic link replaces the file it points to, not the link.
    real = target.resolve()
    if not real.parent.is_dir():
        raise OutputError(
            f"directory {target.parent} does not exist; create it first or choose another output path"
        )
    if real.is_dir():
        raise OutputError(f"{target} is a directory; give a file name for the output")
    return real


def _default_permissions() -> int:
    # mkstemp creates 0600 files; a normal output should get what open() would
    # give (0666 minus the umask). os.umask can only be read by setting it; it
    # is set straight back to the same value.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(
    path: PathLike,
    *,
    mode: str = "wb",
    inputs: Iterable[PathLike] = (),
    encoding: str | None = None,
    permissions: int | None = None,
    exclusive: bool = False,
) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only when the block succeeds.

    The temporary file lives in the target's directory (named like
    ``.report.pdf.k3j9x1.tmp``) so the final :func:`os.replace` is an atomic
    rename on the same file system. On any exception, including
    ``KeyboardInterrupt``, the temporary file is removed and the previous
    target (or its absence) is left as it was.

    Parameters
    ----------
    path
        The file to create or replace. A symbolic link is followed: the file
        it points to is replaced and the link kept.
    mode
        ``"wb"`` (default) or ``"w"`` for text.
    inputs
        Files the output must never overwrite (the files the data came from).
    encoding
        Text encoding for ``mode="w"``; UTF-8 when not given.
    permissions
        File mode bits of the new file, e.g. ``0o600`` for a secret; by default
        those of the file being replaced, else ``0o666`` minus the umask.
    exclusive
        Refuse (``OutputError``) when ``path`` already exists, checked again at
        the moment of the rename so a file created meanwhile is not replaced.

    Yields
    ------
    IO
        The open temporary file.

    Raises
    ------
    OutputError
        When ``path`` is one of ``inputs``, its directory does not exist, it is
        a directory, or ``exclusive`` and it exists.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_write(target, mode="w") as handle:
    ...     _ = handle.write("done")
    >>> target.read_text()
    'done'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', not {mode!r}")
    target = _check_target(path, inputs)
    if exclusive and target.exists():
        raise OutputError(f"{path} already exists; refusing to overwrite it")
    if permissions is None:
        permissions = target.stat().st_mode & 0o7777 if target.exists() else _default_permissions()

    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        try:
            # Set the mode before any byte is written: a secret is never readable by others.
            with contextlib.suppress(OSError, NotImplementedError):
                os.chmod(temp, permissions)
            if mode == "w":
                handle: IO[Any] = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="")
            else:
                handle = os.fdopen(fd, "wb")
        except BaseException:
            # Only before the file object owns the descriptor: closing it later
            # could close a number another thread has been given meanwhile.
            os.close(fd)
            raise
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            # os.link fails if the target exists, unlike os.replace: no race.
            try:
                os.link(temp, target)
            except FileExistsError:
                raise OutputError(f"{path} already exists; refusing to overwrite it") from None
            except OSError:
                # File systems without hard links: best effort.
                if target.exists():
                    raise OutputError(f"{path} already exists; refusing to overwrite it") from None
                os.replace(temp, target)
            else:
                temp.unlink()
        else:
            os.replace(temp, target)
        _fsync_directory(target.parent)
    except BaseException:
        # BaseException: Ctrl-C must not leave a half-written temporary file either.
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    logger.debug("wrote %s", target)


def write_bytes_atomic(data: bytes, path: PathLike, *, inputs: Iterable[PathLike] = ()) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    Parameters
    ----------
    data
        The complete file content.
    path
        Target file.
    inputs
        Files that must not be overwritten.

    Raises
    ------
    OutputError
        When ``path`` is one of ``inputs`` or its directory does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> write_bytes_atomic(b"abc", target)
    >>> target.read_bytes()
    b'abc'
    """
    with atomic_write(path, mode="wb", inputs=inputs) as handle:
        handle.write(data)


# -- images ----------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png_bytes(rgba: np.ndarray, *, dpi: float, text: Mapping[str, str] | None = None) -> bytes:
    """Encode an 8-bit RGBA image (rows top to bottom) as PNG: RGB when every pixel is opaque.

    A report page is mostly white: stored without row filters and deflated at level 1, an
    A4 page at 150 dpi takes the space of matplotlib's PNG of it (adaptive row filters,
    level 6) and half the time (about 22 instead of 46 ms). The bytes depend on the
    pixels, ``dpi`` and ``text`` only.

    Parameters
    ----------
    rgba
        ``(height, width, 4)`` array of ``uint8``.
    dpi
        Resolution recorded in the file (pHYs, pixels per metre).
    text
        ``tEXt`` entries (keyword: Latin-1 text), e.g. ``{"Software": "markers 1.0"}``.

    Examples
    --------
    >>> white = np.full((2, 3, 4), 255, dtype=np.uint8)
    >>> data = png_bytes(white, dpi=72)
    >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", data[25]  # colour type 2: RGB
    (True, 2)
    """
    height, width, _ = rgba.shape
    opaque = bool((rgba[..., 3] == 255).all())
    channels = 3 if opaque else 4
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0 (none) per row
    rows[:, 1:] = rgba[..., :channels].reshape(height, width * channels)
    per_metre = int(dpi / 0.0254 + 0.5)
    parts = [b"\x89PNG\r\n\x1a\n",
             _png_chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                        + bytes([8, 2 if opaque else 6, 0, 0, 0])),
             _png_chunk(b"pHYs", per_metre.to_bytes(4, "big") * 2 + b"\x01")]
    for key, value in (text or {}).items():
        parts.append(_png_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1")))
    parts += [_png_chunk(b"IDAT", zlib.compress(rows, 1)), _png_chunk(b"IEND", b"")]
    return b"".join(parts)


# -- provenance ------------------------------------------------------------------------


def _now_utc() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch.strip() == "":
        return dt.datetime.now(dt.UTC)
    try:
        return dt.datetime.fromtimestamp(int(epoch.strip()), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970-01-01; "
            "unset it or give e.g. SOURCE_DATE_EPOCH=1700000000"
        ) from None


def _jsonable(value: object) -> object:
    """A JSON-serialisable copy of an option value (paths and tuples included)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def provenance_record(
    *,
    inputs: Sequence[PathLike],
    options: Mapping[str, object],
    reference_set: str | None,
    checksums: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """Describe how an output was made: version, time, input checksums, options.

    Parameters
    ----------
    inputs
        The input files; each is recorded by file name and SHA-256 (the full
        path is left out, as directory names can identify people).
    options
        The options used (unit, date order, ...); converted to JSON values.
    reference_set
        Name of the reference-limit set applied, or ``None``.
    checksums
        SHA-256 already computed, by input path as given (``Dataset.files``): such an
        input is not read again.

    Returns
    -------
    dict
        ``{"markers_version", "created", "inputs": [{"file", "sha256"}],
        "reference_set", "options"}``. ``created`` is the UTC time as
        ``YYYY-MM-DDTHH:MM:SSZ``, taken from ``SOURCE_DATE_EPOCH`` when that
        environment variable is set (for reproducible outputs).

    Raises
    ------
    InputFormatError
        When an input file cannot be read.
    ConfigError
        When ``SOURCE_DATE_EPOCH`` is not an integer.

    Examples
    --------
    >>> record = provenance_record(inputs=[], options={"unit": "mg/g"}, reference_set=None)
    >>> sorted(record)
    ['created', 'inputs', 'markers_version', 'options', 'reference_set']
    """
    return {
        "markers_version": __version__,
        "created": _now_utc().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": [{"file": Path(p).name, "sha256": (checksums or {}).get(os.fspath(p)) or sha256_of(p)}
                   for p in inputs],
        "reference_set": reference_set,
        "options": _jsonable(dict(options)),
    }


def _provenance_time(provenance: Mapping[str, object] | None) -> dt.datetime:
    """The fixed workbook timestamp: provenance["created"] as naive UTC, else 2000-01-01."""
    created = (provenance or {}).get("created")
    if isinstance(created, str):
        with contextlib.suppress(ValueError):
            stamp = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
            return stamp.replace(microsecond=0)
    return _DEFAULT_TIMESTAMP


def _flatten(value: object, prefix: str = "") -> list[tuple[str, object]]:
    """Nested provenance as dotted key/value rows (``inputs.0.sha256``)."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, object]] = []
        for key, item in value.items():
            rows.extend(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list | tuple):
        if not value:
            return [(prefix, "")]
        rows = []
        for i, item in enumerate(value):
            rows.extend(_flatten(item, f"{prefix}.{i}"))
        return rows
    return [(prefix, "" if value is None else value)]


# -- cell conversion ---------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def _datetime_columns(frame: pd.DataFrame) -> dict[str, bool]:
    """Datetime columns -> True when every value is at midnight (written as a date)."""
    result: dict[str, bool] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series, pd.DataFrame):  # duplicate column names
            continue
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            stamps = series.dropna()
            if getattr(stamps.dt, "tz", None) is not None:
                stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
            result[name] = bool((stamps == stamps.dt.normalize()).all())
    return result


def _iso(value: object, *, date_only: bool) -> str:
    stamp = pd.Timestamp(value)
    if date_only:
        return stamp.strftime("%Y-%m-%d")
    return stamp.isoformat()


def _text_frame(frame: pd.DataFrame, *, safe_csv: bool) -> pd.DataFrame:
    """A copy for CSV/TSV: ISO dates, optional injection-safe text, other values as they are."""
    out = frame.copy()
    dates = _datetime_columns(frame)
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if name in dates:
            date_only = dates[name]
            if date_only:  # the usual case, in one call: the per-value loop cost seconds per million rows
                text = series.dt.strftime("%Y-%m-%d").astype(object)
                out.isetitem(position, text.where(series.notna(), None))
                continue
            out.isetitem(
                position,
                pd.Series(
                    [None if _is_missing(v) else _iso(v, date_only=date_only) for v in series],
                    index=frame.index,
                    dtype=object,
                ),
            )
        elif not safe_csv and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
            continue  # plain text is written as it is
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            converted = []
            for value in series:
                if isinstance(value, dt.datetime | dt.date):
                    value = value.isoformat()
                if safe_csv and isinstance(value, str):
                    value = neutralise_formula(value)
                converted.append(value)
            out.isetitem(position, pd.Series(converted, index=frame.index, dtype=object))
    if safe_csv:
        out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (OWASP CSV injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets
    the prefix, except a plain number such as ``-1.5``, which a spreadsheet
    reads as a number and never as a formula.

    Parameters
    ----------
    text
        One cell's text.

    Returns
    -------
    str
        The text, prefixed with ``'`` when it could start a formula.

    Examples
    --------
    >>> neutralise_formula("=1+1"), neutralise_formula("-1.5"), neutralise_formula("a=b")
    ("'=1+1", '-1.5', 'a=b')
    """
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts: ISO dates, NA -> null, numpy scalars -> Python."""
    dates = _datetime_columns(frame)
    columns = [str(c) for c in frame.columns]
    converters = []
    for name in frame.columns:
        if name in dates:
            date_only = dates[name]
            converters.append(lambda v, d=date_only: None if _is_missing(v) else _iso(v, date_only=d))
        else:
            converters.append(_json_value)
    return [
        {col: convert(v) for col, convert, v in zip(columns, converters, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _json_value(value: object) -> object:
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no infinity; a string keeps the information.
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


# -- XLSX -------------------------------------------------------------------------------------


def _set_cell(ws: Any, row: int, column: int, value: object, *, date_format: str | None = None) -> int:
    """Write one value with the right cell type; return its display width."""
    if _is_missing(value):
        return 0
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        value = value.to_pydatetime()
    if isinstance(value, bool):
        ws.cell(row=row, column=column, value=value)
        return 5
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            value = "inf" if value > 0 else "-inf"  # Excel has no infinity
        else:
            ws.cell(row=row, column=column, value=value)
            return len(repr(value))
    if isinstance(value, dt.datetime | dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        cell = ws.cell(row=row, column=column, value=value)
        if date_format is None:
            is_midnight = not isinstance(value, dt.datetime) or value == dt.datetime.combine(
                value.date(), dt.time()
            )
            date_format = "yyyy-mm-dd" if is_midnight else "yyyy-mm-dd hh:mm:ss"
        cell.number_format = date_format
        return len(date_format)
    text = value if isinstance(value, str) else str(value)
    text = _ILLEGAL_XML.sub("\ufffd", text)[:_EXCEL_MAX_TEXT]
    cell = ws.cell(row=row, column=column, value=text)
    # openpyxl turns any text starting with "=" into a formula; a data value
    # must never run, so every text cell is forced to be a string cell.
    cell.data_type = "s"
    return len(text)


def _write_sheet(ws: Any, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill(fill_type="solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
    dates = _datetime_columns(frame)
    n_rows, n_cols = frame.shape
    widths = []
    for j, name in enumerate(frame.columns, start=1):
        width = _set_cell(ws, 1, j, str(name))
        header = ws.cell(row=1, column=j)
        header.font = bold
        header.fill = fill
        date_format = None
        if name in dates:
            date_format = "yyyy-mm-dd" if dates[name] else "yyyy-mm-dd hh:mm:ss"
        for i, value in enumerate(frame.iloc[:, j - 1].tolist(), start=2):
            width = max(width, _set_cell(ws, i, j, value, date_format=date_format))
        widths.append(width)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(
            _MAX_COLUMN_WIDTH, max(_MIN_COLUMN_WIDTH, width + 2)
        )
    if n_cols:
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{n_rows + 1}"


def _normalise_zip(data: bytes) -> bytes:
    """Re-pack a zip with fixed entry timestamps and attributes (byte-reproducible)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 0
            target.writestr(entry, source.read(info.filename))
    return buffer.getvalue()


def _check_sheet_name(name: str) -> None:
    if not name or len(name) > 31 or _INVALID_SHEET_CHARS.search(name):
        raise OutputError(
            f"sheet name {name!r} is not allowed in Excel: use 1-31 characters without [ ] : * ? / \\"
        )


def _xlsx_bytes(
    frame: pd.DataFrame, *, sheet_name: str, provenance: Mapping[str, object] | None
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    _check_sheet_name(sheet_name)
    if provenance is not None and sheet_name == PROVENANCE_SHEET:
        raise OutputError(
            f"sheet name {sheet_name!r} is used for the provenance record; choose another sheet_name"
        )
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name
    _write_sheet(ws, frame)
    if provenance is not None:
        rows = _flatten(dict(provenance))
        _write_sheet(
            wb.create_sheet(PROVENANCE_SHEET),
            pd.DataFrame({"key": [k for k, _ in rows], "value": [v for _, v in rows]}, dtype=object),
        )
        wb.properties.description = json.dumps(_jsonable(provenance), sort_keys=True, ensure_ascii=False)
    stamp = _provenance_time(provenance)
    wb.properties.creator = "markers"
    wb.properties.lastModifiedBy = "markers"
    wb.properties.title = f"markers {sheet_name}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buffer = io.BytesIO()
    # ExcelWriter rather than wb.save(): save() stamps "modified" with the
    # current time, which would make every file different.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return _normalise_zip(buffer.getvalue())


# -- tables ------------------------------------------------------------------------------------


def _table_format(path: Path) -> str:
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(TABLE_FORMATS)
        raise OutputError(
            f"cannot write a table to {path.name}: unknown extension {path.suffix or '(none)'!r}; "
            f"use one of {supported}"
        )
    return fmt


def _json_text(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def sidecar_path(path: PathLike) -> Path:
    """The provenance sidecar of a CSV/TSV table: ``<name>.provenance.json``.

    Examples
    --------
    >>> sidecar_path("out/results.csv").name
    'results.csv.provenance.json'
    """
    target = Path(path)
    return target.with_name(target.name + PROVENANCE_SUFFIX)


def write_table(
    frame: pd.DataFrame,
    path: PathLike,
    *,
    inputs: Iterable[PathLike] = (),
    safe_csv: bool = False,
    provenance: Mapping[str, object] | None = None,
    sheet_name: str = "measurements",
) -> None:
    """Write a table as CSV, TSV, XLSX or JSON (by extension), atomically.

    * ``.csv`` / ``.tsv``: UTF-8, CRLF line ends (RFC 4180), no index, dates as ``YYYY-MM-DD`` (a datetime
      column with times of day as ISO date-times), missing values empty.
    * ``.xlsx``: bold, filled header; panes frozen below it; an auto-filter
      over the table; column widths from the content; numbers, dates
      (``yyyy-mm-dd``) and booleans as typed cells; missing values empty;
      every text as a string cell, never a formula. Byte-reproducible.
    * ``.json``: a list of records with ISO dates and ``null`` for missing.

    Parameters
    ----------
    frame
        The table; its index is not written. It is not modified.
    path
        Output file; the extension chooses the format.
    inputs
        Input files that must not be overwritten.
    safe_csv
        CSV/TSV only: prefix ``'`` to text cells (and headers) that start with
        ``=``, ``+``, ``-``, ``@``, tab or carriage return, so a spreadsheet
        opening the file shows them as text instead of running them. Numbers
        (also negative ones, and text that is a plain number) are unchanged.
        XLSX needs no such prefix: its text cells are typed as text.
    provenance
        A record such as :func:`provenance_record` returns. XLSX: a
        ``provenance`` sheet of key/value rows plus the document properties
        (creator ``markers``, title, description = the JSON); CSV/TSV: a
        sidecar ``<name>.provenance.json``; JSON: ``{"provenance": ...,
        "records": [...]}``. Its ``created`` also fixes the XLSX timestamps.
    sheet_name
        XLSX only: name of the data sheet.

    Raises
    ------
    OutputError
        Unknown extension, an output that is one of ``inputs``, a missing
        directory, or an invalid sheet name.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_table(pd.DataFrame({"a": ["=1+1"], "b": [-1.5]}), target, safe_csv=True)
    >>> target.read_bytes()
    b"a,b\\r\\n'=1+1,-1.5\\r\\n"
    """
    target = Path(path)
    fmt = _table_format(target)
    inputs = tuple(inputs)
    if fmt in ("csv", "tsv"):
        sidecar = sidecar_path(target) if provenance is not None else None
        # Check both targets before writing either, so a refusal writes nothing.
        _check_target(target, inputs)
        if sidecar is not None:
            _check_target(sidecar, inputs)
        # CRLF (RFC 4180) rather than LF: Python's csv writer quotes a field
        # only for characters of the line terminator, so with LF a text holding a
        # lone CR would be written bare and split the row when read back.
        text = _text_frame(frame, safe_csv=safe_csv).to_csv(
            index=False, sep="\t" if fmt == "tsv" else ",", lineterminator="\r\n"
        )
        with atomic_write(target, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(text)
        if sidecar is not None:
            with atomic_write(sidecar, mode="w", inputs=inputs, encoding="utf-8") as handle:
                handle.write(_json_text(_jsonable(provenance)))
    elif fmt == "json":
        records = _records(frame)
        payload: object = (
            records if provenance is None else {"provenance": _jsonable(provenance), "records": records}
        )
        with atomic_write(target, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(_json_text(payload))
    else:
        _check_target(target, inputs)
        write_bytes_atomic(
            _xlsx_bytes(frame, sheet_name=sheet_name, provenance=provenance), target, inputs=inputs
        )
