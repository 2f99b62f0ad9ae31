"""Nothing a run reads is written; every file-system failure while writing is one `Error:` line naming the path;
the PDF and its PNGs are written together or not at all; a SIGTERM leaves no temporary file."""

from __future__ import annotations

import errno
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from markers.cli import cli

SAMPLE = pathlib.Path(__file__).resolve().parent.parent / "sample_data" / "lab_export_eu.csv"
REFERENCE = "analyte,age_min_years,age_max_years,uln,unit\nVMA,0,18,10,mg/g creatinine\n"


@pytest.fixture
def lab(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_bytes(SAMPLE.read_bytes())
    return path


def _one_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _no_temporaries(folder: pathlib.Path) -> None:
    assert [p.name for p in folder.rglob("*.tmp")] == []


@pytest.mark.parametrize("option", ["--reference", "--config", "--pseudonymize"])
def test_output_over_a_file_the_run_reads_is_refused(lab, tmp_path, option):
    protected = tmp_path / ("ref.csv" if option != "--pseudonymize" else "key.txt")
    content = REFERENCE.encode() if option == "--reference" else b"[columns]\n"
    if option == "--pseudonymize":
        content = b"0" * 64 + b"\n"
    protected.write_bytes(content)
    result = CliRunner().invoke(cli, ["normalize", str(lab), option, str(protected), "-o", str(protected)])
    what = {"--reference": "--reference file", "--config": "--config file", "--pseudonymize": "key file"}[option]
    _one_error(result, "refusing to overwrite", what, str(protected))
    assert protected.read_bytes() == content


def test_new_key_file_named_as_the_output_is_refused(lab, tmp_path):
    key = tmp_path / "out.json"  # does not exist yet: it would be created, then replaced by the table
    result = CliRunner().invoke(cli, ["normalize", str(lab), "--pseudonymize", str(key), "-o", str(key)])
    _one_error(result, "key file")
    assert not key.exists()


def test_sidecar_over_the_key_file_is_refused(lab, tmp_path):
    key = tmp_path / "out.csv.provenance.json"
    key.write_text("0" * 64 + "\n")
    result = CliRunner().invoke(cli, ["normalize", str(lab), "--pseudonymize", str(key), "-o",
                                      str(tmp_path / "out.csv")])
    _one_error(result, "provenance sidecar", "key file")
    assert key.read_text() == "0" * 64 + "\n"
    assert not (tmp_path / "out.csv").exists()


def test_fifo_output_is_refused(lab, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    _one_error(CliRunner().invoke(cli, ["normalize", str(lab), "-o", str(fifo)]), "not a regular file")
    assert fifo.is_fifo()


def test_device_output_is_refused(lab, tmp_path):
    link = tmp_path / "null.csv"
    link.symlink_to(os.devnull)
    _one_error(CliRunner().invoke(cli, ["normalize", str(lab), "-o", str(link)]), "not a regular file")
    assert pathlib.Path(os.devnull).is_char_device()


def test_symlink_loop_is_refused(lab, tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    _one_error(CliRunner().invoke(cli, ["normalize", str(lab), "-o", str(loop)]), "loop of symbolic links")


def test_name_whose_temporary_name_is_too_long_is_refused(lab, tmp_path):
    name = "r" * 247 + ".csv"  # 251 bytes: legal, but ".<name>.XXXXXXXX.tmp" would be 265
    _one_error(CliRunner().invoke(cli, ["normalize", str(lab), "-o", str(tmp_path / name)]), "name is too long")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.csv"]


def test_output_under_a_file_is_refused(lab, tmp_path):
    _one_error(CliRunner().invoke(cli, ["normalize", str(lab), "-o", str(lab / "out.csv")]), "not a folder")


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "free some disk space"),
                                         (errno.EROFS, "read-only"), (errno.ENAMETOOLONG, "shorter name")])
def test_os_error_while_writing_is_one_error_line_and_no_temporary(lab, tmp_path, monkeypatch, code, words):
    """A full disk (or a read-only file system) shows at fsync: simulated there, after bytes were written."""
    out = tmp_path / "out.csv"

    def failing_fsync(fd):
        raise OSError(code, os.strerror(code), str(out))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    _one_error(CliRunner().invoke(cli, ["normalize", str(lab), "-o", str(out)]), str(out), words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.csv"]


def test_png_dir_under_a_file_is_refused_before_the_pdf(lab, tmp_path):
    pdf = tmp_path / "report.pdf"
    result = CliRunner().invoke(cli, ["report", str(lab), "-o", str(pdf), "--quiet", "--png-dir",
                                      str(lab / "pngs")])
    _one_error(result, "not a folder")
    assert not pdf.exists()


@pytest.mark.slow
def test_pdf_is_removed_when_the_pngs_fail(lab, tmp_path, monkeypatch):
    import markers.report.figure_files as figure_files

    pdf, pngs = tmp_path / "report.pdf", tmp_path / "pngs"
    real = figure_files.save_figure
    written: list[str] = []

    # the first PNG is written, the disk is full at the second (on one core each PNG is saved as
    # its page leaves the PDF, so the PDF is not finished either)
    def one_then_full(fig, path, **kwargs):
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(pathlib.Path(path).parent / "second.png"))
        written.append(str(path))
        real(fig, path, **kwargs)

    monkeypatch.setattr(figure_files, "save_figure", one_then_full)
    result = CliRunner().invoke(cli, ["report", str(lab), "-o", str(pdf), "--quiet", "--png-dir", str(pngs),
                                      "--jobs", "1"])
    _one_error(result, "second.png", "free some disk space")
    assert len(written) == 1
    assert not pdf.exists()
    assert not pngs.exists()  # the folder the run created goes with its files
    _no_temporaries(tmp_path)


_KILLED = """
import os, signal, sys
import markers.report.document as document
from markers.cli import cli
real = document.write_report_pdf

def killed_midway(pages, path, **kwargs):
    def pages_then_kill():
        for number, page in enumerate(pages):
            if number == 1:
                os.kill(os.getpid(), signal.SIGTERM)
            yield page
    return real(pages_then_kill(), path, **kwargs)

document.write_report_pdf = killed_midway
cli.main(sys.argv[1:], prog_name="markers")
"""


@pytest.mark.slow
def test_sigterm_during_the_pdf_leaves_no_temporary_file(lab, tmp_path):
    pdf = tmp_path / "out" / "report.pdf"
    pdf.parent.mkdir()
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_KILLED), "report", str(lab), "-o", str(pdf),
                           "--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert list(pdf.parent.iterdir()) == []
