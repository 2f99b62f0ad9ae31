"""Atomic file writes that never overwrite an input.

Data goes to a temporary file beside the target, is flushed and ``fsync``-ed, then moved into place
with :func:`os.replace`. A crash, an exception or Ctrl-C leaves the previous file (or no file)
untouched and no temporary file behind. Every writer takes ``inputs=`` and refuses a target that is
the same file as one of them (also through a different relative path, a symbolic link or a hard link).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from markers.errors import OutputError

logger = logging.getLogger("markers.write.output")

PathLike = str | os.PathLike[str]


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file (after symlinks; hard links when both exist)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_target(path: PathLike, inputs: Iterable[PathLike]) -> Path:
    """Validate an output path; return the file to replace (symlinks followed).

    Raises
    ------
    OutputError
        When the path is an input, a directory, or its directory is missing.
    """
    target = Path(path).expanduser()
    for source in inputs:
        if _same_file(target, Path(source).expanduser()):
            raise OutputError(
                f"refusing to overwrite the input file {source}; choose another output name"
            )
    # Writing through a symbolic link replaces the file it points to, not the link.
    real = target.resolve()
    if not real.parent.is_dir():
        raise OutputError(
            f"directory {target.parent} does not exist; create it first or choose another output path"
        )
    if real.is_dir():
        raise OutputError(f"{target} is a directory; give a file name for the output")
    return real


def _default_permissions() -> int:
    # mkstemp creates 0600 files; a normal output should get what open() would
    # give (0666 minus the umask). os.umask can only be read by setting it; it
    # is set straight back to the same value.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(
    path: PathLike,
    *,
    mode: str = "wb",
    inputs: Iterable[PathLike] = (),
    encoding: str | None = None,
    permissions: int | None = None,
    exclusive: bool = False,
) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only when the block succeeds.

    The temporary file lives in the target's directory (named like
    ``.report.pdf.k3j9x1.tmp``) so the final :func:`os.replace` is an atomic
    rename on the same file system. On any exception, including
    ``KeyboardInterrupt``, the temporary file is removed and the previous
    target (or its absence) is left as it was.

    Parameters
    ----------
    path
        The file to create or replace. A symbolic link is followed: the file
        it points to is replaced and the link kept.
    mode
        ``"wb"`` (default) or ``"w"`` for text.
    inputs
        Files the output must never overwrite (the files the data came from).
    encoding
        Text encoding for ``mode="w"``; UTF-8 when not given.
    permissions
        File mode bits of the new file, e.g. ``0o600`` for a secret; by default
        those of the file being replaced, else ``0o666`` minus the umask.
    exclusive
        Refuse (``OutputError``) when ``path`` already exists, checked again at
        the moment of the rename so a file created meanwhile is not replaced.

    Yields
    ------
    IO
        The open temporary file.

    Raises
    ------
    OutputError
        When ``path`` is one of ``inputs``, its directory does not exist, it is
        a directory, or ``exclusive`` and it exists.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
    >>> with atomic_write(target, mode="w") as handle:
    ...     _ = handle.write("done")
    >>> target.read_text()
    'done'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode must be 'wb' or 'w', not {mode!r}")
    target = check_target(path, inputs)
    if exclusive and target.exists():
        raise OutputError(f"{path} already exists; refusing to overwrite it")
    if permissions is None:
        permissions = target.stat().st_mode & 0o7777 if target.exists() else _default_permissions()

    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        try:
            # Set the mode before any byte is written: a secret is never readable by others.
            with contextlib.suppress(OSError, NotImplementedError):
                os.chmod(temp, permissions)
            if mode == "w":
                handle: IO[Any] = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline="")
            else:
                handle = os.fdopen(fd, "wb")
        except BaseException:
            # Only before the file object owns the descriptor: closing it later
            # could close a number another thread has been given meanwhile.
            os.close(fd)
            raise
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            # os.link fails if the target exists, unlike os.replace: no race.
            try:
                os.link(temp, target)
            except FileExistsError:
                raise OutputError(f"{path} already exists; refusing to overwrite it") from None
            except OSError:
                # File systems without hard links: best effort.
                if target.exists():
                    raise OutputError(f"{path} already exists; refusing to overwrite it") from None
                os.replace(temp, target)
            else:
                temp.unlink()
        else:
            os.replace(temp, target)
        _fsync_directory(target.parent)
    except BaseException:
        # BaseException: Ctrl-C must not leave a half-written temporary file either.
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    logger.debug("wrote %s", target)


def write_bytes_atomic(data: bytes, path: PathLike, *, inputs: Iterable[PathLike] = ()) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    Parameters
    ----------
    data
        The complete file content.
    path
        Target file.
    inputs
        Files that must not be overwritten.

    Raises
    ------
    OutputError
        When ``path`` is one of ``inputs`` or its directory does not exist.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> write_bytes_atomic(b"abc", target)
    >>> target.read_bytes()
    b'abc'
    """
    with atomic_write(path, mode="wb", inputs=inputs) as handle:
        handle.write(data)

