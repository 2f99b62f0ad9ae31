"""Atomic writers, formula-injection safety, XLSX cell types, provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import markers
from markers.errors import ConfigError, InputFormatError, OutputError
from markers.write.output import (
    atomic_write,
    neutralise_formula,
    provenance_record,
    sidecar_path,
    write_bytes_atomic,
    write_table,
)

DANGEROUS = ["=1+1", "+A1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def csv_bytes(*lines: str) -> bytes:
    """The expected file: UTF-8 lines ending in CRLF (RFC 4180)."""
    return "".join(line + "\r\n" for line in lines).encode("utf-8")


def leftovers(directory: Path) -> list[str]:
    """Temporary files atomic_write may have left (".name.XXXX.tmp")."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- atomic_write ------------------------------------------------------------------------


def test_atomic_write_replaces_content(tmp_path):
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    with atomic_write(target) as handle:
        handle.write(b"new content")
    assert target.read_bytes() == b"new content"
    assert leftovers(tmp_path) == []


def test_atomic_write_temp_file_is_beside_target_and_hidden(tmp_path):
    target = tmp_path / "report.pdf"
    with atomic_write(target) as handle:
        handle.write(b"%PDF")
        (temp,) = tmp_path.iterdir()
        assert temp.name.startswith(".report.pdf.") and temp.name.endswith(".tmp")
        assert not target.exists()  # nothing at the target until the block succeeds
    assert not temp.exists()
    assert target.read_bytes() == b"%PDF"


class Boom(Exception):
    pass


def test_old_file_intact_when_writer_raises_midway(tmp_path):
    target = tmp_path / "table.csv"
    target.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(Boom), atomic_write(target) as handle:
        handle.write(b"x,y\n")  # half of the new content is written ...
        handle.flush()
        raise Boom  # ... then the writer fails
    assert target.read_bytes() == b"a,b\n1,2\n"
    assert leftovers(tmp_path) == []


def test_old_file_intact_on_keyboard_interrupt(tmp_path):
    target = tmp_path / "table.csv"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(target, mode="w") as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_no_file_created_when_writer_raises(tmp_path):
    target = tmp_path / "new.xlsx"
    with pytest.raises(Boom), atomic_write(target) as handle:
        handle.write(b"PK")
        raise Boom
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_input_same_path(tmp_path):
    source = tmp_path / "lab.csv"
    source.write_bytes(b"original")
    with pytest.raises(OutputError) as err, atomic_write(source, inputs=[source]) as handle:
        handle.write(b"x")
    assert str(err.value) == f"refusing to overwrite the input file {source}; choose another output name"
    assert source.read_bytes() == b"original"
    assert leftovers(tmp_path) == []


def test_refuses_input_through_other_relative_path(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    source = tmp_path / "data" / "lab.csv"
    source.write_bytes(b"original")
    monkeypatch.chdir(tmp_path / "data")
    with pytest.raises(OutputError, match="refusing to overwrite the input file"):
        write_bytes_atomic(b"x", "../data/./lab.csv", inputs=["lab.csv"])
    assert source.read_bytes() == b"original"


def test_refuses_input_through_symlink(tmp_path):
    source = tmp_path / "lab.xlsx"
    source.write_bytes(b"original")
    link = tmp_path / "out.xlsx"
    link.symlink_to(source)
    with pytest.raises(OutputError, match="refusing to overwrite the input file"):
        write_bytes_atomic(b"x", link, inputs=[source])
    assert source.read_bytes() == b"original"
    assert link.is_symlink()


def test_refuses_input_through_hard_link(tmp_path):
    source = tmp_path / "lab.csv"
    source.write_bytes(b"original")
    other = tmp_path / "copy.csv"
    os.link(source, other)
    with pytest.raises(OutputError, match="refusing to overwrite the input file"):
        write_bytes_atomic(b"x", other, inputs=[source])
    assert source.read_bytes() == b"original"


def test_writing_through_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_bytes_atomic(b"new", link)
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_missing_directory(tmp_path):
    target = tmp_path / "nowhere" / "out.csv"
    with pytest.raises(OutputError) as err:
        write_bytes_atomic(b"x", target)
    assert str(err.value).startswith(f"directory {tmp_path / 'nowhere'} does not exist")


def test_target_is_a_directory(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        write_bytes_atomic(b"x", tmp_path)


def test_existing_permissions_are_kept(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_bytes_atomic(b"new", target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_new_file_gets_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        write_bytes_atomic(b"x", tmp_path / "out.csv")
    finally:
        os.umask(old)
    # 0o666 & ~0o027 = 0o640
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o640


def test_exclusive_refuses_existing(tmp_path):
    target = tmp_path / "key"
    target.write_bytes(b"keep")
    with pytest.raises(OutputError, match="already exists"), atomic_write(target, exclusive=True) as h:
        h.write(b"x")
    assert target.read_bytes() == b"keep"
    assert leftovers(tmp_path) == []


def test_exclusive_detects_file_created_meanwhile(tmp_path):
    target = tmp_path / "key"
    with pytest.raises(OutputError, match="already exists"), atomic_write(target, exclusive=True) as h:
        h.write(b"mine")
        target.write_bytes(b"theirs")  # another process wins the race
    assert target.read_bytes() == b"theirs"
    assert leftovers(tmp_path) == []


def test_text_mode_is_utf8_without_newline_translation(tmp_path):
    target = tmp_path / "t.txt"
    with atomic_write(target, mode="w") as handle:
        handle.write("µmol\n")
    assert target.read_bytes() == "µmol\n".encode()


# -- CSV / TSV --------------------------------------------------------------------------------


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": ["=1+1", "+A1", "-2+3", "@SUM(A1)", "plain", "-1.5"],
            "value": [-1.5, 2.25, np.nan, 10.0, 0.5, -3.0],
            "sample_date": pd.to_datetime(
                ["2024-03-10", "2024-03-11", None, "2024-12-31", "2023-01-01", "2024-02-29"]
            ),
            "elevated": pd.array([True, False, None, True, False, True], dtype="boolean"),
            "age_days": pd.array([100, None, 300, 4, 5, 6], dtype="Int64"),
        }
    )


def test_csv_iso_dates_no_index_and_no_prefix_by_default(tmp_path):
    target = tmp_path / "out.csv"
    write_table(mixed_frame(), target)
    assert target.read_bytes() == csv_bytes(
        "patient_id,value,sample_date,elevated,age_days",
        "=1+1,-1.5,2024-03-10,True,100",
        "+A1,2.25,2024-03-11,False,",
        "-2+3,,,,300",
        "@SUM(A1),10.0,2024-12-31,True,4",
        "plain,0.5,2023-01-01,False,5",
        "-1.5,-3.0,2024-02-29,True,6",
    )


def test_safe_csv_prefixes_exactly_the_dangerous_text(tmp_path):
    target = tmp_path / "out.csv"
    write_table(mixed_frame(), target, safe_csv=True)
    # The four formula-like IDs get "'"; "plain" does not; the negative numbers
    # in "value" stay numbers, and the text "-1.5" is a plain number, not a formula.
    assert target.read_bytes() == csv_bytes(
        "patient_id,value,sample_date,elevated,age_days",
        "'=1+1,-1.5,2024-03-10,True,100",
        "'+A1,2.25,2024-03-11,False,",
        "'-2+3,,,,300",
        "'@SUM(A1),10.0,2024-12-31,True,4",
        "plain,0.5,2023-01-01,False,5",
        "-1.5,-3.0,2024-02-29,True,6",
    )


def test_safe_csv_tab_and_cr_and_header(tmp_path):
    frame = pd.DataFrame({"=HYPERLINK()": ["\tcmd", "\rcmd", "a-b", "-"]})
    target = tmp_path / "out.csv"
    write_table(frame, target, safe_csv=True)
    # The field with a CR is quoted (CR is part of the line terminator); the
    # prefix sits inside the quotes. A tab needs no quotes in a comma CSV.
    assert target.read_bytes() == csv_bytes("'=HYPERLINK()", "'\tcmd", "\"'\rcmd\"", "a-b", "'-")
    back = pd.read_csv(target)
    assert back["'=HYPERLINK()"].tolist() == ["'\tcmd", "'\rcmd", "a-b", "'-"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+A1", "'+A1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\rx", "'\rx"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("-2,5e3", "-2,5e3"),
        ("1=1", "1=1"),
        ("", ""),
    ],
)
def test_neutralise_formula(text, expected):
    assert neutralise_formula(text) == expected


def test_safe_csv_prefixes_the_words_of_a_categorical_once_each(tmp_path):
    # a categorical's words are neutralised as its categories; "=x" beside "'=x" would become one
    # word, and then the column is prefixed cell by cell
    frame = pd.DataFrame({"a": pd.Categorical(["=1", "x", None, "-2", "=1"]),
                          "b": pd.Categorical(["=x", "'=x", "y", "y", "@z"])})
    target = tmp_path / "out.csv"
    write_table(frame, target, safe_csv=True)
    assert target.read_bytes() == b"a,b\r\n'=1,'=x\r\nx,'=x\r\n,y\r\n-2,y\r\n'=1,'@z\r\n"
    write_table(frame, target)
    assert target.read_bytes() == b"a,b\r\n=1,=x\r\nx,'=x\r\n,y\r\n-2,y\r\n=1,@z\r\n"


def test_tsv(tmp_path):
    target = tmp_path / "out.tsv"
    write_table(pd.DataFrame({"a": ["x", "=y"], "b": [1, 2]}), target, safe_csv=True)
    assert target.read_bytes() == csv_bytes("a\tb", "x\t1", "'=y\t2")


def test_csv_with_time_of_day_keeps_the_time(tmp_path):
    target = tmp_path / "out.csv"
    write_table(pd.DataFrame({"t": pd.to_datetime(["2024-03-10 08:30", "2024-03-11 00:00"])}), target)
    assert target.read_bytes() == csv_bytes("t", "2024-03-10T08:30:00", "2024-03-11T00:00:00")


def test_sidecar_provenance(tmp_path):
    target = tmp_path / "out.csv"
    provenance = {"markers_version": "9.9", "created": "2024-05-01T10:00:00Z", "options": {"unit": "mg/g"}}
    write_table(pd.DataFrame({"a": [1]}), target, provenance=provenance)
    sidecar = tmp_path / "out.csv.provenance.json"
    assert sidecar_path(target) == sidecar
    assert json.loads(sidecar.read_text(encoding="utf-8")) == provenance
    assert target.read_bytes() == csv_bytes("a", "1")
    assert leftovers(tmp_path) == []


def test_no_sidecar_without_provenance(tmp_path):
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_sidecar_that_is_an_input_is_refused_before_writing(tmp_path):
    source = tmp_path / "out.csv.provenance.json"
    source.write_text("{}")
    with pytest.raises(OutputError, match="refusing to overwrite the input file"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.csv", inputs=[source], provenance={})
    assert not (tmp_path / "out.csv").exists()
    assert source.read_text() == "{}"


def test_unknown_extension(tmp_path):
    with pytest.raises(OutputError) as err:
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xls")
    message = str(err.value)
    assert "unknown extension '.xls'" in message
    assert "use one of .csv, .tsv, .xlsx, .json" in message


def test_input_frame_not_modified(tmp_path):
    frame = mixed_frame()
    before = frame.copy()
    write_table(frame, tmp_path / "out.csv", safe_csv=True)
    write_table(frame, tmp_path / "out.xlsx")
    write_table(frame, tmp_path / "out.json")
    pd.testing.assert_frame_equal(frame, before)


# -- JSON ----------------------------------------------------------------------------------------


def test_json_records(tmp_path):
    target = tmp_path / "out.json"
    write_table(mixed_frame().iloc[:3], target)
    assert json.loads(target.read_text(encoding="utf-8")) == [
        {"patient_id": "=1+1", "value": -1.5, "sample_date": "2024-03-10", "elevated": True, "age_days": 100},
        {"patient_id": "+A1", "value": 2.25, "sample_date": "2024-03-11", "elevated": False, "age_days": None},
        {"patient_id": "-2+3", "value": None, "sample_date": None, "elevated": None, "age_days": 300},
    ]


def test_json_with_provenance(tmp_path):
    target = tmp_path / "out.json"
    write_table(pd.DataFrame({"a": ["µ"]}), target, provenance={"created": "2024-05-01T10:00:00Z"})
    assert json.loads(target.read_text(encoding="utf-8")) == {
        "provenance": {"created": "2024-05-01T10:00:00Z"},
        "records": [{"a": "µ"}],
    }


# -- XLSX --------------------------------------------------------------------------------------------


def test_xlsx_cell_types(tmp_path):
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "+A1", "-2+3", "@SUM(A1)", "plain"],
            "value": [1.5, -1.5, np.nan, 7.0, 0.0],
            "count": pd.array([3, None, 1, 2, 0], dtype="Int64"),
            "sample_date": pd.to_datetime(["2024-03-10", "2024-03-11", None, "2024-01-01", "2023-12-31"]),
            "dilute": [True, False, True, False, True],
        }
    )
    target = tmp_path / "out.xlsx"
    write_table(frame, target)
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["measurements"]
    ws = wb["measurements"]

    assert [c.value for c in ws[1]] == ["text", "value", "count", "sample_date", "dilute"]
    assert all(c.font.b for c in ws[1])
    assert all(c.fill.fill_type == "solid" for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:E6"  # 5 columns, header + 5 rows

    # Formula-like text stays text: string cells, value as written.
    for row, text in zip(range(2, 6), ["=1+1", "+A1", "-2+3", "@SUM(A1)"], strict=True):
        assert ws.cell(row, 1).data_type == "s"
        assert ws.cell(row, 1).value == text
    # Numbers are numbers, NaN / NA are empty.
    assert (ws["B2"].data_type, ws["B2"].value) == ("n", 1.5)
    assert ws["B3"].value == -1.5
    assert ws["B4"].value is None
    assert ws["C2"].value == 3 and ws["C3"].value is None
    # Dates are real date cells with an ISO display format; NaT is empty.
    assert ws["D2"].value == dt.datetime(2024, 3, 10)
    assert ws["D2"].is_date and ws["D2"].number_format == "yyyy-mm-dd"
    assert ws["D4"].value is None
    # Booleans are booleans.
    assert (ws["E2"].data_type, ws["E2"].value) == ("b", True)
    assert ws["E3"].value is False


def test_xlsx_formula_text_is_not_a_formula_in_the_xml(tmp_path):
    target = tmp_path / "out.xlsx"
    write_table(pd.DataFrame({"a": ["=1+1"]}), target)
    with zipfile.ZipFile(target) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    assert 't="inlineStr"' in sheet and "=1+1" in sheet


def test_xlsx_column_widths_follow_content_and_are_capped(tmp_path):
    frame = pd.DataFrame({"id": ["x" * 20], "note": ["y" * 500]})
    target = tmp_path / "out.xlsx"
    write_table(frame, target)
    ws = openpyxl.load_workbook(target).active
    assert ws.column_dimensions["A"].width == 22  # 20 characters + 2 of margin
    assert ws.column_dimensions["B"].width == 60  # capped


def test_xlsx_control_characters_and_infinity(tmp_path):
    target = tmp_path / "out.xlsx"
    write_table(pd.DataFrame({"a": ["bell\x07"], "b": [np.inf]}), target)
    ws = openpyxl.load_workbook(target).active
    assert ws["A2"].value == "bell\ufffd"
    assert (ws["B2"].value, ws["B2"].data_type) == ("inf", "s")


def test_xlsx_byte_identical_and_normalised(tmp_path):
    frame = mixed_frame()
    provenance = {"markers_version": "0.1.0", "created": "2024-05-01T10:00:00Z", "inputs": []}
    write_table(frame, tmp_path / "a.xlsx", provenance=provenance)
    write_table(frame, tmp_path / "b.xlsx", provenance=provenance)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.created == dt.datetime(2024, 5, 1, 10, 0)
    assert props.modified == dt.datetime(2024, 5, 1, 10, 0)


def test_xlsx_without_provenance_uses_fixed_date(tmp_path):
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "a.xlsx")
    props = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert props.created == dt.datetime(2000, 1, 1)
    assert props.modified == dt.datetime(2000, 1, 1)


def test_xlsx_provenance_sheet_and_properties(tmp_path):
    provenance = {
        "markers_version": "0.1.0",
        "created": "2024-05-01T10:00:00Z",
        "inputs": [{"file": "=lab.csv", "sha256": "ab" * 32}],
        "reference_set": None,
        "options": {"unit": "mg/g"},
    }
    target = tmp_path / "out.xlsx"
    write_table(pd.DataFrame({"a": [1]}), target, provenance=provenance, sheet_name="results")
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["results", "provenance"]
    rows = list(wb["provenance"].values)
    assert rows == [
        ("key", "value"),
        ("markers_version", "0.1.0"),
        ("created", "2024-05-01T10:00:00Z"),
        ("inputs.0.file", "=lab.csv"),
        ("inputs.0.sha256", "ab" * 32),
        ("reference_set", None),
        ("options.unit", "mg/g"),
    ]
    assert wb["provenance"]["B4"].data_type == "s"  # "=lab.csv" is not a formula either
    assert wb.properties.creator == "markers"
    assert wb.properties.title == "markers results"
    assert json.loads(wb.properties.description) == provenance


@pytest.mark.parametrize("name", ["", "a" * 32, "a/b", "x[1]"])
def test_xlsx_invalid_sheet_name(tmp_path, name):
    with pytest.raises(OutputError, match="is not allowed in Excel"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx", sheet_name=name)
    assert not (tmp_path / "out.xlsx").exists()


def test_xlsx_refuses_input(tmp_path):
    source = tmp_path / "lab.xlsx"
    source.write_bytes(b"original")
    with pytest.raises(OutputError, match="refusing to overwrite the input file"):
        write_table(pd.DataFrame({"a": [1]}), source, inputs=[source])
    assert source.read_bytes() == b"original"


def test_xlsx_empty_frame(tmp_path):
    target = tmp_path / "out.xlsx"
    write_table(pd.DataFrame({"a": pd.Series(dtype=float), "b": pd.Series(dtype=object)}), target)
    ws = openpyxl.load_workbook(target).active
    assert list(ws.values) == [("a", "b")]
    assert ws.auto_filter.ref == "A1:B1"


# -- provenance_record -------------------------------------------------------------------------------


def test_provenance_record(tmp_path, monkeypatch):
    source = tmp_path / "lab.csv"
    source.write_bytes(b"abc")
    # 1 700 000 000 s after 1970-01-01 = 19 675 days + 80 000 s
    # = 2023-11-14 + 22 h 13 min 20 s.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    record = provenance_record(
        inputs=[source], options={"unit": "mg/g", "day_first": None, "path": tmp_path / "x"}, reference_set="default"
    )
    assert record == {
        "markers_version": markers.__version__,
        "created": "2023-11-14T22:13:20Z",
        # SHA-256("abc"), the FIPS 180-2 test vector.
        "inputs": [{"file": "lab.csv", "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}],
        "reference_set": "default",
        "options": {"unit": "mg/g", "day_first": None, "path": str(tmp_path / "x")},
    }
    assert hashlib.sha256(b"abc").hexdigest() == record["inputs"][0]["sha256"]


def test_provenance_record_now_is_utc(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    created = dt.datetime.strptime(
        provenance_record(inputs=[], options={}, reference_set=None)["created"], "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=dt.UTC)
    assert before <= created <= dt.datetime.now(dt.UTC)


def test_provenance_record_bad_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH='yesterday'"):
        provenance_record(inputs=[], options={}, reference_set=None)


def test_provenance_record_missing_input(tmp_path):
    with pytest.raises(InputFormatError, match=r"^gone\.csv: cannot be read \(No such file or directory\); check the path\.$"):
        provenance_record(inputs=[tmp_path / "gone.csv"], options={}, reference_set=None)


def test_provenance_record_uses_given_checksums_without_reading(tmp_path):
    """Ingestion has hashed the inputs already: provenance reuses that and reads nothing."""
    gone = tmp_path / "gone.csv"  # does not exist: reading it would raise
    record = provenance_record(inputs=[gone], options={}, reference_set=None, checksums={str(gone): "ab" * 32})
    assert record["inputs"] == [{"file": "gone.csv", "sha256": "ab" * 32}]
