"""Typed analysis files (Parquet, Feather, Stata, SAS transport, SPSS) read back by the tools they are for."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pyreadstat
import pytest

from markers.errors import InputFormatError, OutputError
from markers.ingest.reader import read
from markers.pipeline import write_analysis_table
from markers.readers.files import read_raw
from markers.write.output import write_table
from markers.write.stats import safe_names

SAMPLE = Path(__file__).parent.parent / "sample_data"
INPUTS = [SAMPLE / "study_workbook.xlsx", SAMPLE / "lab_export_eu.csv"]
PROVENANCE = {"markers_version": "0.1.0", "created": "2024-05-01T10:00:00Z", "options": {"unit": "mg/g"}}


def typed_frame() -> pd.DataFrame:
    """Every kind of column the tidy tables hold, with a missing value in each nullable one."""
    return pd.DataFrame({
        "patient_id": pd.Series(["0042", "P-7", "0042"], dtype="str"),
        "sample_date": pd.to_datetime(["2024-01-02", None, "2024-03-04"]),
        "analyte": ["VMA", "HVA", "VMA"],
        "value": [12.5, np.nan, 0.0],
        "elevated": pd.Series([True, None, False], dtype="boolean"),
        "age_days": pd.Series([418, None, 3], dtype="Int64"),
        "dilute": [False, True, False],
    })


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The sample data's measurements in every typed format, written once."""
    folder = tmp_path_factory.mktemp("typed")
    analysis = None
    for ext in ("csv", "parquet", "feather", "dta", "xpt", "sav"):
        analysis = write_analysis_table(INPUTS, folder / f"m.{ext}")
    return folder, analysis


@pytest.mark.slow
def test_parquet_from_sample_has_real_types_and_provenance(written):
    folder, analysis = written
    table = pq.read_table(folder / "m.parquet")
    types = dict(zip(table.schema.names, table.schema.types, strict=True))
    assert types["sample_date"] == pa.date32()
    assert types["date_of_birth"] == pa.date32()
    assert types["analyte"] == pa.dictionary(pa.int32(), pa.string())
    assert types["elevated"] == pa.bool_()
    assert types["age_days"] == pa.int64()
    assert types["day"] == pa.int64()
    assert types["value"] == pa.float64()
    assert types["patient_id"] == pa.string()
    assert table.num_rows == len(analysis.measurements)
    # "0042" stays text with its leading zeros
    assert "0042" in table.column("patient_id").to_pylist()
    record = json.loads(table.schema.metadata[b"markers.provenance"])
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in INPUTS}
    assert {i["file"]: i["sha256"] for i in record["inputs"]} == expected


def test_parquet_and_feather_keep_nulls_in_booleans_and_integers(tmp_path):
    write_table(typed_frame(), tmp_path / "t.parquet", provenance=PROVENANCE)
    write_table(typed_frame(), tmp_path / "t.feather", provenance=PROVENANCE)
    for table in (pq.read_table(tmp_path / "t.parquet"), feather.read_table(tmp_path / "t.feather")):
        assert table.column("elevated").to_pylist() == [True, None, False]
        assert table.column("age_days").type == pa.int64()
        assert table.column("age_days").to_pylist() == [418, None, 3]
        assert table.column("sample_date").to_pylist() == [dt.date(2024, 1, 2), None, dt.date(2024, 3, 4)]
        assert table.column("patient_id").to_pylist() == ["0042", "P-7", "0042"]
        assert table.column("analyte").type == pa.dictionary(pa.int32(), pa.string())
        assert json.loads(table.schema.metadata[b"markers.provenance"]) == PROVENANCE
    # pandas reads the dictionary column as a categorical
    assert isinstance(pd.read_parquet(tmp_path / "t.parquet")["analyte"].dtype, pd.CategoricalDtype)


def test_datetime_with_time_of_day_stays_a_timestamp(tmp_path):
    frame = pd.DataFrame({"t": pd.to_datetime(["2024-03-10 08:30", "2024-03-11 00:00"])})
    write_table(frame, tmp_path / "t.parquet")
    column = pq.read_table(tmp_path / "t.parquet").column("t")
    assert column.type == pa.timestamp("us")
    assert column.to_pylist() == [dt.datetime(2024, 3, 10, 8, 30), dt.datetime(2024, 3, 11)]


def test_parquet_reads_back_as_the_same_cells_as_csv(written):
    folder, _ = written
    csv_cells = read_raw(folder / "m.csv")[0].cells
    for ext in ("parquet", "feather"):
        [sheet] = read_raw(folder / f"m.{ext}")
        pd.testing.assert_frame_equal(sheet.cells, csv_cells)
        assert sheet.fmt == ext


def test_parquet_round_trip_to_the_same_tidy_table(written):
    folder, analysis = written
    back = read([folder / "m.parquet"]).measurements
    columns = ["patient_id", "sample_date", "analyte", "value", "unit", "sex", "date_of_birth", "age_days"]
    key = ["patient_id", "sample_date", "analyte", "value"]
    original = analysis.dataset.measurements[columns].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(back[columns].sort_values(key).reset_index(drop=True), original)


def test_not_a_parquet_file_is_refused(tmp_path):
    fake = tmp_path / "lab.parquet"
    fake.write_text("patient,vma\n1,2\n")
    with pytest.raises(InputFormatError, match=r"lab.parquet: is not a parquet file"):
        read_raw(fake)


def test_stata_types_names_and_labels(tmp_path):
    frame = typed_frame()
    frame["3MT value"] = [1.0, 2.0, 3.0]
    write_table(frame, tmp_path / "t.dta", provenance=PROVENANCE)
    back = pd.read_stata(tmp_path / "t.dta")
    assert back["sample_date"].tolist()[0] == pd.Timestamp("2024-01-02")
    assert pd.isna(back["sample_date"][1])
    assert isinstance(back["analyte"].dtype, pd.CategoricalDtype)
    assert back["analyte"].astype(str).tolist() == ["VMA", "HVA", "VMA"]
    assert back["elevated"].tolist()[0::2] == [1.0, 0.0] and pd.isna(back["elevated"][1])
    assert back["age_days"].tolist()[0::2] == [418, 3] and pd.isna(back["age_days"][1])
    assert back["patient_id"].tolist() == ["0042", "P-7", "0042"]
    # an invalid Stata name is changed and the original kept as its label
    assert "_3MT_value" in back.columns
    with pd.io.stata.StataReader(tmp_path / "t.dta") as reader:
        assert reader.variable_labels()["_3MT_value"] == "3MT value"
        assert reader.data_label == "markers 0.1.0 2024-05-01T10:00:00Z"
    assert json.loads((tmp_path / "t.dta.provenance.json").read_text()) == PROVENANCE


def test_stata_cannot_hold_infinity(tmp_path):
    with pytest.warns(UserWarning, match="Stata cannot store infinity"):
        write_table(pd.DataFrame({"x": [1.0, np.inf]}), tmp_path / "t.dta")
    assert pd.isna(pd.read_stata(tmp_path / "t.dta")["x"][1])


def test_sas_transport_v5(tmp_path):
    write_table(typed_frame(), tmp_path / "t.xpt", provenance=PROVENANCE, sheet_name="measurements")
    data = (tmp_path / "t.xpt").read_bytes()
    # the v5 library header record (SAS TS-140), not the v8 "LIBV8" one
    assert data.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000")
    back = pd.read_sas(tmp_path / "t.xpt", format="xport", encoding="utf-8")
    assert list(back.columns) == ["PATIENT_", "SAMPLE_D", "ANALYTE", "VALUE", "ELEVATED", "AGE_DAYS", "DILUTE"]
    # SAS dates count days from 1960-01-01: 64 years with 16 leap days, then January 2nd -> 23377
    assert back["SAMPLE_D"][0] == 23377.0
    assert back["PATIENT_"].tolist() == ["0042", "P-7", "0042"]
    assert back["AGE_DAYS"][0] == 418.0 and np.isnan(back["AGE_DAYS"][1])
    # pandas' IBM-float decoder reads an exact 0 as 16**-65 (it does not special-case zero); ReadStat reads 0
    assert back["VALUE"][2] < 1e-78
    frame, meta = pyreadstat.read_xport(tmp_path / "t.xpt")
    assert frame["VALUE"].tolist()[0::2] == [12.5, 0.0]
    assert frame["SAMPLE_D"][0] == dt.date(2024, 1, 2)
    assert meta.column_names_to_labels["PATIENT_"] == "patient_id"
    assert meta.table_name == "MEASUREM"
    assert (tmp_path / "t.xpt.provenance.json").exists()


def test_sas_transport_cuts_long_text_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="at most 200 bytes: 1 value"):
        write_table(pd.DataFrame({"message": ["x" * 250]}), tmp_path / "t.xpt")
    assert pd.read_sas(tmp_path / "t.xpt", format="xport", encoding="utf-8")["MESSAGE"][0] == "x" * 200


def test_spss(tmp_path):
    write_table(typed_frame(), tmp_path / "t.sav", provenance=PROVENANCE)
    frame, meta = pyreadstat.read_sav(tmp_path / "t.sav")
    assert frame["sample_date"][0] == dt.date(2024, 1, 2)
    assert frame["patient_id"].tolist() == ["0042", "P-7", "0042"]
    assert frame["elevated"].tolist()[0::2] == [1.0, 0.0]
    assert meta.file_label == "markers 0.1.0 2024-05-01T10:00:00Z"


def test_missing_pyreadstat_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyreadstat", None)
    with pytest.raises(OutputError, match=r"needs the optional package pyreadstat: pip install 'markers\[stats\]'"):
        write_table(typed_frame(), tmp_path / "t.xpt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", ["parquet", "feather", "dta", "xpt", "sav"])
def test_typed_writer_refuses_an_input_and_leaves_nothing(tmp_path, ext):
    source = tmp_path / f"in.{ext}"
    source.write_bytes(b"original")
    with pytest.raises(OutputError, match="refusing to overwrite the input"):
        write_table(typed_frame(), source, inputs=[source], provenance=PROVENANCE)
    assert source.read_bytes() == b"original"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"in.{ext}"]


@pytest.mark.parametrize("ext", ["xpt", "sav"])
def test_readstat_formats_leave_no_temporary_folder(tmp_path, ext):
    write_table(typed_frame(), tmp_path / f"t.{ext}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"t.{ext}"]


def test_safe_names_are_unique():
    assert safe_names(["source_file", "source_sheet", "source_cell"], limit=8, upper=True) == [
        "SOURCE_F", "SOURCE_S", "SOURCE_C"]
    assert safe_names(["value_a", "value_b"], limit=5) == ["value", "valu2"]


def test_assessment_parquet_types(tmp_path):
    write_analysis_table(INPUTS, tmp_path / "a.parquet", table="assessment")
    schema = pq.read_schema(tmp_path / "a.parquet")
    assert schema.field("baseline_date").type == pa.date32()
    assert schema.field("informative").type == pa.bool_()
    assert schema.field("half_life_n").type == pa.int64()
    assert schema.field("n_samples").type == pa.int64()
    assert schema.field("analyte").type == pa.dictionary(pa.int32(), pa.string())


def test_adam_parquet_carries_labels(tmp_path):
    write_analysis_table(INPUTS, tmp_path / "adlb.parquet", shape="adam")
    schema = pq.read_schema(tmp_path / "adlb.parquet")
    assert schema.field("R2ANRHI").metadata[b"label"] == b"Ratio to Analysis Range Upper Limit"
    assert schema.field("ADT").type == pa.date32()
    assert schema.field("ADY").type == pa.int64()
    assert schema.field("PARAMCD").type == pa.dictionary(pa.int32(), pa.string())


def test_validate_rejects_as_parquet(tmp_path):
    from click.testing import CliRunner

    from markers.cli import cli

    source = tmp_path / "lab.csv"
    source.write_text("Patient;Date;VMA;Unit\n0042;05.03.2024;abc;mg/g creat\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(source), "--rejects", str(tmp_path / "issues.parquet")])
    assert result.exit_code == 1
    issues = pq.read_table(tmp_path / "issues.parquet")
    assert "non-numeric-result" in issues.column("code").to_pylist()
    assert issues.column("code").type == pa.dictionary(pa.int32(), pa.string())
    assert issues.column("row").type == pa.int64()
