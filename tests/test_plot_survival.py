"""Kaplan–Meier figure: artists checked against the Freireich 6-MP data run through the landmark analysis."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from test_survival import MP_EVENT, MP_TIME, PLACEBO_EVENT, PLACEBO_TIME

from markers.analysis.outcomes import outcomes
from markers.plot.survival import exclusion_words, outcome_pages, plot_kaplan_meier


@pytest.fixture(scope="module")
def gehan():
    """The 42 children as a patients sheet (weeks × 7 days), all at end of induction on the diagnosis day
    + 0: placebo 'positive', 6-MP 'negative'."""
    n = len(MP_TIME) + len(PLACEBO_TIME)
    ids = [f"G{i:02d}" for i in range(n)]
    patients = pd.DataFrame({
        "patient_id": ids, "diagnosis_date": pd.Timestamp("2020-01-01"),
        "efs_days": [7.0 * t for t in PLACEBO_TIME + MP_TIME], "efs_event": [bool(e) for e in PLACEBO_EVENT + MP_EVENT],
        "os_days": [7.0 * t for t in PLACEBO_TIME + MP_TIME], "os_event": [bool(e) for e in PLACEBO_EVENT + MP_EVENT],
    })
    therapy = pd.DataFrame({"patient_id": ids, "event": "end_of_induction",
                            "event_date": pd.Timestamp("2020-01-01")})
    status = pd.DataFrame({"patient_id": ids,
                           "status_end_of_induction": ["positive"] * len(PLACEBO_TIME) + ["negative"] * len(MP_TIME)})
    return outcomes(patients, therapy, status=status, landmarks=["end_of_induction"])


@pytest.mark.slow
def test_landmark_analysis_reproduces_the_published_test(gehan):
    # Kleinbaum & Klein ch. 2: log-rank 16.79; R coxph (Efron): HR 4.817 (2.147-10.81), placebo vs 6-MP
    test = gehan.tests.set_index(["endpoint", "landmark"]).loc[("EFS", "end_of_induction")]
    assert (test["n_positive"], test["n_negative"], test["events_positive"], test["events_negative"]) == (21, 21, 21, 9)
    assert test["logrank_chi2"] == pytest.approx(16.79, abs=0.005)
    assert test["hazard_ratio"] == pytest.approx(4.817, abs=0.0005)


def test_curves_bands_and_labels(gehan):
    fig, ax = plt.subplots()
    out = plot_kaplan_meier(gehan, endpoint="EFS", landmark="end_of_induction", ax=ax, years=(0, 0.25, 0.5))
    assert out is ax
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["positive (n=21, 21 events)", "negative (n=21, 9 events)"]
    negative = [line for line in ax.get_lines() if line.get_label().startswith("negative")][0]
    # the 6-MP step curve: 1, then 18/21 from week 6 (x in years)
    assert negative.get_ydata()[:2].tolist() == pytest.approx([1.0, 18 / 21])
    assert negative.get_xdata()[1] == pytest.approx(42 / 365.25)
    assert len(ax.collections) >= 2  # one confidence band per group
    texts = [t.get_text() for t in ax.texts]
    assert "log-rank p < 0.001; HR 4.82 (95% CI 2.15–10.81), positive vs negative" in texts
    # numbers at risk at 0, 0.25 and 0.5 years (0, 91.3, 182.6 days = 13.04 and 26.09 weeks):
    # placebo 21, 4 (15, 17, 22, 23), 0; 6-MP 21, 11 (16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35), 4 (32, 32, 34, 35)
    assert texts.count("21") == 2 and texts.count("4") == 2 and "11" in texts and "0" in texts


@pytest.mark.slow
def test_no_test_is_said_in_words():
    from test_outcomes import STATUS, THERAPY

    with pytest.warns(UserWarning, match="1 missing-follow-up"):
        result = outcomes(None, THERAPY, status=STATUS, landmarks=["end_of_induction"])
    fig, ax = plt.subplots()
    plot_kaplan_meier(result, endpoint="EFS", landmark="end_of_induction", ax=ax)
    assert any(t.get_text().startswith("no test: a group has fewer than 10 patients") for t in ax.texts)
    assert exclusion_words(result, landmark="end_of_induction").startswith(
        "EFS: 2 of 7 patients included; excluded: 2 event before landmark, ")


def test_one_page_per_landmark(gehan):
    pages = list(outcome_pages(gehan))
    assert len(pages) == 2
    words = " ".join(t.get_text() for t in pages[1].texts)
    assert "Outcomes by marker status at end of induction" in words
    assert "EFS: 42 of 42 patients included; excluded: none." in words.replace("\n", " ")
