"""OLE2 compound files (xls and encrypted Office files): the directory's stream names, read with bounded seeks."""

from __future__ import annotations

import logging
import pathlib
import struct

logger = logging.getLogger(__name__)

__all__ = ["ole2_kind", "ole2_stream_names"]

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
