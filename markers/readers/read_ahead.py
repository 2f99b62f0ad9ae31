"""A file read in chunks, the next chunk read (inflated) in a thread while the caller works on this one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

__all__ = ["read_ahead"]


@contextlib.contextmanager
def read_ahead(fh: BinaryIO, size: int) -> Iterator[Iterator[bytes]]:
    """The chunks of ``fh`` (``size`` bytes each, the last shorter), one read ahead in a second thread.

    Inflating a ZIP entry (zlib) and its CRC release the GIL, so a scan of one
    chunk and the inflating of the next share two cores. At most one chunk is
    read ahead of the caller; a read's error is raised where its chunk would
    have been taken. On leaving the block (also by an error) the read under way
    is waited for, so ``fh`` may be closed right after.

    Examples
    --------
    >>> import io
    >>> with read_ahead(io.BytesIO(b"abcdefg"), 3) as chunks:
    ...     list(chunks)
    [b'abc', b'def', b'g']
    """
    with ThreadPoolExecutor(1, thread_name_prefix="markers-read-ahead") as pool:
        def chunks() -> Iterator[bytes]:
            pending = pool.submit(fh.read, size)
            while chunk := pending.result():
                pending = pool.submit(fh.read, size)
                yield chunk

        yield chunks()
