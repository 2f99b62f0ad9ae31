"""Readers of structured clinical formats (FHIR R4, HL7 v2, CDISC SDTM), each giving record sheets.

:func:`read_sheets` is what ingestion calls for every input file: it recognises these
formats by suffix or content and hands everything else to :func:`markers.readers.files.read_raw`.
"""

from __future__ import annotations

import os
import pathlib

import pandas as pd

from markers.errors import InputFormatError
from markers.readers import files as raw_io
from markers.readers.formats import fhir, hl7v2, sdtm
from markers.readers.formats.table import RecordSheet
from markers.readers.limits import ReadLimits

__all__ = ["FORMAT_SUFFIXES", "RecordSheet", "read_sheets"]

#: Suffixes read here rather than by :mod:`markers.readers.files`.
FORMAT_SUFFIXES = (".json", ".ndjson", ".hl7", ".xpt")
#: The largest structured file read whole into memory (a FHIR bundle is parsed at once).
MAX_BYTES = 512 * 1024 * 1024


def _text_of(path: pathlib.Path) -> str:
    if not path.is_file():
        raise InputFormatError(f"{path.name}: no such file. Check the path.")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputFormatError(f"{path.name}: {size} bytes is more than markers reads from one "
                               f"{path.suffix} file ({MAX_BYTES}); split the export.")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # HL7 v2 messages are often 8-bit (MSH-18)


def _head(path: pathlib.Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(64)
    except OSError:
        return b""


def _sdtm_sheet(sheet: raw_io.RawSheet, path: pathlib.Path) -> list[raw_io.RawSheet] | None:
    """An SDTM LB or DM text table as record sheets, ``None`` when ``sheet`` is not one."""
    cells = sheet.cells
    filled = cells.dropna(how="all")
    if filled.empty:
        return None
    header = [str(v).strip().upper() if isinstance(v, str) else "" for v in filled.iloc[0].tolist()]
    if sdtm.sdtm_domain(header) is None:
        return None
    body = filled.iloc[1:]
    frame = pd.DataFrame({name: body[col].astype(object).where(body[col].notna(), "").map(lambda v: str(v).strip())
                          for col, name in zip(cells.columns, header, strict=True) if name})
    return sdtm.sdtm_sheets(path, frame, body.index.tolist(), fmt=sheet.fmt, dm=_dm_beside(path))


def _dm_beside(path: pathlib.Path) -> pd.DataFrame | None:
    """The DM table kept beside an LB file (``dm.xpt`` or ``dm.csv``), for study days."""
    for name in ("dm.xpt", "DM.xpt", "dm.csv", "DM.csv"):
        candidate = path.with_name(name)
        if candidate.is_file() and candidate != path:
            if candidate.suffix == ".xpt":
                return sdtm.read_xpt(candidate)
            frame = pd.read_csv(candidate, dtype=str, keep_default_na=False)
            return frame.rename(columns=str.upper)
    return None


def read_sheets(path: str | os.PathLike, *, encoding: str | None = None,
                limits: ReadLimits | None = None) -> list[raw_io.RawSheet]:
    """Every sheet of one input file: record sheets for FHIR, HL7 v2 and SDTM, raw sheets otherwise.

    ``encoding`` decodes csv/tsv/txt tables with that codec, ``limits`` are the read limits
    (see :func:`markers.readers.files.read_raw`).

    Raises
    ------
    InputFormatError
        An unreadable or malformed file.
    """
    path = pathlib.Path(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".ndjson"):
        return fhir.read_fhir(path, _text_of(path))
    if suffix == ".hl7" or (suffix in (".txt", "") and hl7v2.looks_like_hl7(_head(path))):
        return hl7v2.read_hl7(path, _text_of(path))
    if suffix == ".xpt":
        if not path.is_file():
            raise InputFormatError(f"{path.name}: no such file. Check the path.")
        frame = sdtm.read_xpt(path)
        frame.columns = [str(c).upper() for c in frame.columns]
        return sdtm.sdtm_sheets(path, frame, list(range(1, len(frame) + 1)), fmt="xpt",
                                dm=_dm_beside(path))
    sheets = raw_io.read_raw(path, encoding=encoding, limits=limits)
    if suffix in (".csv", ".tsv", ".txt") and len(sheets) == 1:
        return _sdtm_sheet(sheets[0], path) or sheets
    return sheets
