"""The parts of an xlsx package the fast reader may open as a worksheet, wherever the package puts them.

calamine finds a sheet through the workbook's relationships (``xl/_rels/workbook.xml.rels``; newer
versions find the workbook itself through ``_rels/.rels``): a target may be absolute (``/xl/x.xml``) or
relative to the workbook's folder, lie outside ``xl/worksheets/`` and have any name. The extent checks
must scan every such part before the reader sees the file, else a forged sheet at ``xl/data/s.xml``
with one cell at XFD1048576 makes it allocate 412 GB and abort. The workbook and its relationships
are read with a pattern, not an XML parser, so a file the parser would refuse cannot hide a sheet; a
workbook or relationships part of more than 16 MiB (Excel writes a few kB) is refused rather than
read in part.
"""

from __future__ import annotations

import posixpath
import re
import zipfile

from markers.errors import UnsafeInputError

__all__ = ["sheet_parts", "normal_part"]

_BLANK = rb"[ \t\n\r]"
_TAG = re.compile(rb"<(?:[^ \t\n\r<>/:]+:)?(Relationship|sheet)(?=[ \t\n\r/>])([^<>]*)>")
_ATTRIBUTE = re.compile(rb"(?:^|" + _BLANK + rb")(?:[^ \t\n\r=<>/:]+:)?(Id|id|Target)" + _BLANK + rb"*=" + _BLANK
                        + rb"*(?:\"([^\"]*)\"|'([^']*)')")
_LIMIT = 1 << 24  # a workbook or relationships part past 16 MiB is refused (Excel writes a few kB)


def normal_part(name: str) -> str:
    """A part name as the reader's lookup matches it: ``/`` for ``\\``, no leading ``/``, lower case."""
    return name.replace("\\", "/").lstrip("/").lower()


def sheet_parts(zf: zipfile.ZipFile, *, name: str = "the workbook") -> set[str]:
    """Every part (:func:`normal_part` names) under ``xl/worksheets/`` or opened as a sheet by a workbook.

    A workbook's ``<sheet r:id="...">`` entries name relationships; their targets are the sheets.
    Other targets (styles, theme) are not sheets, and their numbers (a theme's ``dir="5400000"``)
    are not references. ``name``: the file's name, for the message of a refusal.

    Raises
    ------
    UnsafeInputError
        A workbook or relationships part that inflates to more than 16 MiB.

    Examples
    --------
    >>> import io
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as zf:
    ...     zf.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="A" sheetId="1" r:id="rId1"/></sheets></workbook>')
    ...     zf.writestr("xl/_rels/workbook.xml.rels", '<Relationships><Relationship Id="rId1" '
    ...                 'Target="data/Sheet1.xml"/><Relationship Id="rId2" Target="/xl/styles.xml"/></Relationships>')
    ...     for name in ("xl/data/Sheet1.xml", "xl/styles.xml", "xl/worksheets/sheet2.xml"):
    ...         zf.writestr(name, "<worksheet/>")
    >>> sorted(sheet_parts(zipfile.ZipFile(buffer)))
    ['xl/data/sheet1.xml', 'xl/worksheets/sheet2.xml']
    """
    names = {normal_part(info.filename): info for info in zf.infolist() if not info.is_dir()}
    parts = {name for name in names if name.startswith("xl/worksheets/")}
    workbooks = {"xl/workbook.xml"} | {target for _, target in _relationships(zf, names, "_rels/.rels", "", name)}
    for workbook in workbooks:
        ids = {value for tag, attributes in _elements(zf, names, workbook, name) if tag == b"sheet"
               for value in attributes.get(b"id", [])}
        if not ids:
            continue
        folder, file = posixpath.split(workbook)
        rels = posixpath.join(folder, "_rels", file + ".rels")
        parts |= {target for rel_id, target in _relationships(zf, names, rels, folder, name) if rel_id in ids}
    return {part for part in parts if part in names}


def _elements(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], part: str, name: str
              ) -> list[tuple[bytes, dict[bytes, list[bytes]]]]:
    """Each ``Relationship`` and ``sheet`` tag of ``part`` with its ``Id``/``id``/``Target`` values (every one of
    a repeated attribute: a reader may take either)."""
    info = names.get(normal_part(part))
    if info is None:
        return []
    try:
        with zf.open(info) as handle:
            data = handle.read(_LIMIT + 1)
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError):
        return []  # the reader cannot open it either; the archive checks report a damaged part
    if len(data) > _LIMIT:  # read in part, a sheet's entry or relationship could hide past the end
        raise UnsafeInputError(f"{name}: the part {info.filename!r} inflates to more than {_LIMIT:,} bytes (Excel "
                               "writes a few kB); markers refuses it before reading: the file is damaged or "
                               "forged; save it again from Excel.")
    elements = []
    for tag, text in _TAG.findall(data):
        attributes: dict[bytes, list[bytes]] = {}
        for name, double, single in _ATTRIBUTE.findall(text):
            attributes.setdefault(name.lower(), []).append(double or single)
        elements.append((tag, attributes))
    return elements


def _relationships(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], rels: str, folder: str, name: str
                   ) -> list[tuple[bytes, str]]:
    """(Id, target) of each relationship in ``rels``, the target resolved against ``folder`` as the reader
    resolves it (and normalised, ``a/../b``, in case a reader does that too)."""
    found = []
    for tag, attributes in _elements(zf, names, rels, name):
        if tag != b"Relationship":
            continue
        for value in attributes.get(b"target", []):
            target = value.decode("utf-8", "replace").replace("\\", "/")
            joined = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            for rel_id in attributes.get(b"id", [b""]):
                found += [(rel_id, normal_part(joined)), (rel_id, normal_part(posixpath.normpath(joined)))]
    return found
