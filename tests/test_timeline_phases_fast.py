"""The vectorised phase rule equals a plain per-patient reading of the module docstring's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.analysis.timeline import add_timeline, phases
from markers.schema import EVENTS

BOUNDARY_PHASE = {"therapy_start": "induction", "end_of_induction": "", "consolidation": "consolidation",
                  "radiotherapy": "radiotherapy", "maintenance": "maintenance"}


def reference_phase(date, events: list[tuple[str, object]]) -> str:
    """One sample's phase, rule by rule as the docstring states them (first matching rule wins)."""
    if pd.isna(date):
        return ""
    dated = [(e, d) for e, d in events if pd.notna(d) and e in EVENTS]
    if not dated:
        return ""

    def earliest(code):
        days = [d for e, d in dated if e == code]
        return min(days) if days else None

    relapse, end, start = earliest("relapse"), earliest("end_of_therapy"), earliest("therapy_start")
    if relapse is not None and date >= relapse:
        return "relapse"
    if end is not None and date > end:
        return "off-therapy"
    if start is not None and date < start:
        return "pre-treatment"
    opened = [(d, EVENTS.index(e), BOUNDARY_PHASE[e]) for e, d in dated if e in BOUNDARY_PHASE and d <= date]
    return max(opened)[2] if opened else ""


def reference_phases(measurements: pd.DataFrame, therapy: pd.DataFrame) -> list[str]:
    by_patient: dict[str, list] = {}
    for pid, event, date in zip(therapy["patient_id"], therapy["event"], therapy["event_date"], strict=True):
        by_patient.setdefault(str(pid), []).append((event, date))
    return [reference_phase(d, by_patient.get(str(p), []))
            for p, d in zip(measurements["patient_id"], measurements["sample_date"], strict=True)]


DAY0 = pd.Timestamp("2024-01-01")
day = st.one_of(st.none(), st.integers(0, 60))
codes = st.sampled_from([*BOUNDARY_PHASE, "relapse", "end_of_therapy", "diagnosis", "surgery", "not_an_event"])
patient = st.sampled_from(["P1", "P2", "P3", "10"])


def _date(d):
    return pd.NaT if d is None else DAY0 + pd.Timedelta(days=d)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(samples=st.lists(st.tuples(patient, day), max_size=25),
       events=st.lists(st.tuples(patient, codes, day), max_size=15))
def test_fast_phases_equal_the_reference_on_random_courses(samples, events):
    measurements = pd.DataFrame({"patient_id": [p for p, _ in samples],
                                 "sample_date": pd.Series([_date(d) for _, d in samples], dtype="datetime64[ns]")})
    therapy = pd.DataFrame({"patient_id": [p for p, _, _ in events], "event": [e for _, e, _ in events],
                            "event_date": pd.Series([_date(d) for *_, d in events], dtype="datetime64[ns]")})
    got = add_timeline(measurements, therapy=therapy, patients=pd.DataFrame())["phase"].tolist()
    assert got == reference_phases(measurements, therapy)


def test_phases_of_a_worked_course():
    # P1: therapy start day 10, end of induction day 40, consolidation day 40 (same day: the later
    # phase wins), end of therapy day 100, relapse day 200. P2 has no events.
    therapy = pd.DataFrame({"patient_id": ["P1"] * 5,
                            "event": ["therapy_start", "consolidation", "end_of_induction", "end_of_therapy",
                                      "relapse"],
                            "event_date": [DAY0 + pd.Timedelta(days=d) for d in (10, 40, 40, 100, 200)]})
    ids = np.array(["P1", "P1", "P1", "P1", "P1", "P1", "P2"], dtype=object)
    dates = np.array([DAY0 + pd.Timedelta(days=d) for d in (5, 10, 39, 40, 100, 150, 50)], dtype="datetime64[ns]")
    events = therapy.assign(event_label=therapy["event"])
    assert phases(ids, dates, events).tolist() == [
        "pre-treatment", "induction", "induction", "consolidation", "consolidation", "off-therapy", ""]
