"""Reports a clinician reads at a glance: the input shapes and page texts of issue 14."""

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from plot_fixtures import tables_of
from pypdf import PdfReader
from workbooks import write_workbook

from markers.cli import cli
from markers.pipeline import analyse
from markers.plot.patient import patient_figure
from markers.report.appendix import appendix_pages
from markers.report.document import build_report

D = dt.datetime


def _no_therapy_workbook(path):
    """Measurements and patients sheets, no therapy sheet; P2 is informative and never normalizes.

    VMA ULN for ages 2-4 y is well below 40 mg/g creatinine (domain facts §4), so 90 → 60 → 40 stays
    elevated; P1 falls from 80 to 9 and 8 (two normal samples in a row).
    """
    return write_workbook(path, {
        "Patients": [["Study ID", "Sex", "Date of birth", "Date of diagnosis"],
                     ["P1", "F", D(2020, 1, 1), D(2022, 1, 1)], ["P2", "M", D(2019, 6, 1), D(2022, 2, 1)]],
        "Samples": [["Study ID", "Sample date", "VMA (mg/g creat)", "HVA (mg/g creat)"],
                    ["P1", D(2022, 1, 1), 80.0, 60.0], ["P1", D(2022, 3, 1), 9.0, 10.0],
                    ["P1", D(2022, 4, 1), 8.0, 9.0],
                    ["P2", D(2022, 2, 1), 90.0, 70.0], ["P2", D(2022, 4, 1), 60.0, 50.0],
                    ["P2", D(2022, 6, 1), 40.0, 45.0]],
    })


def test_report_without_therapy_sheet_and_a_never_normalized_patient(tmp_path):
    book = _no_therapy_workbook(tmp_path / "no_therapy.xlsx")
    out = tmp_path / "r.pdf"
    result = CliRunner().invoke(cli, ["report", str(book), "-o", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    texts = [p.extract_text() for p in PdfReader(out).pages]
    assert any("Patient P2" in t for t in texts)
    assert any("time to normalization" in t for t in texts)


# -- the sample cohort: one vocabulary of time, tables that keep the story ----------------------

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [SAMPLE / "study_workbook.xlsx", SAMPLE / "lab_export_eu.csv"]


@pytest.fixture(scope="module")
def sample():
    return analyse(FILES)


@pytest.fixture(scope="module")
def nb009(sample):
    ds = sample.dataset
    return patient_figure(sample.measurements, patient="NB-009", therapy=ds.therapy, patients=ds.patients,
                          assessment=sample.assessment)


def _table_rows(fig):
    (table,) = tables_of(fig)
    return _table_rows_of(table)


def test_heading_counts_the_days_the_axes_and_table_count(nb009):
    texts = {t.get_gid(): t.get_text() for t in nb009.texts if t.get_gid()}
    # diagnosed 2021-09-20; VMA normal from 2021-12-10 = 10 + 31 + 30 + 10 = day 81; re-elevated
    # 2023-05-27 = 730 − 116 (2023-05-27 .. 2023-09-20) = day 614 (day 77 and 610 of therapy).
    assert "day 0 = diagnosis 2021-09-20" in texts["subtitle"]
    assert texts["summary:0"] == "VMA: informative; normalized on day 81; re-elevated on day 614"
    assert [ax.get_xlabel() for ax in nb009.axes] == ["days since diagnosis"] * 2
    rows = {row[1]: row for row in _table_rows(nb009)[1:]}
    assert rows["81"][0] == "2021-12-10" and rows["81"][-1] == "VMA first normal"
    assert rows["614"][0] == "2023-05-27" and rows["614"][-1] == "re-elevation"


def test_shortened_sample_table_keeps_the_response(nb009):
    rows = _table_rows(nb009)
    assert rows[0] == ["date", "day", "VMA", "HVA", "note"]
    days = [row[1] for row in rows[1:]]
    # 14 samples; kept: baseline (day 1), HVA and VMA first normal (53, 81), the nadirs (269, 524),
    # the re-elevation (614) and the latest (764); "…" marks what is left out.
    for day in ("1", "53", "81", "269", "524", "614", "764"):
        assert day in days
    assert "…" in days
    captions = [t.get_text() for t in nb009.texts if t.get_text().startswith("Samples")]
    assert captions and "days since diagnosis" in captions[0] and "of 14" in captions[0]


def test_cover_counts_what_the_appendix_lists(sample):
    ds = sample.dataset
    cover = next(iter(build_report(ds, data=sample.measurements, assessment=sample.assessment)))
    facts = [t.get_text() for t in cover.texts]
    appendix = list(appendix_pages(ds, page_size="A4"))
    listed = [row for page in appendix for row in _table_rows_of(tables_of(page)[-1])[1:]]
    errors = [row for row in listed if row[0] == "error"]
    # the sample workbook: QNS in C12 (a cell), B133 before birth and A152 without an ID (rows)
    assert len(errors) == 3 and "3 (cells and rows; each in the appendix)" in facts
    assert "2 (rows left out whole)" in facts
    # nothing cut: the whole message and the hint of B133
    (b133,) = [row for row in listed if row[2].endswith("B133")]
    assert " ".join(b133[4].split()) == "Sample dated before the patient's date of birth"
    assert b133[5] and "…" not in "".join(b133)


def _table_rows_of(table):
    return [[table.text(r, c) for c in range(table.shape[1])] for r in range(table.shape[0])]
