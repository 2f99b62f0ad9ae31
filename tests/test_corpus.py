"""Every file of the bad-input corpus is refused with the right error, naming the file."""

from __future__ import annotations

import warnings

import pytest
from corpus import make_corpus

from markers import errors
from markers.readers.files import read_raw
from markers.readers.safety import check_input_file

CASES = {case.filename: case for case in make_corpus.CASES}


def test_corpus_is_large_enough():
    assert len(CASES) >= 20
    assert len(CASES) == len(make_corpus.CASES)  # file names are unique


@pytest.mark.slow
@pytest.mark.parametrize("filename", sorted(CASES))
def test_bad_input_is_refused(corpus, filename):
    case = CASES[filename]
    expected = getattr(errors, case.error)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a refused file must not be half-read with a warning
        with pytest.raises(expected, match=case.message) as info:
            read_raw(corpus / filename)
    message = str(info.value)
    assert message.startswith(f"{filename}: "), message
    if expected is errors.InputFormatError:
        # hostile files are UnsafeInputError; merely bad ones must not be labelled hostile
        assert not isinstance(info.value, errors.UnsafeInputError), message
    # the message says what to do: an imperative follows the diagnosis
    assert any(word in message for word in ("save", "rename", "export", "give", "check", "copy", "remove")), message


@pytest.mark.parametrize(
    "filename", ["bomb_declared_56GiB.xlsx", "bomb_declared_total.xlsx", "bomb_zeros.xlsx", "bomb_entries.xlsx"]
)
def test_zip_bombs_are_refused_without_decompressing(corpus, filename, monkeypatch):
    import zipfile

    path = corpus / filename

    def no_decompression(*args, **kwargs):
        raise AssertionError("the ZIP bomb check must not decompress any entry")

    # Decompressing 56 GiB would take minutes and the memory it aims for: the check reads the
    # central directory only, so opening an entry's data is never needed to refuse a bomb.
    monkeypatch.setattr(zipfile.ZipFile, "read", no_decompression)
    monkeypatch.setattr(zipfile.ZipExtFile, "read", no_decompression)
    with pytest.raises(errors.UnsafeInputError, match="ZIP bomb"):
        check_input_file(path)


def test_declared_bomb_is_small_on_disk_but_huge_declared(corpus):
    import zipfile

    path = corpus / "bomb_declared_56GiB.xlsx"
    with zipfile.ZipFile(path) as zf:
        declared = sum(info.file_size for info in zf.infolist())
    # every one of the 14 entries declares 2**32 - 2 bytes:
    # 14 x 4,294,967,294 = 60,129,542,116 bytes = 56.0 GiB
    assert declared == 60_129_542_116
    assert path.stat().st_size < 100_000


def test_xls_that_is_really_xlsx_is_read_by_content(tmp_path):
    """Decision: a workbook under another workbook extension is read by its content, with a warning."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "Patient ID"
    wb.active["A2"] = "P1"
    path = tmp_path / "export.xls"
    wb.save(path)
    with pytest.warns(UserWarning, match=r"export\.xls: the file is really an xlsx workbook"):
        [sheet] = read_raw(path)
    assert sheet.fmt == "xlsx"
    assert sheet.cells.loc[2, 0] == "P1"
