"""Chunks written to a file by a second thread while the next ones are made.

A large table's text is made a slice of rows at a time (Arrow compute, which releases the
interpreter lock) and each slice is handed to the file (a system call, which releases it too).
Done in turn, the copy into the operating system's page cache waits for the text and the text
waits for the copy; with a writer thread the two run on two cores. The thread holds at most
``depth`` chunks not yet written, so memory stays bounded, and an error on either side stops
both and is raised in the caller's thread, so an atomic write still leaves nothing behind.

With ``sync_every``, the writer thread also hands what it has written to the disk
(``fdatasync``) each time that many bytes have gone to the file, while the next chunks are made:
the atomic write's closing ``fsync`` then waits for the last few megabytes only, not the whole
file (a 200 MB table: about 80 ms of waiting at the end, before the file can be moved into place).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable
from typing import BinaryIO

__all__ = ["write_chunks"]

_DONE = object()
#: The data-only sync where the system has one (Linux), else the full one (macOS, Windows).
_sync_data = getattr(os, "fdatasync", os.fsync)


def write_chunks(handle: BinaryIO, chunks: Iterable[bytes | memoryview], *, depth: int = 2,
                 sync_every: int | None = None) -> int:
    """Write every chunk of ``chunks`` to ``handle`` in order, from a second thread; the bytes written.

    Returns once every chunk is written. An exception raised while making the chunks or while
    writing them is raised here (the first one; the other side stops at its next chunk).
    ``sync_every``: bytes after which the writer flushes ``handle`` and syncs its data to the disk
    (a file with a descriptor only; the caller still syncs at the end).
    """
    pending: queue.Queue = queue.Queue(maxsize=max(1, depth))
    failed: list[BaseException] = []
    written = [0]

    def drain() -> None:
        unsynced = 0
        while True:
            chunk = pending.get()
            if chunk is _DONE:
                return
            if failed:
                continue  # the writer failed earlier: take what is queued, so the maker never blocks
            try:
                count = handle.write(chunk) or 0
                written[0] += count
                unsynced += count
                if sync_every is not None and unsynced >= sync_every:
                    handle.flush()
                    _sync_data(handle.fileno())
                    unsynced = 0
            except BaseException as error:  # noqa: BLE001 - handed to the caller's thread below
                failed.append(error)

    writer = threading.Thread(target=drain, name="markers-write-behind", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failed:
                break
            pending.put(chunk)
    finally:
        pending.put(_DONE)
        writer.join()
    if failed:
        raise failed[0]
    return written[0]
