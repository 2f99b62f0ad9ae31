"""Under pseudonymization the patient-level status keeps its unconfirmed rise, as a day."""

from pathlib import Path

import pandas as pd

from markers.pipeline import analyse, pseudonymize_analysis
from markers.privacy.pseudonym import pseudonym

COURSES = Path(__file__).parent.parent / "sample_data" / "courses_workbook.xlsx"
KEY = bytes(range(32))


def test_unconfirmed_rise_is_carried_as_a_day():
    analysis = analyse([COURSES])
    shared = pseudonymize_analysis(analysis, key=KEY).patient_status
    assert "unconfirmed_rise_date" not in shared.columns
    row = shared.set_index("patient_id").loc[pseudonym("NB-018", key=KEY)]
    # NB-018: diagnosis 2021-11-15 (the anchor), unconfirmed VMA rise sampled 2023-04-23:
    # 365 days to 2022-11-15, 151 to 2023-04-15, 8 more = day 524
    assert int(row["unconfirmed_rise_day"]) == 524
    assert row["summary"].endswith("unconfirmed rise on day 524: repeat advised")
    assert "2023" not in " ".join(shared["summary"])
    others = shared[shared["patient_id"] != pseudonym("NB-018", key=KEY)]
    assert others["unconfirmed_rise_day"].isna().all()


def test_status_columns_are_those_of_the_plain_analysis():
    analysis = analyse([COURSES])
    plain = analysis.patient_status
    shared = pseudonymize_analysis(analysis, key=KEY).patient_status
    expected = [c.replace("unconfirmed_rise_date", "unconfirmed_rise_day") for c in plain.columns]
    assert list(shared.columns) == expected
    assert shared["status_complete_remission"].tolist() == plain["status_complete_remission"].tolist()
    assert plain["unconfirmed_rise_date"].notna().sum() == 1
    assert pd.Timestamp(plain["unconfirmed_rise_date"].dropna().iloc[0]) == pd.Timestamp("2023-04-23")
