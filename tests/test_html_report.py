"""The HTML report of the sample data, read back with the standard library's HTML parser.

Expected values come from ``sample_data/README.md`` (the designed patients, their samples and
the messy cells), worked out by hand: e.g. NB-009's therapy starts 4 days after its diagnosis
(``make_sample_data.py``), so "normal from day 77 / 49 of therapy" and the re-elevation on
therapy day 610 are days 81, 53 and 614 since diagnosis, the days the report counts.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.report.html_tables import anchor_ids, esc

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]
PATIENTS_IN_ORDER = ["0042", "NB-001", "NB-002", "NB-003", "NB-004", "NB-005", "NB-006", "NB-007", "NB-008",
                     "NB-009", "NB-010", "NB-011", "NB-012", "NB-013"]
# README "The patients": samples = workbook + export (NB-013: one of the workbook's rejected)
SAMPLES = {"NB-001": 11, "NB-002": 13, "NB-003": 11, "NB-004": 11, "NB-005": 11, "NB-006": 6, "NB-007": 10,
           "NB-008": 11, "NB-009": 14, "NB-010": 13, "NB-011": 11, "NB-012": 9, "NB-013": 12, "0042": 12}
STATUS = dict.fromkeys(PATIENTS_IN_ORDER, "normalized") | {
    "NB-005": "persistent", "NB-006": "not informative", "NB-009": "re-elevated"}


class Page(html.parser.HTMLParser):
    """Elements (tag, attributes, text inside) and the text of every table cell, by table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[dict]] = {}  # table id or class -> rows {attrs, cells}
        self.scripts: list[str] = []
        self._stack: list[str] = []
        self._table: list[str] = []
        self._row: dict | None = None
        self._cell: list[str] | None = None
        self._script: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "table":
            name = attributes.get("id") or attributes.get("class") or f"table{len(self.tables)}"
            while name in self.tables:
                name += "+"
            self.tables[name] = []
            self._table.append(name)
        elif tag == "tr" and self._table:
            self._row = {"attrs": attributes, "cells": []}
            self.tables[self._table[-1]].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "script":
            self._script = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._table:
            self._table.pop()
            self._row = None
        elif tag == "script" and self._script is not None:
            self.scripts.append("".join(self._script))
            self._script = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self._script.append(data)
        self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = CliRunner().invoke(cli, ["report", *FILES, "-o", str(out), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(rf"Wrote {re.escape(str(out))}: \d+\.\d MB, 14 patients, 2 rejected rows\n", result.output)
    return out


@pytest.fixture(scope="module")
def page(report) -> Page:
    return parse(report)


def body_rows(page: Page, name: str) -> list[dict]:
    return [row for row in page.tables[name] if row["cells"] and row["attrs"].get("data-patient", "x")][1:] \
        if name != "cohort-table" else [row for row in page.tables[name] if "data-patient" in row["attrs"]]


@pytest.mark.slow
def test_cohort_table_has_one_row_per_patient_in_natural_order(page):
    rows = body_rows(page, "cohort-table")
    assert [r["attrs"]["data-patient"] for r in rows] == PATIENTS_IN_ORDER
    assert {r["attrs"]["data-patient"]: r["attrs"]["data-status"] for r in rows} == STATUS
    assert {r["attrs"]["data-patient"]: int(r["cells"][4]) for r in rows} == SAMPLES
    # every patient has VMA and HVA and nothing else in the sample data
    assert {r["attrs"]["data-markers"] for r in rows} == {"VMA HVA"}
    header = page.tables["cohort-table"][0]["cells"]
    assert header == ["Patient", "Status", "Markers measured", "Informative", "Samples", "First sample (day)",
                      "Latest sample (day)", "Highest baseline ×ULN", "Normal from (day)", "Re-elevated (day)",
                      "End of induction", "Complete remission", "Persistent", "Re-elevation", "Unconfirmed rise (day)"]


def test_key_days_count_from_diagnosis(page):
    row = {r["attrs"]["data-patient"]: r["cells"] for r in body_rows(page, "cohort-table")}
    # NB-009: therapy day 77 (VMA) / 49 (HVA) / 610 (re-elevation) + 4 days from diagnosis to therapy start
    assert row["NB-009"][3] == "VMA HVA"
    assert row["NB-009"][8] == "VMA 81, HVA 53"
    assert row["NB-009"][9] == "614"
    assert row["NB-006"][3] == "none"  # not informative: neither marker elevated at diagnosis
    assert row["NB-006"][8] == "—"
    assert row["NB-011"][3] == "HVA"  # the HVA-only secretor
    assert row["NB-010"][9] == "—"  # one mild rise is not a re-elevation


def test_every_patient_row_links_to_its_section(page):
    ids = {attrs["id"] for _tag, attrs in page.elements if attrs.get("id")}
    links = [a["href"] for tag, a in page.elements if tag == "a" and a.get("href", "").startswith("#patient-")]
    assert links == [f"#patient-{pid}" for pid in PATIENTS_IN_ORDER]
    assert all(link[1:] in ids for link in links)
    sections = [a["id"] for tag, a in page.elements if tag == "section" and "patient" in (a.get("class") or "")]
    assert sections == [f"patient-{pid}" for pid in PATIENTS_IN_ORDER]


def test_sections_and_navigation(page):
    sections = [a.get("id") for tag, a in page.elements if tag == "section" and a.get("id")
                and not a["id"].startswith("patient-")]
    assert sections == ["cover", "cohort", "figures", "patients", "issues"]
    nav = [a["href"] for tag, a in page.elements if tag == "a" and a.get("href", "").startswith("#")][:5]
    assert nav == ["#cover", "#cohort", "#figures", "#patients", "#issues"]


def test_every_sample_is_in_the_patients_samples_table(page):
    samples = [rows for name, rows in page.tables.items() if name.startswith("samples")]
    assert len(samples) == 14
    by_patient = dict(zip(PATIENTS_IN_ORDER, samples, strict=True))
    for pid, rows in by_patient.items():
        assert len(rows) - 1 == SAMPLES[pid], pid  # header row + one per sample, none left out
    header = by_patient["NB-009"][0]["cells"]
    assert header == ["Date", "Day", "Phase", "VMA (×ULN)", "HVA (×ULN)"]


def test_cover_names_inputs_with_their_sha256(page):
    import hashlib

    facts = {row["cells"][0]: row["cells"][1] for row in page.tables["facts"]}
    assert facts["Patients"] == "14"
    assert facts["Rejected rows"] == "2"  # README: missing ID (A152) and dated before birth (B133)
    assert facts["Errors (rejected rows or results)"] == "3"  # + the QNS result (C12)
    assert facts["Warnings"] == "4"
    assert facts["Reference set"] == "ARUP-3018863+extended-UIowa-ARUP"  # the default set
    inputs = next(rows for name, rows in page.tables.items() if rows and rows[0]["cells"][:2] == ["File", "SHA-256"])
    got = {r["cells"][0]: r["cells"][1:] for r in inputs[1:]}
    for path in FILES:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        assert got[Path(path).name][0] == digest
    # rows read, kept, rejected, skipped (sample_data/expected_counts.csv summed over sheets)
    assert got["study_workbook.xlsx"][1:] == ["305", "296", "2", "7"]
    assert got["lab_export_eu.csv"][1:] == ["25", "20", "0", "5"]


def test_issues_appendix_has_cell_code_message_and_hint(page):
    rows = page.tables["issues"]
    assert rows[0]["cells"] == ["Severity", "Code", "File", "Cell", "Value", "Message", "Hint"]
    found = {(r["cells"][1], r["cells"][3]) for r in rows[1:]}
    expected = {("non-numeric-result", "Samples!C12"), ("dilute-urine", "Samples!C22"),
                ("dilute-urine", "Samples!D22"), ("duplicate-result", "Samples!C45"),
                ("duplicate-result", "Samples!D45"), ("sample-before-birth", "Samples!B133"),
                ("missing-patient-id", "Samples!A152")}  # sample_data/expected_issues.csv
    assert found == expected
    assert [r["cells"][0] for r in rows[1:]] == ["error"] * 3 + ["warning"] * 4
    hints = {r["cells"][1]: r["cells"][6] for r in rows[1:]}
    assert hints["missing-patient-id"] == "Fill in the patient ID or delete the row."
    assert all(r["cells"][2] == "study_workbook.xlsx" and r["cells"][5] for r in rows[1:])


def test_self_contained_no_external_resource(report, page):
    for tag, attrs in page.elements:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name)
            if value is not None and tag != "tr":
                assert value.startswith(("#", "data:image/png;base64,")), (tag, name, value[:60])
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
        if tag == "script":
            assert "src" not in attrs
    assert len(page.scripts) == 1
    policy = next(a["content"] for t, a in page.elements if t == "meta" and a.get("http-equiv") ==
                  "Content-Security-Policy")
    assert policy.startswith("default-src 'none'; img-src data:;")
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", text, flags=re.I)
    assert "@import" not in text and "url(" not in text
    images = [a for t, a in page.elements if t == "img"]
    assert len(images) >= 14 + 3  # a figure per patient and the cohort pages
    assert all(a.get("alt") for a in images)


def test_written_atomically_and_never_over_an_input(tmp_path):
    import shutil

    data = tmp_path / "lab.csv"
    shutil.copy(FILES[1], data)
    result = CliRunner().invoke(cli, ["report", str(data), "-o", str(tmp_path / "missing" / "r.html"), "--quiet"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert list(tmp_path.iterdir()) == [data]
    fake_input = tmp_path / "lab.html"
    shutil.copy(FILES[1], fake_input)
    result = CliRunner().invoke(cli, ["report", str(fake_input), "-o", str(fake_input), "--quiet"])
    assert result.exit_code == 1
    assert fake_input.read_bytes() == Path(FILES[1]).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.csv", "lab.html"]


HOSTILE = '<img src=x onerror=alert(1)>&"NB\'1'


@pytest.mark.slow
def test_user_text_is_escaped(tmp_path):
    """A patient ID and a file name full of markup come out as text, never as elements."""
    source = tmp_path / 'lab<b>&"x".csv'
    rows = ["Patient ID;Sample date;Analyte;Result;Unit",
            f"{HOSTILE};2024-01-10;VMA;30;mg/g creat",
            f"{HOSTILE};2024-02-10;VMA;5;mg/g creat",
            f"{HOSTILE};2024-03-10;VMA;nonsense<script>;mg/g creat"]
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", str(source), "-o", str(out), "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = parse(out)
    assert [t for t, _a in page.elements if t in ("script", "img")].count("script") == 1
    assert not any(t == "img" and a.get("src") == "x" for t, a in page.elements)
    assert not any("onerror" in a for _t, a in page.elements)
    row = next(r for r in page.tables["cohort-table"] if "data-patient" in r["attrs"])
    assert row["attrs"]["data-patient"] == HOSTILE
    assert row["cells"][0] == HOSTILE
    anchor = anchor_ids([HOSTILE])[HOSTILE]
    assert re.fullmatch(r"patient-[A-Za-z0-9_-]+", anchor)
    assert row["attrs"]["data-anchor"] == anchor
    text = "".join(page.text)
    assert 'lab<b>&"x".csv' in text  # the file name, as text
    assert "nonsense<script>" in text  # the rejected value in the appendix, as text


def test_escape_helper_and_anchor_collisions():
    assert esc("<a href='x'>&") == "&lt;a href=&#x27;x&#x27;&gt;&amp;"
    assert esc(None) == "—"
    assert anchor_ids(["A B", "A/B", "A_B"]) == {"A B": "patient-A_B", "A/B": "patient-A_B-2",
                                                 "A_B": "patient-A_B-3"}
