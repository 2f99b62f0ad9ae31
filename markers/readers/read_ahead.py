"""A file read in chunks, the next chunk read (inflated) in a thread while the caller works on this one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

__all__ = ["read_ahead"]


@contextlib.contextmanager
def read_ahead(fh: BinaryIO, size: int, *, each: Callable[[bytes], Any] | None = None) -> Iterator[Iterator[Any]]:
    """The chunks of ``fh`` (``size`` bytes each, the last shorter), one read ahead in a second thread.

    Inflating a ZIP entry (zlib) and its CRC release the GIL, so a scan of one
    chunk and the inflating of the next share two cores. At most one chunk is
    read ahead of the caller; a read's error is raised where its chunk would
    have been taken. On leaving the block (also by an error) the read under way
    is waited for, so ``fh`` may be closed right after.

    With ``each``, the thread also runs ``each(chunk)`` on every chunk it reads and the
    block gets ``(chunk, each(chunk))`` pairs: a scan that releases the GIL too (an RE2
    search) then runs beside the caller's work instead of in it.

    Examples
    --------
    >>> import io
    >>> with read_ahead(io.BytesIO(b"abcdefg"), 3) as chunks:
    ...     list(chunks)
    [b'abc', b'def', b'g']
    >>> with read_ahead(io.BytesIO(b"abcdefg"), 3, each=lambda chunk: chunk.count(b"e")) as pairs:
    ...     list(pairs)
    [(b'abc', 0), (b'def', 1), (b'g', 0)]
    """
    def read() -> Any:
        chunk = fh.read(size)
        return (chunk, each(chunk)) if each is not None and chunk else chunk

    with ThreadPoolExecutor(1, thread_name_prefix="markers-read-ahead") as pool:
        def chunks() -> Iterator[Any]:
            pending = pool.submit(read)
            while piece := pending.result():
                pending = pool.submit(read)
                yield piece

        yield chunks()
