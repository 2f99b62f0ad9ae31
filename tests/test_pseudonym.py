"""Keyed pseudonyms, relative days, scrubbed text, and outputs free of IDs and dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import stat
import zipfile

import openpyxl
import pandas as pd
import pytest

from markers.errors import ConfigError, OutputError
from markers.ingest.dataset import Dataset
from markers.privacy.pseudonym import (
    create_key,
    load_key,
    load_or_create_key,
    pseudonym,
    pseudonymize,
    pseudonymize_tables,
    scrub_text,
)
from markers.write.output import write_table

KEY = bytes(range(32))  # 00 01 02 ... 1f: a fixed, known key
OTHER_KEY = bytes(range(1, 33))


def by_hand(patient_id: str, key: bytes = KEY, length: int = 12) -> str:
    return "P-" + hmac.new(key, patient_id.encode("utf-8"), hashlib.sha256).hexdigest()[:length]


# -- keys --------------------------------------------------------------------------------------


def test_create_key_writes_hex_with_private_mode(tmp_path):
    path = tmp_path / "markers.key"
    key = create_key(path)
    assert len(key) == 32
    assert path.read_text(encoding="ascii") == key.hex() + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["markers.key"]  # no temporary file left


def test_create_key_is_random(tmp_path):
    assert create_key(tmp_path / "a.key") != create_key(tmp_path / "b.key")


def test_create_key_refuses_to_overwrite(tmp_path):
    path = tmp_path / "markers.key"
    first = create_key(path)
    with pytest.raises(OutputError, match="already exists; refusing to overwrite it"):
        create_key(path)
    assert load_key(path) == first


def test_create_key_missing_directory(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        create_key(tmp_path / "no" / "markers.key")


def test_load_key_round_trip_and_whitespace(tmp_path):
    path = tmp_path / "k"
    path.write_text("  " + KEY.hex().upper() + "\n\n")
    path.chmod(0o600)
    assert load_key(path) == KEY


def test_load_key_missing(tmp_path):
    path = tmp_path / "markers.key"
    with pytest.raises(ConfigError) as err:
        load_key(path)
    assert str(err.value).startswith(f"pseudonymisation key file {path} does not exist")


@pytest.mark.parametrize("content", ["", "abc", "zz" * 32, KEY.hex() + "00", "é" * 64])
def test_load_key_malformed(tmp_path, content):
    path = tmp_path / "markers.key"
    path.write_text(content, encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=f"key file {path}"):
        load_key(path)


def test_load_key_warns_when_others_can_read(tmp_path):
    path = tmp_path / "markers.key"
    path.write_text(KEY.hex())
    path.chmod(0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        assert load_key(path) == KEY


def test_load_or_create_key(tmp_path):
    path = tmp_path / "markers.key"
    first = load_or_create_key(path)
    assert path.exists()
    assert load_or_create_key(path) == first


# -- pseudonyms -------------------------------------------------------------------------------


def test_pseudonym_matches_hmac_computed_by_hand():
    expected = "P-" + hmac.new(KEY, b"NB-0042", hashlib.sha256).hexdigest()[:12]
    assert pseudonym("NB-0042", key=KEY) == expected
    assert len(expected) == 14


def test_pseudonym_known_vectors():
    # Computed independently with OpenSSL:
    #   printf NB-001 | openssl dgst -sha256 -mac HMAC -macopt hexkey:<64 zeros>
    #   -> e83f8fbb497fe40b4eb7...
    #   printf NB-0042 | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f
    #   -> 9940f40a7d637bc40a0a...
    assert pseudonym("NB-001", key=bytes(32)) == "P-e83f8fbb497f"
    assert pseudonym("NB-0042", key=KEY) == "P-9940f40a7d63"
    assert pseudonym("NB-0042", key=KEY, length=64) == (
        "P-9940f40a7d637bc40a0a97eef2ecb28d4290e38117e9a2c08d707ad7a9244b8d"
    )


def test_pseudonym_stable_and_key_dependent():
    assert pseudonym("NB-0042", key=KEY) == pseudonym("NB-0042", key=KEY)
    assert pseudonym("NB-0042", key=KEY) != pseudonym("NB-0042", key=OTHER_KEY)
    assert pseudonym("NB-0042", key=KEY) != pseudonym("NB-0043", key=KEY)


def test_pseudonym_length_and_utf8():
    assert pseudonym("Müller-7", key=KEY, length=20) == by_hand("Müller-7", length=20)
    assert pseudonym(42, key=KEY) == by_hand("42")  # numbers from Excel cells: same as their text


@pytest.mark.parametrize("length", [0, 65])
def test_pseudonym_bad_length(length):
    with pytest.raises(ConfigError, match="between 1 and 64"):
        pseudonym("x", key=KEY, length=length)


def test_pseudonym_empty_key():
    with pytest.raises(ConfigError, match="key is empty"):
        pseudonym("x", key=b"")


# -- scrub_text --------------------------------------------------------------------------------


MARCH_10 = dt.date(2024, 3, 10)


@pytest.mark.parametrize(
    "written",
    ["2024-03-10", "10.03.2024", "10/03/2024", "10.3.2024", "10-03-2024", "10.03.24", "03/10/2024", "20240310"],
)
def test_scrub_known_date_forms(written):
    assert scrub_text(f"sample {written} late", id_map={}, dates=[MARCH_10]) == "sample [date] late"


def test_scrub_leaves_unknown_dates_and_numbers_unless_asked():
    text = "on 2023-01-01 value 12.5 code 12345678"
    assert scrub_text(text, id_map={}, dates=[MARCH_10]) == text
    assert scrub_text(text, id_map={}, dates=[MARCH_10], any_date=True) == "on [date] value 12.5 code 12345678"


def test_scrub_month_names():
    assert scrub_text("seen 10 Mar 2024, 3. März 2024", id_map={}, dates=[]) == "seen [date], [date]"


def test_scrub_ids_whole_tokens_only():
    ids = {"NB-1": "P-aaaa", "NB-12": "P-bbbb", "7": "P-cccc"}
    text = "NB-1, NB-12, nb-1 and NB-123; cell D7 value 7"
    assert scrub_text(text, id_map=ids, dates=[]) == "P-aaaa, P-bbbb, P-aaaa and NB-123; cell D7 value P-cccc"


def test_scrub_ids_and_dates_together():
    text = "Patient NB-0042: sample 10.03.2024 before birth 2024-05-01"
    out = scrub_text(text, id_map={"NB-0042": "P-1"}, dates=[MARCH_10, dt.date(2024, 5, 1)])
    assert out == "Patient P-1: sample [date] before birth [date]"


# -- pseudonymize_tables -----------------------------------------------------------------------


def dates(*texts):
    return pd.to_datetime(list(texts))


@pytest.fixture
def tables():
    measurements = pd.DataFrame(
        {
            "patient_id": ["NB-0042", "NB-0042", "NB-0107", "NB-0107", "NB-0999", "NB-0999"],
            "sample_date": dates("2024-03-10", "2024-04-15", "2024-02-15", "2024-01-30", "2024-06-05", "2024-06-01"),
            "analyte": ["VMA"] * 6,
            "value": [12.3, 4.5, 30.0, 41.0, 7.0, 8.0],
            "source_value": ["12,3", "4.5", "30", "41", "7", "8"],
            "source_file": ["lab_export.xlsx"] * 4 + ["NB-0999 2024-06-05.csv"] * 2,
            "source_sheet": ["Results", "Results", "NB-0107", "NB-0107", "", ""],
            "source_cell": ["D2", "D3", "C4", "C5", "B2", "B3"],
            "date_of_birth": dates("2022-05-17", "2022-05-17", "2021-11-03", "2021-11-03", "NaT", "NaT"),
            "age_days": pd.array([663, 699, 834, 818, None, None], dtype="Int64"),
        }
    )
    patients = pd.DataFrame(
        {
            "patient_id": ["NB-0042", "NB-0107"],
            "sex": ["F", "M"],
            "date_of_birth": dates("2022-05-17", "2021-11-03"),
            "diagnosis_date": dates("2024-03-01", "NaT"),
            "age_at_diagnosis_days": pd.array([654, None], dtype="Int64"),
            "source_file": ["lab_export.xlsx"] * 2,
        }
    )
    therapy = pd.DataFrame(
        {
            "patient_id": ["NB-0107", "NB-0107"],
            "event": ["therapy_start", "surgery"],
            "event_label": ["Start Chemo", "OP am 20.04.2024"],
            "event_date": dates("2024-02-10", "2024-04-20"),
            "source_file": ["lab_export.xlsx"] * 2,
        }
    )
    issues = pd.DataFrame(
        {
            "code": ["sample-before-birth", "invalid-date", "missing-result"],
            "severity": ["error", "error", "error"],
            "file": ["lab_export.xlsx", "lab_export.xlsx", "NB-0999 2024-06-05.csv"],
            "sheet": ["NB-0107", "Results", ""],
            "cell": ["B7", "B8", "C4"],
            "row": pd.array([7, 8, 4], dtype="Int64"),
            "column": ["Datum", "Datum", "VMA"],
            "value": ["15.02.2021", "31.02.2024", "NB-0999"],
            "message": [
                "Sample of NB-0107 on 15.02.2021 is before birth (03.11.2021)",
                "Unreadable date 31.02.2024 for NB-0042",
                "Empty result",
            ],
            "hint": ["h1", "h2", "h3"],
        }
    )
    return {"measurements": measurements, "patients": patients, "therapy": therapy, "issues": issues}


def test_patient_ids_replaced(tables):
    out = pseudonymize_tables(**tables, key=KEY)
    assert out["measurements"]["patient_id"].tolist() == [
        by_hand("NB-0042"), by_hand("NB-0042"), by_hand("NB-0107"), by_hand("NB-0107"),
        by_hand("NB-0999"), by_hand("NB-0999"),
    ]
    assert out["patients"]["patient_id"].tolist() == [by_hand("NB-0042"), by_hand("NB-0107")]
    assert out["therapy"]["patient_id"].tolist() == [by_hand("NB-0107")] * 2


def test_days_relative_to_diagnosis_then_therapy_then_first_sample(tables):
    out = pseudonymize_tables(**tables, key=KEY)
    m = out["measurements"]
    # NB-0042, anchor = diagnosis 2024-03-01: 03-10 -> 9; 04-15 -> 31 (rest of March) + 14 = 45.
    # NB-0107, no diagnosis date, anchor = therapy start 2024-02-10: 02-15 -> 5; 01-30 -> -11.
    # NB-0999, no patient row or therapy, anchor = first sample 2024-06-01: 06-05 -> 4; 06-01 -> 0.
    assert m["sample_day"].tolist() == [9, 45, 5, -11, 4, 0]
    assert str(m["sample_day"].dtype) == "Int64"
    # Therapy of NB-0107 from 2024-02-10: surgery 04-20 = 19 (rest of Feb, 2024 is a leap year)
    # + 31 (March) + 20 = 70.
    assert out["therapy"]["event_day"].tolist() == [0, 70]
    p = out["patients"]
    assert p["diagnosis_day"].tolist()[0] == 0
    assert p["diagnosis_day"].isna().tolist() == [False, True]


def test_date_columns_dropped_and_replaced_in_place(tables):
    out = pseudonymize_tables(**tables, key=KEY)
    assert list(out["measurements"].columns) == [
        "patient_id", "sample_day", "analyte", "value", "source_value", "source_file",
        "source_sheet", "source_cell", "age_days",
    ]
    assert list(out["patients"].columns) == [
        "patient_id", "sex", "diagnosis_day", "age_at_diagnosis_days", "source_file",
    ]
    assert list(out["therapy"].columns) == [
        "patient_id", "event", "event_label", "event_day", "source_file",
    ]
    assert out["measurements"]["age_days"].tolist()[:4] == [663, 699, 834, 818]


def test_inputs_not_modified(tables):
    before = {name: frame.copy() for name, frame in tables.items()}
    pseudonymize_tables(**tables, key=KEY)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_text_scrubbed(tables):
    out = pseudonymize_tables(**tables, key=KEY)
    issues = out["issues"]
    assert issues["value"].tolist() == ["[date]", "[date]", by_hand("NB-0999")]
    assert issues["message"].tolist() == [
        f"Sample of {by_hand('NB-0107')} on [date] is before birth ([date])",
        f"Unreadable date [date] for {by_hand('NB-0042')}",
        "Empty result",
    ]
    assert issues["sheet"].tolist() == [by_hand("NB-0107"), "Results", ""]
    assert issues["file"].tolist()[2] == f"{by_hand('NB-0999')} [date].csv"
    assert issues["code"].tolist() == ["sample-before-birth", "invalid-date", "missing-result"]
    m = out["measurements"]
    assert m["source_sheet"].tolist()[2] == by_hand("NB-0107")
    assert m["source_file"].tolist()[0] == "lab_export.xlsx"  # a plain file name is kept
    assert m["source_value"].tolist() == ["12,3", "4.5", "30", "41", "7", "8"]
    assert m["source_cell"].tolist() == ["D2", "D3", "C4", "C5", "B2", "B3"]
    assert out["therapy"]["event_label"].tolist() == ["Start Chemo", "OP am [date]"]


def test_python_date_objects_in_text_column_are_converted(tables):
    measurements = tables["measurements"].assign(
        received=[dt.date(2024, 3, 11)] * 6  # an extra column of date objects, not datetime64
    )
    out = pseudonymize_tables(**{**tables, "measurements": measurements}, key=KEY)
    # NB-0042 from diagnosis 2024-03-01: 10 days; NB-0999 from 2024-06-01: -82 (31 May + 30 Apr + 21 Mar).
    assert out["measurements"]["received_day"].tolist() == [10, 10, 30, 30, -82, -82]


def test_empty_key_refused(tables):
    with pytest.raises(ConfigError):
        pseudonymize_tables(**tables, key=b"")


def written_bytes(path) -> bytes:
    """A file's bytes; for XLSX the decompressed XML of every part (zip deflates the text)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return path.read_bytes()


def date_forms(day: dt.date) -> list[str]:
    return [day.isoformat(), day.strftime("%d.%m.%Y"), day.strftime("%d/%m/%Y"), day.strftime("%Y%m%d")]


def test_written_outputs_contain_no_ids_or_dates(tables, tmp_path):
    out = pseudonymize_tables(**tables, key=KEY)
    ids = ["NB-0042", "NB-0107", "NB-0999"]
    known = sorted(
        {
            d.date()
            for frame in tables.values()
            for name in frame.columns
            if pd.api.types.is_datetime64_any_dtype(frame[name])
            for d in frame[name].dropna()
        }
        | {dt.date(2021, 2, 15)}  # the rejected sample date, only in the issue text
    )
    # 6 sample dates + 2 dates of birth + 1 diagnosis + 2 therapy dates + 1 rejected date.
    assert len(known) == 12
    forbidden = [text.encode() for text in [*ids, "31.02.2024"]]
    forbidden += [f.encode() for d in known for f in date_forms(d)]
    # Excel stores a date as days since 1899-12-30: 2024-03-10 would be 45361.
    serials = [str((d - dt.date(1899, 12, 30)).days).encode() for d in known]
    checked = 0
    for name, frame in out.items():
        for suffix in (".csv", ".xlsx", ".json"):
            path = tmp_path / f"{name}{suffix}"
            write_table(frame, path, sheet_name=name)
            content = written_bytes(path)
            for text in forbidden:
                assert text.lower() not in content.lower(), (path.name, text)
            if suffix == ".xlsx":
                for text in serials:
                    assert b">" + text + b"<" not in content, (path.name, text)
                ws = openpyxl.load_workbook(path)[name]
                assert not any(cell.is_date for row in ws.iter_rows() for cell in row)
            checked += 1
    assert checked == 12
    # The pseudonyms themselves are there.
    assert by_hand("NB-0042").encode() in (tmp_path / "measurements.csv").read_bytes()
    records = json.loads((tmp_path / "measurements.json").read_text(encoding="utf-8"))
    assert records[0]["sample_day"] == 9


def test_pseudonymize_dataset(tables):
    dataset = Dataset(
        measurements=tables["measurements"],
        patients=tables["patients"],
        therapy=tables["therapy"],
        issues=tables["issues"],
        rows=pd.DataFrame(
            {"file": ["lab_export.xlsx"], "sheet": ["NB-0107"], "row": [4], "status": ["kept"], "reason": [""]}
        ),
        files=pd.DataFrame(
            {"file": ["lab_export.xlsx"], "path": ["/clinic/NB-0107/lab_export.xlsx"], "sha256": ["ab"], "format": ["xlsx"]}
        ),
    )
    out = pseudonymize(dataset, key=KEY)
    assert out.rows["sheet"].tolist() == [by_hand("NB-0107")]
    assert list(out.files.columns) == ["file", "sha256", "format"]
    assert out.measurements["sample_day"].tolist() == [9, 45, 5, -11, 4, 0]
    assert dataset.files["path"].tolist() == ["/clinic/NB-0107/lab_export.xlsx"]  # input unchanged


def test_a_date_whose_day_is_already_counted_is_dropped_not_counted_twice():
    from markers.privacy.pseudonym import pseudonymize_tables

    # the assessment holds normalized_date and normalized_day (days since diagnosis) side by side
    assessment = pd.DataFrame({"patient_id": ["P1"], "normalized_date": pd.to_datetime(["2024-03-11"]),
                               "normalized_day": pd.array([70], dtype="Int64")})
    measurements = pd.DataFrame({"patient_id": ["P1"], "sample_date": pd.to_datetime(["2024-01-01"])})
    empty = pd.DataFrame({"patient_id": pd.Series([], dtype=object)})
    out = pseudonymize_tables(measurements=measurements, patients=empty, therapy=empty, issues=empty,
                              key=b"k" * 32, extra={"assessment": assessment})["assessment"]
    assert list(out.columns) == ["patient_id", "normalized_day"]
    assert out["normalized_day"].tolist() == [70]
