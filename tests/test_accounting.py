"""Row accounting on generated sheets: markers never raises anything but its own error,
and every row read is kept, rejected or skipped."""

import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from markers.errors import MarkersError
from markers.ingest.reader import read

HEADERS = [
    "Patient ID", "MRN", "Sample date", "Collected", "Date of birth", "Test", "LOINC", "Result", "Unit",
    "VMA (mg/g creat)", "HVA (mmol/mol creat)", "Creatinine (mmol/L)", "Flag", "Reference range",
    "Comment", "Sex", "junk", "", "Event", "Date",
]
CELLS = st.one_of(
    st.none(),
    st.integers(min_value=-5, max_value=10_000),
    st.floats(min_value=-1, max_value=1e4, allow_nan=False),
    st.sampled_from(["<0.5", ">200", "12,5", "45.2 H", "QNS", "Cancelled", "n/a", "VMA", "HVA", "3124-5",
                     "mg/g creat", "µmol/mmol", "mg/24 h", "furlongs", "0042", "End of report", "0-27",
                     "05/03/2024", "13.03.2024", "2024-02-30", "=1+1", "Start of induction", "M", "F"]),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)).map(
        lambda d: dt.datetime(d.year, d.month, d.day)),
    st.text(max_size=8),
)


@st.composite
def sheets(draw):
    width = draw(st.integers(min_value=1, max_value=7))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width))
    title_lines = draw(st.integers(min_value=0, max_value=2))
    rows = [[draw(st.sampled_from(["Report", "Synthetic", None]))] for _ in range(title_lines)]
    rows.append(header)
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        rows.append(draw(st.lists(CELLS, min_size=width, max_size=width)))
    return rows


def _clean(value):
    # openpyxl refuses control characters in cells; a real workbook cannot hold them either
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch == "\t")
    return value


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=sheets())
def test_generated_sheets_are_accounted_for(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.xlsx"
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Data"
        for row in rows:
            ws.append([_clean(v) for v in row])
        wb.save(path)
        n_rows = ws.max_row if any(any(v is not None for v in r) for r in rows) else 0
        try:
            data = read(path, today=dt.date(2026, 11, 25))
        except MarkersError:
            return  # a clear error for the user is an allowed outcome; anything else fails the test
        counts = data.counts()
        assert (counts["read"] == counts["kept"] + counts["rejected"] + counts["skipped"]).all()
        read_rows = int(counts["read"].sum()) if len(counts) else 0
        # every row of the sheet, up to its last non-empty one, is accounted for exactly once
        assert read_rows <= n_rows
        assert not data.rows.duplicated(["file", "sheet", "row"]).any()
        # every rejected row has an error issue at that row
        rejected = data.rows[data.rows["status"] == "rejected"]
        errors = data.issues[data.issues["severity"] == "error"]
        assert set(rejected["row"]) <= set(errors["row"].dropna().astype(int))
        # every measurement comes from a kept row
        kept = set(data.rows.loc[data.rows["status"] == "kept", "row"])
        assert set(data.measurements["source_row"]) <= kept
