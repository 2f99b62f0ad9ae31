"""--encoding NAME: text files decoded with the codec given, on every reading command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.errors import ConfigError, InputFormatError
from markers.ingest.reader import read

# Patient IDs in katakana (JIS X 0208), as a Japanese LIS writes them in Shift-JIS (headers in English)
SJIS = ("Patient ID,Sample date,VMA (mg/g creat)\r\n"
        "ヤマダ1,2024-01-02,4.2\r\n"
        "スズキ2,2024-01-03,3.9\r\n")


@pytest.fixture
def sjis(tmp_path):
    path = tmp_path / "sjis.csv"
    path.write_bytes(SJIS.encode("shift_jis"))
    return path


def test_shift_jis_is_refused_without_the_option_and_the_message_names_it(sjis):
    with pytest.raises(InputFormatError, match=r"sjis\.csv: the text looks like Japanese Shift-JIS .*--encoding shift_jis"):
        read([sjis])


def test_shift_jis_read_with_the_encoding(sjis):
    data = read([sjis], encoding="shift_jis")
    assert sorted(data.measurements["patient_id"]) == ["スズキ2", "ヤマダ1"]
    assert sorted(data.measurements["value"]) == [3.9, 4.2]


def test_cli_option_on_a_reading_command(sjis, tmp_path):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["normalize", str(sjis), "-o", str(out), "--encoding", "shift_jis"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "ヤマダ1" in text and "スズキ2" in text


def test_cli_without_the_option_names_it(sjis):
    result = CliRunner().invoke(cli, ["validate", str(sjis)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: sjis.csv:") and "--encoding shift_jis" in result.output


def test_every_reading_command_has_the_option():
    for name in ("validate", "normalize", "assess", "report", "plot", "outcomes"):
        if name in cli.commands:
            assert "--encoding" in {opt for p in cli.commands[name].params for opt in p.opts}, name


def test_a_byte_that_does_not_decode_names_file_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    # 0x82 is a Shift-JIS lead byte with no trail byte (CR follows): line 3, offset 8 + 13 + 3 = 24
    # ("ID,VMA\r\n" 8 bytes; "ヤマダ1,4.2\r\n" 3 x 2 + 7 = 13 bytes; "P2," 3 bytes)
    path.write_bytes("ID,VMA\r\nヤマダ1,4.2\r\n".encode("shift_jis") + b"P2,\x82\r\n")
    with pytest.raises(InputFormatError, match=r"bad\.csv: line 3: byte 0x82 \(offset 24\) is not shift_jis text"):
        read([path], encoding="shift_jis")


def test_unknown_encoding_is_one_error_line(sjis):
    with pytest.raises(ConfigError, match=r"unknown text encoding 'klingon'"):
        read([sjis], encoding="klingon")
    result = CliRunner().invoke(cli, ["validate", str(sjis), "--encoding", "klingon"])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and result.output.startswith("Error: unknown")
