"""The run's patient table from measurement rows alone: one row per patient, in ID order, where first given."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.ingest.patient_table import _first_rows_in_id_order
from markers.ingest.reader import read
from markers.readers.files import CELL_DTYPE

HEADER = "Patient ID,Sex,Date of birth,Collection date,Test,Result,Unit\n"


def _patients(tmp_path, rows: str) -> pd.DataFrame:
    path = tmp_path / "export.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return read(path).patients


def test_patients_out_of_id_order_are_sorted_with_their_first_row(tmp_path):
    # P3 first seen on line 2 (cell A2), P1 on line 3, P2 on line 5
    table = _patients(tmp_path, "P3,F,2020-01-01,2021-01-01,VMA,10,mg/g creat\n"
                                "P1,M,2019-05-02,2021-02-01,VMA,12,mg/g creat\n"
                                "P3,F,2020-01-01,2021-03-01,HVA,9,mg/g creat\n"
                                "P2,F,2018-07-03,2021-04-01,VMA,8,mg/g creat\n")
    assert table["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert table["source_cell"].tolist() == ["A3", "A5", "A2"]
    assert table["sex"].tolist() == ["M", "F", "F"]
    assert [str(d.date()) for d in table["date_of_birth"]] == ["2019-05-02", "2018-07-03", "2020-01-01"]
    assert table["source_file"].tolist() == ["export.csv"] * 3 and table["source_sheet"].tolist() == [""] * 3
    assert list(table.index) == [0, 1, 2]


def test_patients_already_in_id_order_keep_it_and_their_text_columns(tmp_path):
    # a lab export patient by patient: the order is the IDs' byte order ("P10" before "P9")
    table = _patients(tmp_path, "P10,F,2020-01-01,2021-01-01,VMA,10,mg/g creat\n"
                                "P10,F,2020-01-01,2021-01-01,HVA,11,mg/g creat\n"
                                "P9,M,2019-05-02,2021-02-01,VMA,12,mg/g creat\n")
    assert table["patient_id"].tolist() == ["P10", "P9"]
    assert table["source_cell"].tolist() == ["A2", "A4"]
    assert list(table.index) == [0, 1]
    for column in ("patient_id", "sex", "source_file", "source_sheet", "source_cell"):
        assert table[column].dtype == pd.StringDtype(na_value=float("nan")), column


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["P1", "P10", "P2", "p1", "Ü7", "é", "NB-000003", "10", "9"]), min_size=1, max_size=40))
def test_first_rows_in_id_order_are_drop_duplicates_then_a_stable_sort_by_id(ids):
    # what the patients table did before: keep each ID's first row, then sort by ID (Arrow: byte order)
    rows = pd.DataFrame({"patient_id": pd.array(ids, dtype=CELL_DTYPE), "row": range(len(ids))})
    expected = rows.drop_duplicates("patient_id").sort_values("patient_id", kind="stable")
    assert rows.take(_first_rows_in_id_order(rows["patient_id"]))["row"].tolist() == expected["row"].tolist()
