"""The REDCap export and FHIR bundle of sample_data/ read to the same measurements as the workbook they were written from."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest

from markers.ingest.reader import read
from markers.pipeline import analyse

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
TODAY = dt.date(2026, 1, 1)
PATIENTS = ["NB-001", "NB-002", "NB-003"]
KEY = ["patient_id", "sample_date", "analyte", "value", "censor", "age_days", "sex"]


def _workbook():
    m = read(SAMPLE_DIR / "study_workbook.xlsx", today=TODAY).measurements
    return m[m["patient_id"].isin(PATIENTS)][KEY].reset_index(drop=True)


@pytest.mark.parametrize("name", ["redcap/NBSYN_DATA_2025-02-03_0900.csv", "fhir_bundle.json"])
def test_format_sample_reads_as_the_workbook(name):
    data = read(SAMPLE_DIR / name, today=TODAY)
    got = data.measurements[KEY].reset_index(drop=True)
    assert got.astype(str).values.tolist() == _workbook().astype(str).values.tolist()
    # the one result the workbook rejects too: NB-001's "QNS" VMA of 2022-12-29
    errors = data.issues[data.issues["severity"] == "error"]
    assert errors[["code", "value"]].values.tolist() == [["non-numeric-result", "QNS"]]


def test_format_samples_are_reproducible(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_format_samples", SAMPLE_DIR / "make_format_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    patients, samples = module.workbook_rows()
    export, dictionary = module.redcap_files(patients, samples)
    assert export == (SAMPLE_DIR / "redcap" / module.REDCAP_EXPORT).read_text(encoding="utf-8")
    assert dictionary == (SAMPLE_DIR / "redcap" / module.REDCAP_DICTIONARY).read_text(encoding="utf-8")
    bundle = json.loads((SAMPLE_DIR / module.FHIR_BUNDLE).read_text(encoding="utf-8"))
    assert bundle == module.fhir_bundle(patients, samples)


@pytest.mark.slow
def test_fhir_sample_is_assessed_like_the_workbook():
    workbook = analyse(SAMPLE_DIR / "study_workbook.xlsx", today=TODAY).assessment
    # the bundle carries results and patients but no diagnosis date or therapy event
    with pytest.warns(UserWarning, match=r"3 patient\(s\) have neither a diagnosis date nor a treatment event"):
        bundle = analyse(SAMPLE_DIR / "fhir_bundle.json", today=TODAY).assessment
    columns = ["patient_id", "analyte", "n_samples"] if "n_samples" in bundle else ["patient_id", "analyte"]
    assert bundle[columns].values.tolist() == workbook[workbook["patient_id"].isin(PATIENTS)][columns].values.tolist()
