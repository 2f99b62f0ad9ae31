"""The pseudonymisation key: 32 random bytes kept as hex in a file of mode 0600."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
import warnings
from pathlib import Path

from markers.errors import ConfigError, OutputError
from markers.write.output import atomic_write

logger = logging.getLogger(__name__)

__all__ = ["KEY_BYTES", "create_key", "load_key", "load_or_create_key"]

PathLike = str | os.PathLike[str]

#: Key length in bytes (256 bits, the HMAC-SHA-256 block-safe size).
KEY_BYTES = 32


def create_key(path: PathLike) -> bytes:
    """Create a new random pseudonymisation key file (hex text, mode 0600).

    Parameters
    ----------
    path
        Where to write the key. The file must not exist yet.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    OutputError
        When the file already exists (a key is never replaced: pseudonyms made
        with the old one could no longer be reproduced) or its directory is
        missing.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> key = create_key(pathlib.Path(tempfile.mkdtemp()) / "markers.key")
    >>> len(key)
    32
    """
    target = Path(path).expanduser()
    if target.exists():
        raise OutputError(
            f"key file {target} already exists; refusing to overwrite it "
            "(pseudonyms made with it could not be reproduced). Use it, or choose another path"
        )
    key = secrets.token_bytes(KEY_BYTES)
    with atomic_write(target, mode="w", permissions=0o600, exclusive=True) as handle:
        handle.write(key.hex() + "\n")
    logger.info("created pseudonymisation key %s", target)
    return key


def load_key(path: PathLike) -> bytes:
    """Read a key file written by :func:`create_key`.

    Parameters
    ----------
    path
        The key file: 64 hexadecimal digits (surrounding whitespace ignored).

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    ConfigError
        When the file is missing, unreadable or not 64 hex digits.

    Warns
    -----
    UserWarning
        When the file can be read by other users (POSIX).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "markers.key"
    >>> create_key(path) == load_key(path)
    True
    """
    target = Path(path).expanduser()
    try:
        text = target.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigError(
            f"pseudonymisation key file {target} does not exist; create one with "
            "markers.privacy.pseudonym.create_key() or give the path of the existing key"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read pseudonymisation key file {target}: {exc}") from None
    if len(text) != 2 * KEY_BYTES or not re.fullmatch(r"[0-9a-fA-F]+", text):
        raise ConfigError(
            f"pseudonymisation key file {target} is malformed: expected {2 * KEY_BYTES} hexadecimal "
            f"digits, found {len(text)} characters; restore the original key file"
        )
    if os.name == "posix":
        with contextlib.suppress(OSError):
            if stat.S_IMODE(target.stat().st_mode) & 0o077:
                warnings.warn(
                    f"pseudonymisation key file {target} is readable by other users; "
                    f"restrict it with: chmod 600 {target}",
                    UserWarning,
                    stacklevel=2,
                )
    return bytes.fromhex(text)


def load_or_create_key(path: PathLike) -> bytes:
    """Load the key at ``path``, creating it first when it does not exist.

    Parameters
    ----------
    path
        The key file.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    ConfigError
        When an existing key file is malformed.
    OutputError
        When the key cannot be created (missing directory).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "markers.key"
    >>> load_or_create_key(path) == load_or_create_key(path)
    True
    """
    if Path(path).expanduser().exists():
        return load_key(path)
    try:
        return create_key(path)
    except OutputError:
        # Created by someone else between the check and the write: use theirs.
        if Path(path).expanduser().exists():
            return load_key(path)
        raise
