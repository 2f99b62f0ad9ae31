"""The PDF report and PNG figures: page count, text, reproducible bytes, atomicity, golden pages."""

from __future__ import annotations

import gc
import inspect
import itertools
import os
import shutil
import subprocess
import weakref
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images
from plot_fixtures import make_assessment, make_data, make_dataset, make_patients, make_therapy, tables_of
from pypdf import PdfReader

import markers.report.figure_files as figure_files
from markers import __version__
from markers.errors import OutputError
from markers.plot.cohort import cohort_figures
from markers.plot.days import with_timeline_days
from markers.plot.patient import patient_figure
from markers.plot.style import GRADE_COLORS
from markers.report.appendix import appendix_pages
from markers.report.document import (
    PAGE_SIZES,
    build_report,
    figure_jobs,
    pdf_metadata,
    save_figure,
    write_pngs,
    write_report_pdf,
)
from markers.report.pages import rows_per_page, summary_pages

BASELINE = Path(__file__).parent / "baseline"
# Pages of the tiny cohort: cover 1 + summary table 1 (8 rows) + patient-level status 1 + cohort 3
# (spaghetti, time to normalization, swimmer) + 4 patients + appendix 1 (2 issues) = 11.
TINY_PAGES = 11


@pytest.fixture(autouse=True)
def no_epoch(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def report(**kwargs):
    return build_report(make_dataset(), data=make_data(), assessment=make_assessment(),
                        reference_set="ARUP (2014)", created=datetime(2026, 1, 15, tzinfo=UTC), **kwargs)


@pytest.fixture(scope="module")
def tiny_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    pages = write_report_pdf(report(), path, metadata=pdf_metadata())
    return path, pages


@pytest.mark.slow
def test_page_count(tiny_pdf):
    path, pages = tiny_pdf
    assert pages == TINY_PAGES
    assert len(PdfReader(path).pages) == TINY_PAGES


def test_text_names_every_patient_and_the_cover_facts(tiny_pdf):
    path, _ = tiny_pdf
    text = [page.extract_text() for page in PdfReader(path).pages]
    cover = text[0]
    assert "markers report" in cover
    assert "2026-01-15" in cover
    assert f"markers {__version__}" in cover
    assert "ab" * 32 in cover  # the input's SHA-256
    assert "ARUP (2014)" in cover
    assert "mg/g creatinine" in cover
    for pid, page in zip(["P1", "P2", "P3", "P4"], text[6:10], strict=True):
        assert f"Patient {pid}" in page
    assert "Cohort summary" in text[1]
    assert "Patient-level status" in text[2]
    assert "Samples!D14" in text[-1] and "non-numeric-result" in text[-1]


def test_pdf_metadata_is_fixed(tiny_pdf):
    path, _ = tiny_pdf
    meta = PdfReader(path).metadata
    assert meta["/Creator"] == f"markers {__version__}"
    assert meta["/Producer"] == f"markers {__version__}"
    assert "/CreationDate" not in meta


def test_source_date_epoch_sets_the_dates(monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    write_report_pdf([Figure()], tmp_path / "one.pdf", metadata=pdf_metadata())
    meta = PdfReader(tmp_path / "one.pdf").metadata
    assert meta.creation_date == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@pytest.mark.slow
def test_two_writes_give_identical_bytes(tiny_pdf, tmp_path):
    path, _ = tiny_pdf
    write_report_pdf(report(), tmp_path / "again.pdf", metadata=pdf_metadata())
    assert (tmp_path / "again.pdf").read_bytes() == path.read_bytes()


def test_pages_render_with_pdftoppm(tiny_pdf, tmp_path):
    path, _ = tiny_pdf
    subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "2",
                    str(path), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page-*.png"))
    assert len(pngs) == 2
    # A4 at 50 dpi: 8.27 in × 50 = 413.5 -> 414 px wide, 11.69 × 50 = 584.5 -> 585 px high
    header = pngs[0].read_bytes()[16:24]
    assert (int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")) == (414, 585)


@pytest.mark.slow
def test_letter_pages(tmp_path):
    pages = itertools.islice(report(page_size="Letter"), 2)  # cover and summary table
    write_report_pdf(pages, tmp_path / "letter.pdf", metadata=pdf_metadata())
    box = PdfReader(tmp_path / "letter.pdf").pages[0].mediabox
    assert (float(box.width), float(box.height)) == (612.0, 792.0)  # 8.5 × 72, 11 × 72 points


def test_a4_pages(tiny_pdf):
    box = PdfReader(tiny_pdf[0]).pages[5].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((595.44, 841.68))  # 8.27 × 72, 11.69 × 72


def failing_pages():
    yield Figure()
    yield Figure()
    raise RuntimeError("page 3 failed")


def test_failure_midway_leaves_no_file(tmp_path):
    target = tmp_path / "report.pdf"
    with pytest.raises(RuntimeError, match="page 3 failed"):
        write_report_pdf(failing_pages(), target, metadata=pdf_metadata())
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_keeps_the_previous_report(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-old")
    with pytest.raises(RuntimeError):
        write_report_pdf(failing_pages(), target, metadata=pdf_metadata())
    assert target.read_bytes() == b"%PDF-old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_refuses_to_overwrite_an_input_or_write_nothing(tmp_path):
    source = tmp_path / "results.pdf"
    source.write_bytes(b"input")
    with pytest.raises(OutputError, match="input file"):
        write_report_pdf([Figure()], source, metadata=pdf_metadata(), inputs=[source])
    with pytest.raises(OutputError, match="the report is empty"):
        write_report_pdf([], tmp_path / "empty.pdf", metadata=pdf_metadata())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.pdf"]


def test_build_report_is_a_generator_that_holds_no_page():
    pages = report()
    assert inspect.isgenerator(pages)
    first = weakref.ref(next(pages))
    next(pages)
    gc.collect()
    assert first() is None  # the cover is gone once the caller dropped it
    assert plt.get_fignums() == []


@pytest.mark.slow
def test_progress_counts_every_page():
    calls = []
    for _ in report(progress=lambda done, total, label: calls.append((done, total, label))):
        pass
    assert [c[0] for c in calls] == list(range(1, TINY_PAGES + 1))
    assert {c[1] for c in calls} == {TINY_PAGES}
    assert calls[0][2] == "cover" and calls[2][2] == "patient-level status" and calls[6][2] == "patient P1" and calls[-1][2] == "appendix"


def test_summary_table_splits_with_the_header_on_every_page():
    # A4: (11.69 − 2.4) in / 0.25 in per row = 37.2 -> 37 rows a page; 100 rows -> 37 + 37 + 26.
    assert rows_per_page("A4") == 37
    base = make_assessment().iloc[[0]]
    many = pd.concat([base.assign(patient_id=f"Q{i}") for i in range(100)], ignore_index=True)
    pages = list(summary_pages(many, page_size="A4"))
    assert len(pages) == 3
    tables = [t for page in pages for t in tables_of(page)]
    rows = [t.shape[0] - 1 for t in tables]  # below the heading row
    assert rows == [37, 37, 26]
    for table in tables:
        assert table.text(0, 0) == "patient"
        assert table.text(0, 11) == "re-\nelevation"
        assert table.colour(0, 0) == to_rgba("#E8E8E8")
    # natural order: Q2 before Q10; the last page ends with Q99
    assert [tables[0].text(r, 0) for r in (1, 2, 3, 11)] == ["Q0", "Q1", "Q2", "Q10"]
    assert tables[2].text(26, 0) == "Q99"


def test_summary_cells_by_hand():
    (page,) = summary_pages(with_timeline_days(make_assessment(), make_data()), page_size="A4")
    (table,) = tables_of(page)
    row = [table.text(5, c) for c in range(12)]
    # P3 VMA: informative, baseline 5.0×, nadir 12/13 = 0.9×, normal on day 90 since diagnosis
    # (the day count of every page; day 88 since therapy start); elevated at CR; re-elevated.
    assert row == ["P3", "VMA", "yes", "5.0", "0.9", "90", "no sample", "—", "elevated", "—", "no", "yes"]
    # "elevated" and a "yes" for re-elevation are tinted; the rest stay white.
    tint, white = to_rgba(GRADE_COLORS["marked"], 0.25), to_rgba("white")
    assert [table.colour(5, c) for c in range(12)] == [white] * 8 + [tint, white, white, tint]


def test_appendix_paginates_issues():
    ds = make_dataset()
    issue = ds.issues.iloc[[0]]
    ds.issues = pd.concat([issue.assign(row=i, cell=f"D{i}") for i in range(100)], ignore_index=True)
    pages = list(appendix_pages(ds, page_size="A4"))
    tables = [tables_of(page)[-1] for page in pages]
    # every issue once, in order, on as many pages as they need; each table ends above the foot
    assert sum(t.shape[0] - 1 for t in tables) == 100 and len(pages) > 2
    where = [t.text(r, 2) for t in tables for r in range(1, t.shape[0])]
    assert where == [f"results.xlsx\nSamples!D{i}" for i in range(100)]
    assert all(t.get_window_extent().y0 >= 0.4 * page.dpi for t, page in zip(tables, pages, strict=True))
    assert tables[0].text(0, 5) == "hint"


@pytest.mark.slow
def test_report_page_total_matches_with_many_issues(tmp_path):
    ds = make_dataset()
    ds.issues = pd.concat([ds.issues.iloc[[1]].assign(cell=f"E{i}") for i in range(40)], ignore_index=True)
    totals = set()
    pages = build_report(ds, data=make_data(), assessment=make_assessment(),
                         progress=lambda done, total, label: totals.add(total))
    n = sum(1 for _ in pages)
    assert totals == {n} and n == TINY_PAGES + 1  # 40 issues: 32 on the first appendix page + 8


@pytest.mark.slow
def test_save_figure_formats_and_fixed_bytes(tmp_path):
    def make():
        return patient_figure(make_data(), patient="P2")

    for ext, magic in ((".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")):
        save_figure(make(), tmp_path / f"a{ext}", dpi=40)
        save_figure(make(), tmp_path / f"b{ext}", dpi=40)
        a, b = (tmp_path / f"a{ext}").read_bytes(), (tmp_path / f"b{ext}").read_bytes()
        assert a.startswith(magic)
        assert a == b
    with pytest.raises(OutputError, match=r"\.png, \.pdf or \.svg"):
        save_figure(make(), tmp_path / "x.jpg")


@pytest.mark.slow
def test_png_pixels_are_matplotlibs(tmp_path):
    import numpy as np
    from PIL import Image

    fig = patient_figure(make_data(), patient="P1", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    for mode, alpha in (("RGB", 1.0), ("RGBA", 0.0)):  # a transparent background keeps its alpha
        fig.patch.set_alpha(alpha)
        save_figure(fig, tmp_path / "ours.png", dpi=40)
        fig.savefig(tmp_path / "theirs.png", dpi=40)
        ours, theirs = Image.open(tmp_path / "ours.png"), Image.open(tmp_path / "theirs.png")
        assert ours.mode == mode and ours.size == theirs.size == (330, 467)  # 8.27 × 40 = 330.8, 11.69 × 40 = 467.6
        assert ours.info["dpi"] == pytest.approx((40, 40), abs=0.01)
        assert (np.asarray(ours.convert("RGBA")) == np.asarray(theirs.convert("RGBA"))).all()


@pytest.mark.slow
def test_write_pngs_serial_and_parallel_agree(tmp_path):
    jobs = figure_jobs(make_data(), therapy=make_therapy(), patients=make_patients(),
                       assessment=make_assessment())
    assert list(jobs) == ["cohort_1", "cohort_2", "cohort_3", "patient_P1", "patient_P2", "patient_P3",
                          "patient_P4"]
    picked = {k: jobs[k] for k in ("cohort_3", "patient_P1", "patient_P4")}
    serial = write_pngs(picked, tmp_path / "one", dpi=30)
    parallel = write_pngs(picked, tmp_path / "two", dpi=30, jobs=2)
    assert [p.name for p in serial] == ["cohort_3.png", "patient_P1.png", "patient_P4.png"]
    for a, b in zip(serial, parallel, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes().startswith(b"\x89PNG")


def test_write_pngs_names_must_stay_distinct(tmp_path):
    with pytest.raises(OutputError, match="rename one"):
        write_pngs({"patient A": Figure(), "patient/A": Figure()}, tmp_path)
    with pytest.raises(OutputError, match="at least 1"):
        write_pngs({"a": Figure()}, tmp_path, jobs=0)


# -- golden pages: whole-page images compared with a tolerance (DejaVu Sans, matplotlib's own
# font, keeps text rendering fixed). Regenerate with MARKERS_UPDATE_BASELINES=1 after a deliberate
# change and look at the new images before committing them.


def golden(fig: Figure, name: str, tmp_path: Path) -> None:
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=40, metadata={"Software": None})
    expected = BASELINE / f"{name}.png"
    if os.environ.get("MARKERS_UPDATE_BASELINES") == "1":
        BASELINE.mkdir(exist_ok=True)
        shutil.copyfile(actual, expected)
    result = compare_images(str(expected), str(actual), tol=2.0)
    assert result is None, result


@pytest.mark.golden
def test_golden_patient_page(tmp_path):
    fig = patient_figure(make_data(), patient="P1", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    golden(fig, "patient_P1", tmp_path)


@pytest.mark.golden
def test_golden_swimmer_page(tmp_path):
    pages = cohort_figures(make_data(), therapy=make_therapy(), assessment=make_assessment())
    golden(pages[2], "cohort_swimmer", tmp_path)


@pytest.mark.golden
def test_golden_summary_page(tmp_path):
    (page,) = summary_pages(with_timeline_days(make_assessment(), make_data()), page_size="A4")
    golden(page, "summary_table", tmp_path)


def test_page_sizes():
    assert PAGE_SIZES == {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}


# -- pseudonymised reports: no patient ID and no date anywhere ------------------------------------

SAMPLE = Path(__file__).parent.parent / "sample_data"


@pytest.fixture(scope="module")
def sample_outputs(tmp_path_factory):
    """The sample cohort's report and PNGs, pseudonymised; and what must not appear in them."""
    from markers.pipeline import analyse, pseudonymize_analysis

    analysis = analyse([SAMPLE / "study_workbook.xlsx", SAMPLE / "lab_export_eu.csv"])
    ids = {str(v) for frame in (analysis.measurements, analysis.dataset.patients, analysis.dataset.therapy)
           for v in frame["patient_id"].dropna()}
    dates = set()
    for frame in (analysis.measurements, analysis.dataset.patients, analysis.dataset.therapy, analysis.assessment):
        for name in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
                dates.update(pd.to_datetime(frame[name]).dropna())
    shared = pseudonymize_analysis(analysis, key=bytes(range(32)))
    dataset, data, assessment = shared.dataset, shared.measurements, shared.assessment
    folder = tmp_path_factory.mktemp("pseudo")
    pdf = folder / "report.pdf"
    # The report date is not patient data; fixed here, and far from every sample date.
    write_report_pdf(build_report(dataset, data=data, assessment=assessment, reference_set=analysis.reference_set,
                                  created=datetime(2031, 6, 30, tzinfo=UTC)), pdf, metadata=pdf_metadata())
    pngs = write_pngs(figure_jobs(data, therapy=dataset.therapy, patients=dataset.patients,
                                  assessment=assessment), folder / "png", dpi=30)
    return ids, dates, pdf, pngs


def _date_texts(dates):
    # ISO, dd.mm.yyyy and dd/mm/yyyy forms of every original date
    return {f for d in dates for f in (f"{d:%Y-%m-%d}", f"{d:%d.%m.%Y}", f"{d:%d/%m/%Y}")}


@pytest.mark.slow
def test_pseudonymised_report_holds_no_id_and_no_date(sample_outputs):
    ids, dates, pdf, pngs = sample_outputs
    assert {"NB-001", "NB-013", "0042"} <= ids and len(ids) == 14
    assert len(dates) > 100
    forbidden = _date_texts(dates) | ids
    reader = PdfReader(pdf)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Patient P-" in text and "day 0 = diagnosis" in text  # the pages are there, with pseudonyms
    assert [f for f in forbidden if f in text] == []
    meta = " ".join(f"{k}={v}" for k, v in (reader.metadata or {}).items())
    assert [f for f in forbidden if f in meta] == []
    # PDF streams are compressed, so raw bytes are searched only for the long IDs (NB-0xx) and the
    # ISO dates, which cannot arise by chance; "0042" and 8-character dates could occur inside any
    # compressed number and are checked in the extracted text and the metadata above.
    raw = pdf.read_bytes()
    long_ones = [f for f in forbidden if len(f) >= 6 and f != "0042"]
    assert [f for f in long_ones if f.encode() in raw] == []


def _png_text_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            chunks.append((kind, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def test_pseudonymised_pngs_hold_no_id_and_no_date(sample_outputs):
    ids, dates, _pdf, pngs = sample_outputs
    forbidden = _date_texts(dates) | ids
    assert len(pngs) == 3 + 14
    for path in pngs:
        assert [f for f in forbidden if f in path.name] == []
        data = path.read_bytes()
        # The only metadata is the Software tag (no title, author, date or patient).
        assert _png_text_chunks(data) == [(b"tEXt", f"Software\x00markers {__version__}".encode())]
        # Pixel data is deflate-compressed: only the long IDs are searched in the raw bytes.
        assert [f for f in forbidden if len(f) >= 6 and f.encode() in data] == []


@pytest.mark.slow
def test_write_pngs_sends_figure_jobs_to_each_worker_once(tmp_path, monkeypatch):
    # Given figure_jobs' own mapping, the workers get its tables once and each task is a
    # figure's name: the parent neither takes nor pickles a patient's rows. The files are the
    # same bytes as those drawn in this process.
    jobs = figure_jobs(make_data(), therapy=make_therapy(), patients=make_patients(),
                       assessment=make_assessment())
    serial = write_pngs(jobs, tmp_path / "one", dpi=30)
    submitted = []
    original = figure_files.ProcessPoolExecutor.submit

    def spy(self, fn, *args, **kwargs):
        submitted.append((fn.__name__, args[0]))
        return original(self, fn, *args, **kwargs)

    monkeypatch.setattr(figure_files.ProcessPoolExecutor, "submit", spy)
    monkeypatch.setattr(figure_files._FigureJobs, "__getitem__",
                        lambda self, name: pytest.fail(f"the parent made the builder of {name}"))
    parallel = write_pngs(jobs, tmp_path / "two", dpi=30, jobs=2)
    assert submitted == [("_render_worker_png", name) for name in jobs]
    assert [p.name for p in parallel] == [p.name for p in serial] == [f"{name}.png" for name in jobs]
    for a, b in zip(serial, parallel, strict=True):
        assert a.read_bytes() == b.read_bytes()
