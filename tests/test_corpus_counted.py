"""Round-two corpus files markers reads: row accounting from the file as built, values as the digits written;
and files refused when their columns are mapped (two patient-ID columns)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from corpus import hostile_cases

from markers.cli import cli
from markers.errors import InputFormatError
from markers.ingest.reader import read

COUNTED = {case.filename: case for case in hostile_cases.COUNTED}


def test_round_two_corpus_has_forty_cases():
    from corpus import make_corpus

    refused = {c.filename for c in hostile_cases.cases(make_corpus.Case)}
    assert refused <= {c.filename for c in make_corpus.CASES}  # every one is in the refused corpus
    assert len(refused) + len(COUNTED) + len(hostile_cases.MAPPING_REFUSED) >= 40


@pytest.mark.parametrize("filename", sorted(COUNTED))
def test_counted_file_gives_its_accounting(tmp_path, filename):
    case = COUNTED[filename]
    path = tmp_path / filename
    case.build(path)
    dataset = read([path], day_first=True)
    rows = dataset.rows
    counts = rows["status"].value_counts().to_dict()
    assert {status: counts.get(status, 0) for status in case.counts} == case.counts
    assert sum(counts.values()) == len(rows)  # read = kept + rejected + skipped
    reasons = rows["reason"].value_counts().to_dict()
    assert {reason: reasons.get(reason, 0) for reason in case.reasons} == case.reasons
    codes = dataset.issues["code"].value_counts().to_dict()
    assert {code: codes.get(code, 0) for code in case.issues} == case.issues
    vma = dataset.measurements[dataset.measurements["analyte"] == "VMA"]
    assert vma.sort_values("patient_id")["source_value"].notna().all()
    assert sorted(vma["value"].tolist()) == sorted(case.values)


@pytest.mark.parametrize("filename", sorted(hostile_cases.MAPPING_REFUSED))
def test_two_patient_id_columns_are_refused(tmp_path, filename, monkeypatch):
    build, message = hostile_cases.MAPPING_REFUSED[filename]
    build(tmp_path / filename)
    with pytest.raises(InputFormatError, match=message):
        read([tmp_path / filename], day_first=True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["normalize", filename, "-o", "out.csv", "--day-first"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {filename}"), result.output
    assert "two patient-ID columns" in lines[0]
    assert not (tmp_path / "out.csv").exists()
