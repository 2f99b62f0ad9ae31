"""Date-free input through every page: report, HTML, patient figure, cohort figures, in days since diagnosis.

The example ``sample_data/date_free`` is a data-commons style pair of tables: results with the age at
collection and the days from diagnosis, and disease phases with the age at each (the Pediatric Cancer
Data Commons keeps every time point as an age in days). The expected days are worked out by hand below.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from markers.cli import cli
from markers.pipeline import analyse, day_form
from markers.plot.cohort import plot_swimmer
from markers.plot.patient import patient_figure

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "date_free"
FILES = [SAMPLE / "commons_results.csv", SAMPLE / "commons_events.csv"]

# DF-01: diagnosed at 400 days of age. Events at ages 404 (start of induction), 490 (surgery), 550 (end of
# induction), 600 (complete remission), 1130 (last follow-up): days 4, 90, 150, 200, 730.
# Samples on days 0, 30, 60, 120, 200; VMA 135, 54, 16, 13, 11 mg/g against the 0-2 y ULN 27 (ARUP 3018863).
DF01_DAYS = [0, 30, 60, 120, 200]
DF01_VMA_X_ULN = [135 / 27, 54 / 27, 16 / 27, 13 / 27, 11 / 27]


def _analysis():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the notice that the results have no calendar dates
        return day_form(analyse(FILES))


def by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert found, f"no artist with gid {gid!r}"
    return found[0]


def test_the_patient_page_is_drawn_on_days_since_diagnosis():
    a = _analysis()
    fig = patient_figure(a.measurements, patient="DF-01", therapy=a.dataset.therapy, patients=a.dataset.patients,
                         assessment=a.assessment)
    top, bottom = fig.axes[:2]
    assert top.get_xlabel() == bottom.get_xlabel() == "days since diagnosis"
    line = by_gid(top, "trend:VMA")
    np.testing.assert_array_equal(line.get_xdata(), DF01_DAYS)
    np.testing.assert_allclose(line.get_ydata(), DF01_VMA_X_ULN)
    np.testing.assert_array_equal(by_gid(top, "event:surgery").get_xdata(), [90, 90])
    np.testing.assert_array_equal(by_gid(top, "event:complete_remission").get_xdata(), [200, 200])
    span = by_gid(top, "phase:induction")  # from the start of induction (day 4) to its end (day 150)
    assert (span.get_x(), span.get_x() + span.get_width()) == (4, 150)
    subtitle = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert "day 0 = diagnosis" in subtitle and "5 samples" in subtitle
    texts = [t.get_text() for t in fig.texts]
    assert "VMA: informative; normalized on day 60" in texts  # days, not "NaT"
    caption = [t.get_text() for t in fig.texts if t.get_text().startswith("Samples")]
    assert caption == ["Samples (5); day = days since diagnosis"]


def test_the_relapse_is_drawn_on_its_day():
    a = _analysis()
    fig = patient_figure(a.measurements, patient="DF-02", therapy=a.dataset.therapy, patients=a.dataset.patients,
                         assessment=a.assessment)
    # DF-02: diagnosed at 1500 days of age, relapse at 2000: day 500
    np.testing.assert_array_equal(by_gid(fig.axes[0], "event:relapse").get_xdata(), [500, 500])


def test_the_swimmer_plot_places_the_events_on_their_days():
    a = _analysis()
    from matplotlib.figure import Figure

    ax = plot_swimmer(a.measurements, therapy=a.dataset.therapy, assessment=a.assessment, ax=Figure().subplots())
    assert ax.get_xlabel() == "days since diagnosis"
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert list(lines["event:relapse"].get_xdata()) == [500.0]
    patches = {p.get_gid(): p for p in ax.patches}
    induction = patches["phase:DF-01:induction"]  # day 4 to day 150
    assert (induction.get_x(), induction.get_width()) == (4.0, 146.0)


def test_report_cli_writes_the_date_free_pdf_and_its_pages_say_days(tmp_path):
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "-o", str(out), "--png-dir", str(tmp_path / "png")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("Warning: 22 results without calendar dates are flagged by age and placed and assessed by "
                        "days since diagnosis (the assessment gives days, not dates).")
    # cover, cohort summary, patient-level status, 3 cohort figures, 3 outcome pages (diagnosis, end of
    # induction, complete remission), DF-01, DF-02, appendix
    assert lines[-1] == f"Wrote {out}: 12 pages, 2 patients, 0 rejected rows"
    pages = [page.extract_text() for page in PdfReader(out).pages]
    df02 = next(text for text in pages if "Patient DF-02" in text)
    assert "day 0 = diagnosis" in df02 and "days since diagnosis" in df02 and "NaT" not in df02
    assert "re-elevated on day 480" in df02
    assert "days since diagnosis (no calendar dates in these tables)" in pages[0]  # the cover says so
    assert not any("NaT" in text or "nan" in text.split() for text in pages)
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "cohort_1.png", "cohort_2.png", "cohort_3.png", "outcomes_1.png", "outcomes_2.png", "outcomes_3.png",
        "patient_DF-01.png", "patient_DF-02.png"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_the_date_free_report_renders(tmp_path):
    out = tmp_path / "report.pdf"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        CliRunner().invoke(cli, ["report", *map(str, FILES), "-o", str(out)], catch_exceptions=False)
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "10", "-l", "11", str(out), str(tmp_path / "page")],
                   check=True, timeout=120)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert [p.name for p in rendered] == ["page-10.png", "page-11.png"]
    assert all(p.stat().st_size > 5000 for p in rendered)  # drawn pages, not blank ones


def test_html_report_of_the_date_free_tables(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(", 2 patients, 0 rejected rows")
    html = out.read_text(encoding="utf-8")
    # the words of the page, not its embedded images (base64 may spell "NaT" by chance)
    words = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", html)
    assert "NaT" not in words and ">DF-02<" in html
    assert "<th scope=\"row\">Time</th><td>days since diagnosis (no calendar dates in these tables)</td>" in html


def test_plot_cli_draws_days_and_refuses_a_date_axis(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["plot", *map(str, FILES), "--patient", "DF-01", "-o", str(tmp_path / "p.png")],
                       catch_exceptions=False)
    assert ok.exit_code == 0 and ok.output.splitlines()[-1] == f"Wrote {tmp_path / 'p.png'}"
    refused = runner.invoke(cli, ["plot", *map(str, FILES), "--patient", "DF-01", "--x", "date",
                                  "-o", str(tmp_path / "d.png")])
    assert refused.exit_code == 1
    assert refused.output.splitlines()[-1] == (
        "Error: commons_results.csv: the results have no calendar dates (age at sample or days since diagnosis "
        "only): plot them on days since diagnosis (--x day).")
    assert not (tmp_path / "d.png").exists()


def test_a_pseudonymized_date_free_report_keeps_the_days(tmp_path):
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(cli, ["report", *map(str, FILES), "-o", str(out), "--pseudonymize",
                                      str(tmp_path / "key")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pages = [page.extract_text() for page in PdfReader(out).pages]
    patient_pages = [text for text in pages if "Patient P-" in text]
    assert len(patient_pages) == 2
    assert all("DF-0" not in text for text in pages)
    # the pseudonymized pages show the same days: DF-02's re-elevation on day 480 is on one of them
    assert sum("re-elevated on day 480" in text for text in patient_pages) == 1


def test_a_patient_png_gets_the_status_the_pdf_page_gets():
    from markers.report.document import figure_jobs

    a = _analysis()
    # a carried status (as a pseudonymized analysis carries it) that the assessment alone would not give
    status = a.patient_status.assign(unconfirmed_rise_day=pd.array([123, None], dtype="Int64"))
    jobs = figure_jobs(a.measurements, therapy=a.dataset.therapy, patients=a.dataset.patients,
                       assessment=a.assessment, status=status, unit_label="mg/g creatinine")
    fig = jobs["patient_DF-01"]()
    panel = " ".join(t.get_text().strip() for t in fig.texts if (t.get_gid() or "").startswith("panel:"))
    assert panel.endswith("unconfirmed rise on day 123, repeat advised")
    subtitle = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert subtitle.endswith("values in mg/g creatinine")


def test_date_free_samples_get_their_treatment_phase_from_the_days():
    a = _analysis()
    vma = a.measurements[(a.measurements["patient_id"] == "DF-02") & (a.measurements["analyte"] == "VMA")]
    # DF-02: induction from day 3 to the end of induction on day 150 (no later phase opens), relapse day 500
    assert vma["sample_day"].tolist() == [0, 49, 77, 200, 480, 510]
    assert vma["phase"].tolist() == ["pre-treatment", "induction", "induction", "", "", "relapse"]


def test_the_notebook_plot_of_a_date_free_analysis_is_on_days():
    from matplotlib.figure import Figure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        analysis = analyse(FILES)
    ax = analysis.plot_patient("DF-01", ax=Figure().subplots())
    assert ax.get_xlabel() == "days since diagnosis"
    np.testing.assert_array_equal(by_gid(ax, "trend:VMA").get_xdata(), DF01_DAYS)


def test_a_report_of_dated_and_date_free_files_is_still_refused(tmp_path):
    dated = tmp_path / "dated.csv"
    dated.write_text("Patient ID,Sample date,VMA (mg/g creat)\nP9,2024-03-05,10\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", str(dated), str(FILES[0]), "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Error: commons_results.csv gives results without calendar dates (age or days since diagnosis) for patient "
        "DF-01, while dated.csv gives dated results: they cannot be put on one timeline. Give the date of birth of "
        "the patients of the date-free table (then each sample's date follows from its age), or read the date-free "
        "table on its own.")
    assert not (tmp_path / "r.pdf").exists()


def test_a_pseudonymized_date_free_table_keeps_the_sample_days(tmp_path):
    out = tmp_path / "m.csv"
    result = CliRunner().invoke(cli, ["normalize", *map(str, FILES), "-o", str(out), "--pseudonymize",
                                      str(tmp_path / "key")], catch_exceptions=False)
    assert result.exit_code == 0
    table = pd.read_csv(out, comment="#")
    assert "sample_date" not in table.columns and not table["patient_id"].str.startswith("DF-").any()
    # DF-01 and DF-02 each sampled on day 0 (VMA and HVA): 4 rows on day 0; the days as in the input
    assert sorted(set(table["sample_day"])) == [0, 30, 49, 60, 77, 120, 200, 480, 510]
    assert (table["sample_day"] == 0).sum() == 4
