"""A large text file split by Arrow on several threads: odd lines keep their line numbers.

A threaded Arrow parse hands over lines of another width without their line
numbers; :func:`markers.readers.text_split.split_fast` finds them again in the
text. Line *k* of the files here holds the ID ``P`` + *k* (seven digits), so
every check below says which line a row must be, worked out from the file
itself rather than from the parser.
"""

from __future__ import annotations

import pandas as pd
import pytest

from markers.readers import text_split

LINES = 950_000  # 20 bytes a line: about 19 MB, more than two 8 MiB blocks


def _line(k: int) -> str:
    return f"P{k:07d},{k % 1000:07d},mg"  # 19 characters and a line break


def _export(odd: dict[int, str], *, crlf: bool = False) -> bytes:
    """Title on line 1, header on line 2, rows after; ``odd`` replaces lines by number."""
    lines = ["Central Lab export", "id,value,unit"] + [_line(k) for k in range(3, LINES + 1)]
    for number, text in odd.items():
        lines[number - 1] = text
    return (("\r\n" if crlf else "\n").join(lines) + "\n").encode()


def _threaded_calls(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    parse = text_split._parse

    def spy(*args, **kwargs):
        calls.append(kwargs["threads"])
        return parse(*args, **kwargs)

    monkeypatch.setattr(text_split, "_parse", spy)
    return calls


def _cells(frame: pd.DataFrame, line: int) -> list[str | None]:
    return [None if pd.isna(cell) else cell for cell in frame.loc[line].tolist()]


@pytest.mark.parametrize("crlf", [False, True])
def test_odd_lines_in_the_body_keep_their_numbers(monkeypatch: pytest.MonkeyPatch, crlf: bool) -> None:
    if text_split._threads_pool() is None:
        pytest.skip("pyarrow without jemalloc: large files are parsed in one block")
    calls = _threaded_calls(monkeypatch)
    odd = {500_000: "short,row", 600_000: "note", 700_000: "note", 800_000: "a,b,c,d", LINES: "end of export"}
    frame = text_split.split_fast(_export(odd, crlf=crlf), ",")
    assert calls == [True]  # threaded, no second parse
    assert len(frame) == LINES and frame.index[0] == 1 and frame.index[-1] == LINES
    assert frame.shape[1] == 4  # the long row on line 800,000 adds a fourth column
    assert _cells(frame, 1) == ["Central Lab export", None, None, None]
    assert _cells(frame, 2) == ["id", "value", "unit", None]
    assert _cells(frame, 3) == ["P0000003", "0000003", "mg", None]
    assert _cells(frame, 499_999) == ["P0499999", "0000999", "mg", None]
    assert _cells(frame, 500_000) == ["short", "row", None, None]
    assert _cells(frame, 500_001) == ["P0500001", "0000001", "mg", None]
    assert _cells(frame, 600_000) == ["note", None, None, None]
    assert _cells(frame, 650_000) == ["P0650000", "0000000", "mg", None]
    assert _cells(frame, 700_000) == ["note", None, None, None]
    assert _cells(frame, 800_000) == ["a", "b", "c", "d"]
    assert _cells(frame, 800_001) == ["P0800001", "0000001", "mg", None]
    assert _cells(frame, LINES - 1) == ["P0949999", "0000999", "mg", None]
    assert _cells(frame, LINES) == ["end of export", None, None, None]


def test_many_odd_texts_are_numbered_by_a_one_block_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _threaded_calls(monkeypatch)
    odd = {100_000 + 1000 * i: f"short,{i}" for i in range(40)}  # 40 texts: more than are looked for
    frame = text_split.split_fast(_export(odd), ",")
    assert calls[-1] is False
    assert _cells(frame, 100_000) == ["short", "0", None]
    assert _cells(frame, 100_001) == ["P0100001", "0000001", "mg"]
    assert _cells(frame, 139_000) == ["short", "39", None]
    assert _cells(frame, 139_001) == ["P0139001", "0000001", "mg"]


def test_a_quoted_line_break_still_goes_to_the_csv_module() -> None:
    # line 300,000 opens a quote closed on the next line: one record over two lines
    frame = text_split.split_fast(_export({300_000: 'P0300000,"two', 300_001: 'lines",mg'}), ",")
    assert frame is None


def test_whole_line_starts() -> None:
    text = b"ab\nx\nab\r\nabc\nab"
    assert text_split._whole_line_starts(text, b"ab", most=3) == [0, 5, 13]  # not "abc" on offset 9
    assert text_split._whole_line_starts(text, b"ab", most=2) is None  # more than handed over
    assert text_split._whole_line_starts(text, b"x", most=1) == [3]
    assert text_split._whole_line_starts(text, b"q", most=1) == []
    assert text_split._whole_line_starts(b"a\n\nb\n", b"", most=2) == [2]  # no line after the last break
