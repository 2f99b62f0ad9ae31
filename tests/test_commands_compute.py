"""Commands compute only what they write: `normalize` and `validate` never assess."""

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import markers.analysis.assess as assess_module
from markers.cli import cli
from markers.pipeline import analyse

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]


@pytest.fixture
def no_assessment(monkeypatch):
    """Make any assessment fail loudly, so a command that assesses cannot pass unnoticed."""

    def refuse(*args, **kwargs):
        raise AssertionError("assess() was called")

    monkeypatch.setattr(assess_module, "assess", refuse)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--pseudonymize", "key"]])
def test_normalize_writes_the_measurements_without_assessing(no_assessment, tmp_path, extra):
    out = tmp_path / "measurements.csv"
    extra = [str(tmp_path / a) if a == "key" else a for a in extra]
    result = CliRunner().invoke(cli, ["normalize", *FILES, "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, comment="#")
    assert {"day", "phase", "x_uln"} <= set(written.columns)  # the timeline and flags are still written


def test_validate_does_not_assess(no_assessment):
    result = CliRunner().invoke(cli, ["validate", *FILES])
    assert result.exit_code in (0, 1), result.output


@pytest.mark.slow
def test_assess_command_still_assesses(no_assessment, tmp_path):
    result = CliRunner().invoke(cli, ["assess", *FILES, "-o", str(tmp_path / "a.csv")])
    assert result.exit_code != 0 and "assess() was called" in repr(result.exception)


@pytest.mark.slow
def test_analyse_without_assessment_keeps_the_measurements():
    full, lean = analyse(FILES), analyse(FILES, assess=False)
    assert lean.assessment is None and full.assessment is not None
    pd.testing.assert_frame_equal(lean.measurements, full.measurements)
