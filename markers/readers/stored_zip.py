"""A ZIP archive written entry by entry, every entry stored (not compressed), one entry streamed.

Used for the two halves of a large xlsx sheet (:mod:`markers.readers.xlsx_halves`):
the fast reader reads a stored entry without inflating it, and the CRC-32 is
computed by zlib-ng (the standard library's :mod:`zipfile` computes it with
zlib, five times as slow on the hundreds of MB a million-row sheet inflates to).
The format is the one :mod:`zipfile` writes for ``ZIP_STORED`` (APPNOTE 6.3.x,
sections 4.3.7, 4.3.12 and 4.3.16), without ZIP64: an archive that would pass
4 GiB raises :class:`ValueError` and the caller does not use it.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from zlib_ng import zlib_ng

__all__ = ["StoredZip"]

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header, without the name
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory header, without the name
_END = struct.Struct("<IHHHHIIH")  # end of central directory record
_LIMIT = 0xFFFFFFFF  # a size or offset of this value means "see ZIP64": one less at most
_UTF8 = 0x800  # general purpose flag bit 11: the name is UTF-8
_DATE, _TIME = (1 << 5) | 1, 0  # 1980-01-01 00:00: the archive is the same bytes whenever it is written


class StoredZip:
    """Write a stored ZIP archive: :meth:`add` an entry whole, or :meth:`begin` one and :meth:`write` it in pieces.

    Examples
    --------
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> archive = StoredZip(buffer)
    >>> archive.add("a.txt", b"abc")
    >>> archive.begin("b.txt"); archive.write(b"de"); archive.write(b"f")
    >>> archive.close()
    >>> with zipfile.ZipFile(buffer) as zf:
    ...     [(i.filename, zf.read(i)) for i in zf.infolist()], zf.testzip()
    ([('a.txt', b'abc'), ('b.txt', b'def')], None)
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh  # seekable: a streamed entry's header is written again once its CRC is known
        self._entries: list[tuple[bytes, int, int, int]] = []  # (name, crc, size, header offset)
        self._open: tuple[bytes, int] | None = None  # the entry being streamed: (name, header offset)
        self._crc = self._size = 0

    def add(self, name: str, data: bytes) -> None:
        """Add an entry of ``data``."""
        self.begin(name)
        self.write(data)

    def begin(self, name: str) -> None:
        """Start a streamed entry (the one before it is ended)."""
        self._end_entry()
        encoded = name.encode("utf-8")
        self._open = (encoded, self._fh.tell())
        self._crc = self._size = 0
        self._fh.write(self._local_header(encoded, 0, 0))

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data`` to the entry begun last."""
        if self._open is None:
            raise ValueError("write() before begin()")
        self._crc = zlib_ng.crc32(data, self._crc)
        self._size += len(data)
        if self._size >= _LIMIT or self._open[1] + self._size >= _LIMIT:
            raise ValueError("a stored ZIP archive without ZIP64 holds at most 4 GiB")
        self._fh.write(data)

    def close(self) -> None:
        """End the last entry and write the central directory (the file handle stays open)."""
        self._end_entry()
        start = self._fh.tell()
        for name, crc, size, offset in self._entries:
            self._fh.write(_CENTRAL.pack(0x02014B50, 20, 20, _UTF8, 0, _TIME, _DATE, crc, size, size, len(name), 0, 0,
                                         0, 0, 0, offset) + name)
        end = self._fh.tell()
        if end >= _LIMIT or len(self._entries) >= 0xFFFF:
            raise ValueError("a stored ZIP archive without ZIP64 holds at most 4 GiB and 65,535 entries")
        self._fh.write(_END.pack(0x06054B50, 0, 0, len(self._entries), len(self._entries), end - start, start, 0))

    def _local_header(self, name: bytes, crc: int, size: int) -> bytes:
        return _LOCAL.pack(0x04034B50, 20, _UTF8, 0, _TIME, _DATE, crc, size, size, len(name), 0) + name

    def _end_entry(self) -> None:
        if self._open is None:
            return
        name, offset = self._open
        here = self._fh.tell()
        self._fh.seek(offset)
        self._fh.write(self._local_header(name, self._crc, self._size))
        self._fh.seek(here)
        self._entries.append((name, self._crc, self._size, offset))
        self._open = None
