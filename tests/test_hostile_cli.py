"""Every bad input of the corpus, through the CLI: one `Error:` line naming the file, exit code 1,
no traceback, nothing written; and a ZIP bomb costs no memory."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from corpus import make_corpus

from markers.cli import cli

CASES = {case.filename: case for case in make_corpus.CASES}


@pytest.mark.slow
@pytest.mark.parametrize("filename", sorted(CASES))
def test_bad_input_gives_one_error_line_and_writes_nothing(corpus, filename, tmp_path, monkeypatch):
    monkeypatch.chdir(corpus)  # relative paths, as a user types them
    out = tmp_path / "tidy.csv"
    result = CliRunner().invoke(cli, ["normalize", filename, "-o", str(out)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {filename}"), result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no half-written or temporary file either


_MEASURE = """
import resource, sys
from click.testing import CliRunner
from markers.cli import cli
before = resource.getrusage(resource.RUSAGE_SELF)
result = CliRunner().invoke(cli, sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
peak_kib = usage.ru_maxrss
cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime  # CPU time: blind to a busy machine
print(__import__("json").dumps({"exit": result.exit_code, "output": result.output, "peak_kib": peak_kib,
                                "cpu_seconds": cpu}))
"""


def _run(args):
    done = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("command", [["normalize", "-o", "out.csv"], ["report", "-o", "out.pdf", "--quiet"]])
@pytest.mark.parametrize("bomb", ["bomb_zeros.xlsx", "bomb_declared_56GiB.xlsx"])
def test_zip_bomb_is_refused_within_a_memory_bound(corpus, tmp_path, command, bomb):
    name, *rest = command
    rest = [str(tmp_path / r) if r.startswith("out.") else r for r in rest]
    baseline = _run(["--help"])
    measured = _run([name, str(corpus / bomb), *rest])
    assert measured["exit"] == 1
    assert "ZIP bomb" in measured["output"]
    # the bomb inflates to 20 MiB (real) or 56 GiB (declared): refusing it must not cost more than
    # importing the libraries does; 150 MiB above a bare `markers --help` is far below either
    assert measured["peak_kib"] - baseline["peak_kib"] < 150 * 1024, measured
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["cell_at_XFD1048576.xlsx", "row_4294967295.xlsx", "sst_count_4294967295.xlsx",
                                      "ods_row_repeat_200000.ods", "ods_repeat_bomb_98M.ods", "zip_sizes_lie.xlsx",
                                      "commas_1e6.csv", "patient_id_10MB.csv", "unclosed_quote_tail.csv",
                                      "cell_outside_its_row.xlsx", "ods_text_without_value_type.ods"])
def test_small_hostile_file_is_refused_within_memory_and_time(corpus, tmp_path, filename):
    """No native abort (exit 134), one Error: line, under 300 MB above a bare start, in a few CPU seconds."""
    baseline = _run(["--help"])
    measured = _run(["normalize", str(corpus / filename), "-o", str(tmp_path / "out.csv")])
    assert measured["exit"] == 1, measured
    lines = measured["output"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {filename}: "), measured
    assert measured["peak_kib"] - baseline["peak_kib"] < 300 * 1024, measured
    # the command's own CPU time, imports of the analysis libraries included (about 1-2 s)
    assert measured["cpu_seconds"] < 8, measured
    assert list(tmp_path.iterdir()) == []
