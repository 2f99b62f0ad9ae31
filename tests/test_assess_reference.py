"""assess() against a plain per-patient re-implementation of the documented rules (hypothesis).

The reference below is written straight from docs/clinical-rules.md, one patient at a time, with no
code shared with markers: baseline up to the first treatment of any kind (late baseline within
14 days after it), informative, two consecutive normals, persistence at complete remission on a
sample after the baseline and on the far side of surgery, two consecutive elevated samples for a
re-elevation, else the last single elevated sample as an unconfirmed rise. The ULN is constant
(no limit steps) and results uncensored.
"""

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.analysis.assess import assess

DX = pd.Timestamp("2024-01-01")
ULN = 27.0


def reference(days, elevated, *, start, surgery, cr):
    n = len(days)
    first = min(start, surgery if surgery is not None else math.inf)
    window = [i for i, d in enumerate(days) if -30 <= d <= first]
    if window:
        base, late = window[-1], False
    else:
        base = next((i for i, d in enumerate(days) if first < d <= first + 14), None)
        late = True
    out = {"baseline": None if base is None else days[base], "informative": None, "normalized": None,
           "persistent": None, "reelevation": None, "rise": None}
    if base is None:
        return out
    if not elevated[base]:
        out["informative"] = None if late else False
        return out
    out["informative"] = True
    if base == n - 1:
        return out
    normal_at = next((i for i in range(base + 1, n - 1) if not elevated[i] and not elevated[i + 1]), None)
    out["normalized"] = normal_at is not None
    if cr is not None:
        near = [(abs(d - cr), -i, i) for i, d in enumerate(days) if abs(d - cr) <= 30
                and (surgery is None or (d > surgery) == (cr > surgery))]
        if near and min(near)[2] > base:
            out["persistent"] = elevated[min(near)[2]]
    out["reelevation"] = False
    if normal_at is not None:
        pairs = [i for i in range(normal_at + 1, n - 1) if elevated[i] and elevated[i + 1]]
        out["reelevation"] = bool(pairs)
        singles = [i for i in range(normal_at + 1, n) if elevated[i]]
        if not pairs and singles:
            out["rise"] = days[singles[-1]]
    return out


courses = st.lists(st.tuples(st.integers(-40, 400), st.booleans()), min_size=1, max_size=9,
                   unique_by=lambda t: t[0]).map(sorted)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(course=courses, start=st.integers(0, 30), surgery=st.one_of(st.none(), st.integers(0, 200)),
       cr=st.one_of(st.none(), st.integers(100, 400)))
def test_assess_matches_the_plain_reference(course, start, surgery, cr):
    days = [d for d, _ in course]
    elevated = [e for _, e in course]
    values = [2.0 * ULN if e else 0.5 * ULN for e in elevated]
    measurements = pd.DataFrame({
        "patient_id": "P", "analyte": "VMA", "value": values, "unit": "mg/g creatinine", "censor": "",
        "uln": ULN, "x_uln": [v / ULN for v in values], "elevated": pd.array(elevated, dtype="boolean"),
        "sample_date": pd.Series([DX + pd.Timedelta(days=d) for d in days], dtype="datetime64[ns]"),
    })
    events = {"therapy_start": start, "surgery": surgery, "complete_remission": cr}
    therapy = pd.DataFrame([{"patient_id": "P", "event": k, "event_date": DX + pd.Timedelta(days=v)}
                            for k, v in events.items() if v is not None])
    patients = pd.DataFrame({"patient_id": ["P"], "diagnosis_date": [DX]})
    row = assess(measurements, therapy=therapy, patients=patients).iloc[0]
    want = reference(days, elevated, start=start, surgery=surgery, cr=cr)

    def flag(value):
        return None if pd.isna(value) else bool(value)

    def day(value):
        return None if pd.isna(value) else (value - DX).days

    got = {"baseline": day(row["baseline_date"]), "informative": flag(row["informative"]),
           "normalized": flag(row["normalized"]), "persistent": flag(row["persistent"]),
           "reelevation": flag(row["reelevation"]), "rise": day(row["unconfirmed_rise_date"])}
    assert got == want
