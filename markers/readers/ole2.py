"""OLE2 compound files (xls and encrypted Office files): the directory's stream names and one stream's bytes, read with bounded seeks."""

from __future__ import annotations

import logging
import pathlib
import struct
from collections.abc import Iterator

logger = logging.getLogger(__name__)

__all__ = ["ole2_kind", "ole2_stream", "ole2_stream_names"]

_OLE_FREE = 0xFFFFFFFF
_OLE_END = 0xFFFFFFFE
_OLE_MAX_DIR_SECTORS = 4096  # 16k-128k directory entries: far more than any workbook


def ole2_stream_names(path: pathlib.Path) -> set[str]:
    """Return the names in an OLE2 file's directory (empty set if unreadable).

    Only the header, the FAT sectors on the directory's chain and the
    directory sectors are read, each with a bounded seek.
    """
    size = path.stat().st_size
    names: set[str] = set()
    with open(path, "rb") as fh:
        header = fh.read(512)
        if len(header) < 512:
            return names
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            return names
        sector_size = 1 << shift
        per_sector = sector_size // 4
        first_dir = struct.unpack_from("<I", header, 0x30)[0]
        first_difat = struct.unpack_from("<I", header, 0x44)[0]
        difat = list(struct.unpack_from("<109I", header, 0x4C))

        def read_sector(number: int) -> bytes:
            offset = (number + 1) * sector_size
            if number >= 0xFFFFFFFA or offset + sector_size > size + sector_size:
                raise ValueError("sector out of range")
            fh.seek(offset)
            return fh.read(sector_size)

        def fat_sector(index: int) -> int:
            nonlocal first_difat
            # DIFAT entries past the header's 109 live in a chain of DIFAT sectors.
            while index >= len(difat) and first_difat < 0xFFFFFFFA and len(difat) < 1_000_000:
                block = read_sector(first_difat)
                entries = struct.unpack(f"<{per_sector}I", block)
                difat.extend(entries[:-1])
                first_difat = entries[-1]
            return difat[index]

        def next_sector(number: int) -> int:
            fat_number = fat_sector(number // per_sector)
            block = read_sector(fat_number)
            return struct.unpack_from("<I", block, (number % per_sector) * 4)[0]

        sector = first_dir
        seen = 0
        try:
            while sector < 0xFFFFFFFA and seen < _OLE_MAX_DIR_SECTORS:
                block = read_sector(sector)
                for start in range(0, len(block) - 127, 128):
                    entry = block[start : start + 128]
                    length = struct.unpack_from("<H", entry, 64)[0]
                    kind = entry[66]
                    if kind in (1, 2, 5) and 2 <= length <= 64:
                        names.add(entry[: length - 2].decode("utf-16-le", errors="replace"))
                sector = next_sector(sector)
                seen += 1
        except (ValueError, IndexError, struct.error, OSError):
            logger.debug("OLE2 directory of %s unreadable past %d sectors", path, seen)
    return names


def ole2_kind(path: pathlib.Path) -> str:
    names = {n.lower() for n in ole2_stream_names(path)}
    if "encryptedpackage" in names or "encryptioninfo" in names:
        return "encrypted"
    if "workbook" in names or "book" in names:
        return "xls"
    if not names:
        return "xls"  # directory unreadable: the xls reader decides
    return "ole2"


class _Compound:
    """An open OLE2 file: its FAT sectors read once each, sector chains followed with a bound on their length."""

    def __init__(self, fh, size: int) -> None:
        self.fh, self.size = fh, size
        header = fh.read(512)
        if len(header) < 512 or struct.unpack_from("<H", header, 0x1E)[0] not in (9, 12):
            raise ValueError("not an OLE2 header")
        self.sector_size = 1 << struct.unpack_from("<H", header, 0x1E)[0]
        self.mini_size = 1 << min(struct.unpack_from("<H", header, 0x20)[0], 12)
        self.first_dir, self.cutoff, self.first_minifat = struct.unpack_from("<I4xII", header, 0x30)
        self.first_difat = struct.unpack_from("<I", header, 0x44)[0]
        self.difat = list(struct.unpack_from("<109I", header, 0x4C))
        self.max_sectors = size // self.sector_size + 1  # a longer chain loops
        self.fat: dict[int, tuple[int, ...]] = {}

    def sector(self, number: int) -> bytes:
        offset = (number + 1) * self.sector_size
        if number >= 0xFFFFFFFA or offset >= self.size:
            raise ValueError("sector out of range")
        self.fh.seek(offset)
        return self.fh.read(self.sector_size)

    def next(self, number: int) -> int:
        per = self.sector_size // 4
        index = number // per
        while index >= len(self.difat) and self.first_difat < 0xFFFFFFFA and len(self.difat) < self.max_sectors:
            entries = struct.unpack(f"<{per}I", self.sector(self.first_difat))
            self.difat.extend(entries[:-1])
            self.first_difat = entries[-1]
        if index not in self.fat:
            self.fat[index] = struct.unpack(f"<{per}I", self.sector(self.difat[index]))
        return self.fat[index][number % per]

    def chain(self, first: int) -> Iterator[int]:
        number, seen = first, 0
        while number < 0xFFFFFFFA:
            seen += 1
            if seen > self.max_sectors:
                raise ValueError("sector chain loops")
            yield number
            number = self.next(number)

    def entries(self) -> Iterator[tuple[str, int, int, int]]:
        """(name, type, first sector, size) of each directory entry."""
        for number in self.chain(self.first_dir):
            block = self.sector(number)
            for start in range(0, len(block) - 127, 128):
                entry = block[start:start + 128]
                length, kind = struct.unpack_from("<HB", entry, 64)
                first, size = struct.unpack_from("<II", entry, 116)  # v3 files: the size's low 32 bits
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    yield entry[:length - 2].decode("utf-16-le", errors="replace"), kind, first, size

    def mini_stream(self, root_first: int, first: int, size: int) -> bytes:
        """A stream below the cutoff, from the mini stream (held in the root entry's chain)."""
        per = self.sector_size // 4
        minifat: list[int] = []
        for number in self.chain(self.first_minifat):
            minifat.extend(struct.unpack(f"<{per}I", self.sector(number)))
        pieces: list[int] = []
        number = first
        while number < 0xFFFFFFFA and len(pieces) * self.mini_size < size:
            if len(pieces) >= len(minifat) or number >= len(minifat):
                raise ValueError("mini chain out of range")
            pieces.append(number)
            number = minifat[number]
        sectors = list(self.chain(root_first))
        data = bytearray()
        for piece in pieces:
            offset = piece * self.mini_size
            big, within = divmod(offset, self.sector_size)
            if big >= len(sectors):
                raise ValueError("mini sector out of range")
            data += self.sector(sectors[big])[within:within + self.mini_size]
        return bytes(data[:size])


def ole2_stream(path: pathlib.Path, name: str, *, piece: int = 1 << 20) -> Iterator[bytes]:
    """The bytes of the stream ``name`` (case-insensitive), in pieces of about ``piece`` bytes.

    Sector chains are followed through the FAT (each FAT sector read once) with a
    bound on their length, so a looping or forged chain ends in ``ValueError``
    instead of an endless read. A stream below the mini-stream cutoff (4,096
    bytes) is read from the mini stream.

    Raises
    ------
    KeyError
        No such stream.
    ValueError
        A damaged or forged file (sector out of range, a loop).
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        doc = _Compound(fh, size)
        entries = list(doc.entries())
        root = next((e for e in entries if e[1] == 5), None)
        found = next((e for e in entries if e[1] == 2 and e[0].lower() == name.lower()), None)
        if found is None:
            raise KeyError(name)
        _, _, first, length = found
        if length < doc.cutoff and root is not None:
            yield doc.mini_stream(root[2], first, length)
            return
        left, buffer = length, []
        for number in doc.chain(first):
            if left <= 0:
                break
            block = doc.sector(number)[:left]
            left -= len(block)
            buffer.append(block)
            if len(buffer) * doc.sector_size >= piece:
                yield b"".join(buffer)
                buffer = []
        if buffer:
            yield b"".join(buffer)
