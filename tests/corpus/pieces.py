"""A sheet part cut into pieces, and fed to the extent pass as the checks feed it (pieces, or joined)."""

from __future__ import annotations

from markers.readers.xlsx_extent import XlsxExtent


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the offsets ``cuts``."""
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def fed(parts: list[bytes], *, joined: bool) -> XlsxExtent:
    """The bound of ``parts`` fed piece by piece (``feed_next``), or each after the previous 256 bytes (``feed``)."""
    extent, tail = XlsxExtent(exact=False), b""
    for piece in parts:
        if joined:
            extent.feed(tail + piece, len(tail))
        else:
            extent.feed_next(tail, piece)
        tail = (tail + piece)[-256:]
    return extent
