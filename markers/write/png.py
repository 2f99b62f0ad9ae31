"""PNG encoding of a rendered page (8-bit RGBA pixels to PNG bytes)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png_bytes(rgba: np.ndarray, *, dpi: float, text: Mapping[str, str] | None = None) -> bytes:
    """Encode an 8-bit RGBA image (rows top to bottom) as PNG: RGB when every pixel is opaque.

    A report page is mostly white: stored without row filters and deflated at level 1, an
    A4 page at 150 dpi takes the space of matplotlib's PNG of it (adaptive row filters,
    level 6) and half the time (about 22 instead of 46 ms). The bytes depend on the
    pixels, ``dpi`` and ``text`` only.

    Parameters
    ----------
    rgba
        ``(height, width, 4)`` array of ``uint8``.
    dpi
        Resolution recorded in the file (pHYs, pixels per metre).
    text
        ``tEXt`` entries (keyword: Latin-1 text), e.g. ``{"Software": "markers 1.0"}``.

    Examples
    --------
    >>> white = np.full((2, 3, 4), 255, dtype=np.uint8)
    >>> data = png_bytes(white, dpi=72)
    >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n", data[25]  # colour type 2: RGB
    (True, 2)
    """
    height, width, _ = rgba.shape
    opaque = bool((rgba[..., 3] == 255).all())
    channels = 3 if opaque else 4
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # filter byte 0 (none) per row
    rows[:, 1:] = rgba[..., :channels].reshape(height, width * channels)
    per_metre = int(dpi / 0.0254 + 0.5)
    parts = [b"\x89PNG\r\n\x1a\n",
             _png_chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                        + bytes([8, 2 if opaque else 6, 0, 0, 0])),
             _png_chunk(b"pHYs", per_metre.to_bytes(4, "big") * 2 + b"\x01")]
    for key, value in (text or {}).items():
        parts.append(_png_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1")))
    parts += [_png_chunk(b"IDAT", zlib.compress(rows, 1)), _png_chunk(b"IEND", b"")]
    return b"".join(parts)

