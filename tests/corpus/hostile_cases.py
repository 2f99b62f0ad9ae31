"""Round-two hostile inputs: native aborts, repeat bombs, lying ZIP sizes, huge lines, swallowed rows, decoding.

Each builder writes a small file from the published format (ECMA-376 SpreadsheetML
cell references ``A1``..``XFD1048576``; OpenDocument 1.2 ``table:number-rows-repeated``
and ``table:number-columns-repeated``; RFC 4180 quoting). :data:`CASES` is appended
to :data:`make_corpus.CASES`.
"""

from __future__ import annotations

import io
import pathlib
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field


def _sheet_xml(rows: str, dimension: str = "A1:C2") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Sample date</t></is></c><c r="C1" t="inlineStr"><is><t>VMA</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>P1</t></is></c>'
        '<c r="B2" t="inlineStr"><is><t>2024-01-02</t></is></c><c r="C2"><v>4.2</v></c></row>'
        f"{rows}</sheetData></worksheet>"
    ).encode()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    b'<sheet name="Results" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    b'Target="sharedStrings.xml"/></Relationships>'
)


def xlsx(sheet: bytes, shared: bytes | None = None) -> bytes:
    """A minimal xlsx package (ECMA-376 part 1): content types, relationships, workbook, one sheet."""
    shared = shared or (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                        b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>P1</t></si></sst>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zf.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def _write(data: bytes) -> Callable[[pathlib.Path], None]:
    def build(path: pathlib.Path) -> None:
        path.write_bytes(data)

    return build


def _xlsx_case(rows: str, dimension: str = "A1:C2", shared: bytes | None = None) -> Callable[[pathlib.Path], None]:
    return _write(xlsx(_sheet_xml(rows, dimension), shared))


_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Results">'
    '<table:table-row><table:table-cell office:value-type="string"><text:p>Patient ID</text:p></table:table-cell>'
    '<table:table-cell office:value-type="string"><text:p>VMA</text:p></table:table-cell></table:table-row>'
)
_ODS_TAIL = "</table:table></office:spreadsheet></office:body></office:document-content>"


def ods(rows: str) -> bytes:
    """A minimal ods package (OpenDocument 1.2): mimetype first and stored, manifest, content."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest '
                    b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
        zf.writestr("content.xml", (_ODS_HEAD + rows + _ODS_TAIL).encode())
    return out.getvalue()


def ods_sheet(rows: str) -> bytes:
    """A minimal ods package whose one table holds ``rows`` alone (no header row added)."""
    content = _ODS_HEAD.split("<table:table-row>")[0] + rows + _ODS_TAIL
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest '
                    b'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
        zf.writestr("content.xml", content.encode())
    return out.getvalue()


def _value_row(repeat: int, cells: int = 2) -> str:
    cell = '<table:table-cell office:value-type="float" office:value="4.2"><text:p>4.2</text:p></table:table-cell>'
    attr = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{attr}>{cell * cells}</table:table-row>"


def _lying_sizes(path: pathlib.Path) -> None:
    # A sheet part of 8 MiB of real XML declares 900 kB (below the 1 MiB at which the ratio is judged).
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(3, 200_000))
    data = bytearray(xlsx(_sheet_xml(rows, "A1:C199999")))
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        length = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + length] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, pos + 24, 900_000)
        pos = data.find(b"PK\x01\x02", pos + 4)
    path.write_bytes(bytes(data))


def _text(data: str, encoding: str = "utf-8") -> Callable[[pathlib.Path], None]:
    return _write(data.encode(encoding))


_HEADER = "Patient ID,Sample date,VMA,Comment\n"
_ROWS = "".join(f"P{i},2024-01-{1 + i % 28:02d},4.{i % 10},\n" for i in range(1, 11))
_TAIL = "".join(f"P{i},2024-02-{1 + i % 28:02d},5.{i % 10},ok\n" for i in range(11, 2001))


def _dup_entry(path: pathlib.Path) -> None:
    import warnings

    data = xlsx(_sheet_xml(""))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns "Duplicate name": that is the point
            zout.writestr("xl/worksheets/sheet1.xml", _sheet_xml('<row r="3"><c r="A3"><v>9</v></c></row>'))
    path.write_bytes(out.getvalue())


def _nul_after_first_mib(path: pathlib.Path) -> None:
    # 140,000 lines of 8 bytes after the header: the NUL is on line 140,002, past the first 1 MiB chunk
    path.write_bytes(b"ID,VMA\r\n" + b"P1,4.2\r\n" * 140_000 + b"P2,\x00\r\n")


_SJIS = "患者ID,検体日,VMA\r\nヤマダ タロウ,2024-01-02,4.2\r\nスズキ ハナコ,2024-01-03,3.9\r\n"


def cases(case: type) -> list:
    """The round-two cases, as ``case`` (make_corpus.Case) records."""
    return _cases(case) + _row_cases(case)


def _row_cases(case: type) -> list:
    """Workbooks whose rows the reader does not give as the file holds them: refused naming the rows."""
    untyped = '<table:table-row><table:table-cell><text:p>P2</text:p></table:table-cell></table:table-row>'
    float_text = ('<table:table-row><table:table-cell office:value-type="string"><text:p>P2</text:p>'
                  '</table:table-cell></table:table-row><table:table-row><table:table-cell '
                  'office:value-type="float"><text:p>4.2</text:p></table:table-cell></table:table-row>')
    return [
        case("cell_outside_its_row.xlsx", _xlsx_case('<row r="3"><c r="A7"><v>1</v></c></row>'), "InputFormatError",
             r"sheet 'Results': the file has 3 rows with values, the reader gave 3: row 3 holds values in the file "
             r"but the reader gave them empty; the reader gave values in row 7",
             "<row r=\"3\"> holding a cell that says A7: the reader moves the value four rows down"),
        case("ods_text_without_value_type.ods", _write(ods(untyped)), "InputFormatError",
             r"sheet 'Results': the file has 2 rows with values, the reader gave 1: row 2 holds values",
             "a cell with text but no office:value-type: LibreOffice shows it, the fast reader gives nothing"),
        case("ods_float_without_office_value.ods", _write(ods(float_text)), "InputFormatError",
             r"the file has 3 rows with values, the reader gave 2: row 3 holds values",
             "a float cell whose number is only in its text (no office:value): read as empty"),
    ]


def _cases(case: type) -> list:
    return [
        case("cell_at_XFD1048576.xlsx", _xlsx_case('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
             "UnsafeInputError", r"spans 1,048,576 rows x 16,384 columns",
             "one cell at the last address a sheet has: the fast reader would allocate 17 G cells and abort"),
        case("row_4294967295.xlsx", _xlsx_case('<row r="4294967295"><c><v>1</v></c></row>'),
             "UnsafeInputError", r"row numbered 4,294,967,295",
             "a row number past the 1,048,576 rows of the format (2^32 - 1)"),
        case("sst_count_4294967295.xlsx", _xlsx_case("", shared=(
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main" count="4294967295" uniqueCount="4294967295"><si><t>P1</t></si></sst>')),
            "UnsafeInputError", r"shared-strings table claims 4,294,967,295 strings",
            "a shared-strings count no 150-byte part can hold"),
        case("column_XFE.xlsx", _xlsx_case('<row r="3"><c r="XFE3"><v>1</v></c></row>'),
             "UnsafeInputError", r"column 16,385, past the last column", "column XFE, one past XFD"),
        case("dimension_and_cell_far.xlsx", _xlsx_case('<row r="1048576"><c r="AX1048576"><v>1</v></c></row>',
                                                        "A1:AX1048576"),
             "UnsafeInputError", r"52,428,800 cells; limit 50,000,000",
             "a legal cell at AX1048576: 1,048,576 x 50 cells, over the extent limit"),
        case("row_without_number_far.xlsx", _xlsx_case('<row r="1048577"><c><v>1</v></c></row>'),
             "UnsafeInputError", r"row numbered 1,048,577", "row 1,048,577: one past the last"),
        case("ods_row_repeat_200000.ods", _write(ods(_value_row(200_000))), "UnsafeInputError",
             r"repeat counts create 399,998 cells", "one 2-cell row repeated 200,000 times (400,000 cells from 2 written: 399,998 by repeats)"),
        case("ods_repeat_bomb_98M.ods", _write(ods(
            '<table:table-row table:number-rows-repeated="10000"><table:table-cell '
            'table:number-columns-repeated="9800" office:value-type="float" office:value="1"><text:p>1</text:p>'
            "</table:table-cell></table:table-row>")), "UnsafeInputError",
            r"10,001 rows x 9,800 columns \(98,009,800 cells", "98 M cells from one cell element"),
        case("zip_sizes_lie.xlsx", _lying_sizes, "InputFormatError", r"sheet1\.xml' is damaged",
             "the central directory declares 900 kB for a part that inflates to 8 MB"),
        case("commas_1e6.csv", _text(_HEADER + "P1," + "," * 1_000_000 + "\n"), "InputFormatError",
             r"line 2 is longer than 262,144 bytes", "a million commas on one line"),
        case("patient_id_10MB.csv", _text(_HEADER + "P" + "9" * 10_000_000 + ",2024-01-02,4.2,\n"),
             "InputFormatError", r"line 2 is longer than", "a 10 MB patient ID"),
        case("wide_20000_columns.tsv", _text("\t".join(f"c{i}" for i in range(20_000)) + "\n"),
             "InputFormatError", r"splits into 20,000 cells \(limit 16,384", "20,000 tab-separated cells"),
        case("unclosed_quote_tail.csv", _text(_HEADER + _ROWS.replace("P10,2024-01-11,4.0,\n",
                                                                      'P10,2024-01-11,4.0,"see note\n') + _TAIL),
             "InputFormatError", r"line 11: a quote .* not closed before line 2,001",
             "an unclosed quote in the last comment of line 11 swallows the 1,990 lines after it"),
        case("shift_jis.csv", _text(_SJIS, "shift_jis"), "InputFormatError", r"Japanese Shift-JIS.*CSV UTF-8",
             "Japanese katakana names in Shift-JIS: refused by name, not read as Windows-1252 mojibake"),
        case("bom_then_cp1252.csv", _write(b"\xef\xbb\xbf" + "Patient ID;Größe\r\nP1;4,2\r\n".encode("cp1252")),
             "InputFormatError", r"UTF-8 byte-order mark, but byte 0xf6 on line 1 is not UTF-8",
             "a UTF-8 BOM and then a Windows-1252 ö: an encoding error, not a missing column"),
        case("html_after_comment.csv", _write(b"<!-- LIS export -->\n<html><body><table><tr><td>P1</td></tr>"
                                              b"</table></body></html>"),
             "InputFormatError", r"web page \(HTML\), not a \.csv text file", "HTML behind a comment, named .csv"),
        case("xml_named.csv", _write(b'<?xml version="1.0"?><results><result id="P1" vma="4.2"/></results>'),
             "InputFormatError", r"is an XML file, not a \.csv text file", "an XML document named .csv"),
        case("xml_named.xls", _write(b"<results><result id='P1'/></results>"), "InputFormatError",
             r"is an XML file, not an xls workbook", "XML without a declaration, named .xls"),
        case("duplicate_entry.xlsx", _dup_entry, "UnsafeInputError", r"two entries named 'xl/worksheets/sheet1\.xml'",
             "two sheet parts of one name: readers disagree on which counts"),
        case("nul_after_1MiB.csv", _nul_after_first_mib, "InputFormatError", r"NUL bytes \(first on line 140002\)",
             "a NUL byte in the second 1 MiB chunk, found while streaming"),
        case("one_line_300k.csv", _text("P" * 300_000), "InputFormatError", r"line 1 is longer than 262,144",
             "300 kB without a line break"),
        case("row_4294967296.xlsx", _xlsx_case('<row r="4294967296"><c r="A4294967296"><v>1</v></c></row>'),
             "UnsafeInputError", r"row numbered 4,294,967,296", "2^32: past a 32-bit row index"),
        case("column_AAAA.xlsx", _xlsx_case('<row r="3"><c r="AAAA3"><v>1</v></c></row>'), "UnsafeInputError",
             r"column 18,279, past the last column", "four column letters: AAAA = 26^3 + 26^2 + 26 + 1 = 18,279"),
        case("ods_column_repeat.ods", _write(ods(
            '<table:table-row><table:table-cell table:number-columns-repeated="200000" office:value-type="float" '
            'office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>')), "UnsafeInputError",
            r"repeat counts create 199,999 cells", "one cell repeated across 200,000 columns"),
        case("ods_far_row.ods", _write(ods(
            '<table:table-row table:number-rows-repeated="2000000"><table:table-cell '
            'table:number-columns-repeated="30"/></table:table-row>' + _value_row(1, 30))), "UnsafeInputError",
            r"2,000,002 rows x 30 columns", "empty padding of 2 M rows and then a filled row: the extent counts"),
        case("sst_count_10M.xlsx", _xlsx_case("", shared=(
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main" uniqueCount="10000000"><si><t>P1</t></si></sst>')),
            "UnsafeInputError", r"claims 10,000,000 strings", "ten million strings claimed by a 140-byte part"),
        case("unclosed_quote.tsv", _text(_HEADER.replace(",", "\t") + "P1\t2024-01-02\t4.2\t\"open\n"
                                         + "".join(f"P{i}\t2024-01-03\t1.{i}\tok\n" for i in range(2, 40))),
             "InputFormatError", r"line 2: a quote .* not closed before line 40",
             "the same in a tab-separated file: 38 rows would vanish into one comment"),
        case("unclosed_quote_midfile.csv", _text(_HEADER + 'P1,2024-01-02,4.2,"a\n' + _ROWS + 'P9,2024-01-03,1.0,b"\n'),
             "InputFormatError", r"line 2: a quote", "a stray quote closed ten rows later by another stray quote"),
    ]


@dataclass(frozen=True)
class Counted:
    """A file markers reads: the row accounting it must give (worked out from the file as built)."""

    filename: str
    build: Callable[[pathlib.Path], None]
    counts: dict  # status -> rows, e.g. {"kept": 2, "rejected": 0, "skipped": 1}
    reasons: dict  # reason -> rows, for the reasons this case is about
    values: list  # the measurement values in file order
    why: str
    issues: dict = field(default_factory=dict)  # issue code -> records, for the codes this case is about


_LONG = "Patient ID;Collection date;Test;Result;Unit\r\n"


def _long(*results: str) -> str:
    return "".join(f"P{i};02.03.2024;VMA;{r};mg/g creat\r\n" for i, r in enumerate(results, start=1))


def _ods_padded(path: pathlib.Path) -> None:
    # LibreOffice pads a sheet to its edge with repeated empty rows and cells: free, and not rows
    head = "".join(f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
                   for h in ("Patient ID", "Collection date", "Test", "Result", "Unit"))
    row = "".join(f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
                  for v in ("P1", "02.03.2024", "VMA", "4.2", "mg/g creat"))
    body = (f"<table:table-row>{head}</table:table-row><table:table-row>{row}</table:table-row>"
            '<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
            'table:number-columns-repeated="1024"/></table:table-row>')
    path.write_bytes(ods_sheet(body))


def _styled_tail(path: pathlib.Path) -> None:
    # two data rows, then the rows Excel keeps for a border or a height: not rows, nothing lost
    rows = "".join(f'<row r="{r}" ht="18" customHeight="1"><c r="A{r}" s="1"/><c r="E{r}" s="1"/></row>'
                   for r in range(4, 40))
    path.write_bytes(xlsx(_long_sheet(("P1", "4.2"), ("P2", "5.1")) .replace(b"</sheetData>", rows.encode()
                                                                           + b"</sheetData>")))


def _long_sheet(*rows: tuple[str, str], extra: str = "") -> bytes:
    """A long-layout sheet: a header, then one row per (patient, result cell XML or number)."""
    def text(ref: str, value: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

    head = "".join(text(f"{c}1", h) for c, h in zip("ABCDE", ("Patient ID", "Collection date", "Test", "Result",
                                                              "Unit"), strict=True))
    body = "".join(f'<row r="{r}">{text(f"A{r}", pid)}{text(f"B{r}", "02.03.2024")}{text(f"C{r}", "VMA")}'
                   + (result if result.startswith("<") else f'<c r="D{r}"><v>{result}</v></c>')
                   + f'{text(f"E{r}", "mg/g creat")}</row>' for r, (pid, result) in enumerate(rows, start=2))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.'
            f'org/spreadsheetml/2006/main"><sheetData><row r="1">{head}</row>{body}{extra}</sheetData></worksheet>'
            ).encode()


def _ods_formula(path: pathlib.Path) -> None:
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    row = "<table:table-row>{}</table:table-row>"
    head = row.format("".join(cell.format(h) for h in ("Patient ID", "Collection date", "Test", "Result", "Unit")))
    kept = row.format(cell.format("P1") + cell.format("02.03.2024") + cell.format("VMA")
                      + '<table:table-cell table:formula="of:=2*2.1" office:value-type="float" office:value="4.2">'
                        "<text:p>4.2</text:p></table:table-cell>" + cell.format("mg/g creat"))
    lost = row.format(cell.format("P2") + cell.format("02.03.2024") + cell.format("VMA")
                      + '<table:table-cell table:formula="of:=[.D2]*2" office:value-type="float"/>'
                      + cell.format("mg/g creat"))
    path.write_bytes(ods_sheet(head + kept + lost))


def _xls_formula(path: pathlib.Path) -> None:
    import xlwt  # writes every FORMULA with an empty cached result: as a script leaves it

    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    for r, values in enumerate((("Patient ID", "Collection date", "Test", "Result", "Unit"),
                                ("P1", "02.03.2024", "VMA", 4.2, "mg/g creat"),
                                ("P2", "02.03.2024", "VMA", None, "mg/g creat"))):
        for c, value in enumerate(values):
            sheet.write(r, c, xlwt.Formula("D2*2") if value is None else value)
    book.save(path)


def _formula_across_edge(path: pathlib.Path) -> None:
    # the long formula cell in D40001 starts 400 bytes before the first 1 MiB chunk edge of the sheet part
    formula = "+".join(f"D{r}" for r in range(2, 122))
    filler = "".join(f'<row r="{r}"><c r="Z{r}" s="1"/></row>' for r in range(4, 20_000))
    sheet = _long_sheet(("P1", "4.2"), ("P2", "5.1"), extra=filler + "@PAD@" + '<row r="40001"><c r="A40001" '
                        't="inlineStr"><is><t>P3</t></is></c><c r="B40001" t="inlineStr"><is><t>02.03.2024</t></is>'
                        f'</c><c r="C40001" t="inlineStr"><is><t>VMA</t></is></c><c r="D40001"><f>{formula}</f></c>'
                        '<c r="E40001" t="inlineStr"><is><t>mg/g creat</t></is></c></row>')
    before = sheet.index(b"@PAD@")
    pad_row = b'<row r="40000"><c r="Z40000" t="inlineStr"><is><t>{}</t></is></c></row>'
    cell_offset = sheet.index(b'<c r="D40001">') - before - len(b"@PAD@")
    pad = (1 << 20) - 400 - before - (len(pad_row) - 2) - cell_offset
    sheet = sheet.replace(b"@PAD@", pad_row.replace(b"{}", b"x" * pad))
    assert sheet.index(b'<c r="D40001">') == (1 << 20) - 400
    path.write_bytes(xlsx(sheet))


COUNTED = [
    Counted("utf16le_no_bom.csv", _text(_LONG + _long("4,2", "5,1"), "utf-16-le"),
            {"kept": 2, "rejected": 0, "skipped": 1}, {"header": 1}, [4.2, 5.1],
            "UTF-16 little-endian without a byte-order mark: read, not called binary"),
    Counted("utf16be_no_bom.csv", _text(_LONG + _long("4,2"), "utf-16-be"),
            {"kept": 1, "rejected": 0, "skipped": 1}, {"header": 1}, [4.2], "UTF-16 big-endian without BOM"),
    Counted("two_exports_two_boms.csv", _text("\ufeff" + _LONG + _long("4,2", "5,1") + "\ufeff" + _LONG
                                             + _long("6,3")),
            {"kept": 3, "rejected": 0, "skipped": 2}, {"header": 1, "repeated-header": 1}, [4.2, 5.1, 6.3],
            "two exports pasted together: the second BOM and header are skipped, not a rejected row"),
    Counted("lis_page_breaks.csv", _text(_LONG + _long("1,0", "2,0") + _LONG + _long("3,0", "4,0") + _LONG
                                         + _long("5,0")),
            {"kept": 5, "rejected": 0, "skipped": 3}, {"header": 1, "repeated-header": 2}, [1.0, 2.0, 3.0, 4.0, 5.0],
            "a LIS export repeating its header after every page break"),
    Counted("arabic_indic_digits.csv", _text(_LONG + _long("٣٥", "٤٫٢")),
            {"kept": 2, "rejected": 0, "skipped": 1}, {"header": 1}, [35.0, 4.2],
            "Arabic-Indic digits (U+0663 U+0665) and the Arabic decimal separator (U+066B) are 35 and 4.2"),
    Counted("fullwidth_digits.csv", _text(_LONG + _long("３５", "<０，５")),
            {"kept": 2, "rejected": 0, "skipped": 1}, {"header": 1}, [35.0, 0.5],
            "full-width digits and comma (U+FF10..FF19, U+FF0C) read as the digits they are"),
    Counted("two_line_comment.csv", _text(_LONG.replace("Unit", "Unit;Comment") +
                                          'P1;02.03.2024;VMA;4,2;mg/g creat;"first line\r\nsecond line"\r\n'
                                          + "P2;02.03.2024;VMA;5,1;mg/g creat;\r\n"),
            {"kept": 2, "rejected": 0, "skipped": 1}, {"header": 1}, [4.2, 5.1],
            "a legal quoted comment over two lines is one row, not swallowed rows"),
    Counted("devanagari_digits.csv", _text(_LONG + _long("३५")), {"kept": 1, "rejected": 0, "skipped": 1},
            {"header": 1}, [35.0], "Devanagari digits (U+0969 U+096B) are 35"),
    Counted("header_repeated_other_case.csv", _text(_LONG + _long("1,0") + _LONG.upper() + _long("2,0")),
            {"kept": 2, "rejected": 0, "skipped": 2}, {"header": 1, "repeated-header": 1}, [1.0, 2.0],
            "the header repeated in capitals: case aside, it is the header"),
    Counted("ods_padded_to_the_edge.ods", _ods_padded, {"kept": 1, "rejected": 0, "skipped": 1}, {"header": 1}, [4.2],
            "LibreOffice's padding of 1,048,574 empty rows x 1,024 cells costs nothing"),
    Counted("styled_rows_below_data.xlsx", _styled_tail, {"kept": 2, "rejected": 0, "skipped": 1}, {"header": 1},
            [4.2, 5.1], "36 rows of styled empty cells below the data: not rows (the reader gives none), nothing lost"),
    Counted("ods_formula_without_value.ods", _ods_formula, {"kept": 1, "rejected": 1, "skipped": 1},
            {"missing-result": 1}, [4.2], "a formula saved without office:value: a formula-without-value "
            "warning at D3, and the row rejected as missing its result", issues={"formula-without-value": 1}),
    Counted("xls_formula_without_value.xls", _xls_formula, {"kept": 1, "rejected": 1, "skipped": 1},
            {"missing-result": 1}, [4.2], "a FORMULA record with an empty cached result (as xlwt writes it)",
            issues={"formula-without-value": 1}),
    Counted("formula_across_1MiB_edge.xlsx", _formula_across_edge, {"kept": 2, "rejected": 2},
            {"missing-result": 1, "missing-patient-id": 1}, [4.2, 5.1], "a 520-byte formula cell cut by the first "
            "1 MiB chunk edge of the sheet part: found once (the row of padding text before it has no patient ID)",
            issues={"formula-without-value": 1}),
]

#: Files read without a reader error but refused when their columns are mapped.
MAPPING_REFUSED = {
    "two_patient_id_columns.csv": (_text(_LONG.replace("Unit", "Unit;Patient ID") +
                                         "P1;02.03.2024;VMA;4,2;mg/g creat;P9\r\n"),
                                   r"two patient-ID columns \(A1 and F1\)"),
    "two_patient_id_columns.xlsx": (_write(xlsx(
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>Sample date</t></is></c><c r="C1" t="inlineStr"><is><t>VMA</t></is></c>'
        b'<c r="D1" t="inlineStr"><is><t>patient id</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is>'
        b'<t>P1</t></is></c><c r="B2" t="inlineStr"><is><t>2024-01-02</t></is></c><c r="C2"><v>4.2</v></c>'
        b'<c r="D2" t="inlineStr"><is><t>P2</t></is></c></row></sheetData></worksheet>')),
        r"sheet 'Results': two patient-ID columns \(A1 and D1\)"),
    "two_patient_id_columns_tab.tsv": (_text("Patient ID\tPatient-ID\tCollection date\tTest\tResult\tUnit\r\n"
                                             "P1\tP2\t02.03.2024\tVMA\t4,2\tmg/g creat\r\n"),
                                       r"two patient-ID columns \(A1 and B1\)"),
}
