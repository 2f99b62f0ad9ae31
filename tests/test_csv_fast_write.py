"""The column-wise CSV/TSV writer writes the very bytes pandas' writer wrote, so readers see the same file."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from markers.pipeline import analyse
from markers.report.summary import summary_text
from markers.write.cells import text_frame
from markers.write.csvtext import _joined_runs, csv_chunks
from markers.write.tables import write_table

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
NASTY = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "crlf\r\n", "tab\there", "Ünïcødé µg/mg",
         "=1+1", "+SUM(A1)", "-2", "-x", "@cmd", "\tlead", "\rlead", "", " spaced ", "'quoted", "-1.5e3",
         "ß,\"€\"\n", "日本語"]


def old_bytes(frame: pd.DataFrame, *, safe_csv: bool, sep: str = ",") -> bytes:
    """What write_table wrote before: pandas' to_csv of the text frame, UTF-8."""
    return text_frame(frame, safe_csv=safe_csv).to_csv(index=False, sep=sep, lineterminator="\r\n").encode()


def generated(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1e3, rows)
    floats[rng.random(rows) < 0.1] = np.nan
    floats[:4] = [0.1 + 0.2, -0.0, 1e-7, 1e16]
    text = rng.choice(np.array(NASTY, dtype=object), rows)
    text[rng.random(rows) < 0.05] = None
    return pd.DataFrame({
        "patient_id": [f"P{i:05d}" for i in range(rows)],
        "comment": text,
        "note": pd.array(rng.choice(np.array(NASTY, dtype=object), rows), dtype="str"),
        "value": floats,
        "count": rng.integers(-5, 10**9, rows),
        "ok": rng.random(rows) < 0.5,
        "sample_date": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 3000, rows), unit="D"),
        "=head,er": np.r_[-0.0, 0.0, np.nan, rng.integers(0, 3, rows - 3)],  # few distinct; -0.0 keeps its sign
        "note_py": pd.array(rng.choice(np.array(NASTY, dtype=object), rows), dtype=pd.StringDtype("python")),
        "age_days": pd.array(np.where(rng.random(rows) < 0.1, None, rng.integers(0, 7000, rows)), dtype="Int64"),
        "elevated": pd.array(np.where(rng.random(rows) < 0.1, None, rng.random(rows) < 0.5), dtype="boolean"),
    })


@pytest.mark.parametrize("safe_csv", [False, True])
@pytest.mark.parametrize("sep", [",", "\t"])
def test_generated_10k_rows_same_bytes_and_same_read_back(tmp_path, safe_csv, sep):
    frame = generated(10_000)
    assert csv_chunks(text_frame(frame, safe_csv=safe_csv)) is not None
    target = tmp_path / ("t.csv" if sep == "," else "t.tsv")
    write_table(frame, target, safe_csv=safe_csv)
    expected = old_bytes(frame, safe_csv=safe_csv, sep=sep)
    assert target.read_bytes() == expected
    back = pd.read_csv(target, sep=sep, dtype=str, keep_default_na=False)
    old_back = pd.read_csv(io.BytesIO(expected), sep=sep, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, old_back)
    if safe_csv:
        assert "'=head,er" in back.columns
        assert not back["comment"].str.match(r"[=+@\t\r]").any()  # every formula trigger is neutralised
        assert (back.loc[frame["comment"].eq("-2").to_numpy(), "comment"] == "-2").all()  # numbers stay


def test_small_chunks_and_edge_shapes():
    frame = generated(1_001, seed=3)
    assert b"".join(csv_chunks(text_frame(frame, safe_csv=False), chunk_rows=97)) == old_bytes(frame, safe_csv=False)
    lone = pd.DataFrame({"a": ["", "x", None, "y,z"]}, dtype=object)  # a lone empty field is written as ""
    assert b"".join(csv_chunks(lone)) == lone.to_csv(index=False, lineterminator="\r\n").encode()
    assert b"".join(csv_chunks(lone)) == b'a\r\n""\r\nx\r\n""\r\n"y,z"\r\n'
    empty = pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})
    assert b"".join(csv_chunks(empty)) == b"a,b\r\n"


def test_other_column_kinds_fall_back_to_pandas(tmp_path):
    frame = pd.DataFrame({"n": pd.array([1.5, None], dtype="Float64"), "c": pd.Categorical(["a", "b,c"]),
                          "mixed": [1, "x"], "k": pd.Categorical([1, 2])})
    assert csv_chunks(frame[["n"]]) is None and csv_chunks(frame[["k"]]) is None
    assert csv_chunks(frame[["mixed"]]) is None
    write_table(frame, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_bytes() == b'n,c,mixed,k\r\n1.5,a,1,1\r\n,"b,c",x,2\r\n'


def test_text_categories_are_written_by_code():
    # a categorical of text (the dates of text_frame) is written column-wise: each category quoted once
    frame = pd.DataFrame({"c": pd.Categorical(["a", None, "b,c", "a"], categories=["b,c", "a", "unused"]),
                          "x": [1, 2, 3, 4]})
    assert b"".join(csv_chunks(frame)) == b'c,x\r\na,1\r\n,2\r\n"b,c",3\r\na,4\r\n'
    assert b"".join(csv_chunks(frame)) == frame.to_csv(index=False, lineterminator="\r\n").encode()


@pytest.mark.parametrize("safe_csv", [False, True])
def test_sample_measurements_same_bytes(tmp_path, safe_csv):
    analysis = analyse([SAMPLES / "study_workbook.xlsx", SAMPLES / "lab_export_eu.csv"])
    frame = analysis.measurements
    assert csv_chunks(text_frame(frame, safe_csv=safe_csv)) is not None  # the column-wise path is taken
    write_table(frame, tmp_path / "m.csv", safe_csv=safe_csv)
    assert (tmp_path / "m.csv").read_bytes() == old_bytes(frame, safe_csv=safe_csv)


def test_summary_text_of_sample_data_unchanged():
    """The summary lists every issue code once, in the catalogue's order, the first 12 places of each."""
    from markers.ingest.issues import ISSUE_TYPES, location

    dataset = analyse([SAMPLES / "study_workbook.xlsx", SAMPLES / "lab_export_eu.csv"]).dataset
    text = summary_text(dataset)
    issues = dataset.issues
    assert len(issues)
    # The earlier rendering, one group of rows per code (kept here as the reference).
    order = {code: i for i, code in enumerate(ISSUE_TYPES)}
    lines = []
    for code, group in sorted(issues.groupby("code", sort=False), key=lambda item: order.get(item[0], 999)):
        places = [location("", rec.sheet, rec.cell) for rec in group.itertuples()]
        shown = ", ".join(places[:12]) + (f", … ({len(places) - 12} more)" if len(places) > 12 else "")
        lines += [f"{ISSUE_TYPES[code].severity} {code} ({len(group)}): {ISSUE_TYPES[code].title}",
                  f"  {'/'.join(sorted(set(group['file'])))}: {shown}", f"  hint: {ISSUE_TYPES[code].hint}"]
    assert text.split("\n\n", 1)[1] == "\n".join(lines)
    head = text.split("\n\n", 1)[0].splitlines()
    counts = dataset.counts()
    assert head[:-1] == [f"{r.file}: {r.read} rows read = {r.kept} kept + {r.rejected} rejected + {r.skipped} skipped"
                         for r in counts.itertuples()]
    assert head[-1].startswith(f"{len(dataset.measurements)} measurements of "
                               f"{dataset.measurements['patient_id'].nunique()} patients; ")


def test_nullable_integers_and_booleans_as_pandas_writes_them():
    frame = pd.DataFrame({"age_days": pd.array([418, None, -3], dtype="Int64"),
                          "elevated": pd.array([True, None, False], dtype="boolean"),
                          "small": pd.array([255, 0, None], dtype="UInt8")})
    assert b"".join(csv_chunks(frame)) == b"age_days,elevated,small\r\n418,True,255\r\n,,0\r\n-3,False,\r\n"
    assert b"".join(csv_chunks(frame)) == frame.to_csv(index=False, lineterminator="\r\n").encode()


@pytest.mark.parametrize("sep", [",", "\t"])
def test_quotes_only_where_a_field_needs_them(sep):
    # clean text (no byte needs quoting) in most slices, one field per kind of trigger in one slice
    text = [f"P{i:04d}" for i in range(1_000)]
    text[450], text[451], text[452], text[453], text[454] = "a,b", 'say "hi"', "cr\ronly", "two\nlines", "tab\there"
    frame = pd.DataFrame({"id": pd.array(text, dtype="str"), "x": np.arange(1_000) / 8})
    written = b"".join(csv_chunks(frame, sep=sep, chunk_rows=100))
    assert written == frame.to_csv(index=False, sep=sep, lineterminator="\r\n").encode()
    lines = written.split(b"\r\n")
    assert lines[1] == f"P0000{sep}0.0".encode()
    assert lines[452] == (b'"say ""hi"""' + sep.encode() + b"56.375")
    assert lines[451] == (b'"a,b"' if sep == "," else b"a,b") + sep.encode() + b"56.25"
    assert lines[455].startswith(b'"tab\there"' if sep == "\t" else b"tab\there")


def test_the_quote_search_reads_only_its_own_chunk():
    # a chunk of rows is a slice sharing its column's whole buffer: the search for bytes that need
    # quotes looks at the chunk's own fields, so one comma in row 450 is seen by the chunk that holds
    # it and by no other chunk
    from markers.write.csvtext import _field_text, _may_need_quotes

    text = [f"P{i:04d}" for i in range(1_000)]
    text[450] = "a,b"
    column = pd.Series(pd.array(text, dtype="str"))
    found = [_may_need_quotes(_field_text(column.iloc[start:start + 100]), ",") for start in range(0, 1_000, 100)]
    assert found == [False, False, False, False, True, False, False, False, False, False]
    assert not _may_need_quotes(_field_text(column.iloc[451:]), ",")
    assert _may_need_quotes(_field_text(column.iloc[450:451]), ",")


@pytest.mark.parametrize("sep", [",", "\t"])
def test_repetitive_text_is_quoted_once_per_distinct_value(sep):
    # a long column of a few sentences (the assessment's notes and summaries): quoted by distinct value
    words = ["informative; normalized on day 59", 'a "quoted" word', "no, sample", "plain", "two\nlines", "tab\tin"]
    codes = np.arange(6_000) % len(words)
    frame = pd.DataFrame({"summary": pd.array(np.array(words, dtype=object)[codes], dtype="str"),
                          "n": pd.array(np.where(codes == 1, None, codes), dtype="Int64"),
                          "x": np.where(codes == 2, np.nan, codes / 4)})
    written = b"".join(csv_chunks(frame, sep=sep))
    assert written == frame.to_csv(index=False, sep=sep, lineterminator="\r\n").encode()
    lines = written.split(b"\r\n")
    s = sep.encode()
    assert lines[2] == b'"a ""quoted"" word"' + s + s + b"0.25"
    assert lines[3] == (b'"no, sample"' if sep == "," else b"no, sample") + s + b"2" + s
    assert lines[6] == (b"tab\tin" if sep == "," else b'"tab\tin"') + s + b"5" + s + b"1.25"


@pytest.mark.parametrize("sep", [",", "\t"])
def test_blocks_runs_and_slices_write_what_pandas_writes(sep, monkeypatch):
    # columns coded by distinct value and joined in runs, over several blocks and slices that do not line up
    import markers.write.csvtext as csvtext

    frame = generated(5_000, seed=11)
    frame["flag"] = pd.array(np.where(np.arange(5_000) % 3 == 0, None, np.arange(5_000) % 2 == 0), dtype="boolean")
    frame["empty"] = np.full(5_000, np.nan)
    frame["status"] = pd.array(np.array(["normal", "elevated", "a,b"], dtype=object)[np.arange(5_000) % 3], dtype="str")
    monkeypatch.setattr(csvtext, "BLOCK_ROWS", 1_200)
    written = b"".join(csv_chunks(text_frame(frame, safe_csv=False), sep=sep, chunk_rows=500))
    assert written == old_bytes(frame, safe_csv=False, sep=sep)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_empty_and_two_valued_columns_by_their_shortcuts(sep):
    # a registry's assessment: findings empty in every row, flags of two or three values, one ID per
    # row; each is coded without hashing (or not coded at all) and written as pandas writes it
    from markers.write.csvtext import _field

    rows = 3_000
    frame = pd.DataFrame({
        "id": pd.array([f"P{i:05d}" for i in range(rows)], dtype="str"),
        "nadir_value": np.full(rows, np.nan),
        "nadir_day": pd.array([None] * rows, dtype="Int64"),
        "status": pd.array([""] * rows, dtype="str"),
        "late": np.arange(rows) % 3 == 1,
        "informative": pd.array(np.where(np.arange(rows) % 3 == 2, None, np.arange(rows) % 3 == 0), dtype="boolean"),
        "x": np.arange(rows) / 4,
    })
    written = b"".join(csv_chunks(frame, sep=sep, chunk_rows=700))
    assert written == frame.to_csv(index=False, sep=sep, lineterminator="\r\n").encode()
    s = sep.encode()
    lines = written.split(b"\r\n")
    assert lines[1] == b"P00000" + s * 4 + b"False" + s + b"True" + s + b"0.0"
    assert lines[2] == b"P00001" + s * 4 + b"True" + s + b"False" + s + b"0.25"
    assert lines[3] == b"P00002" + s * 4 + b"False" + s + s + b"0.5"
    codes, texts = _field(frame["nadir_value"], sep)
    assert texts.to_pylist() == [""] and not codes.any()
    codes, texts = _field(frame["nadir_day"], sep)
    assert texts.to_pylist() == [""] and not codes.any()
    codes, texts = _field(frame["status"], sep)
    assert texts.to_pylist() == [""] and not codes.any()
    codes, texts = _field(frame["informative"], sep)
    assert texts.to_pylist() == ["False", "True", ""] and codes[:3].tolist() == [1, 0, 2]
    codes, texts = _field(frame["id"], sep)
    assert codes is None and texts.to_pylist()[:2] == ["P00000", "P00001"]


def test_date_columns_midnight_by_whole_days_and_empty_ones_without_hashing(tmp_path):
    # midnight is a whole number of days of nanoseconds (before 1970 too); a column of NaT only
    # (a finding no course reached) is written empty
    from markers.write.cells import date_text, datetime_columns

    frame = pd.DataFrame({
        "day": pd.to_datetime(["1960-03-01", None, "2024-02-29"]),
        "stamp": pd.to_datetime(["1969-12-31 23:59", None, "2024-02-29 00:00"]),
        "none": pd.to_datetime([None, None, None]),
    }).astype("datetime64[ns]")  # the assessment's unit
    assert datetime_columns(frame) == {"day": True, "stamp": False, "none": True}
    assert date_text(frame["none"]).isna().all()
    target = tmp_path / "d.csv"
    write_table(frame, target)
    assert target.read_bytes() == (b"day,stamp,none\r\n1960-03-01,1969-12-31T23:59:00,\r\n,,\r\n"
                                   b"2024-02-29,2024-02-29T00:00:00,\r\n")



def test_columns_in_several_arrow_chunks_as_pandas_writes_them():
    # concatenated tables (the issues of several sheets) hold their text in several Arrow chunks:
    # a repetitive column (coded by distinct value), a column of one text per row, and categories
    part = pd.DataFrame({"code": pd.array(["missing-patient-id", "duplicate-result"] * 800, dtype="str"),
                         "cell": pd.array([f"C{i}" for i in range(1_600)], dtype="str"),
                         "sheet": pd.Categorical(["Samples", 'Say "hi"'] * 800)})
    frame = pd.concat([part, part.iloc[:700]], ignore_index=True)
    assert frame["code"].array._pa_array.num_chunks == 2 and frame["cell"].array._pa_array.num_chunks == 2
    written = b"".join(csv_chunks(frame))
    assert written == frame.to_csv(index=False, lineterminator="\r\n").encode()
    lines = written.split(b"\r\n")
    assert lines[1] == b"missing-patient-id,C0,Samples" and lines[1602] == b'duplicate-result,C1,"Say ""hi"""'


def test_validate_rejects_of_a_workbook_with_several_issue_kinds(tmp_path):
    # the sample workbook's issues come from several sheets and checks, concatenated
    from click.testing import CliRunner

    from markers.cli import cli
    from markers.ingest.reader import read

    out = tmp_path / "rejects.csv"
    source = SAMPLES / "study_workbook.xlsx"
    result = CliRunner().invoke(cli, ["validate", str(source), "--rejects", str(out)])
    assert result.exit_code == 1, result.output
    issues = read(source).issues
    assert out.read_bytes() == old_bytes(issues, safe_csv=False)
    table = pd.read_csv(out, dtype=str)
    assert len(table) == len(issues) == 7
    assert table.iloc[0][["code", "sheet", "cell"]].tolist() == ["missing-patient-id", "Samples", "A152"]


def test_coded_columns_fold_into_runs_as_they_come():
    # four columns given one at a time (a generator): A and C of two texts, B of one, D plain text. With a
    # limit of 4 combinations, A, B and C make one run (2 x 1 x 2 = 4): row i's text is
    # A[i] + "," + B[i] + "," + C[i]; D stays apart. Worked by hand: (x,,q) (y,,p) (y,,q) (x,,p).
    def text(*values):
        return pa.array(values, type=pa.large_string())

    fields = iter([
        (np.array([0, 1, 1, 0]), text("x", "y")),
        (np.zeros(4, dtype=np.int64), text("")),
        (np.array([1, 0, 1, 0]), text("p", "q")),
        (None, text("d1", "d2", "d3", "d4")),
    ])
    (codes, combinations), (plain, d) = _joined_runs(fields, ",", limit=4)
    assert combinations.take(pa.array(codes)).to_pylist() == ["x,,q", "y,,p", "y,,q", "x,,p"]
    assert plain is None and d.to_pylist() == ["d1", "d2", "d3", "d4"]
    # a limit of 3: A and B make a run (2 combinations), C starts the next (alone: its own codes and texts)
    fields = [(np.array([0, 1, 1, 0]), text("x", "y")), (np.zeros(4, dtype=np.int64), text("")),
              (np.array([1, 0, 1, 0]), text("p", "q"))]
    (first, first_texts), (second, second_texts) = _joined_runs(iter(fields), ",", limit=3)
    assert first_texts.take(pa.array(first)).to_pylist() == ["x,", "y,", "y,", "x,"]
    assert second.tolist() == [1, 0, 1, 0] and second_texts.to_pylist() == ["p", "q"]


def test_a_run_whose_rows_hold_few_of_its_combinations_takes_in_the_next_field():
    def text(*values):
        return pa.array(values, type=pa.large_string())

    # A and B have 10 texts each: 100 combinations in principle, 3 in the rows. C's 3 texts would make
    # 300 (above the limit of 150); the 3 that occur make 9, so C joins the run: one part, not two
    words = [f"w{i}" for i in range(10)]
    a, b, c = np.array([0, 9, 0, 5]), np.array([1, 2, 1, 5]), np.array([2, 0, 1, 2])
    fields = [(a.copy(), text(*words)), (b.copy(), text(*words)), (c.copy(), text("p", "q", "r"))]
    [(codes, combinations)] = _joined_runs(iter(fields), ",", limit=150)
    assert combinations.take(pa.array(codes)).to_pylist() == ["w0,w1,r", "w9,w2,p", "w0,w1,q", "w5,w5,r"]
    assert len(combinations) <= 9


@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_text_in_every_row_by_one_comparison_and_a_late_change_still_written(sep):
    # the file's name on every row: one code, its text quoted once; a unit that is the same for the
    # first 1,000 rows and then changes: coded by its two values, as pandas writes it
    from markers.write.csvtext import _field

    rows = 2_500
    late = np.where(np.arange(rows) < 2_000, "mg/g creatinine", "mmol/mol, creatinine")
    frame = pd.DataFrame({"source_file": pd.array(["lab, export.csv"] * rows, dtype="str"),
                          "unit": pd.array(late, dtype="str")})
    codes, texts = _field(frame["source_file"], sep)
    assert texts.to_pylist() == (['"lab, export.csv"'] if sep == "," else ["lab, export.csv"])
    assert codes.tolist() == [0] * rows
    codes, texts = _field(frame["unit"], sep)
    assert len(texts) == 2 and codes[1_999] != codes[2_000]
    written = b"".join(csv_chunks(frame, sep=sep, chunk_rows=900))
    assert written == frame.to_csv(index=False, sep=sep, lineterminator="\r\n").encode()
    lines = written.split(b"\r\n")
    s = sep.encode()
    name = b'"lab, export.csv"' if sep == "," else b"lab, export.csv"
    assert lines[1] == name + s + b"mg/g creatinine"
    assert lines[2_001] == name + s + (b'"mmol/mol, creatinine"' if sep == "," else b"mmol/mol, creatinine")


def test_mostly_distinct_integers_written_one_by_one_and_few_distinct_by_code():
    # source row numbers, out of order after sorting by patient and with a repeat: 1,000 distinct in
    # the first 1,000 rows, so each row's number is written without hashing; a count of 3 values is coded
    from markers.write.csvtext import _field

    rows = np.r_[np.arange(3_001, 1, -1), [7, 7]]
    frame = pd.DataFrame({"source_row": rows, "n": np.arange(len(rows)) % 3})
    codes, texts = _field(frame["source_row"], ",")
    assert codes is None and texts.to_pylist()[:2] == ["3001", "3000"] and texts.to_pylist()[-2:] == ["7", "7"]
    codes, texts = _field(frame["n"], ",")
    assert sorted(texts.to_pylist()) == ["0", "1", "2"] and len(codes) == len(rows)
    written = b"".join(csv_chunks(frame, chunk_rows=1_100))
    assert written == frame.to_csv(index=False, lineterminator="\r\n").encode()
    assert written.split(b"\r\n")[1] == b"3001,0"


@pytest.mark.parametrize("safe_csv", [False, True])
def test_assessment_written_from_its_coded_words_has_the_bytes_of_its_text(tmp_path, safe_csv):
    # write_analysis_table keeps the assessment's words as Categoricals on their way to a CSV;
    # pandas' writer of the text table (statuses, notes, summaries as str) wrote the same bytes
    from markers.pipeline import write_analysis_table
    from markers.report.summary import rounded

    inputs = [SAMPLES / "study_workbook.xlsx", SAMPLES / "lab_export_eu.csv"]
    written = write_analysis_table(inputs, tmp_path / "a.csv", table="assessment", safe_csv=safe_csv)
    assert isinstance(written.assessment["summary"].dtype, pd.CategoricalDtype)
    text = analyse(inputs).assessment
    assert text["summary"].dtype == "str"
    assert (tmp_path / "a.csv").read_bytes() == old_bytes(rounded(text), safe_csv=safe_csv)


def test_buffer_bytes_of_a_slice_are_its_own_text():
    from markers.write.csvtext import _buffer_bytes

    lines = pa.array(["ab\r\n", "cde\r\n", "f\r\n", ""], type=pa.large_string())
    assert bytes(_buffer_bytes(lines)) == b"ab\r\ncde\r\nf\r\n"
    assert bytes(_buffer_bytes(lines.slice(1, 2))) == b"cde\r\nf\r\n"
    assert bytes(_buffer_bytes(lines.slice(3))) == b""
