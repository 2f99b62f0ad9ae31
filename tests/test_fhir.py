"""FHIR R4 export: structure checked by the fhir.resources models (R4B, whose Observation, Patient,
Provenance and Bundle have the R4 shape), content checked by hand against the FHIR R4 spec."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pydantic
import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.provenance import Provenance

from markers.cli import cli
from markers.errors import OutputError
from markers.pipeline import analyse
from markers.write.export import export_table
from markers.write.fhir import DAY_EXTENSION, fhir_resources, observation

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]
MODELS = {"Observation": Observation, "Patient": Patient, "Provenance": Provenance}
UCUM = "http://unitsofmeasure.org"


def row(**changes) -> dict:
    """One flagged measurement: VMA <=0.5 mg/g at 7 years, against ARUP's 6-17 y limit."""
    base = {
        "patient_id": "0042", "sample_date": pd.Timestamp("2024-03-25"), "analyte": "VMA", "value": 0.5,
        "unit": "mg/g creatinine", "censor": "<", "censor_inclusive": True, "source_value": "<=0,5",
        "source_unit": "mg/g creat", "source_file": "lab.xlsx", "source_sheet": "Samples", "source_cell": "C36",
        "sex": "M", "uln": 9.0, "elevated": False, "reference_set": "ARUP-3018863", "age_band_label": "6-17 y",
        "day": 525,
    }
    return base | changes


def test_observation_content():
    obs = observation(row(), patient_ref="Patient/x")
    Observation.model_validate(obs)
    assert obs["code"]["coding"] == [{"system": "http://loinc.org", "code": "3124-5",
                                      "display": "Vanillylmandelate/Creatinine [Mass Ratio] in Urine"},
                                     {"system": "urn:markers:analyte", "code": "VMA"}]
    assert obs["valueQuantity"] == {"value": 0.5, "comparator": "<=", "unit": "mg/g creatinine",
                                    "system": UCUM, "code": "mg/g"}
    assert obs["effectiveDateTime"] == "2024-03-25"
    assert obs["interpretation"][0]["coding"][0]["code"] == "N"
    assert obs["interpretation"][0]["coding"][0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation")
    # ARUP 3018863, VMA, 6-17 years: months 72 to 215 (data/reference_limits.csv)
    [band] = obs["referenceRange"]
    assert band["high"] == {"value": 9.0, "unit": "mg/g creatinine", "system": UCUM, "code": "mg/g"}
    assert band["age"]["low"]["value"] == 72 and band["age"]["high"]["value"] == 215
    assert band["age"]["high"]["code"] == "mo"
    assert obs["identifier"] == [{"system": "urn:markers:source-cell", "value": "lab.xlsx!Samples!C36"}]
    assert obs["note"][0]["text"] == "source: lab.xlsx!Samples!C36, as written: <=0,5 mg/g creat"
    assert obs["extension"] == [{"url": DAY_EXTENSION, "valueInteger": 525}]
    assert obs["subject"] == {"reference": "Patient/x"}


def test_observation_high_and_without_loinc():
    high = observation(row(censor="", censor_inclusive=False, value=30.0, elevated=True), patient_ref="Patient/x")
    assert "comparator" not in high["valueQuantity"]
    assert high["interpretation"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H", "display": "High"}
    nmn = observation(row(analyte="NMN", unit="mmol/mol creatinine", elevated=pd.NA, reference_set="own"),
                      patient_ref="Patient/x")
    Observation.model_validate(nmn)
    # no LOINC code is known for normetanephrine/creatinine: markers' analyte code only
    assert nmn["code"]["coding"] == [{"system": "urn:markers:analyte", "code": "NMN"}]
    assert nmn["code"]["text"] == "Normetanephrine/Creatinine (mmol/mol)"
    assert "interpretation" not in nmn and "age" not in nmn["referenceRange"][0]
    assert nmn["valueQuantity"]["code"] == "mmol/mol"


def test_the_validator_is_strict():
    """So a passing validation means something: an unknown element, a missing status, a value of the wrong
    type are refused. (The models do not check codes against value sets: see REQUIRED_CODES.)"""
    obs = observation(row(), patient_ref="Patient/x")
    with pytest.raises(pydantic.ValidationError):
        Observation.model_validate(obs | {"valueQty": 1})
    with pytest.raises(pydantic.ValidationError):
        Observation.model_validate({k: v for k, v in obs.items() if k != "status"})
    with pytest.raises(pydantic.ValidationError):
        Observation.model_validate(obs | {"valueQuantity": {"value": "abc"}})


# Required bindings of FHIR R4 (hl7.org/fhir/R4: valueset-observation-status, valueset-quantity-comparator,
# valueset-administrative-gender, valueset-bundle-type, valueset-http-verb), which the models leave unchecked.
REQUIRED_CODES = {
    "status": {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error",
               "unknown"},
    "comparator": {"<", "<=", ">=", ">"},
    "gender": {"male", "female", "other", "unknown"},
    "type": {"document", "message", "transaction", "transaction-response", "batch", "batch-response",
             "history", "searchset", "collection"},
    "method": {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"},
}


def coded_values(node, found=None):
    """Every value of an element named in REQUIRED_CODES, anywhere in a resource."""
    found = [] if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if key in REQUIRED_CODES and isinstance(value, str):
                found.append((key, value))
            coded_values(value, found)
    elif isinstance(node, list):
        for item in node:
            coded_values(item, found)
    return found


@pytest.fixture(scope="module")
def sample_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("fhir") / "markers.fhir.json"
    result = CliRunner().invoke(cli, ["normalize", *FILES, "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_sample_bundle_is_valid_r4(sample_bundle):
    Bundle.model_validate(sample_bundle)
    for entry in sample_bundle["entry"]:
        MODELS[entry["resource"]["resourceType"]].model_validate(entry["resource"])
    assert sample_bundle["type"] == "transaction"
    values = coded_values(sample_bundle)
    assert [(k, v) for k, v in values if v not in REQUIRED_CODES[k]] == []
    assert {k for k, _ in values} == set(REQUIRED_CODES)  # each kind of code was checked at least once


@pytest.mark.slow
def test_sample_bundle_counts_and_provenance(sample_bundle):
    analysis = analyse(FILES)
    kinds = [e["resource"]["resourceType"] for e in sample_bundle["entry"]]
    assert kinds.count("Patient") == analysis.measurements["patient_id"].nunique()
    assert kinds.count("Observation") == len(analysis.measurements)
    assert kinds[-1] == "Provenance"
    provenance = sample_bundle["entry"][-1]["resource"]
    hashes = {f"{Path(p).name} sha256:{hashlib.sha256(Path(p).read_bytes()).hexdigest()}" for p in FILES}
    assert {e["what"]["display"] for e in provenance["entity"]} == hashes
    assert len(provenance["target"]) == len(kinds) - 1
    # every subject reference points at a Patient of the bundle
    patients = {f"Patient/{e['resource']['id']}" for e in sample_bundle["entry"] if e["resource"]["resourceType"] == "Patient"}
    assert {e["resource"]["subject"]["reference"] for e in sample_bundle["entry"]
            if e["resource"]["resourceType"] == "Observation"} == patients


@pytest.mark.slow
def test_pseudonymized_ndjson_has_no_dates(tmp_path):
    out = tmp_path / "shared.ndjson"
    result = CliRunner().invoke(cli, ["normalize", *FILES, "-o", str(out), "--pseudonymize", str(tmp_path / "k.key")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    resources = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for resource in resources:
        MODELS[resource["resourceType"]].model_validate(resource)
        assert "effectiveDateTime" not in resource and "birthDate" not in resource
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert all(r["identifier"][0]["value"].startswith("P-") for r in patients)
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    assert all(r["extension"][0]["url"] == DAY_EXTENSION for r in observations if "extension" in r)


def test_same_input_same_ids():
    frame = pd.DataFrame([row(), row(source_cell="C37", value=1.0)])
    first = fhir_resources(frame)
    assert [r["id"] for r in first] == [r["id"] for r in fhir_resources(frame)]
    assert len({r["id"] for r in first}) == 3


def test_fhir_writer_refuses_an_input(tmp_path):
    source = tmp_path / "in.ndjson"
    source.write_text("{}\n")
    with pytest.raises(OutputError, match="refusing to overwrite the input"):
        export_table(pd.DataFrame([row()]), source, table="measurements", inputs=[source])
    assert source.read_text() == "{}\n"
