"""``--limits reported``: the spelling issue 15 names for grading against the lab's own range.

``--reference-set reported`` (its earlier spelling) still works and gives the same table. The HL7 fixture
(tests/format_fixtures.py, built from HL7 v2.5 ORU^R01) prints OBX-7 ranges "0-20" (HVA) and "0-12"
(VMA) beside every result; the grades worked out in test_reported_range.py are normal, mild, normal.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest
from click.testing import CliRunner
from format_fixtures import write_hl7

import markers
from markers.analysis.choices import chosen_limits
from markers.cli import cli
from markers.errors import ConfigError


def _normalize(tmp_path, *options):
    path = write_hl7(tmp_path / "results.hl7")
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}.csv"
    result = CliRunner().invoke(cli, ["normalize", str(path), "-o", str(out), *options], catch_exceptions=False)
    return result, pd.read_csv(out, comment="#").sort_values(["patient_id", "analyte"])


def test_limits_reported_grades_against_the_labs_range(tmp_path):
    result, table = _normalize(tmp_path, "--limits", "reported")
    assert result.exit_code == 0
    assert ("Warning: 3 results graded against the reporting lab's own range; 0 without one against the "
            "reference set;") in result.output
    assert table["uln"].tolist() == [20.0, 12.0, 12.0]
    assert table["grade"].tolist() == ["normal", "mild", "normal"]  # 15.2 / 12 = 1.27 is mild


def test_reference_set_reported_is_the_same_as_limits_reported(tmp_path):
    _, by_limits = _normalize(tmp_path, "--limits", "reported")
    _, by_alias = _normalize(tmp_path, "--reference-set", "reported")
    pd.testing.assert_frame_equal(by_limits, by_alias)


def test_the_default_grades_against_the_set_and_names_the_option(tmp_path):
    result, table = _normalize(tmp_path)
    # P-201 (0-2 y: HVA ULN 42, VMA 27): "<2.0" and 15.2 / 27 = 0.56 normal, but 15.2 / 12 = 1.27 mild by the
    # lab's range; P-202 has no age: no reference, but 8.1 / 12 = 0.68 normal by the lab's. 2 of 3 differ.
    assert table["grade"].tolist() == ["normal", "normal", "no_reference"]
    assert ("Warning: 2 of 3 results with the lab's own range are graded differently by "
            "ARUP-3018863+extended-UIowa-ARUP; use --limits reported to grade them against the lab's range."
            ) in result.output.splitlines()


def test_the_fallback_set_is_the_one_chosen():
    _, name, reported = chosen_limits(limits="reported", reference_set="Mayo-VH-legacy")
    assert (name, reported) == ("reported range (else Mayo-VH-legacy)", True)
    assert chosen_limits(reference_set="reported")[1:] == chosen_limits(limits="reported")[1:]
    with pytest.raises(ConfigError, match="limits='lab' is not one of 'set', 'reported'"):
        chosen_limits(limits="lab")


def test_an_unknown_limits_choice_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["normalize", str(write_hl7(tmp_path / "r.hl7")), "-o", str(tmp_path / "o.csv"),
                                      "--limits", "lab"])
    assert result.exit_code == 2
    assert "Invalid value for '--limits': 'lab' is not one of 'set', 'reported'." in result.output


def test_the_api_takes_limits_too(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        analysis = markers.analyse(write_hl7(tmp_path / "r.hl7"), limits="reported", today=dt.date(2026, 1, 1))
    assert analysis.reference_set == "reported range (else ARUP-3018863+extended-UIowa-ARUP)"


def test_outcomes_is_public():
    from markers.pipeline import outcomes

    assert "outcomes" in markers.__all__ and markers.outcomes is outcomes
