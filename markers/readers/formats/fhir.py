"""FHIR R4 Observation and Patient resources (a Bundle as JSON, or NDJSON bulk data) as record sheets.

One row per Observation (sheet ``Observation``) and one per Patient (sheet ``Patient``);
every other resource is a row of the sheet ``other resources`` (skipped, with an issue).
Rows are numbered by the resource's place: its 1-based entry of the Bundle, or its line of
an NDJSON file; each row's location names that place and the resource's id.

Read per the FHIR R4 specification (hl7.org/fhir/R4): ``Observation.code.coding`` (LOINC
where ``system`` is ``http://loinc.org``), ``valueQuantity`` (``value``, ``comparator``,
``unit``, UCUM ``code``), ``valueString``, ``effectiveDateTime`` or ``effectivePeriod.start``,
``subject`` (a reference to a Patient), ``referenceRange`` (``low``, ``high``, ``text``),
``specimen``; ``Patient.identifier``, ``birthDate``, ``gender``. markers' own extension
:data:`DAY_EXTENSION` (``valueInteger``, the day relative to the diagnosis, day 0) becomes the
days since diagnosis: a pseudonymized export, which has no dates, reads back on its day timeline.
"""

from __future__ import annotations

import json
import pathlib

from markers.errors import InputFormatError
from markers.readers.formats import table as t

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
#: Extension (written by markers' FHIR export) holding a sample's day relative to the diagnosis (day 0).
DAY_EXTENSION = "urn:markers:fhir:extension:days-since-diagnosis"
_SEX = {"male": "M", "female": "F"}
#: Observation statuses whose value is not a result (FHIR R4 ObservationStatus).
_NOT_A_RESULT = {"entered-in-error", "cancelled", "registered"}


def resources_of(path: pathlib.Path, text: str) -> list[tuple[int, str, dict]]:
    """``(number, place, resource)`` of each resource of a Bundle, a single resource or NDJSON lines."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if path.suffix.lower() == ".ndjson" or (stripped.startswith("{") and "\n{" in stripped.rstrip()
                                            and not _is_one_document(stripped)):
        found = []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if line.strip():
                resource = _load(path, line, f"line {number}")
            found.append((number, f"line {number}", resource if isinstance(resource, dict) else {}))
        return found
    document = _load(path, stripped, "")
    if not isinstance(document, dict) or "resourceType" not in document:
        raise InputFormatError(f"{path.name}: not a FHIR resource (no resourceType). "
                               "markers reads a FHIR R4 Bundle, one resource, or NDJSON of resources.")
    if document["resourceType"] != "Bundle":
        return [(1, "resource 1", document)]
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        raise InputFormatError(f"{path.name}: the Bundle's entry is not a list. Export the data again as FHIR JSON.")
    return [(i, f"entry {i}", _with_url(e)) for i, e in enumerate(entries, start=1)]


def _with_url(entry: object) -> dict:
    entry = entry if isinstance(entry, dict) else {}
    resource = entry.get("resource")
    resource = dict(resource) if isinstance(resource, dict) else {}
    if isinstance(entry.get("fullUrl"), str):
        resource["__fullUrl"] = entry["fullUrl"]
    return resource


def _is_one_document(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _load(path: pathlib.Path, text: str, where: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        place = f" {where}" if where else ""
        raise InputFormatError(f"{path.name}{place}: not valid JSON ({exc}). Export the data again as FHIR JSON.") from exc


def _patient_id(resource: dict) -> str:
    for identifier in resource.get("identifier") or []:
        if identifier.get("value"):
            return str(identifier["value"])
    return str(resource.get("id") or "")


def _quantity_text(quantity: dict | None) -> str:
    if not quantity or quantity.get("value") is None:
        return ""
    return f"{quantity['value']}"


def _reference_range(ranges: list[dict] | None) -> str:
    """The first reference range as text: ``low-high``, ``<=high`` or its ``text``."""
    for item in ranges or []:
        low, high = _quantity_text(item.get("low")), _quantity_text(item.get("high"))
        if low and high:
            return f"{low}-{high}"
        if high:
            return f"<={high}"
        if item.get("text"):
            return str(item["text"])
    return ""


def _unit(quantity: dict) -> str:
    if quantity.get("system") == UCUM_SYSTEM and quantity.get("code"):
        return str(quantity["code"])
    return str(quantity.get("unit") or quantity.get("code") or "")


def _value(resource: dict) -> tuple[str, str]:
    """``(result text, unit)`` of an Observation: the comparator joined to the value."""
    status = resource.get("status")
    if status in _NOT_A_RESULT:
        return f"(status {status})", ""
    quantity = resource.get("valueQuantity")
    if quantity is not None:
        value = quantity.get("value")
        text = "" if value is None else f"{quantity.get('comparator', '')}{value}"
        return text, _unit(quantity)
    if resource.get("valueString") is not None:
        return str(resource["valueString"]), ""
    for key in ("valueCodeableConcept",):
        if key in resource:
            concept = resource[key] or {}
            return str(concept.get("text") or next((c.get("display") for c in concept.get("coding") or []), "")), ""
    return "", ""


def _date(resource: dict) -> str:
    if resource.get("effectiveDateTime"):
        return str(resource["effectiveDateTime"])
    period = resource.get("effectivePeriod") or {}
    return str(period.get("start") or period.get("end") or "")


def _specimen(resource: dict, specimens: dict[str, str]) -> str:
    reference = resource.get("specimen") or {}
    return specimens.get(str(reference.get("reference") or ""), "") or str(reference.get("display") or "")


def read_fhir(path: pathlib.Path, text: str) -> list[t.RawSheet]:
    """The record sheets of one FHIR JSON or NDJSON file."""
    resources = resources_of(path, text)
    patients, specimens = {}, {}
    for _, _, resource in resources:
        kind, rid = resource.get("resourceType"), resource.get("id")
        if not isinstance(kind, str) or not isinstance(rid, str | int | type(None)):
            continue
        keys = [f"{kind}/{rid}"] + ([resource["__fullUrl"]] if resource.get("__fullUrl") else [])
        if kind == "Patient":
            patients.update(dict.fromkeys(keys, _patient_id(resource)))
        elif kind == "Specimen":
            specimen_type = resource.get("type") or {}
            label = specimen_type.get("text") or next((c.get("display") for c in specimen_type.get("coding") or []), "")
            specimens.update(dict.fromkeys(keys, str(label or "")))
    observations, people, others = [], [], []
    for number, place, resource in resources:
        kind = str(resource.get("resourceType") or "")
        where = f"{place} {kind}/{resource.get('id', '')}".rstrip("/")
        try:
            if kind == "Observation":
                observations.append((number, where, _observation_row(resource, patients, specimens)))
            elif kind == "Patient":
                people.append((number, where, {t.PATIENT: _patient_id(resource),
                                               t.DATE_OF_BIRTH: resource.get("birthDate"),
                                               t.SEX: _SEX.get(str(resource.get("gender")), "")}))
            else:
                others.append((number, where, {"Resource": kind or "(no resourceType)"}))
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            raise InputFormatError(f"{path.name} {where}: a malformed {kind or 'resource'} ({exc}); "
                                   "it does not follow the FHIR R4 structure. Export the data again.") from exc
    fmt = "ndjson" if resources and resources[0][1].startswith("line") else "fhir-json"
    sheets = []
    if people:
        sheets.append(t.record_sheet(path, sheet="Patient", headers=t.PATIENT_HEADERS, rows=people, fmt=fmt))
    if observations:
        sheets.append(t.record_sheet(path, sheet="Observation",
                                     headers=t.measurement_headers(observations), rows=observations, fmt=fmt))
    if others:
        sheets.append(t.record_sheet(path, sheet="other resources", headers=("Resource",), rows=others, fmt=fmt,
                                     skip_reason="not-a-result"))
    if not sheets:
        raise InputFormatError(f"{path.name}: the FHIR file holds no resources.")
    return sheets


def _observation_row(resource: dict, patients: dict[str, str], specimens: dict[str, str]) -> dict[str, str]:
    subject = resource.get("subject") or {}
    reference = str(subject.get("reference") or "")
    patient = patients.get(reference) or (subject.get("identifier") or {}).get("value") or reference.split("/")[-1]
    code = resource.get("code") or {}
    codings = code.get("coding") or []
    loinc = next((c.get("code") for c in codings if c.get("system") == LOINC_SYSTEM and c.get("code")), "")
    name = code.get("text") or next((c.get("display") for c in codings if c.get("display")), "")
    value, unit = _value(resource)
    flag = ""
    for concept in resource.get("interpretation") or []:
        flag = next((c.get("code") for c in concept.get("coding") or [] if c.get("code")), "") or concept.get("text", "")
    return {t.PATIENT: patient, t.SAMPLE_DATE: _date(resource), t.TEST: name or loinc, t.LOINC: loinc,
            t.RESULT: value, t.UNIT: unit, t.REFERENCE_RANGE: _reference_range(resource.get("referenceRange")),
            t.FLAG: flag, t.SPECIMEN: _specimen(resource, specimens), t.DAYS_SINCE_DIAGNOSIS: _day(resource)}


def _day(resource: dict) -> str:
    """The day since diagnosis of :data:`DAY_EXTENSION`, "" without it."""
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == DAY_EXTENSION:
            value = extension.get("valueInteger")
            return "" if isinstance(value, bool) or not isinstance(value, int) else str(value)
    return ""
