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

The work is split: :mod:`markers.readers.sheet` (the cell model),
:mod:`markers.readers.workbook`, :mod:`markers.readers.text`; the public names stay here.
Every cell arrives as text (see :func:`excel_text`), in Arrow-backed columns,
at its exact sheet position, so that later stages can cite ``D14`` in a
message and work on a million cells without a Python object for each.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pathlib
import warnings

from markers.errors import InputFormatError
from markers.readers.limits import ReadLimits, check_workbook_extent
from markers.readers.row_count import counted_sheets
from markers.readers.safety import (
    ARROW_SUFFIXES,
    SUPPORTED_SUFFIXES,
    TEXT_SUFFIXES,
    check_input_file,
    content_kind,
)
from markers.readers.sheet import CELL_DTYPE, RawSheet, cell_ref, column_letter, excel_text
from markers.readers.text import read_text
from markers.readers.workbook import read_workbook
from markers.readers.xls_extent import check_xls_extent
from markers.readers.xlsx_counts import CountedBeside
from markers.readers.xlsx_halves import Halves

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


def read_raw(path: str | os.PathLike, *, max_rows: int | None = None, encoding: str | None = None,
             limits: ReadLimits | None = None) -> list[RawSheet]:
    """Read every sheet of a spreadsheet or text file, cells as written.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.xlsx``, ``.xlsm``, ``.xls``, ``.ods``, ``.csv``, ``.tsv`` or
        ``.txt`` file.
    max_rows : int, optional
        Read only sheet rows (text: lines) 1 to ``max_rows`` of each sheet,
        e.g. to preview a file. Default: all rows.
    encoding : str, optional
        Text files: decode with this codec (e.g. ``"shift_jis"``) instead of
        recognising UTF-8, UTF-16 or Windows-1252. Workbooks ignore it.
    limits : ReadLimits, optional
        The size limits checked before reading (default ``ReadLimits()``; the
        config file's ``[limits]`` table sets them).

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
    if suffix in TEXT_SUFFIXES:
        return [read_text(path, fmt=suffix[1:], max_rows=max_rows, encoding=encoding, limits=limits)]
    if suffix in ARROW_SUFFIXES:
        from markers.readers.arrow_tables import read_arrow_table  # arrow_tables imports this module

        return [read_arrow_table(path, max_rows=max_rows)]
    kind = content_kind(path)
    fmt = "xlsm" if kind == "xlsx" and suffix == ".xlsm" else kind
    # a large sheet is read in two halves on two cores (the whole file: not for a preview)
    with Halves() if kind == "xlsx" and suffix[1:] == fmt and max_rows is None else contextlib.nullcontext() as halves:
        return _read_workbook_checked(path, kind, fmt, suffix, halves, max_rows=max_rows, limits=limits)


def _read_workbook_checked(path: pathlib.Path, kind: str, fmt: str, suffix: str, halves: Halves | None, *,
                           max_rows: int | None, limits: ReadLimits | None) -> list[RawSheet]:
    scans = {}
    if kind in ("xlsx", "ods"):
        # before the fast reader sizes its buffers from the file's claims; xlsx rows are counted beside the reader
        scans = check_workbook_extent(path, kind, limits=limits, count=kind != "xlsx", halves=halves)
    elif kind == "xls":
        scans = check_xls_extent(path, limits=limits)  # DIMENSIONS and cell addresses, before the reader sizes a sheet from them
    if suffix[1:] != fmt and not (kind == "xlsx" and suffix in (".xlsx", ".xlsm")):
        warnings.warn(
            f"{path.name}: the file is really an {kind} workbook saved with a {suffix} name; "
            f"markers reads it as {kind}. Rename it to .{kind} to silence this warning.",
            UserWarning,
            stacklevel=3,
        )
    with CountedBeside(path) if kind == "xlsx" else contextlib.nullcontext() as counting:
        sheets = read_workbook(path, fmt=fmt, by_content=suffix[1:] != fmt, max_rows=max_rows,
                               halves=halves.by_name if halves is not None else None)
    return counted_sheets(path.name, sheets, counting.scans if counting else scans, max_rows=max_rows)
