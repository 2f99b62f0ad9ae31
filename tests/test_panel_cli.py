"""`markers assess --by patient` writes the patient-level panel status the library gives (parity)."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.pipeline import analyse

COURSES = Path(__file__).parent.parent / "sample_data" / "courses_workbook.xlsx"


@pytest.mark.slow
def test_assess_by_patient_equals_the_library_panel(tmp_path):
    out = tmp_path / "panel.csv"
    result = CliRunner().invoke(cli, ["assess", str(COURSES), "-o", str(out), "--by", "patient"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stderr.endswith(f"Wrote 6 rows to {out}\n")
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    library = analyse([COURSES]).patient_status
    assert list(written.columns) == list(library.columns)
    assert written["patient_id"].tolist() == ["NB-014", "NB-015", "NB-016", "NB-017", "NB-018", "NB-019"]
    assert written["status_complete_remission"].tolist() == library["status_complete_remission"].tolist()
    # NB-016 unknown (empty cell), NB-017 persistence not judged (no CR), NB-019 CR status by a limit step
    assert written["informative"].tolist() == ["True", "True", "", "True", "True", "True"]
    assert written["persistent"].tolist() == ["False", "False", "", "", "False", ""]
    assert written["summary"].tolist() == library["summary"].tolist()


@pytest.mark.slow
def test_assess_by_patient_pseudonymized_holds_no_id(tmp_path):
    out = tmp_path / "panel.csv"
    result = CliRunner().invoke(cli, ["assess", str(COURSES), "-o", str(out), "--by", "patient",
                                      "--pseudonymize", str(tmp_path / "key")], catch_exceptions=False)
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "NB-01" not in text and "P-" in text
    assert "2023-04-23" not in text  # NB-018's unconfirmed rise date is not written as a date
    assert dt.date(2023, 4, 23).strftime("%d.%m.%Y") not in text
