"""Text encodings: UTF-8 (with or without BOM), UTF-16 (with or without BOM), Windows-1252; others named and refused.

markers reads the encodings lab systems and Excel write: UTF-8, UTF-16 ("Unicode
text", with a byte-order mark or, from some exporters, without) and Windows-1252.
:func:`decode_text` decodes one of them and says what it saw when it cannot: a
Shift-JIS file is named as such instead of becoming wrong patient IDs, and a
UTF-8 byte-order mark followed by a Windows-1252 byte is an encoding error,
not a missing column.
"""

from __future__ import annotations

import codecs
import re

from markers.errors import ConfigError, InputFormatError

__all__ = ["check_encoding", "decode_as", "decode_text", "utf16_without_bom"]

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]")


def utf16_without_bom(head: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``head`` is UTF-16 text without a byte-order mark, else None.

    Mostly-ASCII UTF-16 has a NUL as every other byte (the odd ones for
    little-endian); binary data has NUL bytes on both sides.

    Examples
    --------
    >>> utf16_without_bom("Patient ID,VMA\\r\\n".encode("utf-16-le"))
    'utf-16-le'
    >>> utf16_without_bom(b"PK\\x03\\x04\\x00\\x00") is None
    True
    """
    head = head[: len(head) // 2 * 2]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    half = len(head) // 2
    if odd.count(0) >= 0.9 * half and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.9 * half and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _shift_jis(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Japanese Shift-JIS text (kana among the decoded characters)."""
    try:
        text = data.decode("shift_jis")
    except UnicodeDecodeError:
        return False
    wide = len(_CJK.findall(text))
    non_ascii = sum(1 for char in text if ord(char) > 127)
    return bool(_KANA.search(text)) and wide * 2 >= non_ascii


def decode_text(name: str, data: bytes) -> str:
    """Decode a text file's bytes that are neither ASCII nor UTF-16 with BOM: UTF-8, else Windows-1252.

    Parameters
    ----------
    name : str
        The file's name, for messages.
    data : bytes
        The whole file.

    Returns
    -------
    str
        The text, without a leading byte-order mark, and without the BOM of a
        second export pasted below the first (a BOM at a line's start).

    Raises
    ------
    InputFormatError
        A UTF-8 byte-order mark followed by bytes that are not UTF-8; Shift-JIS
        text (named as such); bytes that no supported encoding reads.

    Examples
    --------
    >>> decode_text("a.csv", "Patient;Größe\\n".encode("cp1252"))
    'Patient;Größe\\n'
    >>> decode_text("a.csv", "\\ufeffID\\n\\ufeffID\\n".encode("utf-8"))
    'ID\\nID\\n'
    """
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        if bom:
            at = exc.start + bom
            raise InputFormatError(
                f"{name}: starts with a UTF-8 byte-order mark, but byte {data[at]:#04x} on line "
                f"{_line_of(data, at)} is not UTF-8 (a Windows-1252 character such as ä or µ, saved by "
                "an editor that mixed encodings); save the file again as CSV UTF-8."
            ) from exc
        if _shift_jis(data):
            raise InputFormatError(
                f"{name}: the text looks like Japanese Shift-JIS (from line {_line_of(data, exc.start)}), which "
                "markers does not guess (it reads UTF-8, UTF-16 and Windows-1252 unless told): read it with "
                "--encoding shift_jis, or save the file as CSV UTF-8 (Excel: Save As > CSV UTF-8)."
            ) from exc
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc2:
            raise InputFormatError(
                f"{name}: is neither UTF-8 nor Windows-1252 text (byte {exc2.object[exc2.start]:#04x} "
                f"at offset {exc2.start}, line {_line_of(data, exc2.start)}); the file may use another encoding "
                "(Shift-JIS, GB18030, KOI8-R ...): give it with --encoding NAME, or export the data again as CSV (UTF-8)."
            ) from exc2
    if "\ufeff" in text:
        text = text.replace("\n\ufeff", "\n")  # a second export's BOM before its header
    return text


def check_encoding(encoding: str) -> str:
    """The codec's canonical name for ``encoding`` (e.g. ``"shift_jis"``), or a ConfigError naming it.

    Examples
    --------
    >>> check_encoding("Shift-JIS")
    'shift_jis'
    """
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(
            f"unknown text encoding {encoding!r} (--encoding); give a name Python knows, e.g. utf-8, cp1252, "
            "shift_jis, gb18030, koi8_r, latin-1."
        ) from None


def decode_as(name: str, data: bytes, encoding: str) -> str:
    """Decode a text file's bytes with the encoding the user gave; a byte that does not decode names its line.

    A leading byte-order mark (U+FEFF) is dropped.

    Examples
    --------
    >>> decode_as("a.csv", "ID,VMA\\nヤマダ,4.2\\n".encode("shift_jis"), "shift_jis")
    'ID,VMA\\nヤマダ,4.2\\n'
    """
    encoding = check_encoding(encoding)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFormatError(
            f"{name}: line {_line_of(data, exc.start)}: byte {data[exc.start]:#04x} (offset {exc.start:,}) is not "
            f"{encoding} text ({exc.reason}); check the encoding given with --encoding, or export the data "
            "again as CSV (UTF-8)."
        ) from exc
    return text[1:] if text.startswith("\ufeff") else text
