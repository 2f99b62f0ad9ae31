"""Under --pseudonymize no output holds a patient ID, a date in any spelling the reader accepts, or an input's
file name: IDs and dates are placed in file names, cells, comments and sheet names, and every byte of every
output is searched (XLSX parts uncompressed, PDF text extracted and its metadata read)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.privacy.pseudonym import scrub_text

# IDs: a usual one, one with a dotless i (case folding: 'ı'.upper() == 'I', 'I'.lower() == 'i'), a long digit one
IDS = ["NB-777", "ı1", "NB-0042"]
# One day, 2 March 2019, in every spelling the date reader accepts (markers.ingest.parse), and one more day
# (5 March 2017) in the month-name spellings of the issue.
SPELLINGS = ["2019-03-02", "2019/03/02", "2019.03.02", "02.03.2019", "02.03.19", "02/03/2019", "02-03-2019",
             "2 Mar 2019", "02-Mar-2019", "2. März 2019", "2 mars 2019", "March 2, 2019", "Mar 2nd, 2019",
             "05-Mar-2017", "5 mars 2017"]
FILE_NAME = "t18_NB-777_2023-05-04.csv"


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_accepted_date_spelling_is_scrubbed(spelling):
    text = f"rejected date {spelling} here"
    assert scrub_text(text, id_map={}, dates=[], any_date=True) == "rejected date [date] here"


def test_dotless_i_id_is_scrubbed_without_error():
    # 'ı1'.casefold() is 'ı1', but the regex matches 'I1' and 'i1' case-insensitively too: all three are the patient
    assert scrub_text("ı1, I1 and i1", id_map={"ı1": "P-x"}, dates=[]) == "P-x, P-x and P-x"


def test_ids_differing_only_in_case_keep_their_own_pseudonyms():
    assert scrub_text("NB1 nb1", id_map={"NB1": "P-a", "nb1": "P-b"}, dates=[]) == "P-a P-b"


def _inputs(folder: Path) -> list[Path]:
    header = "Patient ID;Date of birth;Diagnosis date;Collection date;Test;Result;Unit;Comment\n"
    lines = [header]
    for n, spelling in enumerate(SPELLINGS):
        patient = IDS[n % len(IDS)]
        result = "4,2" if n % 2 else "x?"  # every other row rejected: its date is only in the issue text
        lines.append(f"{patient};01.01.2015;01.02.2019;{spelling};VMA;{result};mg/g creat;"
                     f"seen {spelling} for {patient}\n")
    text = folder / FILE_NAME
    text.write_text("".join(lines), encoding="utf-8")
    book = folder / "NB-0042_05-Mar-2017.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "NB-0042 2019-03-02"
    ws.append(["Patient ID", "Date of birth", "Diagnosis date", "Collection date", "Test", "Result", "Unit",
               "Comment"])
    ws.append(["NB-0042", "01.01.2015", "01.02.2019", "2019/03/02", "VMA", "5.1", "mg/g creat", "ı1 on 05-Mar-2017"])
    ws.append(["NB-0042", "01.01.2015", "01.02.2019", "05-Mar-2017", "VMA", "bad", "mg/g creat", ""])
    wb.save(book)
    return [text, book]


def _forbidden(inputs: list[Path]) -> list[str]:
    names = [p.name for p in inputs] + [p.stem for p in inputs]
    dates = SPELLINGS + ["01.01.2015", "2015-01-01", "01.02.2019", "2019-02-01", "2023-05-04"]
    return IDS + ["I1"] + dates + names


def _texts(path: Path) -> str:
    if path.suffix == ".xlsx":
        import re

        with zipfile.ZipFile(path) as archive:
            xml = "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        return re.sub(r'\s(?:r|ref|sqref)="[A-Z0-9:$ ]+"', "", xml)  # cell references such as r="I1" are not IDs
    if path.suffix == ".pdf":
        import pypdf

        reader = pypdf.PdfReader(path)
        parts = [page.extract_text() or "" for page in reader.pages]
        parts.append(json.dumps({k: str(v) for k, v in (reader.metadata or {}).items()}, ensure_ascii=False))
        return "\n".join(parts)
    return path.read_bytes().decode("utf-8", "replace")


def _leaks(text: str, forbidden: list[str]) -> list[str]:
    import re

    found = []
    for word in forbidden:
        # an ID stands alone ("ı1" inside "P-1a1b" is not the patient); dates and names anywhere
        if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text, flags=re.IGNORECASE if word != "I1" else 0):
            found.append(word)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("command, suffix", [("normalize", ".csv"), ("normalize", ".json"), ("normalize", ".xlsx"),
                                             ("assess", ".tsv"), ("report", ".pdf")])
def test_no_id_date_or_file_name_in_any_output(tmp_path, command, suffix):
    source = tmp_path / "in"
    source.mkdir()
    inputs = _inputs(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / f"shared{suffix}"
    args = [command, *map(str, inputs), "-o", str(out), "--day-first", "--pseudonymize", str(tmp_path / "key.txt")]
    if command == "report":
        args += ["--quiet"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    written = sorted(out_dir.iterdir())
    assert out in written
    forbidden = _forbidden(inputs)
    for path in written:  # the output and, for CSV/TSV, its provenance sidecar
        assert _leaks(_texts(path), forbidden) == [], path.name
    # the provenance names each input by label and SHA-256
    everything = "\n".join(_texts(p) for p in written)
    assert "input-1.csv" in everything and "input-2.xlsx" in everything
    import hashlib

    assert hashlib.sha256(inputs[0].read_bytes()).hexdigest() in everything
