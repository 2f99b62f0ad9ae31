"""Text files: the physical lines, counted apart from the parse, must all be accounted for by the parsed rows."""

from __future__ import annotations

import pytest

from markers.errors import InputFormatError
from markers.readers import text as text_reader
from markers.readers.files import read_raw
from markers.readers.limits import check_text_file

HEADER = "Patient ID,Sample date,VMA,Comment\n"


def test_quoted_comment_over_two_lines_is_one_row_and_no_issue(tmp_path):
    # 4 physical lines: header, P1 (comment's first line), the comment's second line, P2
    path = tmp_path / "comment.csv"
    path.write_text(HEADER + 'P1,2024-01-02,4.2,"first line\nsecond line"\nP2,2024-01-03,5.1,\n')
    assert check_text_file(path).lines == 4
    [sheet] = read_raw(path)
    assert list(sheet.cells.index) == [1, 2, 4]  # each row at its first line; line 3 is inside P1's comment
    assert sheet.cells.loc[2, 3] == "first line\nsecond line"


def test_quote_never_closed_at_the_end_is_an_error_with_its_lines(tmp_path):
    # the comment on line 3 opens a quote that never closes: lines 3, 4 and 5 would be one cell
    path = tmp_path / "open.csv"
    path.write_text(HEADER + "P1,2024-01-02,4.2,\n" + 'P2,2024-01-03,5.1,"see\n' + "P3,2024-01-04,6.0,\nend\n")
    with pytest.raises(InputFormatError, match=r"open\.csv: line 3: a quote .* never closed, so the 3 lines 3 to 5"):
        read_raw(path)


def test_quote_never_closed_without_a_last_line_break(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text(HEADER + 'P1,2024-01-02,4.2,"see\nP2,2024-01-03,5.1,')
    with pytest.raises(InputFormatError, match=r"line 2: a quote .* the 2 lines 2 to 3"):
        read_raw(path)


def test_old_mac_line_breaks_count_as_lines(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"Patient ID,VMA\rP1,4.2\rP2,5.1")
    assert check_text_file(path).lines == 3  # two lone CRs and a last line without a break
    [sheet] = read_raw(path)
    assert list(sheet.cells.index) == [1, 2, 3]


def test_crlf_cut_at_a_chunk_edge_is_one_line_break(tmp_path, monkeypatch):
    monkeypatch.setattr("markers.readers.limits._CHUNK", 4)
    path = tmp_path / "edge.csv"
    path.write_bytes(b"abc\r\nde\r\n")  # the first CRLF spans the 4-byte chunks "abc\r" and "\nde\r"
    assert check_text_file(path).lines == 2


def test_a_parse_that_loses_a_row_is_an_error_not_silence(tmp_path, monkeypatch):
    # a parser that dropped the last record: 3 lines in the file, 2 rows and no line break in a cell
    real = text_reader.split_records

    def lossy(*args, **kwargs):
        rows, index = real(*args, **kwargs)
        return rows[:-1], index[:-1]

    monkeypatch.setattr(text_reader, "split_records", lossy)
    path = tmp_path / "lost.csv"
    path.write_text("Patient ID,VMA\nP1,4.2\nP2,5.1\n")
    with pytest.raises(InputFormatError, match=r"lost\.csv: the file has 3 lines, but the parse accounts for 2 "
                                               r"\(2 rows and 0 line breaks"):
        read_raw(path)


def test_utf16_lines_are_counted_on_the_decoded_text(tmp_path):
    # U+010A (Ċ) is the bytes 0A 01 in UTF-16-LE: a 0x0A byte that is not a line break
    path = tmp_path / "u16.csv"
    path.write_bytes("Patient ID\tVMA\r\n\u010a1\t4,2\r\n".encode("utf-16"))
    [sheet] = read_raw(path)
    assert list(sheet.cells.index) == [1, 2]
    assert sheet.cells.loc[2, 0] == "\u010a1"
