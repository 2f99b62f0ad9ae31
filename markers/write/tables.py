"""Table writers: the output's extension chooses the format, every file atomic with provenance.

Text tables (CSV, TSV, JSON) and XLSX are written here; typed analysis files (Parquet, Feather,
Stata, SAS transport, SPSS) come from :mod:`markers.write.arrow` and :mod:`markers.write.stats`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from markers.errors import OutputError
from markers.write.atomic import atomic_write, check_target, write_bytes_atomic
from markers.write.behind import write_chunks
from markers.write.cells import records, text_frame
from markers.write.csvtext import csv_chunks
from markers.write.provenance import jsonable, sidecar_path
from markers.write.xlsx import workbook_bytes, xlsx_bytes

PathLike = str | os.PathLike[str]

#: Extensions :func:`write_table` understands, with the format each selects.
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".json": "json",
    ".parquet": "parquet", ".feather": "feather", ".dta": "dta", ".xpt": "xpt", ".sav": "sav",
}

#: Formats written with a provenance sidecar ``<name>.provenance.json`` (no room inside the file).
SIDECAR_FORMATS = ("csv", "tsv", "dta", "xpt", "sav")

#: Bytes of CSV/TSV text after which the writer syncs what it has written while the rest is made
#: (:func:`markers.write.behind.write_chunks`): the closing fsync then has a few MB left to wait for.
SYNC_BYTES = 8 * 2**20


def table_format(path: Path) -> str:
    """The format an output file's extension selects; ``OutputError`` for an unknown one."""
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(TABLE_FORMATS)
        raise OutputError(
            f"cannot write a table to {path.name}: unknown extension {path.suffix or '(none)'!r}; "
            f"use one of {supported}"
        )
    return fmt


def json_text(payload: object) -> str:
    """Indented UTF-8 JSON text ending in a newline (no NaN or infinity)."""
    return json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_table(
    frame: pd.DataFrame,
    path: PathLike,
    *,
    inputs: Iterable[PathLike] = (),
    safe_csv: bool = False,
    provenance: Mapping[str, object] | None = None,
    sheet_name: str = "measurements",
) -> None:
    """Write a table as CSV, TSV, XLSX, JSON or a typed analysis file (by extension), atomically.

    * ``.csv`` / ``.tsv``: UTF-8, CRLF line ends (RFC 4180), no index, dates as ``YYYY-MM-DD`` (a datetime
      column with times of day as ISO date-times), missing values empty.
    * ``.xlsx``: bold, filled header; panes frozen below it; an auto-filter
      over the table; column widths from the content; numbers, dates
      (``yyyy-mm-dd``) and booleans as typed cells; missing values empty;
      every text as a string cell, never a formula. Byte-reproducible.
    * ``.json``: a list of records with ISO dates and ``null`` for missing.
    * ``.parquet`` / ``.feather``: Arrow types (dates, booleans, nullable integers, categoricals), the
      provenance in the schema metadata (key ``markers.provenance``); see :mod:`markers.write.arrow`.
    * ``.dta`` (Stata 118), ``.xpt`` (SAS transport v5), ``.sav`` (SPSS): see :mod:`markers.write.stats`;
      ``.xpt`` and ``.sav`` need the optional ``pyreadstat`` (``pip install 'markers[stats]'``).

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
        sidecar ``<name>.provenance.json`` (also for ``.dta``, ``.xpt``, ``.sav``); JSON: ``{"provenance": ...,
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
    fmt = table_format(target)
    inputs = tuple(inputs)
    sidecar = sidecar_path(target) if provenance is not None and fmt in SIDECAR_FORMATS else None
    # Check both targets before writing either, so a refusal writes nothing.
    check_target(target, inputs)
    if sidecar is not None:
        check_target(sidecar, inputs)
    if fmt in ("csv", "tsv"):
        # CRLF (RFC 4180) rather than LF: Python's csv writer quotes a field
        # only for characters of the line terminator, so with LF a text holding a
        # lone CR would be written bare and split the row when read back.
        write_csv_text(text_frame(frame, safe_csv=safe_csv), target, sep="\t" if fmt == "tsv" else ",",
                       inputs=inputs)
    elif fmt == "json":
        rows = records(frame)
        payload: object = rows if provenance is None else {"provenance": jsonable(provenance), "records": rows}
        with atomic_write(target, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(json_text(payload))
    elif fmt == "xlsx":
        write_bytes_atomic(
            xlsx_bytes(frame, sheet_name=sheet_name, provenance=provenance), target, inputs=inputs
        )
    else:
        data = typed_bytes(frame, fmt, provenance=provenance, name=sheet_name, workdir=target.resolve().parent)
        write_bytes_atomic(data, target, inputs=inputs)
    if sidecar is not None:
        with atomic_write(sidecar, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(json_text(jsonable(provenance)))


def write_csv_text(frame: pd.DataFrame, target: Path, *, sep: str, inputs: tuple) -> None:
    """Write ``frame.to_csv(index=False, sep=sep, lineterminator="\\r\\n")`` atomically, column-wise when it can.

    :func:`markers.write.csvtext.csv_chunks` writes the same bytes as pandas, a slice of rows at a
    time; a table with a column it does not format goes through pandas' writer.
    """
    chunks = csv_chunks(frame, sep=sep, lineterminator="\r\n")
    if chunks is None:
        text = frame.to_csv(index=False, sep=sep, lineterminator="\r\n")
        with atomic_write(target, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(text)
        return
    with atomic_write(target, mode="wb", inputs=inputs) as handle:
        write_chunks(handle, chunks, sync_every=SYNC_BYTES)


def typed_bytes(frame: pd.DataFrame, fmt: str, *, provenance: Mapping[str, object] | None, name: str,
                workdir: Path | None = None) -> bytes:
    """The file content of a typed analysis format (``parquet``, ``feather``, ``dta``, ``xpt``, ``sav``)."""
    if fmt in ("parquet", "feather"):
        from markers.write.arrow import arrow_bytes

        return arrow_bytes(frame, fmt, provenance=provenance)
    from markers.write.stats import stats_bytes

    return stats_bytes(frame, fmt, provenance=provenance, name=name, workdir=workdir)


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    path: PathLike,
    *,
    inputs: Iterable[PathLike] = (),
    provenance: Mapping[str, object] | None = None,
) -> None:
    """Write several named tables to one file, atomically: ``.json`` or ``.xlsx`` (by extension).

    ``.json``: ``{name: [records...], ...}`` (plus ``"provenance"`` when given); ``.xlsx``: one
    sheet per table in the order given (plus the ``provenance`` sheet), formatted as
    :func:`write_table` does. A single table to CSV/TSV is :func:`write_table`'s job.

    Raises
    ------
    OutputError
        Another extension, an output that is one of ``inputs``, or an invalid sheet name.
    """
    target = Path(path)
    inputs = tuple(inputs)
    fmt = table_format(target)
    if fmt == "json":
        payload: dict[str, object] = {name: records(frame) for name, frame in tables.items()}
        if provenance is not None:
            payload["provenance"] = jsonable(provenance)
        with atomic_write(target, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(json_text(payload))
        return
    if fmt != "xlsx":
        raise OutputError(f"cannot write several tables to {target.name}: use .json or .xlsx")
    check_target(target, inputs)
    write_bytes_atomic(workbook_bytes(tables, provenance=provenance), target, inputs=inputs)
