"""LOINC short names in data/loinc.csv, each with its source, and read as test names (issue 15, point 7)."""

import csv
import datetime as dt
import io
from importlib import resources

import pytest

from markers.ingest.mapping import analyte_from_text, read_loinc_table
from markers.ingest.reader import read

TODAY = dt.date(2026, 11, 25)


def _rows() -> list[dict[str, str]]:
    with resources.files("markers").joinpath("data", "loinc.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_code_has_a_source_and_a_short_name_only_with_its_page():
    rows = _rows()
    assert list(rows[0]) == ["loinc", "analyte", "measure", "long_common_name", "verified", "source",
                             "short_name", "short_name_source"]
    for row in rows:
        assert row["source"].strip(), row["loinc"]
        # a short name is never written without the public page it was read from, nor a page without a name
        assert bool(row["short_name"].strip()) == row["short_name_source"].startswith("https://"), row["loinc"]


def test_a_short_name_in_the_table_is_recognised_as_its_analyte():
    # a made-up table row: the loader's behaviour, not a LOINC fact
    text = ("loinc,analyte,measure,long_common_name,verified,source,short_name,short_name_source\n"
            "0000-0,HVA,mass_ratio,Example,yes,S0,Example Short-Nm,https://example.org/0000-0\n"
            "0000-1,VMA,mass_ratio,Example,yes,S0,,\n")
    loinc, short_names = read_loinc_table(io.StringIO(text))
    assert loinc == {"0000-0": ("HVA", "mass_ratio"), "0000-1": ("VMA", "mass_ratio")}
    assert short_names == {"example short nm": "HVA"}


@pytest.mark.parametrize(("test_name", "analyte"), [("VMA/Creat Ur", "VMA"), ("HVA/Creat Ur", "HVA")])
def test_short_name_form_as_test_name(test_name, analyte):
    assert analyte_from_text(test_name) == analyte


def test_lab_export_whose_test_column_says_the_short_name(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "Patient ID,Birth date,Collection date,Test,Result,Unit\n"
        "NB-1,2021-06-01,2024-03-01,VMA/Creat Ur,12.5,mg/g creat\n"
        "NB-1,2021-06-01,2024-03-01,HVA/Creat Ur,4.2,mmol/mol creat\n",
        encoding="utf-8",
    )
    data = read(path, today=TODAY)
    m = data.measurements.set_index("analyte")
    assert sorted(m.index) == ["HVA", "VMA"]
    # mg/g is the output unit: 12.5 stays 12.5
    assert m.loc["VMA", "value"] == pytest.approx(12.5)
    # 4.2 mmol/mol HVA -> 4.2 * 182.175 / 113.120 mg/g = 6.7640 (domain facts: molar masses, mg/g = mmol/mol x M / 113.12)
    assert m.loc["HVA", "value"] == pytest.approx(4.2 * 182.175 / 113.120)
    assert m.loc["HVA", "value"] == pytest.approx(6.7640, abs=5e-4)
    assert m.loc["VMA", "source_cell"] == "E2"
