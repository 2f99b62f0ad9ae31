"""FHIR R4, HL7 v2.5 ORU^R01 and CDISC SDTM LB/DM read to exactly expected tidy tables.

The fixtures (tests/format_fixtures.py) are written as the published specifications lay
the formats out; every expected number below is worked out by hand in its comment.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from format_fixtures import write_fhir_bundle, write_fhir_ndjson, write_hl7, write_sdtm

from markers.errors import InputFormatError
from markers.ingest.reader import read
from markers.ingest.units import parse_unit
from markers.readers.formats import read_sheets
from markers.readers.formats.hl7v2 import _Separators, hl7_date

TODAY = dt.date(2026, 1, 1)
# molar masses from the IUPAC weights C 12.011, H 1.008, N 14.007, O 15.999:
# HVA C9H10O4 = 108.099 + 10.080 + 63.996 = 182.175; creatinine C4H7N3O = 48.044 + 7.056 + 42.021 + 15.999 = 113.120
HVA_10_MMOL_MOL_IN_MG_G = 10 * 182.175 / 113.120  # 16.1046 mg/g


def _tidy(data):
    m = data.measurements
    return m[["patient_id", "sample_date", "analyte", "value", "censor", "source_unit", "source_cell", "age_days"]]


def _fhir_expected(place):
    # ages: 2021-03-15 -> 2024-03-05 = 1096 days to 2024-03-15 (2024 is leap) - 10 = 1086;
    #       2019-11-02 -> 2024-01-10 = 1461 (four years, 2020 leap) + 30 + 31 + 8 = 1530
    return pd.DataFrame({
        "patient_id": ["P-101", "P-101", "pat-2"],
        "sample_date": pd.to_datetime(["2024-03-05", "2024-03-05", "2024-01-10"]),
        "analyte": ["HVA", "VMA", "HVA"],
        "value": [2.0, 12.5, HVA_10_MMOL_MOL_IN_MG_G],
        "censor": ["<", "", ""],
        "source_unit": ["mg/g{creat}", "mg/g{creat}", "umol/mmol{creat}"],
        "source_cell": [f"{place} 5 Observation/hva-1", f"{place} 4 Observation/vma-1", f"{place} 6 Observation/hva-2"],
        "age_days": [1086, 1086, 1530],
    })


@pytest.mark.parametrize(("writer", "name", "place"), [(write_fhir_bundle, "bundle.json", "entry"),
                                                      (write_fhir_ndjson, "export.ndjson", "line")])
def test_fhir_reads_to_the_expected_table(tmp_path, writer, name, place):
    data = read(writer(tmp_path / name), today=TODAY)
    got = _tidy(data).reset_index(drop=True)
    expected = _fhir_expected(place)
    pd.testing.assert_frame_equal(got.astype(object).drop(columns="value"), expected.astype(object).drop(columns="value"))
    assert got["value"].tolist() == pytest.approx(expected["value"].tolist(), rel=1e-4)
    # Patient resources: identifier value when given, else the resource id; gender -> sex
    patients = data.patients[["patient_id", "sex", "date_of_birth"]]
    assert patients.astype(str).values.tolist() == [["P-101", "F", "2021-03-15"],
                                                    ["pat-2", "M", "2019-11-02"]]


def test_fhir_every_resource_is_accounted_for_with_its_place(tmp_path):
    data = read(write_fhir_bundle(tmp_path / "bundle.json"), today=TODAY)
    # 8 entries: 2 Patient kept, 3 Observations kept, 2 rejected (text value, entered-in-error), 1 Specimen skipped
    assert data.counts()[["read", "kept", "rejected", "skipped"]].values.tolist() == [[8, 5, 2, 1]]
    issues = data.issues[["code", "cell", "value"]].values.tolist()
    assert issues == [["non-numeric-result", "entry 7 Observation/vma-2", "sample haemolysed"],
                      ["non-numeric-result", "entry 8 Observation/vma-3", "(status entered-in-error)"]]
    rows = data.rows.set_index("row")
    assert rows.loc[3, "status"] == "skipped" and rows.loc[3, "reason"] == "not-a-result"


def test_fhir_reference_range_and_specimen_are_carried(tmp_path):
    [_, observations, _] = read_sheets(write_fhir_bundle(tmp_path / "bundle.json"))
    cells = observations.cells
    header = cells.loc[0].tolist()
    vma = dict(zip(header, cells.loc[4].tolist(), strict=True))
    hva = dict(zip(header, cells.loc[6].tolist(), strict=True))
    assert (vma["Reference range"], vma["Specimen type"]) == ("<=13", "Spot urine")
    assert hva["Reference range"] == "0-12"


def test_a_json_file_that_is_not_fhir_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(InputFormatError, match="not a FHIR resource"):
        read(path)


@pytest.mark.parametrize("spelling", ["mg/g{creat}", "mg/g{creatinine}", "ug/mg{creat}"])
def test_ucum_mass_ratio_spellings(spelling):
    unit = parse_unit(spelling)
    assert (unit.kind, unit.scale) == ("mass_ratio", 1.0)


@pytest.mark.parametrize(("spelling", "scale"), [("umol/mmol{creat}", 1.0), ("mmol/mol{creat}", 1.0),
                                                 ("nmol/mmol{creat}", 1e-3)])
def test_ucum_molar_ratio_spellings(spelling, scale):
    unit = parse_unit(spelling)
    assert (unit.kind, unit.scale) == ("molar_ratio", scale)


# ---- HL7 v2 ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["results.hl7", "results.txt"])
def test_hl7_oru_reads_to_the_expected_table(tmp_path, name):
    data = read(write_hl7(tmp_path / name), today=TODAY)
    got = _tidy(data).reset_index(drop=True)
    # P-201 born 2008-03-01, sampled 2009-06-01 (OBX-14, else OBR-7): 365 + 31 + 30 + 31 = 457 days;
    # P-202's birth date is given to the month only (PID-7 "201505"): no age
    expected = pd.DataFrame({
        "patient_id": ["P-201", "P-201", "P-202"],
        "sample_date": pd.to_datetime(["2009-06-01", "2009-06-01", "2009-07-02"]),
        "analyte": ["HVA", "VMA", "VMA"],
        "value": [2.0, 15.2, 8.1],
        "censor": ["<", "", ""],
        "source_unit": ["mg/g{creat}", "mg/g{creat}", "mg/g creat"],
        "source_cell": ["message 1 segment 5 OBX", "message 1 segment 4 OBX", "message 2 segment 4 OBX"],
        "age_days": pd.array([457, 457, pd.NA], dtype="Int64"),
    })
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_hl7_every_segment_is_accounted_for(tmp_path):
    data = read(write_hl7(tmp_path / "results.hl7"), today=TODAY)
    # 11 segments: 2 PID kept, 3 OBX kept, 1 OBX rejected (OBX-11 = X, no result), 5 MSH/OBR/NTE skipped
    assert data.counts()[["read", "kept", "rejected", "skipped"]].values.tolist() == [[11, 5, 1, 5]]
    rejected = data.issues[data.issues["code"] == "non-numeric-result"][["cell", "value"]].values.tolist()
    assert rejected == [["message 2 segment 5 OBX", "(result status X: cannot be obtained)"]]
    assert data.issues[data.issues["code"] == "invalid-date"]["cell"].tolist() == ["message 2 segment 2 PID"]


def test_hl7_reference_range_flag_and_escapes(tmp_path):
    sheets = {s.sheet: s for s in read_sheets(write_hl7(tmp_path / "results.hl7"))}
    cells = sheets["OBX"].cells
    header = cells.loc[0].tolist()
    first = dict(zip(header, cells.loc[4].tolist(), strict=True))
    assert (first["Reference range"], first["Flag"], first["LOINC"]) == ("0-12", "H", "3124-5")
    # OBX-3 "VMA^VMA\S\creatinine^L^3124-5^^LN": the LOINC code is the alternate identifier; \S\ is "^"
    second_message = dict(zip(header, cells.loc[10].tolist(), strict=True))
    assert (second_message["Test"], second_message["LOINC"]) == ("VMA^creatinine", "3124-5")


def test_hl7_escape_sequences():
    sep = _Separators("MSH|^~\\&|", "x")
    assert sep.unescape(r"a\F\b\S\c\T\d\R\e\E\f") == "a|b^c&d~e\\f"
    assert sep.unescape("line\\.br\\next \\X41\\") == "line\nnext A"


@pytest.mark.parametrize(("stamp", "iso"), [("20090601101300", "2009-06-01 10:13"), ("200906011013", "2009-06-01 10:13"),
                                            ("20090601", "2009-06-01"), ("20090601101300.1234+0100", "2009-06-01 10:13"),
                                            ("200906", "2009-06"), ("2009", "2009")])
def test_hl7_timestamps_of_any_precision(stamp, iso):
    assert hl7_date(stamp) == iso


# ---- CDISC SDTM ----------------------------------------------------------------------------


def test_sdtm_lb_with_dm_reads_to_the_expected_table(tmp_path):
    dm, lb = write_sdtm(tmp_path)
    data = read([dm, lb], today=TODAY)
    got = _tidy(data).reset_index(drop=True)
    # NBL01-001 born 2020-05-02, sampled 2023-05-02: 3 years incl. 2020-02-29? no (after it): 365*3 + 1 (2020 leap,
    # counted from 2020-05-02 the leap day of 2024 is not yet reached) -> 2020-05-02..2023-05-02 = 1095 days.
    # NBL01-002: no LBDTC, LBDY 15 with RFSTDTC 2023-06-01 -> 2023-06-15 (day 1 is RFSTDTC); the lab's result is
    # missing (LBORRES empty) so the standardized LBSTRESC 6.2 mg/g is taken; born 2021-12-01 -> 2023-06-15 =
    # 365 (to 2022-12-01) + 196 (Dec 31 + Jan 31 + Feb 28 + Mar 31 + Apr 30 + May 31 + Jun 14) = 561 days.
    expected = pd.DataFrame({
        "patient_id": ["NBL01-001", "NBL01-001", "NBL01-002"],
        "sample_date": pd.to_datetime(["2023-05-02", "2023-05-02", "2023-06-15"]),
        "analyte": ["HVA", "VMA", "VMA"],
        "value": [3.0, 30.4, 6.2],
        "censor": ["<", "", ""],
        "source_unit": ["mg/g", "mg/g", "mg/g"],
        "source_cell": ["row 3 USUBJID NBL01-001 LBSEQ 2", "row 2 USUBJID NBL01-001 LBSEQ 1",
                        "row 4 USUBJID NBL01-002 LBSEQ 1"],
        "age_days": [1095, 1095, 561],
    })
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # USUBJID is the patient, never STUDYID: two children stay two patients
    assert data.patients[["patient_id", "sex"]].values.tolist() == [["NBL01-001", "F"], ["NBL01-002", "M"]]
    assert data.counts()[["file", "read", "kept", "rejected", "skipped"]].values.tolist() == [
        ["dm.csv", 2, 2, 0, 0], ["lb.csv", 3, 3, 0, 0]]


def test_sdtm_reference_range_from_lbornrhi(tmp_path):
    _, lb = write_sdtm(tmp_path)
    [sheet] = read_sheets(lb)
    header = sheet.cells.loc[0].tolist()
    first = dict(zip(header, sheet.cells.loc[2].tolist(), strict=True))
    assert (first["Reference range"], first["Specimen type"]) == ("0-10", "URINE")


def test_ibm_double_of_the_ts140_example():
    # TS-140: the IBM representation of 1.0 is 41 10 00 00 00 00 00 00; of -1.0, C1 10 ...; 0.5 is 40 80 ...
    from format_fixtures import ibm_double

    assert ibm_double(1.0).hex() == "4110000000000000"
    assert ibm_double(-1.0).hex() == "c110000000000000"
    assert ibm_double(0.5).hex() == "4080000000000000"


def test_sdtm_sas_transport_reads_as_the_csv(tmp_path):
    from format_fixtures import write_sdtm_xpt

    csv_dir, xpt_dir = tmp_path / "csv", tmp_path / "xpt"
    csv_dir.mkdir()
    xpt_dir.mkdir()
    from_csv = read(list(write_sdtm(csv_dir)), today=TODAY)
    from_xpt = read(list(write_sdtm_xpt(xpt_dir)), today=TODAY)
    columns = ["patient_id", "sample_date", "analyte", "value", "censor", "age_days", "reported_uln"]
    pd.testing.assert_frame_equal(from_xpt.measurements[columns].reset_index(drop=True),
                                  from_csv.measurements[columns].reset_index(drop=True))
    # an observation's place is its number in the dataset (the CSV's rows are one line lower: the header)
    assert from_xpt.measurements["source_cell"].tolist() == ["row 2 USUBJID NBL01-001 LBSEQ 2",
                                                             "row 1 USUBJID NBL01-001 LBSEQ 1",
                                                             "row 3 USUBJID NBL01-002 LBSEQ 1"]
    assert from_xpt.files["format"].tolist() == ["xpt", "xpt"]


@pytest.mark.parametrize("text", [
    '{"resourceType": "Bundle", "entry": {"resource": 1}}',
    '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", "code": 5}}]}',
    "[" * 100_000 + "]" * 100_000,
])
def test_malformed_fhir_fails_with_an_error_not_a_traceback(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFormatError, match="bad.json"):
        read(path)
