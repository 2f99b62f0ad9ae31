"""Write the sample patients NB-001 to NB-003 as a REDCap export (with its data dictionary) and a FHIR R4 Bundle.

Run from the repository root: ``python sample_data/make_format_samples.py``. The values are
taken from study_workbook.xlsx (written by make_sample_data.py), so that each format reads to the
same measurements as the workbook: the REDCap export in REDCap's raw CSV layout (one record row
with date of birth, sex and diagnosis date, one repeat row of the instrument ``urine_markers`` per
sample), the FHIR Bundle as a ``collection`` of Patient and Observation resources (LOINC 3124-5
and 11146-8, UCUM mg/g{creat}). Synthetic data, not real patients.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
PATIENTS = ("NB-001", "NB-002", "NB-003")
REDCAP_DIR = HERE / "redcap"
REDCAP_EXPORT = "NBSYN_DATA_2025-02-03_0900.csv"
REDCAP_DICTIONARY = "NBSYN_DataDictionary_2025-02-03.csv"
FHIR_BUNDLE = "fhir_bundle.json"
LOINC = {"VMA": ("3124-5", "Vanillylmandelate/Creatinine [Mass Ratio] in Urine"),
         "HVA": ("11146-8", "Homovanillate/Creatinine [Mass Ratio] in Urine")}
SEX_CODES = {"F": "1", "M": "2"}  # the dictionary's choices: "1, Female | 2, Male"
DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
DICTIONARY = [
    ["record_id", "demographics", "", "text", "Study ID"],
    ["dob", "demographics", "", "text", "Date of birth", "", "", "date_ymd", "", "", "y"],
    ["sex", "demographics", "", "radio", "Sex", "1, Female | 2, Male"],
    ["dx_date", "demographics", "", "text", "Date of diagnosis", "", "", "date_ymd"],
    ["sample_date", "urine_markers", "", "text", "Sample date", "", "", "date_ymd"],
    ["vma", "urine_markers", "", "text", "VMA", "", "mg/g creatinine"],
    ["hva", "urine_markers", "", "text", "HVA", "", "mg/g creatinine"],
]


def _date(value: object) -> str:
    return value.date().isoformat() if isinstance(value, dt.datetime) else ""


def workbook_rows() -> tuple[dict[str, tuple], list[tuple]]:
    """``{patient: (sex, dob, diagnosis)}`` and the sample rows of the sample patients."""
    wb = openpyxl.load_workbook(HERE / "study_workbook.xlsx", read_only=True)
    patients = {r[0]: (r[1], r[2], r[3]) for r in wb["Patients"].iter_rows(min_row=2, values_only=True)
                if r[0] in PATIENTS}
    samples = [r for r in wb["Samples"].iter_rows(min_row=5, values_only=True)
               if r[0] in PATIENTS and isinstance(r[1], dt.datetime)]
    return patients, samples


def _cell(value: object) -> str:
    """A result as typed in REDCap: numbers as written, text (``<0.5``, ``QNS``) as is."""
    if isinstance(value, float | int):
        return f"{value:g}"
    return "" if value is None else str(value)


def _value(value: object) -> dict:
    """A FHIR Observation's value: a Quantity (``<0.5`` with its comparator), else the text as valueString."""
    quantity = {"unit": "mg/g creatinine", "system": "http://unitsofmeasure.org", "code": "mg/g{creat}"}
    if isinstance(value, float | int):
        return {"valueQuantity": {"value": value, **quantity}}
    text = str(value).strip()
    for sign in ("<=", ">=", "<", ">"):
        if text.startswith(sign):
            return {"valueQuantity": {"value": float(text[len(sign):]), "comparator": sign, **quantity}}
    return {"valueString": text}


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def redcap_files(patients: dict[str, tuple], samples: list[tuple]) -> tuple[str, str]:
    header = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "dob", "sex", "dx_date",
              "demographics_complete", "sample_date", "vma", "hva", "urine_markers_complete"]
    rows = [header]
    for patient, (sex, dob, diagnosis) in patients.items():
        rows.append([patient, "", "", _date(dob), SEX_CODES[sex], _date(diagnosis), "2", "", "", "", ""])
        mine = [s for s in samples if s[0] == patient]
        for instance, sample in enumerate(mine, start=1):
            rows.append([patient, "urine_markers", str(instance), "", "", "", "", _date(sample[1]),
                         _cell(sample[2]), _cell(sample[3]), "2"])
    dictionary = [DICTIONARY_HEADER] + [r + [""] * (len(DICTIONARY_HEADER) - len(r)) for r in DICTIONARY]
    return _csv_text(rows), _csv_text(dictionary)


def fhir_bundle(patients: dict[str, tuple], samples: list[tuple]) -> dict:
    entries = []
    for number, (patient, (sex, dob, _)) in enumerate(patients.items(), start=1):
        entries.append({"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{number:012d}", "resource": {
            "resourceType": "Patient", "id": patient.lower(), "identifier": [{"system": "urn:nb-syn", "value": patient}],
            "gender": {"F": "female", "M": "male"}[sex], "birthDate": _date(dob)}})
    for number, sample in enumerate(samples, start=1):
        patient = sample[0]
        for analyte, value in (("VMA", sample[2]), ("HVA", sample[3])):
            if value is None:
                continue
            code, display = LOINC[analyte]
            entries.append({"fullUrl": f"urn:uuid:00000000-0000-4000-9000-{len(entries):012d}", "resource": {
                "resourceType": "Observation", "id": f"{analyte.lower()}-{number}", "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "laboratory"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
                "subject": {"reference": f"Patient/{patient.lower()}"},
                "effectiveDateTime": _date(sample[1]), **_value(value)}})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def main() -> None:
    patients, samples = workbook_rows()
    export, dictionary = redcap_files(patients, samples)
    REDCAP_DIR.mkdir(exist_ok=True)
    (REDCAP_DIR / REDCAP_EXPORT).write_text(export, encoding="utf-8")
    (REDCAP_DIR / REDCAP_DICTIONARY).write_text(dictionary, encoding="utf-8")
    (HERE / FHIR_BUNDLE).write_text(json.dumps(fhir_bundle(patients, samples), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
