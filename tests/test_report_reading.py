"""Reports a clinician reads at a glance: the input shapes and page texts of issue 14."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from plot_fixtures import make_assessment, make_data, make_patients, make_therapy, tables_of
from pypdf import PdfReader
from workbooks import write_workbook

from markers.cli import cli
from markers.plot.cohort import STATUS_COLORS, cohort_figures, plot_cohort_spaghetti, plot_swimmer
from markers.plot.patient import patient_figure, plot_marker_trend
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


@pytest.mark.slow
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
def sample(sample_analysis):
    return sample_analysis


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


# -- legends that explain --------------------------------------------------------------------------


def _legend_of(fig):
    from matplotlib.legend import Legend

    (legend,) = [a for a in fig.artists if isinstance(a, Legend)]
    return {t.get_text(): h for t, h in zip(legend.get_texts(), legend.legend_handles, strict=True)}


def test_patient_legend_names_symbols_and_grade_bands():
    fig = patient_figure(make_data(), patient="P1", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    entries = _legend_of(fig)
    assert entries["VMA (circles)"].get_marker() == "o"
    assert entries["HVA (squares)"].get_marker() == "s"
    ax = fig.axes[0]
    for gid, label in (("band:mild", "1–2× ULN (mild)"), ("band:moderate", "2–3× ULN (moderate)")):
        (band,) = [p for p in ax.patches if p.get_gid() == gid]
        assert entries[label].get_facecolor() == band.get_facecolor()


def test_milestone_labels_sit_above_the_points():
    fig = patient_figure(make_data(), patient="P1", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    ax = fig.axes[0]
    points = [ln.get_zorder() for ln in ax.get_lines() if (ln.get_gid() or "").startswith("points:")]
    labels = [t for t in ax.texts if (t.get_gid() or "").startswith("event_label:")]
    assert labels and points
    for label in labels:
        assert label.get_zorder() > max(points)
        assert label.get_bbox_patch() is not None and label.get_bbox_patch().get_facecolor()[:3] == (1, 1, 1)


def test_no_nadir_note_for_a_patient_who_was_never_elevated():
    # P4: normal at baseline on both analytes (informative False): a baseline note, no nadir.
    fig = patient_figure(make_data(), patient="P4", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert "baseline" in notes and "nadir" not in notes
    rows = _table_rows(fig)
    assert not any("nadir" in row[-1] for row in rows[1:])


def test_trend_plot_legend_is_outside_the_data():
    ax = Figure().subplots()
    plot_marker_trend(make_data(), patient="P1", ax=ax)
    legend = ax.get_legend()
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.x0 >= 1.0  # anchored right of the axes
    assert "VMA (circles)" in [t.get_text() for t in legend.get_texts()]


def test_spaghetti_names_each_patient_at_its_line_end():
    ax = Figure(figsize=(8, 4)).subplots()
    plot_cohort_spaghetti(make_data(), analyte="VMA", assessment=make_assessment(), ax=ax)
    labels = {t.get_gid(): t for t in ax.texts if (t.get_gid() or "").startswith("patient_label:")}
    # informative for VMA: P1, P2, P3 (P4 was normal at baseline)
    assert sorted(labels) == ["patient_label:P1", "patient_label:P2", "patient_label:P3"]
    assert [labels[f"patient_label:{p}"].get_text() for p in ("P1", "P2", "P3")] == ["P1", "P2", "P3"]
    # each label points at its line's last point
    for pid in ("P1", "P2", "P3"):
        (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == f"patient:{pid}"]
        assert labels[f"patient_label:{pid}"].xy == (line.get_xdata()[-1], line.get_ydata()[-1])


# -- the swimmer plot ---------------------------------------------------------------------------


def test_swimmer_event_symbols_are_the_same_in_plot_and_legend():
    ax = Figure().subplots()
    plot_swimmer(make_data(), therapy=make_therapy(), assessment=make_assessment(), ax=ax)
    legend = {t.get_text(): h for t, h in zip(ax.get_legend().get_texts(), ax.get_legend().legend_handles,
                                                strict=True)}
    for gid, label in (("event:complete_remission", "complete remission"), ("event:surgery", "surgery")):
        (drawn,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
        shown = legend[label]
        for prop in ("marker", "markerfacecolor", "markeredgecolor", "markersize", "markeredgewidth"):
            assert getattr(drawn, f"get_{prop}")() == getattr(shown, f"get_{prop}")(), prop
        # drawn on the status strip, a symbol of the strip's own colour with a white rim looked like
        # a ring in the plot and a disc in the legend: faces differ from every strip colour, rims are dark
        assert to_rgba(drawn.get_markerfacecolor()) not in [to_rgba(c) for c in STATUS_COLORS.values()]
        assert sum(to_rgba(drawn.get_markeredgecolor())[:3]) < 0.5


@pytest.mark.slow  # draws every cohort figure of the sample (2-3 s)
def test_swimmer_says_which_marker_the_strip_shows(sample):
    ds = sample.dataset
    pages = cohort_figures(sample.measurements, therapy=ds.therapy, assessment=sample.assessment)
    swimmer = pages[-1]
    (ax,) = swimmer.axes
    assert ax.get_legend().get_title().get_text() == "strip: marker status\n(VMA, HVA: elevated\nwhen any is)"
    assert any("marker status (VMA, HVA: elevated when any is)" in t.get_text().replace("\n", " ")
               for t in swimmer.texts)


def test_swimmer_single_unconfirmed_rise_is_not_drawn_as_elevated(sample):
    # NB-010 (sample_data/README.md): normal from day 81, one elevated sample on day 523 that the
    # assessment does not confirm (no re-elevation); NB-009's rise on day 614 is confirmed.
    ds = sample.dataset
    assessed = sample.assessment.set_index(["patient_id", "analyte"])
    assert not assessed.loc[("NB-010", "VMA"), "reelevation"]
    assert assessed.loc[("NB-009", "VMA"), "reelevation"]
    ax = Figure().subplots()
    plot_swimmer(sample.measurements, therapy=ds.therapy, assessment=sample.assessment,
                 patients=["NB-009", "NB-010"], ax=ax)
    unconfirmed = to_rgba(STATUS_COLORS["unconfirmed"])
    elevated = to_rgba(STATUS_COLORS["elevated"])

    def stretches(pid, colour):
        return [p.get_x() for p in ax.patches
                if (p.get_gid() or "").startswith(f"status:{pid}:") and p.get_facecolor() == colour]

    # NB-010: elevated only before it normalized (day 81); the lone rise later is pale, not elevated
    assert stretches("NB-010", elevated) and max(stretches("NB-010", elevated)) < 81
    assert stretches("NB-010", unconfirmed) and min(stretches("NB-010", unconfirmed)) > 400
    # NB-009: the confirmed re-elevation (day 614) stays elevated; nothing is pale
    assert not stretches("NB-009", unconfirmed) and max(stretches("NB-009", elevated)) >= 614


# -- command-line rough edges -----------------------------------------------------------------------


def test_report_refuses_a_file_name_it_would_not_write(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(FILES[0]), "-o", str(tmp_path / "r.docx"), "--quiet"])
    assert result.exit_code == 2
    assert "Error: Invalid value for '-o' / '--output': 'r.docx': the report is written as PDF (.pdf) or " \
           "HTML (.html)" in result.output
    assert not (tmp_path / "r.docx").exists()


def test_validate_takes_a_reference_set():
    result = CliRunner().invoke(cli, ["validate", str(FILES[0]), "--reference-set", "Nope"])
    assert result.exit_code == 1 and result.output.startswith("Error: unknown reference set 'Nope'")
    result = CliRunner().invoke(cli, ["validate", str(FILES[0]), "--reference-set", "Mayo-VH-legacy"])
    lines = result.output.splitlines()
    measured = int(next(line for line in lines if " measurements of " in line).split()[0])
    (coverage,) = [line for line in lines if line.startswith("Reference set Mayo-VH-legacy: ")]
    assert f" of {measured} results have an age-specific limit" in coverage


def test_summary_csv_numbers_are_rounded(tmp_path):
    out = tmp_path / "summary.csv"
    result = CliRunner().invoke(cli, ["assess", str(FILES[0]), "-o", str(out)])
    assert result.exit_code == 0
    table = pd.read_csv(out, dtype=str, comment="#")
    row = table[(table["patient_id"] == "0042") & (table["analyte"] == "VMA")].iloc[0]
    assert row["baseline_x_uln"] == "9.31"  # the 9.312962962962963
    for column in ("baseline_x_uln", "nadir_x_uln", "half_life_days", "vma_hva_ratio_mass"):
        decimals = table[column].dropna().str.partition(".")[2].str.len()
        assert decimals.max() <= (2 if column != "half_life_days" else 1), column


def test_make_demo_says_wrote_once_and_installs_without_the_layout_warning():
    root = Path(__file__).parent.parent
    makefile = (root / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "Wrote" not in recipe  # `markers report` says it
    # package-dir "" = "." makes the editable install a path entry, without setuptools' import-hook
    # warning about "folders in your working directory with the same name as your package"
    assert 'package-dir = {"" = "."}' in (root / "pyproject.toml").read_text()


def test_rounded_rounds_a_copy_and_leaves_the_table_as_it_was():
    from markers.report.summary import rounded

    table = pd.DataFrame({"patient_id": ["P1", "P2"], "baseline_x_uln": [9.312962962962963, 1.006],
                          "half_life_days": [21.94, 3.06], "k_per_day": [0.0315913, 0.22651],
                          "baseline_value": [11.91234, 6.1], "n_samples": [3, 1]})
    out = rounded(table)
    assert out["baseline_x_uln"].tolist() == [9.31, 1.01]
    assert out["half_life_days"].tolist() == [21.9, 3.1]
    assert out["k_per_day"].tolist() == [0.0316, 0.2265]
    assert out["baseline_value"].tolist() == [11.912, 6.1]
    assert out["n_samples"].tolist() == [3, 1] and out["patient_id"].tolist() == ["P1", "P2"]
    # the library's table keeps its unrounded numbers
    assert table["baseline_x_uln"].tolist() == [9.312962962962963, 1.006]
    assert table["k_per_day"].tolist() == [0.0315913, 0.22651]
