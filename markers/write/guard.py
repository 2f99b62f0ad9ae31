"""Guards around every write: files a run reads are never written, file-system errors become OutputError.

A run reads its input files, the ``--reference`` limits, the ``--config`` file and
the ``--pseudonymize`` key file; :func:`check_outputs` refuses an output (or the
provenance sidecar of one) that is any of them, an output that is not a regular
file (a device or FIFO), a name whose temporary or sidecar name is too long, a
folder that is read-only or under a file, and a symbolic-link loop -- all before
the analysis starts, so a refusal costs nothing and writes nothing.
:func:`os_errors` turns an :class:`OSError` raised while writing (a full disk,
a file removed meanwhile) into one :class:`~markers.errors.OutputError` naming the
path; :func:`all_or_nothing` removes what a multi-file write created when a later
file fails; :func:`cleanup_on_sigterm` makes SIGTERM run the same clean-up as Ctrl-C.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from markers.errors import OutputError

__all__ = ["all_or_nothing", "check_outputs", "cleanup_on_sigterm", "describe_os_error", "os_errors"]

PathLike = str | os.PathLike
# atomic_write's temporary name: "." + name + "." + 8 random characters + ".tmp"
_TEMP_EXTRA = len(".") + len(".") + 8 + len(".tmp")
_SIDECAR = ".provenance.json"


def _same(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):
        pass
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _check_one(output: Path, role: str) -> None:
    """Refuse an output that cannot be a regular file written in a writable folder."""
    try:
        info = os.stat(output)  # follows symbolic links, as the write will
    except FileNotFoundError:
        info = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{output}: a loop of symbolic links; give another {role} path") from None
        if exc.errno == errno.ENOTDIR:
            raise OutputError(f"{output}: a part of the path is a file, not a folder; give another {role} "
                              "path") from None
        raise OutputError(f"{output}: cannot be checked ({exc.strerror}); give another {role} path") from None
    if info is not None and stat.S_ISDIR(info.st_mode) and role != "PNG folder":
        raise OutputError(f"{output} is a folder; give a file name for the {role}")
    if info is not None and not stat.S_ISDIR(info.st_mode) and role == "PNG folder":
        raise OutputError(f"{output} is a file, not a folder; give a folder for the PNGs")
    if info is not None and not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise OutputError(f"{output} is not a regular file (a device, FIFO or socket); markers writes only "
                          f"regular files: give another {role} path")
    folder = output if role == "PNG folder" else output.parent
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise OutputError(f"{output}: {existing} is a file, not a folder; give another {role} path")
    if role != "PNG folder":
        longest = len(os.fsencode(output.name)) + max(_TEMP_EXTRA, len(_SIDECAR) + _TEMP_EXTRA)
        if longest > _name_max(existing):
            raise OutputError(f"{output}: the name is too long ({len(os.fsencode(output.name))} bytes; with the "
                              f"temporary and sidecar names markers writes it needs {longest}, the folder allows "
                              f"{_name_max(existing)}); choose a shorter name")
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{output}: the folder {existing} is not writable; choose another {role} path")


def check_outputs(outputs: Iterable[tuple[PathLike, str]], *, inputs: Iterable[PathLike] = (),
                  config: PathLike | None = None, reference: PathLike | None = None,
                  key_file: PathLike | None = None) -> None:
    """Refuse outputs that would overwrite something the run reads, or that cannot be written.

    Parameters
    ----------
    outputs
        ``(path, role)`` pairs, e.g. ``("out.csv", "output")``; the role
        ``"PNG folder"`` marks a folder. The provenance sidecar of a CSV/TSV
        output (``<name>.provenance.json``) is checked as well.
    inputs, config, reference, key_file
        What the run reads; none of them may be an output or a sidecar, and the
        key file may not be an output (it is created when missing).

    Raises
    ------
    OutputError
        Naming the path and the fix.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_outputs([(folder / "key.txt", "output")], key_file=folder / "key.txt")
    Traceback (most recent call last):
    ...
    markers.errors.OutputError: refusing to overwrite the --pseudonymize key file ...key.txt (given as the output); choose another output name
    """
    protected: list[tuple[Path, str]] = [(Path(p).expanduser(), "input file") for p in inputs]
    for path, what in ((config, "--config file"), (reference, "--reference file"),
                       (key_file, "--pseudonymize key file")):
        if path is not None:
            protected.append((Path(path).expanduser(), what))
    for raw, role in outputs:
        output = Path(raw).expanduser()
        targets = [(output, role)]
        if role != "PNG folder" and output.suffix.lower() in (".csv", ".tsv"):
            targets.append((output.with_name(output.name + _SIDECAR), f"provenance sidecar of the {role}"))
        for target, what_out in targets:
            for source, what in protected:
                if _same(target, source):
                    raise OutputError(f"refusing to overwrite the {what} {source} (given as the {what_out}); "
                                      "choose another output name")
        _check_one(output, role)


def describe_os_error(exc: OSError, fallback: PathLike | None = None) -> str:
    """One line for an OSError raised while writing: the path, what the system said, a fix."""
    path = exc.filename if exc.filename is not None else fallback
    hints = {errno.ENOSPC: "free some disk space", errno.EDQUOT: "free some disk space",
             errno.EROFS: "the file system is read-only: choose another folder",
             errno.EACCES: "check the folder's permissions", errno.EPERM: "check the folder's permissions",
             errno.ENAMETOOLONG: "choose a shorter name", errno.ELOOP: "remove the loop of symbolic links",
             errno.ENOTDIR: "a part of the path is a file, not a folder"}
    hint = hints.get(exc.errno, "check the path and try again")
    return f"cannot write {path if path is not None else 'the output'}: {exc.strerror or exc}; {hint}"


@contextlib.contextmanager
def os_errors(path: PathLike | None = None) -> Iterator[None]:
    """Turn an OSError raised in the block into an OutputError naming the path."""
    try:
        yield
    except OSError as exc:
        raise OutputError(describe_os_error(exc, path)) from exc


@contextlib.contextmanager
def all_or_nothing(files: Iterable[PathLike] = (), folders: Iterable[PathLike] = ()) -> Iterator[None]:
    """On any exception in the block, remove the ``files`` and the files new in ``folders`` it wrote.

    A file the block did not touch is kept (a failure before the PDF's
    rename leaves the previous PDF as it was); a file it replaced is removed
    with the rest, since the old content went with the atomic rename. Folders
    the block created are removed when left empty.
    """
    files = [Path(f) for f in files]
    folders = [Path(f) for f in folders]
    existed = {f: _identity(f) for f in files}
    before = {d: set(os.listdir(d)) if d.is_dir() else None for d in folders}
    try:
        yield
    except BaseException:
        for f in files:
            now = _identity(f)
            if now is not None and now != existed[f]:  # written by the block: part of an incomplete set
                with contextlib.suppress(OSError):
                    f.unlink()
        for d, names in before.items():
            if not d.is_dir():
                continue
            for name in set(os.listdir(d)) - (names or set()):
                with contextlib.suppress(OSError):
                    (d / name).unlink()
            if names is None:
                with contextlib.suppress(OSError):
                    d.rmdir()
        raise


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cleanup_on_sigterm() -> None:
    """Make SIGTERM raise SystemExit, so temporary files are removed as on Ctrl-C (main thread only)."""
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread / no SIGTERM
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _terminate)
