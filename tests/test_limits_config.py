"""The read limits from the config file's [limits] table."""

from __future__ import annotations

import pytest
import xlwt
from click.testing import CliRunner

from markers.cli import cli
from markers.errors import ConfigError, InputFormatError, UnsafeInputError
from markers.ingest.config import load_config
from markers.ingest.reader import read
from markers.readers.limits import ReadLimits

CSV = "Patient ID,Sample date,VMA (mg/g creat),Comment\n" + "P1,2024-01-02,4.2," + "x" * 100 + "\n"
# line 2 is 18 + 100 = 118 bytes (without its line break)


def _config(tmp_path, text: str):
    path = tmp_path / "markers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_table(tmp_path):
    assert load_config(_config(tmp_path, "[dates]\nday_first = true\n")).limits == ReadLimits()


def test_a_limit_set_in_the_config_file_is_used(tmp_path):
    data_path = tmp_path / "lab.csv"
    data_path.write_text(CSV)
    assert list(read([data_path]).measurements["value"]) == [4.2]  # the default allows 262,144 bytes
    config = _config(tmp_path, "[limits]\nmax_line_bytes = 100\n")
    assert load_config(config).limits == ReadLimits(max_line_bytes=100)
    with pytest.raises(InputFormatError, match=r"lab\.csv: line 2 is longer than 100 bytes"):
        read([data_path], config=config)
    # 118 bytes is within a limit of 118
    assert list(read([data_path], config=_config(tmp_path, "[limits]\nmax_line_bytes = 118\n"))
                .measurements["value"]) == [4.2]


def test_xls_cell_limit_from_the_config_file(tmp_path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("Results")
    sheet.write(0, 0, "Patient ID")
    sheet.write(4, 2, 4.2)  # C5: 5 x 3 = 15 cells
    book.save(tmp_path / "lab.xls")
    with pytest.raises(UnsafeInputError, match=r"5 rows x 3 columns \(15 cells; limit 14 for xls\)"):
        read([tmp_path / "lab.xls"], config=_config(tmp_path, "[limits]\nmax_xls_cells = 14\n"))


@pytest.mark.parametrize(("table", "message"), [
    ("max_lines = 5", r"\[limits\] unknown limit\(s\) max_lines; known: max_cells, "),
    ("max_cells = 0", r"\[limits\] max_cells = 0 must be a whole number ≥ 1"),
    ("max_cells = 1.5", r"\[limits\] max_cells = 1.5 must be a whole number"),
    ("max_cells = true", r"\[limits\] max_cells = True must be a whole number"),
])
def test_bad_limits_are_config_errors(tmp_path, table, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_config(tmp_path, f"[limits]\n{table}\n"))


def test_cli_reads_the_limits_from_config(tmp_path):
    data_path = tmp_path / "lab.csv"
    data_path.write_text(CSV)
    config = _config(tmp_path, "[limits]\nmax_line_bytes = 100\n")
    result = CliRunner().invoke(cli, ["validate", str(data_path), "--config", str(config)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith("Error: lab.csv: line 2 is longer than 100 bytes")
