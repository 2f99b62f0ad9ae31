"""`markers report` and `markers plot` on the shipped sample cohort, as a user runs them."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from markers.cli import cli

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]
PATIENTS = ["0042"] + [f"NB-{i:03d}" for i in range(1, 14)]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    result = CliRunner().invoke(cli, ["report", *FILES, "-o", str(folder / "report.pdf"),
                                      "--png-dir", str(folder / "png"), "--dpi", "50", "--jobs", "2"],
                                catch_exceptions=False)
    return folder, result


@pytest.mark.slow
def test_report_exit_code_and_message(report):
    folder, result = report
    assert result.exit_code == 0
    # no progress bar: the runner's stderr is not a terminal
    # 21 pages (with the patient-level status page) + 3 outcome pages (diagnosis, end of induction, CR):
    # the sample has follow-up and relapse events
    assert result.stderr == "Wrote " + str(folder / "report.pdf") + ": 24 pages, 14 patients, 2 rejected rows\n"


@pytest.mark.slow
def test_report_pages_are_what_the_content_implies(report):
    folder, _ = report
    reader = PdfReader(folder / "report.pdf")
    texts = [page.extract_text() for page in reader.pages]
    # cover + 1 summary page (28 rows fit one A4 page) + 1 patient-level status page + 3 cohort pages
    # + 3 outcome pages (diagnosis, end of induction, complete remission: the sample has follow-up and
    # relapse events) + 14 patients + 1 appendix = 24
    assert len(texts) == 1 + 1 + 1 + 3 + 3 + 14 + 1
    assert "markers report" in texts[0] and "study_workbook.xlsx" in texts[0]
    assert "Patient-level status" in texts[2] and "Matser et al. 2025" in texts[2]
    assert "Outcomes from diagnosis" in texts[6] and "Outcomes by marker status at complete remission" in texts[8]
    # the patient pages, in order, each titled "Patient <ID>" (text order within a page is the PDF's)
    titled = [next(p for p in PATIENTS if f"Patient {p}\n" in t + "\n") for t in texts[9:23]]
    assert titled == PATIENTS
    appendix = texts[-1]
    for cell in ("Samples!C12", "Samples!B133", "Samples!A152", "Samples!C22", "Samples!C45"):
        assert cell in appendix


@pytest.mark.slow
def test_report_is_byte_identical_on_a_second_run(report, tmp_path):
    folder, _ = report
    again = tmp_path / "again.pdf"
    CliRunner().invoke(cli, ["report", *FILES, "-o", str(again), "--quiet"], catch_exceptions=False)
    assert again.read_bytes() == (folder / "report.pdf").read_bytes()


def test_report_pngs_one_per_patient_cohort_figure_and_outcome_page(report):
    folder, _ = report
    names = sorted(p.name for p in (folder / "png").iterdir())
    # the sample workbook has relapse events: EFS/OS pages from diagnosis, end of induction and complete
    # remission, as in the PDF
    assert names == sorted([f"patient_{p}.png" for p in PATIENTS] + ["cohort_1.png", "cohort_2.png", "cohort_3.png"]
                           + ["outcomes_1.png", "outcomes_2.png", "outcomes_3.png"])
    assert all((folder / "png" / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".png", ".pdf", ".svg"])
def test_plot_one_patient(tmp_path, suffix):
    out = tmp_path / f"fig{suffix}"
    result = CliRunner().invoke(cli, ["plot", *FILES, "--patient", "NB-009", "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0
    head = out.read_bytes()[:8]
    assert {".png": head.startswith(b"\x89PNG"), ".pdf": head.startswith(b"%PDF"), ".svg": b"<?xml" in head}[suffix]


@pytest.mark.slow
def test_plot_unknown_patient_is_an_error_line(tmp_path):
    result = CliRunner().invoke(cli, ["plot", *FILES, "--patient", "NB-999", "-o", str(tmp_path / "f.png")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: patient 'NB-999' has no measurements in the input; patients: 0042, NB-001")
    assert not (tmp_path / "f.png").exists()


def test_plot_pseudonymized_on_dates_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["plot", *FILES, "--patient", "NB-009", "-o", str(tmp_path / "f.png"),
                                      "--x", "date", "--pseudonymize", str(tmp_path / "k")])
    assert result.exit_code == 2
    assert "a pseudonymized figure can only use --x day" in result.output


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    from markers.cli import _Progress

    class Terminal:
        def __init__(self, tty):
            self.tty, self.text = tty, []

        def isatty(self):
            return self.tty

        def write(self, text):
            self.text.append(text)

        def flush(self):
            pass

    for tty, quiet, shown in ((True, False, True), (False, False, False), (True, True, False)):
        stream = Terminal(tty)
        monkeypatch.setattr("sys.stderr", stream)
        progress = _Progress(not quiet)
        for done in range(1, 4):
            progress(done, 3, f"page {done}")
        progress.close()
        assert ("Writing report" in "".join(stream.text)) is shown, (tty, quiet)
