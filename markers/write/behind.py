"""Chunks written to a file by a second thread while the next ones are made.

A large table's text is made a slice of rows at a time (Arrow compute, which releases the
interpreter lock) and each slice is handed to the file (a system call, which releases it too).
Done in turn, the copy into the operating system's page cache waits for the text and the text
waits for the copy; with a writer thread the two run on two cores. The thread holds at most
``depth`` chunks not yet written, so memory stays bounded, and an error on either side stops
both and is raised in the caller's thread, so an atomic write still leaves nothing behind.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from typing import BinaryIO

__all__ = ["write_chunks"]

_DONE = object()


def write_chunks(handle: BinaryIO, chunks: Iterable[bytes | memoryview], *, depth: int = 2) -> int:
    """Write every chunk of ``chunks`` to ``handle`` in order, from a second thread; the bytes written.

    Returns once every chunk is written. An exception raised while making the chunks or while
    writing them is raised here (the first one; the other side stops at its next chunk).
    """
    pending: queue.Queue = queue.Queue(maxsize=max(1, depth))
    failed: list[BaseException] = []
    written = [0]

    def drain() -> None:
        while True:
            chunk = pending.get()
            if chunk is _DONE:
                return
            if failed:
                continue  # the writer failed earlier: take what is queued, so the maker never blocks
            try:
                written[0] += handle.write(chunk) or 0
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
