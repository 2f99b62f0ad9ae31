"""xlsx rows and formulas counted in a second thread while the fast reader reads the same file.

The extent checks (:func:`markers.readers.limits.check_workbook_extent`) run
first and alone: nothing reaches the fast reader before they pass. The count
of the rows with a value and the scan for formulas without one
(:class:`markers.readers.sheet_scan.XlsxPartScan`) only have to be ready when
the reader's cells are compared with them, so they run beside the reader: the
reader (Rust) releases the GIL while it parses, and inflating releases it too,
so on a machine with two cores the count costs almost no wall time. Its result
is exactly what the same scan gives in the extent pass; a row is never lost
silently, because the comparison (:func:`markers.readers.row_count.counted_sheets`)
waits for the count.
"""

from __future__ import annotations

import pathlib
import threading
import zipfile
from types import TracebackType

from markers.errors import InputFormatError
from markers.readers.row_count import SheetScan
from markers.readers.sheet_parts import normal_part, sheet_parts
from markers.readers.sheet_scan import XlsxPartScan, sheet_names_by_part
from markers.readers.zip_part import PART_ERRORS, open_part

__all__ = ["CountedBeside"]

_CHUNK = 1 << 20


class _Stopped(Exception):
    """The reader failed: the count is no longer wanted."""


class CountedBeside:
    """Count an xlsx's rows with values and its formulas without one, in a thread, while the block runs.

    >>> with CountedBeside(path) as counting:  # doctest: +SKIP
    ...     sheets = read_workbook(path, ...)
    >>> counting.scans  # doctest: +SKIP

    On leaving the block normally, the thread is waited for and its error (a
    damaged part) raised; when the block raises, the thread is told to stop
    and waited for, and the block's error goes on.
    """

    def __init__(self, path: pathlib.Path) -> None:
        self.path = pathlib.Path(path)
        self.scans: dict[str, SheetScan] = {}
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="markers-xlsx-count", daemon=True)

    def __enter__(self) -> CountedBeside:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is not None:
            self._stop.set()
        self._thread.join()
        if kind is None and self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            self.scans = count_sheets(self.path, self._stop)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self._error = exc


def count_sheets(path: pathlib.Path, stop: threading.Event | None = None) -> dict[str, SheetScan]:
    """Sheet name -> the rows with a value and the formulas without one, streamed part by part."""
    name = path.name
    scans: dict[str, SheetScan] = {}
    with zipfile.ZipFile(path) as zf:
        sheet_names = sheet_names_by_part(zf)
        sheets = sheet_parts(zf, name=name)  # wherever the workbook's relationships put them, as the reader finds them
        for info in zf.infolist():
            part = info.filename
            if info.is_dir() or normal_part(part) not in sheets:
                continue
            scan = XlsxPartScan(name, part)
            _feed_part(zf, info, name, scan, stop)
            if part.lower() in sheet_names:
                scans[sheet_names[part.lower()]] = scan.result()
    return scans


def _feed_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, scan: XlsxPartScan,
               stop: threading.Event | None) -> None:
    try:
        with open_part(zf, info) as fh:
            while chunk := fh.read(_CHUNK):
                if stop is not None and stop.is_set():
                    raise _Stopped
                scan.feed(chunk, 0)  # both counts keep their own carry-over of a tag cut at the edge
    except PART_ERRORS as exc:
        raise InputFormatError(
            f"{name}: the part {info.filename!r} is damaged ({type(exc).__name__}: {exc}); "
            "open the file in Excel or LibreOffice and save it again."
        ) from exc
