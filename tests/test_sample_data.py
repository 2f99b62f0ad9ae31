"""The shipped synthetic sample data: reproducible, well formed, and designed as documented.

These tests read the committed files with openpyxl and the csv module only (not
with markers), and re-derive every designed outcome from the files with an
independent, literal implementation of the assessment rules written down in
sample_data/README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
FILES = [
    "study_workbook.xlsx",
    "lab_export_eu.csv",
    "expected_outcomes.csv",
    "expected_issues.csv",
    "expected_counts.csv",
    "courses_workbook.xlsx",
    "expected_courses.csv",
    "expected_courses_issues.csv",
]

# Molar masses from the formulas with IUPAC atomic weights (C 12.011, H 1.008, N 14.007, O 15.999):
# VMA C9H10O5 = 108.099 + 10.080 + 79.995 = 198.174; HVA C9H10O4 = 108.099 + 10.080 + 63.996 = 182.175;
# creatinine C4H7N3O = 48.044 + 7.056 + 42.021 + 15.999 = 113.120.
M = {"VMA": 198.174, "HVA": 182.175}
M_CREATININE = 113.120

# ARUP 3018863 ULN, mg/g creatinine, bands 0-2 y / 3-5 y / 6-17 y / >=18 y.
ULN = {"VMA": (27.0, 13.0, 9.0, 6.0), "HVA": (42.0, 22.0, 15.0, 8.0)}

# The same limits in µmol/mmol as the lab export prints them, worked out by hand:
# VMA 27 x 113.12/198.174 = 15.41 -> "<15,4"; 13 x 0.57082 = 7.42 -> "<7,4"; 9 x 0.57082 = 5.14 -> "<5,1"
# HVA 42 x 113.12/182.175 = 26.08 -> "<26,1"; 22 x 0.62094 = 13.66 -> "<13,7"; 15 x 0.62094 = 9.31 -> "<9,3"
CSV_LIMIT_TEXT = {
    "VMA": ("<15,4", "<7,4", "<5,1"),
    "HVA": ("<26,1", "<13,7", "<9,3"),
}

MILESTONES = ("Surgery (resection)", "End of induction", "Complete remission", "End of therapy")
THERAPY_START = "Start of induction chemotherapy"
#: Treatment events of any kind, as the workbook labels them: the baseline window closes at the first.
TREATMENTS = (THERAPY_START, "Surgery (resection)", "HDC/ASCT", "Radiotherapy", "Start maintenance (anti-GD2)")
SURGERY = "Surgery (resection)"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_sample_data", SAMPLE_DIR / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _age_band(dob: dt.date, on: dt.date) -> int:
    years = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
    return 0 if years < 3 else 1 if years < 6 else 2 if years < 18 else 3


def _read_csv_text(name: str) -> list[dict[str, str]]:
    with open(SAMPLE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def workbook():
    wb = openpyxl.load_workbook(SAMPLE_DIR / "study_workbook.xlsx")
    yield wb
    wb.close()


@pytest.fixture(scope="module")
def lab_lines() -> list[str]:
    return (SAMPLE_DIR / "lab_export_eu.csv").read_bytes().decode("cp1252").split("\r\n")


@pytest.fixture(scope="module")
def patients(workbook) -> dict[str, dict]:
    ws = workbook["Patients"]
    out = {}
    for pid, sex, dob, diagnosis, _ in ws.iter_rows(min_row=2, values_only=True):
        out[pid] = {"sex": sex, "dob": dob.date(), "diagnosis": diagnosis.date()}
    return out


@pytest.fixture(scope="module")
def events(workbook) -> dict[str, dict[str, dt.date]]:
    out: dict[str, dict[str, dt.date]] = {}
    for pid, label, date, _ in workbook["Treatment"].iter_rows(min_row=2, values_only=True):
        out.setdefault(pid, {})[label] = date.date()
    return out


def _parse_workbook_result(cell: object) -> tuple[float, str] | None:
    """(value, censor) of a Samples result cell; None for a text result such as 'QNS'."""
    if isinstance(cell, float | int):
        return float(cell), ""
    text = str(cell).strip()
    censor = "<" if text.startswith("<") else ""
    text = text.lstrip("<").removesuffix(" H").replace(",", ".")
    try:
        return float(text), censor
    except ValueError:
        return None


@pytest.fixture(scope="module")
def measurements(workbook, patients, lab_lines) -> dict[tuple[str, str], list[tuple[dt.date, float, str, str]]]:
    """(patient, analyte) -> sorted [(date, mg/g, censor, source)], usable results of both files."""
    found: dict[tuple[str, dt.date, str], tuple[float, str, str]] = {}
    ws = workbook["Samples"]
    for pid, date, vma, hva, _creat, _comment in ws.iter_rows(min_row=5, values_only=True):
        if pid is None or date.date() < patients[pid]["dob"]:
            continue  # rejected rows: missing ID, sample before birth
        for analyte, cell in (("VMA", vma), ("HVA", hva)):
            parsed = _parse_workbook_result(cell)
            if parsed is not None:
                found[(pid, date.date(), analyte)] = (parsed[0], parsed[1], "wb")
    analyte_of = {"Vanillylmandelic acid": "VMA", "Homovanillic acid": "HVA"}
    for line in lab_lines[3:]:
        fields = line.split(";")
        if len(fields) != 9:
            continue
        pid, _dob, date, test, _loinc, result, _unit, _flag, _ref = fields
        analyte = analyte_of[test]
        censor = "<" if result.startswith("<") else ""
        molar = float(result.lstrip("<").removesuffix(" H").replace(",", "."))
        mg_g = molar * M[analyte] / M_CREATININE  # µmol/mmol -> mg/g: x M / 113.12
        found[(pid, dt.datetime.strptime(date, "%d.%m.%Y").date(), analyte)] = (mg_g, censor, "csv")
    series: dict[tuple[str, str], list] = {}
    for (pid, date, analyte), (value, censor, source) in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        series.setdefault((pid, analyte), []).append((date, value, censor, source))
    return series


# -- reproducibility ----------------------------------------------------------------------------


@pytest.mark.golden
def test_regenerating_reproduces_the_committed_files_byte_for_byte(tmp_path):
    generator = _load_generator()
    first, second = tmp_path / "a", tmp_path / "b"
    generator.main([str(first)])
    generator.main([str(second)])
    for name in FILES:
        assert _sha256(first / name) == _sha256(second / name), f"{name} differs between two runs"
        assert _sha256(first / name) == _sha256(SAMPLE_DIR / name), f"committed {name} is out of date"


def test_workbook_zip_has_fixed_timestamps_and_metadata():
    with zipfile.ZipFile(SAMPLE_DIR / "study_workbook.xlsx") as archive:
        infos = archive.infolist()
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert infos[0].filename == "[Content_Types].xml"
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert "<dc:creator>markers sample data</dc:creator>" in core
    assert core.count("2025-02-03T09:00:00Z") == 2  # created and modified


# -- the workbook ----------------------------------------------------------------------------------


def _row_values(ws, row: int) -> list[object]:
    return [c.value for c in ws[row]]


def test_workbook_sheets_and_headers(workbook):
    assert workbook.sheetnames == ["Patients", "Samples", "Treatment"]
    assert _row_values(workbook["Patients"], 1) == ["Study ID", "Sex", "Date of birth", "Date of diagnosis", "Diagnosis"]
    samples = workbook["Samples"]
    assert samples["A1"].value == "Urinary catecholamine metabolites — study NB-SYN"
    assert samples["A2"].value == "Synthetic data — not real patients"
    assert {str(r) for r in samples.merged_cells.ranges} == {"A1:F1", "A2:F2"}
    assert all(c.value is None for c in samples[3])
    assert _row_values(samples, 4) == [
        "Study ID",
        "Sample date",
        "VMA (mg/g creat)",
        "HVA (mg/g creat)",
        "Creatinine (mmol/L)",
        "Comment",
    ]
    assert _row_values(workbook["Treatment"], 1) == ["Study ID", "Event", "Date", "Notes"]


def test_dates_are_date_cells_and_0042_stays_text(workbook, patients):
    assert "0042" in patients
    for ws, columns in ((workbook["Patients"], (2, 3)), (workbook["Samples"], (1,)), (workbook["Treatment"], (2,))):
        first = 5 if ws.title == "Samples" else 2
        for row in ws.iter_rows(min_row=first):
            assert row[0].value is None or isinstance(row[0].value, str)
            for column in columns:
                assert row[column].is_date, f"{ws.title}!{row[column].coordinate} is not a date cell"
    samples_ids = {c.value for c in workbook["Samples"]["A"][4:]}
    assert "0042" in samples_ids and 42 not in samples_ids


def test_treatment_events_use_the_documented_labels(events):
    labels = {label for by_label in events.values() for label in by_label}
    assert labels == {
        "Diagnosis",
        "Start of induction chemotherapy",
        "Surgery (resection)",
        "End of induction",
        "HDC/ASCT",
        "Radiotherapy",
        "Start maintenance (anti-GD2)",
        "End of therapy",
        "Complete remission",
        "Relapse",
        "Last follow-up",
    }


def test_diagnosis_event_matches_patients_sheet(patients, events):
    for pid, info in patients.items():
        assert events[pid]["Diagnosis"] == info["diagnosis"]


# -- the lab export ----------------------------------------------------------------------------------


def test_lab_export_encoding_delimiter_and_layout():
    raw = (SAMPLE_DIR / "lab_export_eu.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\xb5mol/mmol creat" in raw  # µ is byte 0xB5 in cp1252
    assert b"\x97" in raw  # the em dash of the title line, cp1252 0x97
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF only
    lines = raw.decode("cp1252").split("\r\n")
    assert lines[0] == "Labor XY — Befundexport"
    assert lines[1] == "Export 03.02.2025"
    assert lines[2] == "Patient ID;Birth date;Collection date;Test;LOINC;Result;Unit;Flag;Reference range"
    assert lines[-3:] == ["", "End of report", ""]  # blank line, footer, final CRLF
    data = [line.split(";") for line in lines[3:-3]]
    assert data and all(len(fields) == 9 for fields in data)
    assert {f[4] for f in data if f[3] == "Vanillylmandelic acid"} == {"14948-4"}
    assert {f[4] for f in data if f[3] == "Homovanillic acid"} == {"22708-2"}
    results = [f[5] for f in data]
    assert "<0,5" in results
    assert any(r.endswith(" H") and "," in r for r in results)
    assert all("." not in r for r in results)  # decimal comma only


def test_lab_export_reference_ranges_follow_age_at_collection(lab_lines, patients):
    analyte_of = {"Vanillylmandelic acid": "VMA", "Homovanillic acid": "HVA"}
    for line in lab_lines[3:-3]:
        pid, dob, date, test, _loinc, result, _unit, flag, reference = line.split(";")
        born = dt.datetime.strptime(dob, "%d.%m.%Y").date()
        assert born == patients[pid]["dob"]
        band = _age_band(born, dt.datetime.strptime(date, "%d.%m.%Y").date())
        assert reference == CSV_LIMIT_TEXT[analyte_of[test]][band]
        assert (flag == "H") == result.endswith(" H")


def test_lab_export_value_is_the_molar_conversion_of_a_known_value():
    # NB-009's first export sample: VMA 19,2 µmol/mmol = 19.2 x 198.174/113.12 = 33.64 mg/g,
    # 3.74 x the 6-17 y ULN of 9 (designed 4 x ULN with at most 7 % jitter: 3.72-4.28).
    text = (SAMPLE_DIR / "lab_export_eu.csv").read_bytes().decode("cp1252")
    line = next(x for x in text.split("\r\n") if x.startswith("NB-009;27.03.2014;25.08.2023;Vanillyl"))
    value = float(line.split(";")[5].removesuffix(" H").replace(",", "."))
    assert 3.72 * 9 <= value * 198.174 / 113.12 <= 4.28 * 9


# -- cross-file consistency -----------------------------------------------------------------------


def test_every_patient_in_samples_and_export_is_in_patients(workbook, lab_lines, patients):
    ids = {c.value for c in workbook["Samples"]["A"][4:]} - {None}
    ids |= {line.split(";")[0] for line in lab_lines[3:-3]}
    ids |= {c.value for c in workbook["Treatment"]["A"][1:]}
    assert ids <= set(patients)


def test_no_patient_date_analyte_in_both_files(workbook, lab_lines):
    in_workbook = set()
    for pid, date, vma, hva, *_ in workbook["Samples"].iter_rows(min_row=5, values_only=True):
        for analyte, cell in (("VMA", vma), ("HVA", hva)):
            if cell is not None:
                in_workbook.add((pid, date.date(), analyte))
    analyte_of = {"Vanillylmandelic acid": "VMA", "Homovanillic acid": "HVA"}
    in_export = {
        (f[0], dt.datetime.strptime(f[2], "%d.%m.%Y").date(), analyte_of[f[3]])
        for f in (line.split(";") for line in lab_lines[3:-3])
    }
    assert len(in_export) == len(lab_lines[3:-3])
    assert len({pid for pid, _, _ in in_export}) == 5  # follow-ups of 5 workbook patients
    assert not in_workbook & in_export


# -- the expectations -------------------------------------------------------------------------------


def test_expected_outcomes_cover_the_cohort(patients):
    rows = _read_csv_text("expected_outcomes.csv")
    assert list(rows[0]) == ["patient_id", "analyte", "informative", "normalized", "persistent", "reelevation", "notes"]
    assert len({r["patient_id"] for r in rows}) >= 12
    assert {(r["patient_id"], r["analyte"]) for r in rows} == {(p, a) for p in patients for a in ("VMA", "HVA")}
    for r in rows:
        flags = [r[k] for k in ("informative", "normalized", "persistent", "reelevation")]
        # informativeness may be unknown (empty) since issue 13: a normal late baseline
        assert r["informative"] in {"true", "false", ""} and r["notes"]
        # normalized, persistent and re-elevation do not apply to a not (known to be) informative analyte;
        # persistence may be unknown for an informative one (no complete remission, or a limit step)
        expected = {"true", "false", ""} if r["informative"] == "true" else {""}
        assert set(flags[1:]) <= expected


def test_the_designed_stories_are_present():
    rows = {(r["patient_id"], r["analyte"]): r for r in _read_csv_text("expected_outcomes.csv")}
    assert rows[("NB-006", "VMA")]["informative"] == rows[("NB-006", "HVA")]["informative"] == "false"
    assert rows[("NB-011", "VMA")]["informative"] == "false"
    assert rows[("NB-011", "HVA")]["informative"] == "true"
    assert rows[("NB-005", "VMA")]["persistent"] == "true"
    assert rows[("NB-009", "VMA")]["reelevation"] == rows[("NB-009", "HVA")]["reelevation"] == "true"
    assert rows[("NB-010", "VMA")]["reelevation"] == "false"
    assert sum(r["reelevation"] == "true" for r in rows.values()) == 2
    assert sum(r["persistent"] == "true" for r in rows.values()) == 1


def _status(value: float, censor: str, limit: float) -> bool:
    """True when elevated (a censored '<x' result with x below the ULN is normal)."""
    return False if censor == "<" and value <= limit else value > limit


def _baseline(dates, events) -> tuple[int | None, bool]:
    """Last sample from diagnosis - 30 d to the first treatment of any kind; else a late one (14 d)."""
    first = min(events[label] for label in TREATMENTS if label in events)
    window = [i for i, d in enumerate(dates) if events["Diagnosis"] - dt.timedelta(days=30) <= d <= first]
    if window:
        return window[-1], False
    late = [i for i, d in enumerate(dates) if first < d <= first + dt.timedelta(days=14)]
    return (late[0], True) if late else (None, False)


def _cr_status(dates, elevated, limit_step, events, baseline):
    """True / False / None: elevated at complete remission (nearest sample within 30 d, after the
    baseline, on the far side of surgery); None when not judged or elevated by a limit step alone."""
    if "Complete remission" not in events:
        return None
    when, surgery = events["Complete remission"], events.get(SURGERY)
    near = [(abs((d - when).days), -i, i) for i, d in enumerate(dates) if abs((d - when).days) <= 30
            and (surgery is None or (d > surgery) == (when > surgery))]
    if not near:
        return None
    i = min(near)[2]
    if i <= baseline or limit_step[i]:
        return None
    return elevated[i]


def _outcome(series, analyte, dob, events) -> tuple[object, object, object, object]:
    """The documented rules (docs/clinical-rules.md), written out plainly; None = unknown / not applicable.

    Updated for issue 13: baseline closes at the first treatment of any kind; a normal late baseline is
    unknown; normalized needs two consecutive normals; persistence is judged at complete remission;
    re-elevation needs two consecutive elevated samples; limit-step elevations count for neither.
    """
    dates = [d for d, *_ in series]
    limits = [ULN[analyte][_age_band(dob, d)] for d in dates]
    values = [v for _, v, _, _ in series]
    elevated = [_status(v, c, lim) for (_, v, c, _), lim in zip(series, limits, strict=True)]
    limit_step, last_normal = [], None
    for i, up in enumerate(elevated):
        limit_step.append(up and last_normal is not None and limits[last_normal] > limits[i]
                          and values[i] <= limits[last_normal])
        last_normal = i if not up else last_normal
    baseline, late = _baseline(dates, events)
    if baseline is None:
        return None, None, None, None
    if not elevated[baseline]:
        return (None if late else False), None, None, None
    rising = [up and not step for up, step in zip(elevated, limit_step, strict=True)]
    normal_at = next((i for i in range(baseline + 1, len(dates) - 1)
                      if not elevated[i] and not elevated[i + 1]), None)
    reelevation = normal_at is not None and any(
        rising[i] and rising[i + 1] for i in range(normal_at + 2, len(dates) - 1))
    return True, normal_at is not None, _cr_status(dates, elevated, limit_step, events, baseline), reelevation


def test_expected_outcomes_follow_from_the_files_by_the_documented_rules(measurements, patients, events):
    expected = {
        (r["patient_id"], r["analyte"]): tuple({"true": True, "false": False, "": None}[r[k]]
                                               for k in ("informative", "normalized", "persistent", "reelevation"))
        for r in _read_csv_text("expected_outcomes.csv")
    }
    for (pid, analyte), want in expected.items():
        got = _outcome(measurements[(pid, analyte)], analyte, patients[pid]["dob"], events[pid])
        assert got == want, f"{pid} {analyte}: files give {got}, expected_outcomes says {want}"


def test_outcomes_do_not_depend_on_reading_the_lab_export(measurements, patients, events):
    # Every story is already complete in the workbook; the export adds later samples only.
    for (pid, analyte), series in measurements.items():
        workbook_only = [s for s in series if s[3] == "wb"]
        assert _outcome(workbook_only, analyte, patients[pid]["dob"], events[pid]) == _outcome(
            series, analyte, patients[pid]["dob"], events[pid]
        )


def test_values_keep_the_design_margins(measurements, patients):
    # normal <= 0.7 x ULN, elevated >= 1.5 x ULN; the mild rise of NB-010 is 1.5-2 x ULN.
    for (pid, analyte), series in measurements.items():
        dob = patients[pid]["dob"]
        for date, value, _censor, _source in series:
            x = value / ULN[analyte][_age_band(dob, date)]
            assert x <= 0.7 or x >= 1.5, f"{pid} {date} {analyte}: {x:.2f} x ULN"
    # NB-010's one mild rise (day 520 = 2022-10-23), 3-5 y VMA ULN 13: between 1.5 and 2 x ULN.
    mild = [v / 13.0 for d, v, *_ in measurements[("NB-010", "VMA")] if d == dt.date(2022, 10, 23)]
    assert len(mild) == 1 and 1.5 <= mild[0] < 2


def test_samples_per_patient_and_birthday_crossing(measurements, patients):
    for (pid, analyte), series in measurements.items():
        assert 6 <= len(series) <= 14, (pid, analyte, len(series))
    dob = patients["NB-008"]["dob"]
    bands = {_age_band(dob, d) for d, *_ in measurements[("NB-008", "VMA")]}
    assert bands == {0, 1}
    # the infant: 4 months (124 days) at diagnosis
    assert (patients["NB-007"]["diagnosis"] - patients["NB-007"]["dob"]).days == 124
    assert {_age_band(patients["NB-013"]["dob"], d) for d, *_ in measurements[("NB-013", "HVA")]} == {2}


def test_nb008_normals_before_the_birthday_exceed_the_older_band(measurements, patients):
    # Before the 3rd birthday (2023-09-18) the normal samples are about 0.6 x the 0-2 y limits,
    # i.e. above the 3-5 y limits (VMA 13, HVA 22): a ULN for the wrong age would call them elevated.
    birthday = dt.date(2023, 9, 18)
    assert _age_band(patients["NB-008"]["dob"], birthday) == 1
    assert _age_band(patients["NB-008"]["dob"], birthday - dt.timedelta(days=1)) == 0
    for analyte, limit_0_2, limit_3_5 in (("VMA", 27.0, 13.0), ("HVA", 42.0, 22.0)):
        series = measurements[("NB-008", analyte)]
        before = [v for d, v, *_ in series if dt.date(2023, 5, 1) <= d < birthday]  # days 77-190
        after = [v for d, v, *_ in series if d >= birthday]
        assert len(before) == 4 and len(after) == 4
        assert all(limit_3_5 < v <= 0.7 * limit_0_2 for v in before)
        assert all(v <= 0.7 * limit_3_5 for v in after)


def test_expected_issues_point_at_the_messy_cells(workbook, patients):
    rows = _read_csv_text("expected_issues.csv")
    ws = workbook["Samples"]
    codes = sorted(r["code"] for r in rows)
    assert codes == sorted(
        [
            "non-numeric-result",
            "dilute-urine",
            "dilute-urine",
            "duplicate-result",
            "duplicate-result",
            "sample-before-birth",
            "missing-patient-id",
        ]
    )
    for r in rows:
        assert r["sheet"] == "Samples"
        cell = ws[r["cell"]]
        row = [c.value for c in ws[cell.row]]
        if r["code"] == "non-numeric-result":
            assert cell.value == "QNS"
        elif r["code"] == "dilute-urine":
            assert cell.column_letter in "CD" and row[4] == 0.9  # creatinine 0.9 mmol/L in column E
        elif r["code"] == "duplicate-result":
            assert row == [c.value for c in ws[cell.row - 1]]
        elif r["code"] == "sample-before-birth":
            assert cell.value.date() < patients[row[0]]["dob"]
        elif r["code"] == "missing-patient-id":
            assert cell.value is None and cell.column_letter == "A" and row[1] is not None
    # messy cells without an issue code: censored, flagged and decimal-comma text results
    texts = {c.value for col in ("C", "D") for c in ws[col][4:] if isinstance(c.value, str)}
    assert texts == {"QNS", "<0.5", "45.2 H", "12,5"}


def test_expected_counts_match_the_files(workbook, lab_lines):
    counts = {(r["file"], r["sheet"]): r for r in _read_csv_text("expected_counts.csv")}
    for (file, sheet), r in counts.items():
        read, kept, rejected, skipped = (int(r[k]) for k in ("read", "kept", "rejected", "skipped"))
        assert read == kept + rejected + skipped
        if file == "study_workbook.xlsx":
            assert read == workbook[sheet].max_row
        else:
            assert read == len(lab_lines) - 1  # the final CRLF ends the last line
    # Samples: skipped = rows 1-4 (2 titles, blank, header) + the duplicate row 45;
    # rejected = missing ID (row 152) + dated before birth (row 133).
    samples = counts[("study_workbook.xlsx", "Samples")]
    assert (int(samples["skipped"]), int(samples["rejected"])) == (5, 2)
    # Export: 2 titles + header + blank + footer skipped.
    assert int(counts[("lab_export_eu.csv", "")]["skipped"]) == 5


def test_readme_documents_the_data():
    readme = (SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme.lower() and "not real patients" in readme
    for r in _read_csv_text("expected_issues.csv"):
        assert f"Samples!{r['cell']}" in readme
    for r in _read_csv_text("expected_outcomes.csv"):
        assert r["patient_id"] in readme


def test_courses_workbook_outcomes_follow_by_the_documented_rules():
    """The six course patients (sample_data/README.md, "The courses workbook"), by the same plain rules."""
    wb = openpyxl.load_workbook(SAMPLE_DIR / "courses_workbook.xlsx")
    dob = {pid: born.date() for pid, _, born, _, _ in wb["Patients"].iter_rows(min_row=2, values_only=True)}
    events: dict[str, dict[str, dt.date]] = {}
    for pid, label, date, _ in wb["Treatment"].iter_rows(min_row=2, values_only=True):
        events.setdefault(pid, {})[label] = date.date()
    series: dict[tuple[str, str], list] = {}
    for pid, date, vma, hva, _creat, _comment in wb["Samples"].iter_rows(min_row=5, values_only=True):
        for analyte, cell in (("VMA", vma), ("HVA", hva)):
            series.setdefault((pid, analyte), []).append((date.date(), float(cell), "", "wb"))
    wb.close()
    expected = {(r["patient_id"], r["analyte"]): tuple({"true": True, "false": False, "": None}[r[k]]
                for k in ("informative", "normalized", "persistent", "reelevation"))
                for r in _read_csv_text("expected_courses.csv")}
    assert {pid for pid, _ in expected} == {"NB-014", "NB-015", "NB-016", "NB-017", "NB-018", "NB-019"}
    for (pid, analyte), want in expected.items():
        got = _outcome(sorted(series[(pid, analyte)]), analyte, dob[pid], events[pid])
        assert got == want, f"{pid} {analyte}: files give {got}, expected_courses says {want}"
    # NB-019's flat VMA across the 3rd birthday (2023-06-01): within 0.7 x 27 before and after, above 13 after
    after = [v for d, v, *_ in series[("NB-019", "VMA")] if d >= dt.date(2023, 6, 1)]
    assert len(after) == 5 and all(13.0 < v <= 0.7 * 27.0 for v in after)
