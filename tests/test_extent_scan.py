"""The extent pass without the interpreter lock: ZIP parts inflated from the file, tags counted, the bound pattern.

Each fast path is checked against the plain one it replaces: ``zipfile`` for
the bytes and errors of a part, ``bytes.count`` for ``<row``, Python's ``re``
for the bound pattern, and :meth:`XlsxExtent.feed` on joined pieces for
:meth:`XlsxExtent.feed_next`.
"""

from __future__ import annotations

import random
import zipfile

import pytest
from corpus.hostile_cases import _sheet_xml, xlsx
from corpus.pieces import fed as _fed
from corpus.pieces import pieces as _pieces

from markers.errors import InputFormatError, UnsafeInputError
from markers.readers import limits
from markers.readers.byte_scan import count_tag, has_pair, matches
from markers.readers.xlsx_extent import _TRIGGER, _TRIGGER_RE2, XlsxExtent
from markers.readers.zip_part import open_part

_SHEET = "xl/worksheets/sheet1.xml"


def _zip(tmp_path, data: bytes, compression: int = zipfile.ZIP_DEFLATED, name: str = "a.xlsx"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr(_SHEET, data)
    return path


def _read_all(zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> list[bytes]:
    with open_part(zf, info) as fh:
        return list(iter(lambda: fh.read(size), b""))


# -- zip_part: the same bytes and errors as zipfile ------------------------------------------


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
@pytest.mark.parametrize("size", [4096, 1 << 20])
def test_a_part_reads_as_zipfile_reads_it(tmp_path, compression, size):
    data = random.Random(7).randbytes(200_000) + b"<row/>" * 100_000  # 800,000 bytes, a quarter incompressible
    path = _zip(tmp_path, data, compression)
    with zipfile.ZipFile(path) as zf:
        pieces = _read_all(zf, zf.infolist()[0], size)
        with open_part(zf, zf.infolist()[0]) as fh:
            assert [len(fh.read(7)) for _ in range(3)] == [7, 7, 7]
    assert b"".join(pieces) == data
    assert [len(piece) for piece in pieces] == [size] * (len(data) // size) + [len(data) % size]


def _patch(path, old: bytes, new: bytes, count: int) -> None:
    raw = path.read_bytes()
    assert raw.count(old) == count
    path.write_bytes(raw.replace(old, new))


def test_a_wrong_crc_is_refused_at_the_end_as_zipfile_refuses_it(tmp_path):
    data = b"<row/>" * 100_000
    path = _zip(tmp_path, data)
    crc = zipfile.ZipFile(path).infolist()[0].CRC.to_bytes(4, "little")
    _patch(path, crc, bytes(4), 2)  # the local header and the central directory both say CRC 0
    with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile, match="Bad CRC-32 for file 'xl/worksheets"):
        zf.open(_SHEET).read()
    with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile, match="Bad CRC-32 for file 'xl/worksheets"):
        _read_all(zf, zf.infolist()[0], 1 << 20)


def test_a_part_longer_than_declared_is_cut_there_and_refused(tmp_path):
    # 600,000 bytes inflated, the central directory declares 500,000: both readers stop at 500,000 and refuse the
    # CRC there, in the eighth read of 65,536 bytes (7 x 65,536 = 458,752 bytes given before it)
    path = _zip(tmp_path, b"<row/>" * 100_000)
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
        info.file_size = 500_000
        for opened in (zf.open, lambda info: open_part(zf, info)):
            taken = []
            with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"), opened(info) as fh:
                while piece := fh.read(1 << 16):
                    taken.append(len(piece))
            assert taken == [65_536] * 7


def test_a_file_cut_short_ends_with_eoferror(tmp_path):
    data = random.Random(3).randbytes(300_000)
    path = _zip(tmp_path, data)
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[0]
        info.compress_size += 1000  # the part would run 1,000 bytes past the central directory, and the file
        raw = path.read_bytes()
        path.write_bytes(raw[:info.header_offset + 30 + len(_SHEET) + 250_000])  # ends 250,000 bytes in
        with pytest.raises(EOFError):
            _read_all(zf, info, 1 << 20)


def test_a_damaged_part_is_named_by_the_extent_pass(tmp_path):
    path = _zip(tmp_path, b"<worksheet><sheetData>" + b"<row/>" * 100_000)
    raw = bytearray(path.read_bytes())
    raw[200:210] = b"\xff" * 10  # inside the deflate stream
    path.write_bytes(bytes(raw))
    with pytest.raises(InputFormatError, match=r"the part 'xl/worksheets/sheet1\.xml' is damaged"):
        limits.check_workbook_extent(path, "xlsx", count=False)


# -- byte_scan ---------------------------------------------------------------------------------


def test_count_tag_counts_every_offset():
    # "<row" at offsets 0, 5, 10, 15: each of the four word shifts once; "<rowBreaks" counts as well; "<ro" at the
    # end is cut off; "<ROW" is another tag
    data = b"<row <row <row <row <rowBreaks/><ROW<ro"
    assert count_tag(data, b"<row") == 5
    assert count_tag(b"", b"<row") == count_tag(b"<ro", b"<row") == 0
    rng = random.Random(11)
    for _ in range(200):
        data = bytes(rng.choice(b"<row ") for _ in range(rng.randrange(0, 300)))
        assert count_tag(data, b"<row") == data.count(b"<row")


@pytest.mark.parametrize("tag", [b":row", b'="e"'])
def test_count_tag_counts_the_row_count_probes(tag):
    # the row count's two probes: a prefixed row tag, and the attribute value of an error cell (t="e")
    rng = random.Random(12)
    for _ in range(300):
        data = bytes(rng.choice(b':row="e t') for _ in range(rng.randrange(0, 200)))
        assert count_tag(data, tag) == data.count(tag)


def test_has_pair_finds_two_bytes_at_even_and_odd_offsets():
    assert has_pair(b"<f", b"<f") and has_pair(b" <f", b"<f") and has_pair(b"  <f ", b"<f")
    assert not has_pair(b"", b"<f") and not has_pair(b"<", b"<f") and not has_pair(b"f<", b"<f")
    rng = random.Random(13)
    for _ in range(500):
        data = bytes(rng.choice(b"<fv>") for _ in range(rng.randrange(0, 40)))
        start = rng.randrange(0, len(data) + 1)
        assert has_pair(memoryview(data)[:start], b"<f") == (b"<f" in data[:start])
    with pytest.raises(ValueError, match="2 bytes"):
        has_pair(b"<f>", b"<f>")


def test_the_re2_bound_pattern_matches_what_python_matches():
    # each position of each reference replaced by every byte value: digits, letters, and all the bytes that are
    # neither (non-ASCII letters and digits such as 0xB2 and 0xE9 included) decide alike
    bodies = [b"1234567", b"AB1", b"Ab12", b"123456", b"A1234567", b"XFD1048576", b"0001000000", b"A0999999",
              b"A" * 250, b"1" * 249]
    for body in bodies:
        for at in range(len(body)):
            for byte in range(256) if at < 12 or at == len(body) - 1 else b"\x000A\xff":
                text = b'<c r="' + body[:at] + bytes([byte]) + body[at + 1:] + b'"><v>1</v></c>'
                assert matches(text, _TRIGGER_RE2) == (_TRIGGER.search(text) is not None), text
    # the attribute written every way XML allows: each byte in place of the blanks and quotes
    for written in (b"r='AB1'", b'r = "1000000"', b"r\n=\t'A1000000'", b'r\r=  "XFD1"'):
        for at in range(1, len(written)):
            for byte in range(256):
                text = b"<c " + written[:at] + bytes([byte]) + written[at + 1:] + b"/>"
                assert matches(text, _TRIGGER_RE2) == (_TRIGGER.search(text) is not None), text
    assert matches(b'\xff\xfe<c r="AB1">\x80', _TRIGGER_RE2)  # bytes that are not UTF-8 around a match


# -- feed_next equals feed on joined pieces ------------------------------------------------------




_FAR_CELL = (b'<row r="5"><c r="A5"><v>1</v></c></row>' * 3000
             + b'<row r="1048577"><c r="AB1048577"><v>2</v></c></row>'
             + b'<row><c r="B9"><v>3</v></c></row>' * 3000)


@pytest.mark.parametrize("shift", range(-12, 8))
def test_a_far_cell_cut_at_a_piece_edge_is_read(shift):
    # the edge falls 12 bytes before the cell reference's r=" up to 7 bytes into it; 6,001 <row tags;
    # the bound: row 1,048,577 (from the row tag and the cell), column AB = 28
    at = _FAR_CELL.index(b'r="AB1048577"') + shift
    for cuts in ([at], [at - 300, at], [at, at + 2], [at - 1, at, at + 1]):
        fast, plain = _fed(_pieces(_FAR_CELL, cuts), joined=False), _fed(_pieces(_FAR_CELL, cuts), joined=True)
        assert (fast.rows, fast.row_tags, fast.columns) == (1_048_577, 6001, 28)
        assert (plain.rows, plain.row_tags, plain.columns) == (1_048_577, 6001, 28)


def test_row_tags_cut_at_every_offset_are_counted_once():
    data = b'<row r="1"/><row r="2"/>' * 100
    for at in range(1, 40):
        assert _fed(_pieces(data, [at, at + 24, at + 25]), joined=False).row_tags == 200


def test_random_pieces_give_the_plain_extent():
    rng = random.Random(5)
    cells = [b'<row r="%d"><c r="%s%d"><v>1</v></c></row>' % (r, rng.choice([b"A", b"AB", b"Z", b"XFD"]), r)
             for r in rng.sample(range(1, 2_000_000), 400)]
    data = b"".join(cells) + b"<row/>" * 50
    for _ in range(30):
        cuts = sorted(rng.sample(range(1, len(data)), rng.randrange(1, 40)))
        fast, plain = _fed(_pieces(data, cuts), joined=False), _fed(_pieces(data, cuts), joined=True)
        assert (fast.rows, fast.row_tags, fast.columns) == (plain.rows, plain.row_tags, plain.columns)


# -- the whole pass on a stored part, a cell across the 1 MiB chunk edge ------------------------------


@pytest.mark.parametrize("into", [0, 1, 3, 5, 9, 11, 12])
def test_a_cell_at_ab1048577_across_the_chunk_edge_is_refused(tmp_path, into):
    # a stored part is read in chunks of exactly 1 MiB: the first chunk ends "into" bytes after the r of
    # r="AB1048577" (0: just before it; 12: just before its closing quote). Two <row tags; the bound reads row
    # 1,048,577 in column AB (28), past the last row: measured exactly, then refused. AB1048576 passes:
    # 1,048,576 rows x 28 columns = 29,360,128 cells, within every limit.
    head = b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
    cell = b'<row r="2"><c '
    at = (1 << 20) - into
    data = head + b" " * (at - len(head) - len(cell)) + cell + b'r="AB1048577"><v>2</v></c></row></sheetData></worksheet>'
    assert data.index(b'r="AB1048577"') == at
    path = _zip(tmp_path, data, zipfile.ZIP_STORED)
    with pytest.raises(UnsafeInputError, match=r"has a row numbered 1,048,577, past the last row"):
        limits.check_workbook_extent(path, "xlsx", count=False)
    fine = _zip(tmp_path, data.replace(b"AB1048577", b"AB1048576"), zipfile.ZIP_STORED, "fine.xlsx")
    limits.check_workbook_extent(fine, "xlsx", count=False)


@pytest.mark.parametrize("ahead", [False, True])
def test_the_pass_on_a_deflated_part_equals_the_plain_scan(tmp_path, ahead):
    # ahead: the bound pattern looked for in each chunk by the thread that inflates it, as the pass does
    data = _FAR_CELL * 40  # 3.6 MB: several chunks of the deflated part
    path = _zip(tmp_path, data)
    extent = XlsxExtent(exact=False)
    with zipfile.ZipFile(path) as zf:
        limits._stream_part(zf, zf.infolist()[0], "a.xlsx", [0], 1 << 30, extent.feed_next,
                            ahead=XlsxExtent.far_in if ahead else None)
    plain = XlsxExtent(exact=False)
    plain.feed(data, 0)
    assert (extent.rows, extent.row_tags, extent.columns) == (plain.rows, plain.row_tags, plain.columns)
    assert (extent.rows, extent.row_tags, extent.columns) == (1_048_577, 240_040, 28)


def test_a_far_cell_found_ahead_or_not_gives_the_same_bound():
    # far=False where the chunk holds no far reference, the edge still read with re: the cell crosses it
    at = _FAR_CELL.index(b'r="AB1048577"') + 3
    head, rest = _FAR_CELL[:at], _FAR_CELL[at:]
    for far in (None, XlsxExtent.far_in(rest)):
        extent = XlsxExtent(exact=False)
        extent.feed_next(b"", head, far=None if far is None else XlsxExtent.far_in(head))
        extent.feed_next(head[-256:], rest, far=far)
        assert (extent.rows, extent.columns) == (1_048_577, 28)
    assert XlsxExtent.far_in(rest) is False and XlsxExtent.far_in(_FAR_CELL) is True


# -- references the fast reader reads farther than they look ---------------------------------------


@pytest.mark.parametrize(("rows", "message"), [
    # column Z, row 99,999,999: the reader would allocate 99,999,999 x 26 cells
    ('<row r="3"><c r="Z99999999"><v>1</v></c></row>', r"has a row numbered 99,999,999, past the last row"),
    # leading zeros: the reader reads XFD0000000000001048576 as XFD1048576, 1,048,576 x 16,384 cells
    ('<row r="3"><c r="XFD0000000000001048576"><v>1</v></c></row>',
     r"spans 1,048,576 rows x 16,384 columns \(17,179,869,184 cells; limit 50,000,000\)"),
    ('<row r="0000000000001048577"><c><v>1</v></c></row>', r"has a row numbered 1,048,577, past the last row"),
    # two rows, but the second is numbered 99,999 and one cell is in column XFD: 99,999 x 16,384 cells
    ('<row r="3"><c r="XFD3"><v>1</v></c></row><row r="99999"><c r="A99999"><v>1</v></c></row>',
     r"spans 99,999 rows x 16,384 columns \(1,638,383,616 cells"),
    # the reference in single quotes, or with blanks around "=": XML allows both, and so does the reader
    ("<row r=\"3\"><c r='XFD1048576'><v>1</v></c></row>", r"spans 1,048,576 rows x 16,384 columns"),
    ('<row r="3"><c r = "XFD1048576"><v>1</v></c></row>', r"spans 1,048,576 rows x 16,384 columns"),
    ("<row r\n=\t'1048577'><c><v>1</v></c></row>", r"has a row numbered 1,048,577, past the last row"),
    # a reference of 1 + 300 + 1 = 302 characters: longer than two pieces share
    (f'<row r="3"><c r="A{"0" * 300}3"><v>1</v></c></row>', r"reference of 250 characters or more"),
])
def test_references_read_as_the_fast_reader_reads_them(tmp_path, rows, message):
    path = tmp_path / "far.xlsx"
    path.write_bytes(xlsx(_sheet_xml(rows)))
    with pytest.raises(UnsafeInputError, match=message):
        limits.check_workbook_extent(path, "xlsx", count=False)
    with pytest.raises(UnsafeInputError, match=message):
        limits.check_workbook_extent(path, "xlsx")  # the exact scan of the count=True path alike


def test_a_long_but_legal_reference_and_small_padded_rows_pass(tmp_path):
    # A + 247 zeros + 3: 249 characters, row 3; row 0000012 is row 12; rows 1, 2, 3 and 12 in columns A-C and Z:
    # 12 rows x 26 columns
    path = tmp_path / "padded.xlsx"
    path.write_bytes(xlsx(_sheet_xml(f'<row r="3"><c r="A{"0" * 247}3"><v>1</v></c></row>'
                                     '<row r="0000012"><c r="Z0000012"><v>1</v></c></row>')))
    limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=12 * 26))
    with pytest.raises(UnsafeInputError, match=r"spans 12 rows x 26 columns \(312 cells; limit 311\)"):
        limits.check_workbook_extent(path, "xlsx", count=False, limits=limits.ReadLimits(max_cells=311))
