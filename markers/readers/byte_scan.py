"""Scans of a byte string that release the interpreter lock: a four-byte tag counted, a pattern looked for.

``bytes.count`` and :mod:`re` hold the interpreter lock, so a scan of one
piece of a sheet part and the inflating of the next (zlib releases it) cannot
share two cores. numpy's comparisons and pyarrow's RE2 kernels run without it:
the extent pass (:mod:`markers.readers.xlsx_extent`) scans with them while the
next piece is inflated.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["count_tag", "has_pair", "matches"]


def count_tag(data: bytes, tag: bytes) -> int:
    """How many times the four bytes ``tag`` occur in ``data``: ``data.count(tag)`` for a tag that cannot
    overlap itself (no proper prefix of it is also its suffix, as in ``<row``).

    Each occurrence starts at an offset 0, 1, 2 or 3 modulo 4, so it is one
    4-byte word in exactly one of the four word views of ``data`` shifted by
    0-3 bytes; each view is compared with the tag as one integer.

    Examples
    --------
    >>> count_tag(b'<row r="1"/><row r="2"/><rowBreaks/><ro', b"<row"), b'<row r="1"/><row r="2"/><rowBreaks/><ro'.count(b"<row")
    (3, 3)
    """
    if len(tag) != 4:
        raise ValueError(f"count_tag counts a tag of 4 bytes, got {tag!r}")
    return sum(int(np.count_nonzero(view == word)) for view, word in _word_views(data, tag))


def has_pair(data: bytes | memoryview, pair: bytes) -> bool:
    """Whether the two bytes ``pair`` occur in ``data``: ``pair in data``, about five times as fast when
    ``pair`` starts with a byte the data is full of (``<`` in XML), where ``bytes.find`` stops at each.

    An occurrence starts at an even or an odd offset, so it is one 2-byte word
    in one of the two word views of ``data`` (the second shifted by a byte).

    Examples
    --------
    >>> has_pair(b'<c r="A1"><v>1</v></c>', b"<f"), has_pair(b'<c r="A1"><f>A2</f></c>', b"<f")
    (False, True)
    """
    if len(pair) != 2:
        raise ValueError(f"has_pair looks for 2 bytes, got {pair!r}")
    return any(bool((view == word).any()) for view, word in _word_views(data, pair))


def _word_views(data: bytes | memoryview, needle: bytes):
    """Each view of ``data`` as words of ``len(needle)`` bytes, shifted by 0 to ``len(needle) - 1`` bytes,
    with ``needle`` as one such word: an occurrence of ``needle`` is a word of exactly one view."""
    dtype = {2: np.uint16, 4: np.uint32}[len(needle)]
    word = np.frombuffer(needle, dtype=dtype)[0]
    for shift in range(len(needle)):
        words = (len(data) - shift) // len(needle)
        if words > 0:
            yield np.frombuffer(data, dtype=dtype, count=words, offset=shift), word


def matches(data: bytes, pattern: pc.MatchSubstringOptions) -> bool:
    """Whether the RE2 ``pattern`` matches anywhere in ``data`` (one byte one character, Latin-1).

    ``data`` is not copied: a one-element binary array is laid over it.

    Examples
    --------
    >>> matches(b'<c r="AB12">', pc.MatchSubstringOptions('r="[A-Za-z]{2,}[0-9]+"'))
    True
    """
    offsets = pa.py_buffer(struct.pack("<qq", 0, len(data)))
    array = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(data)])
    return bool(pc.match_substring_regex(array, options=pattern)[0].as_py())
