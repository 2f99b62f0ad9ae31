"""Real xlsx fixtures for the tests: written with openpyxl, or from hand-written sheet XML."""

import io
import zipfile

import openpyxl

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def write_workbook(path, sheets):
    """Write ``{sheet name: list of rows}`` as a workbook at ``path``; returns the path."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def write_xml_workbook(path, sheets: dict[str, str], *, workbook_tail: str = "") -> None:
    """A workbook of hand-written sheet parts (name -> worksheet XML), as in ECMA-376 Part 1, deflated;
    ``workbook_tail``: elements after ``<sheets>`` in the workbook part (``<calcPr .../>``)."""
    names = list(sheets)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                        for i in range(1, len(names) + 1))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            f'main+xml"/>{overrides}</Types>'),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                            + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>'
                                      for i, n in enumerate(names, start=1))
                            + f"</sheets>{workbook_tail}</workbook>"),
        "xl/_rels/workbook.xml.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
                                       + "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" '
                                                 f'Target="worksheets/sheet{i}.xml"/>'
                                                 for i in range(1, len(names) + 1))
                                       + "</Relationships>"),
    }
    for i, name in enumerate(names, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = sheets[name]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, text in parts.items():
            zf.writestr(part, text)
    path.write_bytes(out.getvalue())
