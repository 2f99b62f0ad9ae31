"""Workbook reader: xlsx/xlsm/xls/ods with fastexcel (calamine), falling back to openpyxl for xlsx."""

from __future__ import annotations

import logging
import pathlib
import warnings
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from markers.errors import InputFormatError, MarkersError, UnsafeInputError
from markers.readers.safety import defusedxml_active
from markers.readers.sheet import RawSheet, cells_frame, excel_text, frame_from_rows
from markers.readers.xlsx_halves import SheetHalves, read_halves, sheet_text

logger = logging.getLogger(__name__)

__all__ = ["read_workbook"]


def _password_error(name: str) -> UnsafeInputError:
    return UnsafeInputError(
        f"{name}: the workbook is password-protected (encrypted): remove the password in Excel and save "
        "again (File > Info > Protect Workbook > Encrypt with Password: clear the password)."
    )


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line (fastexcel adds lines of context)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_workbook(
    path: pathlib.Path, *, fmt: str, by_content: bool, max_rows: int | None = None,
    halves: Mapping[str, SheetHalves] | None = None,
) -> list[RawSheet]:
    """Every worksheet of a workbook, each cell as text; ``halves``: sheets (by name) to read from their two
    halves (:mod:`markers.readers.xlsx_halves`)."""
    try:
        sheets = _read_fastexcel(path, fmt=fmt, by_content=by_content, max_rows=max_rows, halves=halves or {})
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


def _read_fastexcel(path: pathlib.Path, *, fmt: str, by_content: bool, max_rows: int | None = None,
                    halves: Mapping[str, SheetHalves]) -> list[RawSheet]:
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
        joined = _read_halves(halves[name], name, path) if name in halves else None
        if joined is not None:
            columns, rows = joined
        else:
            first, batch = sheet_text(book, name, skip_rows=0, n_rows=max_rows)  # from row 1: row numbers exact
            rows = batch.num_rows
            columns = [pa.nulls(rows, pa.large_string())] * first + list(batch.columns)
            del batch
        sheets.append(RawSheet(path.name, path, name, cells_frame(columns, index=pd.RangeIndex(1, rows + 1)),
                               None, fmt))
    return sheets


def _read_halves(halves: SheetHalves, name: str, path: pathlib.Path) -> tuple[list, int] | None:
    """The sheet from its two halves; None (read the original) when they do not join or the reader fails on
    one: the original then gives the reader's own error, if it has one."""
    try:
        return read_halves(halves, name)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - a Rust panic arrives as pyo3's PanicException
        logger.info("%s: sheet %r read whole (%s: %s)", path.name, name, type(exc).__name__, _first_line(exc))
        return None


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
                sheets.append(RawSheet(path.name, path, ws.title, frame_from_rows(rows), None, fmt))
        finally:
            book.close()
    return sheets
