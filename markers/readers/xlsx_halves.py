"""A large xlsx sheet read by two fast readers at once, one half of its rows each.

The fast reader (calamine, in fastexcel) parses a sheet on one core: a
million-row sheet inflates to some 650 MB of XML and takes it about 6 s. The
extent pass (:func:`markers.readers.limits.check_workbook_extent`) inflates
every sheet part before the reader may see the file; for a part of
:data:`SPLIT_BYTES` or more it also writes what it inflates into two workbooks
in a temporary directory, the rows before a row past the middle of the part in
the first, the rest in the second. The reader reads the two on two threads (it
lets go of the interpreter lock) and the columns are joined.

Why the joined columns are the cells the reader gives from the original:

* both workbooks hold the original's other parts (workbook, relationships,
  styles, shared strings) and the sheet's XML bytes unchanged, in order;
* the split is at a row start tag that carries its number (``r``), in a part
  without cells lacking ``r`` (the extent pass follows those): no cell's place
  depends on the rows before the split;
* the first half ends with the end tags of ``sheetData`` and the worksheet; the
  second starts with the original's bytes up to its first row (the worksheet
  and ``sheetData`` start tags and what lies between), then a marker row right
  above the split row, whose text no file holds. Read from its first non-empty
  row (``skip_rows=None``), the second half starts at the marker;
* rows written out of order would break this: the first half must end before
  the split row and the second must start with the marker alone, otherwise the
  sheet is read from the original file.

A half is a stored ZIP (:mod:`markers.readers.stored_zip`): the reader does not
inflate it again. Writing the halves adds about 0.1 s to the extent pass of a
million-row sheet; reading them on two cores saves about 2 s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import re
import secrets
import shutil
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

import pyarrow as pa

from markers.readers.byte_scan import count_tag
from markers.readers.formulas import sheet_names_by_part
from markers.readers.sheet_parts import normal_part, sheet_parts
from markers.readers.stored_zip import StoredZip
from markers.readers.xlsx_extent import TAG_ATTRIBUTE, TAG_PREFIX, TAG_VALUES
from markers.readers.zip_part import PART_ERRORS

logger = logging.getLogger(__name__)

__all__ = ["SPLIT_BYTES", "Halves", "SheetHalves", "read_halves", "sheet_text"]

#: A sheet part inflating to this many bytes or more is read in two halves (about 25,000 rows).
SPLIT_BYTES = 16 * 1024**2
_MAX_PART = 3 * 1024**3  # a half is a ZIP without ZIP64
_MAX_OTHERS = 64 * 1024**2  # the other parts are copied into both halves
_MAX_HEAD = 16 * 1024**2  # the bytes before the first row

_ROW_START = re.compile(rb'<(' + TAG_PREFIX + rb')?row(?=[ \t\n\r>/])(' + TAG_VALUES + rb')>')
_ROOT = re.compile(rb'<([^?! \t\n\r<>/][^ \t\n\r<>/]*)')
_SHEET_DATA = re.compile(rb'<((?:' + TAG_PREFIX + rb')?sheetData)((?:[ \t\n\r]' + TAG_VALUES + rb')?)>[ \t\n\r]*\Z')
_ENCODING = re.compile(rb'\A(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding[ \t\n\r]*=[ \t\n\r]*["\']([^"\']*)["\']')
_ROW_NUMBER = re.compile(rb'[1-9][0-9]{0,6}')
# the reader stops at the first end of sheetData: rows after it (a second sheetData) are not the sheet's
_SHEET_DATA_END = re.compile(rb'</(?:' + TAG_PREFIX + rb')?sheetData[ \t\n\r]*>')


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class SheetHalves:
    """Two workbooks holding a sheet's rows before row ``row`` (``first``) and from it on (``second``)."""

    first: pathlib.Path
    second: pathlib.Path
    row: int  # 1-based: the first row of the second half
    marker: str  # the text of the marker cell above it, in column A


class _Writer:
    """The two halves of one sheet part, written from the part's inflated pieces in order (:meth:`feed`)."""

    def __init__(self, directory: pathlib.Path, part: str, others: list[tuple[str, bytes]], size: int) -> None:
        self.part, self.others, self.target = part, others, size // 2
        self.size, self.fed = size, 0  # never more on disk than the part declares (the pass refuses more anyway)
        self.first_path, self.second_path = directory / "first.xlsx", directory / "second.xlsx"
        self.marker = "markers split " + secrets.token_hex(16)
        self.head = b""  # the bytes before the first row, until it is found
        self.prefix = b""
        self.closing = b""
        self.written = 0
        self.tail = b""  # the end of the last piece: an end tag of sheetData may cross into the next
        self.row = 0
        self.files: list = []
        self.first: StoredZip | None = None
        self.second: StoredZip | None = None
        self.failed = False

    def beside(self, feed_next):
        """A sink of the extent pass that gives each piece to ``feed_next`` (the extent's), then to :meth:`feed`."""
        def sink(tail: bytes, chunk: bytes, found: bool) -> None:
            feed_next(tail, chunk, found)
            self.feed(chunk)

        return sink

    def feed(self, chunk: bytes) -> None:
        if self.failed:
            return
        try:
            self._feed(chunk)
        except (OSError, ValueError) as exc:  # a full disk, a part past 4 GiB: the sheet is read whole
            logger.info("%s: not split (%s)", self.part, exc)
            self.abandon()

    def _feed(self, chunk: bytes) -> None:
        self.fed += len(chunk)
        if self.fed > self.size:
            raise ValueError("the part inflates to more than it declares")
        if self.second is not None:
            self.second.write(chunk)
            return
        if self.first is None:
            self.head += chunk
            found = _ROW_START.search(self.head)
            if found is None:
                if len(self.head) > _MAX_HEAD:
                    self.abandon()
                return
            if not self._start(self.head[:found.start()]):
                self.abandon()
                return
            chunk, self.head = self.head, b""
            start = found.end()
        else:
            start = 0
        if self.written + len(chunk) >= self.target:
            for found in _ROW_START.finditer(chunk, max(start, self.target - self.written)):
                number = self._row_number(found.group(2))
                if number:
                    self._still_open(memoryview(chunk)[:found.start()])
                    self._split(chunk, found.start(), found.group(1) or b"", number)
                    return
        self._still_open(chunk)
        self.first.write(chunk)
        self.written += len(chunk)

    def _still_open(self, data: bytes | memoryview) -> None:
        """Refuse to split after the end of sheetData (``data`` comes before the split)."""
        if count_tag(data, b"eetD") and _SHEET_DATA_END.search(self.tail + data):
            raise ValueError("sheetData ends before the middle of the part")  # (or is named in a comment)
        self.tail = bytes(data[-64:])

    def _start(self, prefix: bytes) -> bool:
        """Open the first half, from the bytes before the first row: a UTF-8 worksheet whose last start tag
        before the rows is ``sheetData``."""
        encoding = _ENCODING.match(prefix)
        root, sheet_data = _ROOT.search(prefix), _SHEET_DATA.search(prefix)
        if (encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8")) or prefix[:2] in (b"\xff\xfe", b"\xfe\xff") \
                or root is None or sheet_data is None or sheet_data.group(2).endswith(b"/"):
            return False
        self.prefix = prefix
        self.closing = b"</" + sheet_data.group(1) + b"></" + root.group(1) + b">"
        self.first = self._archive(self.first_path)
        return True

    @staticmethod
    def _row_number(attributes: bytes) -> int:
        """The row number of a row start tag that carries one (and is not empty), else 0."""
        if attributes.endswith(b"/"):
            return 0
        numbers = [a or b for name, a, b in TAG_ATTRIBUTE.findall(attributes) if name == b"r"]
        if len(numbers) != 1 or not _ROW_NUMBER.fullmatch(numbers[0]) or int(numbers[0]) < 2:
            return 0
        return int(numbers[0])

    def _split(self, chunk: bytes, at: int, prefix: bytes, number: int) -> None:
        self.first.write(chunk[:at])
        self.first.write(self.closing)
        self.first.close()
        self.row = number
        above = str(number - 1).encode("ascii")
        p = prefix
        marker = (b"<" + p + b"row r=\"" + above + b"\"><" + p + b"c r=\"A" + above + b"\" t=\"inlineStr\"><" + p
                  + b"is><" + p + b"t>" + self.marker.encode("ascii") + b"</" + p + b"t></" + p + b"is></" + p
                  + b"c></" + p + b"row>")
        self.second = self._archive(self.second_path)
        self.others = []  # both halves hold them now
        self.second.write(self.prefix + marker)
        self.second.write(memoryview(chunk)[at:])

    def _archive(self, path: pathlib.Path) -> StoredZip:
        fh = open(path, "wb")  # noqa: SIM115 - closed by close() or abandon()
        self.files.append(fh)
        archive = StoredZip(fh)
        for name, data in self.others:
            archive.add(name, data)
        archive.begin(self.part)
        return archive

    def close(self) -> SheetHalves | None:
        """The halves, once the whole part was fed; None when no split was made."""
        if self.failed or self.second is None:
            self.abandon()
            return None
        try:
            self.second.close()
            for fh in self.files:  # a flush that fails (a full disk) leaves a half cut short: not used
                fh.close()
        except (OSError, ValueError):
            self.abandon()
            return None
        self.files = []
        return SheetHalves(self.first_path, self.second_path, self.row, self.marker)

    def abandon(self) -> None:
        self.failed = True
        self.head, self.others = b"", []
        self._close_files()

    def _close_files(self) -> None:
        for fh in self.files:
            with contextlib.suppress(OSError):
                fh.close()
        self.files = []


class Halves:
    """The halves of a workbook's large sheets, in a temporary directory removed on leaving the block.

    The extent pass asks :meth:`writer` for each sheet part and feeds it;
    :meth:`done` keeps the halves of a part that passed. ``by_name`` maps a
    sheet's name to its :class:`SheetHalves`.
    """

    def __init__(self) -> None:
        self.by_name: dict[str, SheetHalves] = {}
        self._directory: pathlib.Path | None = None
        self._writers: list[_Writer] = []
        self._names: dict[str, str] | None = None

    def __enter__(self) -> Halves:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for writer in self._writers:
            writer.abandon()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def writer(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Writer | None:
        """A writer for the halves of this sheet part, or None when it is read whole (small, or one core)."""
        if not SPLIT_BYTES <= info.file_size <= _MAX_PART or _cores() < 2:
            return None
        if self._names is None:
            self._names = sheet_names_by_part(zf)
        if info.filename.lower() not in self._names:
            return None
        if not _copied_as_read(zf, info):
            return None
        sheets = sheet_parts(zf)
        others = [i for i in zf.infolist() if not i.is_dir() and normal_part(i.filename) not in sheets]
        copied = sum(i.file_size for i in others)
        if copied > _MAX_OTHERS:
            return None
        try:
            # the halves take the part's size; twice that must be free, so that they never fill the disk
            # (or a RAM file system) other programs and the run's own outputs write to
            if shutil.disk_usage(self._directory or tempfile.gettempdir()).free < 2 * (info.file_size + 2 * copied):
                logger.info("%s: not split (too little free space for the halves)", info.filename)
                return None
            if self._directory is None:
                self._directory = pathlib.Path(tempfile.mkdtemp(prefix="markers-halves-"))
            directory = pathlib.Path(tempfile.mkdtemp(dir=self._directory))
            writer = _Writer(directory, info.filename, [(i.filename, zf.read(i)) for i in others], info.file_size)
        except (*PART_ERRORS, RuntimeError) as exc:  # RuntimeError: an encrypted entry
            logger.info("%s: not split (%s)", info.filename, exc)
            return None
        self._writers.append(writer)
        return writer

    def done(self, writer: _Writer, *, cells_without_reference: bool) -> None:
        """The part ``writer`` was fed passed the extent checks; its halves are kept when it has no cell without
        ``r`` (such a cell's place follows from the cells before it)."""
        if cells_without_reference:
            writer.abandon()
            return
        halves = writer.close()
        if halves is not None:
            self.by_name[(self._names or {})[writer.part.lower()]] = halves


def _entry_key(name: str) -> str:
    """An entry's name as the fast reader looks it up (calamine: ``/`` for ``\\``, ASCII lower case; of two
    entries with one key, the last wins)."""
    return name.replace("\\", "/").encode("utf-8", "surrogateescape").lower().decode("utf-8", "surrogateescape")


def _copied_as_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the halves would hold what the fast reader reads from the original: every entry stored or
    deflated (the reader's ZIP library undoes nothing else, where zipfile would), named as zipfile names it
    (no NUL cut off), and no other entry under the sheet part's key."""
    key = _entry_key(info.filename)
    entries = zf.infolist()
    return (all(i.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and i.orig_filename == i.filename
                for i in entries)
            and sum(_entry_key(i.filename) == key for i in entries) == 1)


def sheet_text(book, name: str, *, skip_rows: int | None, n_rows: int | None = None) -> tuple[int, pa.RecordBatch]:
    """A sheet of a fastexcel reader, every cell as text: (its first column's index, its columns from there).

    ``skip_rows=0`` (with ``header_row=None``): the rows start at row 1 even when
    the data starts lower, so position + 1 is the sheet's row number; ``None``:
    they start at the first non-empty row. Every column as text, so a column
    mixing numbers, dates and words loses nothing. The parsed sheet is let go
    as soon as its text is out.
    """
    sheet = book.load_sheet(name, header_row=None, skip_rows=skip_rows, dtypes="string", n_rows=n_rows)
    first = min((c.absolute_index for c in sheet.available_columns()), default=0)
    return first, sheet.to_arrow()


def _load(path: pathlib.Path, name: str, skip_rows: int | None) -> tuple[int, pa.RecordBatch]:
    import fastexcel

    return sheet_text(fastexcel.read_excel(str(path)), name, skip_rows=skip_rows)


def read_halves(halves: SheetHalves, name: str) -> tuple[list[pa.ChunkedArray], int] | None:
    """The sheet's columns (from column A) and its number of rows, read from its halves on two threads;
    None when the halves do not join (rows written out of order): then the original is read.

    Errors of the reader are raised as they come; the caller reads the original then.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="markers-second-half") as pool:
        pending = pool.submit(_load, halves.second, name, None)
        try:
            first_column, first = _load(halves.first, name, 0)
        finally:
            second_column, second = pending.result()
    above = halves.row - 1
    if first.num_rows > above or second_column != 0 or second.num_rows == 0:
        return None
    if second.column(0)[0].as_py() != halves.marker or any(second.column(i)[0].is_valid
                                                              for i in range(1, second.num_columns)):
        return None
    second = second.slice(1)
    text = pa.large_string()
    if second.num_rows == 0:  # nothing from the split row on: the first half is the sheet
        columns = [pa.chunked_array([pa.nulls(first.num_rows, text)])] * first_column
        return columns + [pa.chunked_array([c.cast(text)]) for c in first.columns], first.num_rows
    columns = []
    gap = pa.nulls(above - first.num_rows, text)
    for j in range(max(first_column + first.num_columns, second.num_columns)):
        head = first.column(j - first_column) if first_column <= j < first_column + first.num_columns else None
        tail = second.column(j) if j < second.num_columns else None
        columns.append(pa.chunked_array([pa.nulls(first.num_rows, text) if head is None else head.cast(text), gap,
                                         pa.nulls(second.num_rows, text) if tail is None else tail.cast(text)],
                                        type=text))
    return columns, above + second.num_rows
