"""FHIR R4 export: one Observation per measurement and one Patient per patient, as a Bundle or NDJSON.

* ``.fhir.json``: a ``transaction`` Bundle (``PUT Patient/<id>``, ``PUT Observation/<id>``: sending it
  twice to a server updates the same resources), ending with a Provenance resource (markers version,
  time, inputs with their SHA-256).
* ``.ndjson``: the same resources, one per line (FHIR Bulk Data), Patients first, Provenance last.

Each Observation has the LOINC code of the analyte per creatinine in the output unit when one is known
(``data/loinc.csv``; else only ``code.text``), ``valueQuantity`` in UCUM (``mg/g``, ``mmol/mol``) with the
censor mark as ``comparator`` (``<``, ``<=``, ``>``, ``>=``), ``effectiveDateTime`` (the sample date),
``referenceRange`` with the upper limit and the age band (``age`` in months for the shipped sets,
always as ``text``), ``interpretation`` ``H`` or ``N`` (HL7 v3 ObservationInterpretation), the source cell
as an ``identifier`` and the cell as written in a ``note``. Resource ids are UUIDs derived from the
patient and source cell, so the same input gives the same ids.

A pseudonymized run carries only pseudonyms and no dates: no ``effectiveDateTime`` nor ``birthDate``;
the sample's day relative to the diagnosis is the extension :data:`DAY_EXTENSION` (``valueInteger``) and
a ``note``.
"""

from __future__ import annotations

import csv
import functools
import json
import uuid
from collections.abc import Mapping
from importlib import resources

import pandas as pd

from markers.readers.formats.fhir import DAY_EXTENSION
from markers.schema import (
    ANALYTE,
    CENSOR,
    CENSOR_INCLUSIVE,
    DATE_OF_BIRTH,
    DAY,
    ELEVATED,
    PATIENT_ID,
    REFERENCE_SET,
    SAMPLE_DATE,
    SEX,
    SOURCE_CELL,
    SOURCE_FILE,
    SOURCE_SHEET,
    SOURCE_UNIT,
    SOURCE_VALUE,
    ULN,
    UNIT,
    VALUE,
)
from markers.write.cells import is_missing
from markers.write.codes import UCUM, loinc_for, param

UCUM_SYSTEM = "http://unitsofmeasure.org"
LOINC_SYSTEM = "http://loinc.org"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
#: Identifier systems for the patient ID (or pseudonym) and the source cell of a result.
PATIENT_SYSTEM = "urn:markers:patient-id"
SOURCE_SYSTEM = "urn:markers:source-cell"
#: Code system of markers' analyte codes (VMA, HVA, DA, 3MT, NE, E, NMN, MN), a second coding of each
#: Observation.code, so that every result (also those without a LOINC code) names its analyte.
ANALYTE_SYSTEM = "urn:markers:analyte"
_NAMESPACE = uuid.UUID("6f1c1f3e-7d4a-5b0e-9a8e-2f6a4d3c1b00")
_COMPARATORS = {("<", False): "<", ("<", True): "<=", (">", False): ">", (">", True): ">="}
_GENDER = {"M": "male", "F": "female"}
_AGE_LABEL = "age_band_label"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


@functools.cache
def _age_bands() -> dict[tuple[str, str, str], tuple[int | None, int | None]]:
    """(set, analyte, band label) -> (first month, last month) of the shipped reference sets."""
    bands: dict[tuple[str, str, str], tuple[int | None, int | None]] = {}
    path = resources.files("markers").joinpath("data", "reference_limits.csv")
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            low, high = row["age_min_months"], row["age_max_months"]
            bands[(row["set"], row["analyte"], row["age_band_label"])] = (
                int(low) if low else None, int(high) if high else None)
    return bands


def _quantity(value: float, unit: str) -> dict[str, object]:
    return {"value": float(value), "unit": unit, "system": UCUM_SYSTEM, "code": UCUM.get(unit, unit)}


def _months(value: int) -> dict[str, object]:
    return {"value": value, "unit": "mo", "system": UCUM_SYSTEM, "code": "mo"}


def _reference_range(row: Mapping[str, object], unit: str) -> list[dict[str, object]]:
    if is_missing(row.get(ULN)):
        return []
    label = "" if is_missing(row.get(_AGE_LABEL)) else str(row.get(_AGE_LABEL))
    limits = "" if is_missing(row.get(REFERENCE_SET)) else str(row.get(REFERENCE_SET))
    entry: dict[str, object] = {"high": _quantity(row[ULN], unit)}
    band = _age_bands().get((limits, str(row[ANALYTE]), label))
    if band is not None:
        age: dict[str, object] = {}
        if band[0] is not None:
            age["low"] = _months(band[0])
        if band[1] is not None:
            age["high"] = _months(band[1])
        entry["age"] = age
    text = f"age {label}" if label else ""
    entry["text"] = "; ".join(t for t in (text, f"reference set {limits}" if limits else "") if t) or "upper limit"
    return [entry]


def observation(row: Mapping[str, object], *, patient_ref: str) -> dict[str, object]:
    """One measurement (a row of the flagged measurements) as a FHIR R4 Observation."""
    unit = str(row[UNIT])
    analyte = str(row[ANALYTE])
    cell = f"{row.get(SOURCE_FILE, '')}!{row.get(SOURCE_SHEET, '') or ''}!{row.get(SOURCE_CELL, '')}"
    loinc = loinc_for(analyte, unit)
    codings = [] if loinc is None else [{"system": LOINC_SYSTEM, "code": loinc[0], "display": loinc[1]}]
    code: dict[str, object] = {"coding": [*codings, {"system": ANALYTE_SYSTEM, "code": analyte}],
                               "text": param(analyte, unit)}
    quantity = _quantity(row[VALUE], unit)
    comparator = _COMPARATORS.get((str(row.get(CENSOR) or ""), row.get(CENSOR_INCLUSIVE) is True))
    if comparator is not None:
        quantity = {"value": quantity["value"], "comparator": comparator, **{k: quantity[k] for k in ("unit", "system", "code")}}
    resource: dict[str, object] = {
        "resourceType": "Observation",
        "id": _id("Observation", row[PATIENT_ID], cell, analyte),
        "identifier": [{"system": SOURCE_SYSTEM, "value": cell}],
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "laboratory", "display": "Laboratory"}]}],
        "code": code,
        "subject": {"reference": patient_ref},
    }
    day = row.get(DAY)
    if not is_missing(day):
        resource["extension"] = [{"url": DAY_EXTENSION, "valueInteger": int(day)}]
    if SAMPLE_DATE in row and not is_missing(row[SAMPLE_DATE]):
        resource["effectiveDateTime"] = pd.Timestamp(row[SAMPLE_DATE]).strftime("%Y-%m-%d")
    resource["valueQuantity"] = quantity
    elevated = row.get(ELEVATED)
    if not is_missing(elevated):
        high = bool(elevated)
        resource["interpretation"] = [{"coding": [{
            "system": INTERPRETATION_SYSTEM, "code": "H" if high else "N", "display": "High" if high else "Normal"}]}]
    notes = [f"source: {cell.replace('!!', '!')}, as written: {row.get(SOURCE_VALUE, '')} {row.get(SOURCE_UNIT, '') or ''}".rstrip()]
    if not is_missing(day):
        notes.append(f"day {int(day)} after diagnosis")
    resource["note"] = [{"text": text} for text in notes]
    ranges = _reference_range(row, unit)
    if ranges:
        resource["referenceRange"] = ranges
    return resource


def patient(patient_id: str, rows: pd.DataFrame) -> dict[str, object]:
    """The Patient resource of one patient: identifier, gender, birth date (absent when pseudonymized)."""
    first = rows.iloc[0]
    resource: dict[str, object] = {
        "resourceType": "Patient",
        "id": _id("Patient", patient_id),
        "identifier": [{"system": PATIENT_SYSTEM, "value": str(patient_id)}],
        "gender": _GENDER.get(str(first.get(SEX, "")), "unknown"),
    }
    if DATE_OF_BIRTH in rows and not is_missing(first[DATE_OF_BIRTH]):
        resource["birthDate"] = pd.Timestamp(first[DATE_OF_BIRTH]).strftime("%Y-%m-%d")
    return resource


def _provenance_resource(provenance: Mapping[str, object], targets: list[str]) -> dict[str, object]:
    inputs = provenance.get("inputs") or []
    return {
        "resourceType": "Provenance",
        "id": _id("Provenance", *targets),
        "target": [{"reference": t} for t in targets],
        "recorded": str(provenance.get("created") or "2000-01-01T00:00:00Z"),
        "agent": [{"who": {"display": f"markers {provenance.get('markers_version', '')}".strip()}}],
        "entity": [{"role": "source", "what": {"display": f"{i.get('file')} sha256:{i.get('sha256')}"}}
                   for i in inputs if isinstance(i, Mapping)],
    }


def fhir_resources(measurements: pd.DataFrame, *, provenance: Mapping[str, object] | None = None) -> list[dict]:
    """Patients, then their Observations (in table order), then a Provenance when ``provenance`` is given."""
    patients = []
    observations = []
    for patient_id, rows in measurements.groupby(PATIENT_ID, sort=True):
        resource = patient(str(patient_id), rows)
        patients.append(resource)
        ref = f"Patient/{resource['id']}"
        observations.extend(observation(row, patient_ref=ref) for row in rows.to_dict("records"))
    result = patients + observations
    if provenance is not None:
        result.append(_provenance_resource(provenance, [f"{r['resourceType']}/{r['id']}" for r in result]))
    return result


def fhir_text(measurements: pd.DataFrame, fmt: str, *, provenance: Mapping[str, object] | None = None) -> str:
    """The file content: a transaction Bundle (``fmt="bundle"``) or NDJSON (``"ndjson"``)."""
    resources_ = fhir_resources(measurements, provenance=provenance)
    if fmt == "ndjson":
        return "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in resources_)
    bundle: dict[str, object] = {"resourceType": "Bundle", "type": "transaction"}
    if provenance is not None and provenance.get("created"):
        bundle["timestamp"] = str(provenance["created"])
    bundle["entry"] = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
                        "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in resources_]
    return json.dumps(bundle, ensure_ascii=False, indent=1, allow_nan=False) + "\n"


def fhir_format(name: str) -> str | None:
    """``"bundle"`` for ``*.fhir.json``, ``"ndjson"`` for ``*.ndjson``, else ``None``."""
    lowered = name.lower()
    if lowered.endswith(".fhir.json"):
        return "bundle"
    if lowered.endswith(".ndjson"):
        return "ndjson"
    return None
