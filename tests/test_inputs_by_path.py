"""Two inputs of one file name in different folders are two inputs: each keeps its rows, its SHA-256 and its name."""

import hashlib

import pytest

from markers.errors import ConfigError
from markers.ingest.reader import read


def _lab(folder, patient, value):
    folder.mkdir()
    path = folder / "lab.csv"
    path.write_text("Patient ID;Collection date;Test;Result;Unit\n"
                    f"{patient};02.03.2024;VMA;{value};mg/g creat\n", encoding="utf-8")
    return path


def test_same_name_in_two_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = _lab(tmp_path / "a", "P1", "4,2")
    second = _lab(tmp_path / "b", "P2", "5,1")
    dataset = read(["a/lab.csv", "b/lab.csv"], day_first=True)
    assert dataset.files["file"].tolist() == ["a/lab.csv", "b/lab.csv"]
    assert dataset.files["sha256"].tolist() == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    # each file: 2 lines read = header (skipped) + 1 kept
    counts = dataset.rows.groupby("file")["status"].value_counts().unstack(fill_value=0)
    assert counts.loc["a/lab.csv", "kept"] == 1 and counts.loc["b/lab.csv", "kept"] == 1
    assert sorted(dataset.measurements["patient_id"].unique()) == ["P1", "P2"]


def test_same_path_twice_is_refused(tmp_path):
    path = _lab(tmp_path / "a", "P1", "4,2")
    with pytest.raises(ConfigError, match="given twice"):
        read([path, path], day_first=True)
