"""Fixtures in the structured formats, written as their published specifications lay them out.

* FHIR R4 (hl7.org/fhir/R4): Bundle (``resourceType``, ``type``, ``entry[].fullUrl``,
  ``entry[].resource``), Patient (``identifier``, ``gender``, ``birthDate``), Observation
  (``status``, ``code.coding[]`` with ``system`` http://loinc.org, ``subject.reference``,
  ``effectiveDateTime`` / ``effectivePeriod``, ``valueQuantity`` with ``value``, ``comparator``,
  ``unit``, ``system`` http://unitsofmeasure.org and UCUM ``code``, ``valueString``,
  ``referenceRange[].high``, ``specimen``), Specimen (``type``); NDJSON bulk data: one
  resource per line.
* HL7 v2.5 ORU^R01 (chapter 7): MSH, PID (PID-3 CX, PID-7 TS, PID-8), OBR (OBR-7), OBX
  (OBX-2 value type, OBX-3 CE with coding system LN, OBX-5, OBX-6 CE, OBX-7, OBX-8,
  OBX-11, OBX-14), segments ended by carriage returns; escape sequences of chapter 2.7.
* CDISC SDTMIG 3.x LB and DM: one row per result (LB) and per subject (DM), variables as named
  in the implementation guide.

The expected tables in the tests are worked out by hand from these fixtures.
"""

from __future__ import annotations

import json

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"


def _quantity(value, code, comparator=None):
    quantity = {"value": value, "unit": code, "system": UCUM, "code": code}
    if comparator:
        quantity["comparator"] = comparator
    return quantity


def fhir_resources():
    """Two patients, one specimen, four observations (one censored, one molar, one text, one in error)."""
    return [
        {"resourceType": "Patient", "id": "pat-1",
         "identifier": [{"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "P-101"}],
         "gender": "female", "birthDate": "2021-03-15"},
        {"resourceType": "Patient", "id": "pat-2", "gender": "male", "birthDate": "2019-11-02"},
        {"resourceType": "Specimen", "id": "spec-1", "type": {"text": "Spot urine"}},
        {"resourceType": "Observation", "id": "vma-1", "status": "final",
         "code": {"coding": [{"system": LOINC, "code": "3124-5",
                              "display": "Vanillylmandelate/Creatinine [Mass Ratio] in Urine"}]},
         "subject": {"reference": "Patient/pat-1"}, "effectiveDateTime": "2024-03-05T09:30:00+01:00",
         "valueQuantity": _quantity(12.5, "mg/g{creat}"),
         "referenceRange": [{"high": _quantity(13, "mg/g{creat}")}],
         "specimen": {"reference": "Specimen/spec-1"}},
        {"resourceType": "Observation", "id": "hva-1", "status": "final",
         "code": {"coding": [{"system": LOINC, "code": "11146-8"}], "text": "HVA/Creat Ur"},
         "subject": {"reference": "urn:uuid:6b1f4c2e-0000-4000-8000-000000000001"},
         "effectivePeriod": {"start": "2024-03-05", "end": "2024-03-05"},
         "valueQuantity": _quantity(2, "mg/g{creat}", comparator="<")},
        {"resourceType": "Observation", "id": "hva-2", "status": "final",
         "code": {"coding": [{"system": LOINC, "code": "22708-2"}]},
         "subject": {"reference": "Patient/pat-2"}, "effectiveDateTime": "2024-01-10",
         "valueQuantity": _quantity(10, "umol/mmol{creat}"),
         "referenceRange": [{"low": _quantity(0, "umol/mmol{creat}"), "high": _quantity(12, "umol/mmol{creat}")}]},
        {"resourceType": "Observation", "id": "vma-2", "status": "final",
         "code": {"coding": [{"system": LOINC, "code": "3124-5"}]},
         "subject": {"reference": "Patient/pat-2"}, "effectiveDateTime": "2024-01-10",
         "valueString": "sample haemolysed"},
        {"resourceType": "Observation", "id": "vma-3", "status": "entered-in-error",
         "code": {"coding": [{"system": LOINC, "code": "3124-5"}]},
         "subject": {"reference": "Patient/pat-2"}, "effectiveDateTime": "2024-01-11",
         "valueQuantity": _quantity(99, "mg/g{creat}")},
    ]


def write_fhir_bundle(path):
    """A ``collection`` Bundle of :func:`fhir_resources`; patient 1 also addressed by its ``urn:uuid`` fullUrl."""
    entries = []
    for resource in fhir_resources():
        entry = {"fullUrl": f"http://example.org/fhir/{resource['resourceType']}/{resource['id']}", "resource": resource}
        if resource["id"] == "pat-1":
            entry["fullUrl"] = "urn:uuid:6b1f4c2e-0000-4000-8000-000000000001"
        entries.append(entry)
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}, indent=2),
                    encoding="utf-8")
    return path


def write_fhir_ndjson(path):
    """The same resources as NDJSON (FHIR Bulk Data), one per line; the Bundle's urn reference made relative."""
    lines = []
    for resource in fhir_resources():
        if resource["id"] == "hva-1":
            resource = dict(resource, subject={"reference": "Patient/pat-1"})
        lines.append(json.dumps(resource))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HL7_MESSAGES = (
    # message 1: one patient, VMA with its range and flag, HVA censored as a structured numeric (SN)
    "MSH|^~\\&|LIS|Kinderklinik|markers|Research|20090601101300||ORU^R01^ORU_R01|MSG00001|P|2.5\r"
    "PID|1||P-201^^^Kinderklinik^MR||Muster^Anna||20080301|F\r"
    "OBR|1|ORD1|FIL1|24362-6^Catecholamines panel^LN|||20090601083000\r"
    "OBX|1|NM|3124-5^VMA/Creat Ur^LN||15.2|mg/g{creat}^mg/g creatinine^UCUM|0-12|H|||F|||20090601083000\r"
    "OBX|2|SN|11146-8^HVA/Creat Ur^LN||<^2.0|mg/g{creat}^^UCUM|0-20|N|||F\r"
    "NTE|1||Note with escapes: 5\\T\\6 \\F\\ pipe\r"
    # message 2: a second patient; the test name carries an escaped ^ (\S\); timestamp to the minute
    "MSH|^~\\&|LIS|Kinderklinik|markers|Research|200907021200||ORU^R01^ORU_R01|MSG00002|P|2.5\r"
    "PID|1||P-202^^^Kinderklinik^MR||Beispiel^Ben||201505|M\r"
    "OBR|1|ORD2|FIL2|24362-6^Catecholamines panel^LN|||200907020915\r"
    "OBX|1|NM|VMA^VMA\\S\\creatinine^L^3124-5^^LN||8.1|mg/g creat|0-12||||F\r"
    "OBX|2|NM|HVA^HVA creatinine^L|||mg/g creat|0-20||||X\r"
)


def write_hl7(path):
    path.write_bytes(HL7_MESSAGES.encode("ascii"))
    return path


SDTM_DM = (
    "STUDYID,DOMAIN,USUBJID,SUBJID,RFSTDTC,BRTHDTC,AGE,AGEU,SEX\n"
    "NBL01,DM,NBL01-001,001,2023-05-02,2020-05-02,3,YEARS,F\n"
    "NBL01,DM,NBL01-002,002,2023-06-01,2021-12-01,1,YEARS,M\n"
)
SDTM_LB = (
    "STUDYID,DOMAIN,USUBJID,LBSEQ,LBTESTCD,LBTEST,LBLOINC,LBORRES,LBORRESU,LBORNRLO,LBORNRHI,"
    "LBSTRESC,LBSTRESN,LBSTRESU,LBSPEC,LBDTC,LBDY\n"
    "NBL01,LB,NBL01-001,1,VMA,Vanillylmandelic Acid/Creatinine,3124-5,30.4,mg/g,0,10,30.4,30.4,mg/g,URINE,2023-05-02T08:00,1\n"
    "NBL01,LB,NBL01-001,2,HVA,Homovanillic Acid/Creatinine,11146-8,<3.0,mg/g,0,22,<3.0,,mg/g,URINE,2023-05-02T08:00,1\n"
    "NBL01,LB,NBL01-002,1,VMA,Vanillylmandelic Acid/Creatinine,3124-5,,,,,6.2,6.2,mg/g,URINE,,15\n"
)


def write_sdtm(directory):
    """``dm.csv`` and ``lb.csv`` in ``directory``; returns the two paths."""
    dm, lb = directory / "dm.csv", directory / "lb.csv"
    dm.write_text(SDTM_DM, encoding="utf-8")
    lb.write_text(SDTM_LB, encoding="utf-8")
    return dm, lb


# ---- REDCap ----------------------------------------------------------------------------------
# The data dictionary's 18 columns and the export layouts are REDCap's own (Data Dictionary
# download; "CSV / Microsoft Excel (raw data)" and "(labels)" exports): one row per record,
# event and repeat instance, checkbox fields as ``field___code`` columns of 0/1, dates Y-M-D.
REDCAP_DICTIONARY = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note","Text Validation Type OR Show Slider Number",'
    '"Text Validation Min","Text Validation Max","Identifier?","Branching Logic (Show field only if...)",'
    '"Required Field?","Custom Alignment","Question Number (surveys only)","Matrix Group Name","Matrix Ranking?",'
    '"Field Annotation"\n'
    'record_id,demographics,,text,"Record ID",,,,,,,,,,,,,\n'
    'dob,demographics,,text,"Date of birth",,,date_ymd,,,y,,,,,,,\n'
    'sex,demographics,,radio,Sex,"1, Female | 2, Male",,,,,,,,,,,,\n'
    'sample_date,urine_markers,,text,"Sample date",,,date_ymd,,,,,y,,,,,\n'
    'vma,urine_markers,,text,"<b>VMA</b>",,"mg/g creatinine",,,,,,,,,,,\n'
    'hva,urine_markers,,text,HVA,,"mg/g creatinine",,,,,,,,,,,\n'
    'specimen,urine_markers,,checkbox,Specimen,"1, Spot urine | 2, 24-hour urine",,,,,,,,,,,,\n'
)
REDCAP_RAW = (
    "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,dob,sex,demographics_complete,"
    "sample_date,vma,hva,specimen___1,specimen___2,urine_markers_complete\n"
    "1,baseline_arm_1,,,2020-01-15,1,2,,,,0,0,\n"
    "1,baseline_arm_1,urine_markers,1,,,,2023-01-15,25.3,<5,1,0,2\n"
    "1,baseline_arm_1,urine_markers,2,,,,2023-07-15,8.2,12.0,1,0,2\n"
    "2,baseline_arm_1,,,2018-06-01,2,2,,,,0,0,\n"
    "2,baseline_arm_1,urine_markers,1,,,,2023-02-01,,,1,0,0\n"
)
REDCAP_LABELS = (
    "Record ID,Event Name,Repeat Instrument,Repeat Instance,Date of birth,Sex,Complete?,Sample date,"
    "VMA (mg/g creatinine),HVA (mg/g creatinine),Specimen (choice=Spot urine),Specimen (choice=24-hour urine),Complete?\n"
    "1,Baseline (Arm 1: Arm 1),,,2020-01-15,Female,Complete,,,,Unchecked,Unchecked,\n"
    "1,Baseline (Arm 1: Arm 1),Urine Markers,1,,,,2023-01-15,25.3,<5,Checked,Unchecked,Complete\n"
    "1,Baseline (Arm 1: Arm 1),Urine Markers,2,,,,2023-07-15,8.2,12.0,Checked,Unchecked,Complete\n"
    "2,Baseline (Arm 1: Arm 1),,,2018-06-01,Male,Complete,,,,Unchecked,Unchecked,\n"
    "2,Baseline (Arm 1: Arm 1),Urine Markers,1,,,,2023-02-01,,,Checked,Unchecked,Incomplete\n"
)


def write_redcap(directory, *, labels=False, dictionary=True):
    """A REDCap export named as REDCap names it, with its data dictionary beside it; returns the export's path."""
    export = directory / ("NBStudy_DATA_LABELS_2024-03-05_1200.csv" if labels else "NBStudy_DATA_2024-03-05_1200.csv")
    export.write_text(REDCAP_LABELS if labels else REDCAP_RAW, encoding="utf-8")
    if dictionary:
        (directory / "NBStudy_DataDictionary_2024-03-05.csv").write_text(REDCAP_DICTIONARY, encoding="utf-8")
    return export


# ---- SAS transport (XPORT version 5), as SAS technical note TS-140 lays it out ----------------
# 80-byte records: library header, two real headers, member and descriptor headers, two member
# records, the NAMESTR header and one 140-byte NAMESTR per variable (padded to 80), the OBS header,
# then the observations (character: blank-padded; numeric: 8-byte IBM hexadecimal floats), padded.
_XPT_DATE = "05MAR24:12:00:00"


def _record(text):
    return text.ljust(80).encode("ascii")


def ibm_double(value):
    """An IEEE float as an 8-byte IBM System/360 hexadecimal float (TS-140); ``None`` is SAS missing ``.``."""
    import math

    if value is None:
        return b"." + bytes(7)
    if value == 0:
        return bytes(8)
    sign = 0x80 if value < 0 else 0
    magnitude = abs(value)
    exponent = math.floor(math.log(magnitude, 16)) + 1  # 16**(e-1) <= |x| < 16**e
    fraction = magnitude / 16.0 ** exponent
    if fraction >= 1.0:
        fraction, exponent = fraction / 16, exponent + 1
    mantissa = round(fraction * 2**56)
    return bytes([sign | (exponent + 64)]) + mantissa.to_bytes(7, "big")


def write_xpt(path, name, columns, rows):
    """A one-member XPORT v5 file; ``columns`` is ``[(variable, "char" | "num", length)]``, ``rows`` lists of values."""
    import struct

    out = [_record("HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + "0" * 30),
           _record("SAS     SAS     SASLIB  9.4     X64_10PR" + " " * 24 + _XPT_DATE),
           _record(_XPT_DATE),
           _record("HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!" + "0" * 17 + "16" + "0" * 8 + "140"),
           _record("HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!" + "0" * 30),
           _record("SAS     " + name.ljust(8) + "SASDATA 9.4     X64_10PR" + " " * 24 + _XPT_DATE),
           _record(_XPT_DATE + " " * 16 + name.ljust(40) + "DATA    "),
           _record("HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000" + f"{len(columns):04d}" + "0" * 20)]
    namestrs, position = b"", 0
    for number, (variable, kind, length) in enumerate(columns, start=1):
        namestrs += struct.pack(">hhhh8s40s8shhh2s8shhl52s", 1 if kind == "num" else 2, 0, length, number,
                                variable.ljust(8).encode(), variable.ljust(40).encode(), b" " * 8, 0, 0, 0,
                                b"  ", b" " * 8, 0, 0, position, bytes(52))
        position += length
    out.append(namestrs + b" " * (-len(namestrs) % 80))
    out.append(_record("HEADER RECORD*******OBS     HEADER RECORD!!!!!!!" + "0" * 30))
    data = b""
    for row in rows:
        for (_, kind, length), value in zip(columns, row, strict=True):
            data += ibm_double(value) if kind == "num" else str(value or "").ljust(length).encode("ascii")
    out.append(data + b" " * (-len(data) % 80))
    path.write_bytes(b"".join(out))
    return path


def write_sdtm_xpt(directory):
    """``dm.xpt`` and ``lb.xpt`` holding the same records as :data:`SDTM_DM` and :data:`SDTM_LB`.

    Character variables are at least 16 bytes, so that an observation is longer than one 80-byte
    record, as in real SDTM datasets (pandas counts shorter observations by their blank padding).
    """
    import csv
    import io

    def table(text, numeric):
        rows = list(csv.reader(io.StringIO(text)))
        header, body = rows[0], rows[1:]
        columns = [(h, "num" if h in numeric else "char",
                    8 if h in numeric else max(16, *(len(r[i]) for r in body))) for i, h in enumerate(header)]
        values = [[(float(v) if v else None) if h in numeric else v for h, v in zip(header, r, strict=True)]
                  for r in body]
        return columns, values

    dm_columns, dm_rows = table(SDTM_DM, {"AGE"})
    # SDTMIG: LBSEQ, LBSTRESN, LBDY and DM's AGE are numeric; LBORNRLO/LBORNRHI are character
    lb_columns, lb_rows = table(SDTM_LB, {"LBSEQ", "LBSTRESN", "LBDY"})
    return (write_xpt(directory / "dm.xpt", "DM", dm_columns, dm_rows),
            write_xpt(directory / "lb.xpt", "LB", lb_columns, lb_rows))
