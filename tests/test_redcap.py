"""REDCap exports (raw and labelled, with repeating instruments) read to exactly expected tidy tables.

Fixtures: tests/format_fixtures.py, in REDCap's documented export and data-dictionary layout.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from format_fixtures import write_redcap

from markers.errors import InputFormatError
from markers.ingest.reader import read
from markers.ingest.redcap import apply_dictionary, parse_choices, read_dictionary

TODAY = dt.date(2026, 1, 1)


def _expected(place_event):
    # record 1: born 2020-01-15 (record row), sex code 1 = "Female" in the dictionary;
    # 2023-01-15 is 366 (2020, leap) + 365 + 365 = 1096 days later; 2023-07-15 another
    # 16 + 28 + 31 + 30 + 31 + 30 + 15 = 181 days: 1277
    place = f"record 1 event {place_event}"
    return pd.DataFrame({
        "patient_id": ["1", "1", "1", "1"],
        "sample_date": pd.to_datetime(["2023-01-15", "2023-01-15", "2023-07-15", "2023-07-15"]),
        "analyte": ["HVA", "VMA", "HVA", "VMA"],
        "value": [5.0, 25.3, 12.0, 8.2],
        "censor": ["<", "", "", ""],
        "source_unit": ["mg/g creatinine"] * 4,
        "source_cell": [f"row 3 {place} instrument {'{i}'} instance 1", f"row 3 {place} instrument {'{i}'} instance 1",
                        f"row 4 {place} instrument {'{i}'} instance 2", f"row 4 {place} instrument {'{i}'} instance 2"],
        "age_days": [1096, 1096, 1277, 1277],
        "sex": ["F"] * 4,
    })


@pytest.mark.parametrize(("labels", "event", "instrument"), [(False, "baseline_arm_1", "urine_markers"),
                                                             (True, "Baseline (Arm 1: Arm 1)", "Urine Markers")])
def test_redcap_export_reads_to_the_expected_table(tmp_path, labels, event, instrument):
    data = read(write_redcap(tmp_path, labels=labels), today=TODAY)
    columns = ["patient_id", "sample_date", "analyte", "value", "censor", "source_unit", "source_cell", "age_days", "sex"]
    got = data.measurements[columns].reset_index(drop=True)
    expected = _expected(event)
    expected["source_cell"] = expected["source_cell"].str.replace("{i}", instrument, regex=False)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # the record rows are the patients table; the empty repeat row of record 2 is rejected, not dropped
    assert data.patients[["patient_id", "sex"]].values.tolist() == [["1", "F"], ["2", "M"]]
    assert data.counts()[["read", "kept", "rejected", "skipped"]].values.tolist() == [[5, 4, 1, 0]]
    assert data.issues["code"].tolist() == ["missing-result"]
    assert data.issues["cell"].str.startswith("row 6 record 2").tolist() == [True]


def test_raw_export_without_its_dictionary_is_refused_rather_than_guessing_sex(tmp_path):
    export = write_redcap(tmp_path, dictionary=False)
    with pytest.raises(InputFormatError, match="data dictionary"):
        read(export, today=TODAY)


def test_dictionary_given_among_the_files(tmp_path):
    other = tmp_path / "dictionary"
    other.mkdir()
    export = write_redcap(tmp_path / "dictionary", dictionary=True)
    moved = tmp_path / "export.csv"
    export.rename(moved)
    dictionary = next(other.glob("*DataDictionary*"))
    data = read([moved, dictionary], today=TODAY)
    assert len(data.measurements) == 4
    # the dictionary's rows are skipped as such: 7 fields + its header line
    counts = data.counts().set_index("file")
    assert counts.loc[dictionary.name, ["read", "skipped"]].tolist() == [8, 8]
    assert read(moved, dictionary=dictionary, today=TODAY).measurements["value"].tolist() == [5.0, 25.3, 12.0, 8.2]


def test_choices_and_checkboxes_are_decoded(tmp_path):
    write_redcap(tmp_path)
    dictionary = read_dictionary(next(tmp_path.glob("*DataDictionary*")))
    assert parse_choices("1, Spot urine | 2, 24-hour urine") == {"1": "Spot urine", "2": "24-hour urine"}
    frame = pd.DataFrame({"sex": ["1", "2"], "specimen___2": ["0", "1"], "vma": ["3", "4"]})
    decoded = apply_dictionary(frame, dictionary)
    assert list(decoded.columns) == ["Sex", "Specimen (choice=24-hour urine)", "VMA (mg/g creatinine)"]
    assert decoded.values.tolist() == [["Female", "Unchecked", "3"], ["Male", "Checked", "4"]]


def test_cli_dictionary_option(tmp_path):
    from click.testing import CliRunner

    from markers.cli import cli

    elsewhere = tmp_path / "dictionary"
    elsewhere.mkdir()
    write_redcap(elsewhere)
    export = next(elsewhere.glob("*_DATA_*"))
    moved = export.rename(tmp_path / "export.csv")
    dictionary = next(elsewhere.glob("*DataDictionary*"))
    result = CliRunner().invoke(cli, ["validate", str(moved)])
    assert result.exit_code == 1 and result.output.startswith("Error: export.csv: column 'sex' holds REDCap choice codes")
    result = CliRunner().invoke(cli, ["validate", str(moved), "--dictionary", str(dictionary)])
    assert result.exit_code == 1  # record 2's empty repeat row is rejected
    assert result.output.splitlines()[:3] == [
        "export.csv: 5 rows read = 4 kept + 1 rejected + 0 skipped",
        f"{dictionary.name}: 8 rows read = 0 kept + 0 rejected + 8 skipped",
        "4 measurements of 1 patients; 1 errors, 0 warnings"]
