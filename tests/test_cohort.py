"""Cohort views: the Kaplan–Meier curve is checked against a hand calculation."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from plot_fixtures import (
    make_assessment,
    make_data,
    make_pseudonymized,
    make_therapy,
    pseudonym_of,
    tables_of,
)

from markers.errors import ConfigError
from markers.plot.cohort import (
    binned_median,
    cohort_figures,
    median_days_to_normalization,
    normalization_curve,
    plot_cohort_spaghetti,
    plot_swimmer,
    plot_time_to_normalization,
)

START = pd.Timestamp("2024-01-01")


def km_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    """5 informative patients: normalized on days 30, 60, 60; never normalized with the last
    sample on day 90 (D) and day 20 (E); plus one non-informative patient F, who must not count.
    Day 90 since 2024-01-01 is 2024-03-31 (31 + 29 + 30); day 20 is 2024-01-21."""
    a = pd.DataFrame({
        "patient_id": ["A", "B", "C", "D", "E", "F"],
        "analyte": "VMA",
        "informative": pd.array([True, True, True, True, True, False], dtype="boolean"),
        "normalized": pd.array([True, True, True, False, False, False], dtype="boolean"),
        "days_to_normalization": pd.array([30, 60, 60, None, None, None], dtype="Int64"),
        "last_sample_date": pd.to_datetime(["2024-04-01", "2024-04-01", "2024-04-01", "2024-03-31",
                                            "2024-01-21", "2024-01-05"]),
    })
    t = pd.DataFrame({"patient_id": list("ABCDEF"), "event": "therapy_start", "event_label": "start",
                      "event_date": START})
    return a, t


def test_normalization_curve_by_hand():
    a, t = km_example()
    curve = normalization_curve(a, analyte="VMA", therapy=t)
    # KM: day 20  E censored, 5 at risk, S = 1
    #     day 30  1 of 4 normalizes: S = 3/4          -> 0.25
    #     day 60  2 of 3 normalize:  S = 3/4 · 1/3 = 1/4 -> 0.75
    #     day 90  D censored, 1 at risk, S stays 1/4  -> 0.75
    expected = pd.DataFrame({
        "day": [0, 20, 30, 60, 90],
        "at_risk": [5, 5, 4, 3, 1],
        "events": [0, 0, 1, 2, 0],
        "censored": [0, 1, 0, 0, 1],
        "proportion_normalized": [0.0, 0.0, 0.25, 0.75, 0.75],
    })
    pd.testing.assert_frame_equal(curve, expected)
    assert median_days_to_normalization(curve) == 60.0


def test_normalization_curve_ties_count_the_censored_as_at_risk():
    a = pd.DataFrame({"patient_id": ["A", "B", "C"], "analyte": "HVA", "informative": True,
                      "normalized": [True, False, True], "days_to_normalization": [30, None, 60],
                      "days_to_last_sample": [30, 30, 60]})
    curve = normalization_curve(a, analyte="HVA")
    # day 30: 3 at risk, 1 event (B, censored the same day, still at risk): S = 2/3 -> 1/3
    # day 60: 1 at risk, 1 event: S = 0 -> 1
    assert curve["at_risk"].tolist() == [3, 3, 1]
    np.testing.assert_allclose(curve["proportion_normalized"], [0.0, 1 / 3, 1.0])


def test_normalization_curve_needs_therapy_for_censoring():
    a, _ = km_example()
    with pytest.raises(ConfigError, match="pass therapy=dataset.therapy"):
        normalization_curve(a, analyte="VMA")


def test_patients_without_a_time_are_left_out_with_a_warning():
    a, t = km_example()
    t = t[t["patient_id"] != "D"]
    with pytest.warns(UserWarning, match="1 informative patient.*VMA.*D"):
        curve = normalization_curve(a, analyte="VMA", therapy=t)
    assert curve["at_risk"].iloc[0] == 4


def test_time_to_normalization_plot():
    a, t = km_example()
    ax1 = Figure().subplots()
    assert plot_time_to_normalization(a, analyte="VMA", therapy=t, ax=ax1) is ax1
    (step,) = [ln for ln in ax1.get_lines() if ln.get_gid() == "km:VMA"]
    assert step.get_label() == "VMA (n=5)"
    assert step.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(step.get_xdata(), [0, 20, 30, 60, 90])
    np.testing.assert_allclose(step.get_ydata(), [0, 0, 0.25, 0.75, 0.75])
    (ticks,) = [ln for ln in ax1.get_lines() if ln.get_gid() == "censor:VMA"]
    assert ticks.get_marker() == "|"
    np.testing.assert_array_equal(ticks.get_xdata(), [20, 90])
    np.testing.assert_allclose(ticks.get_ydata(), [0.0, 0.75])


def test_binned_median_weights_each_patient_once():
    f = pd.DataFrame({"patient_id": ["A", "A", "A", "B", "C"], "day": [0, 5, 29, 10, 31],
                      "x_uln": [8.0, 8.0, 8.0, 2.0, 1.0]})
    # bin 0 (days 0–29): A's median 8, B 2 -> median of (8, 2) = 5 (not the 8 of pooled samples)
    # bin 1 (days 30–59): C alone, 1
    out = binned_median(f, min_patients=1)
    assert out["day"].tolist() == [15.0, 45.0]
    assert out["median"].tolist() == [5.0, 1.0]
    assert binned_median(f, min_patients=2)["day"].tolist() == [15.0]


def test_spaghetti_draws_informative_patients_and_median():
    ax1 = Figure().subplots()
    ax = plot_cohort_spaghetti(make_data(), analyte="VMA", assessment=make_assessment(), ax=ax1)
    assert ax is ax1
    gids = sorted(ln.get_gid() for ln in ax.get_lines() if ln.get_gid().startswith("patient:"))
    assert gids == ["patient:P1", "patient:P2", "patient:P3"]  # P4 is not informative
    (p2,) = [ln for ln in ax.get_lines() if ln.get_gid() == "patient:P2"]
    np.testing.assert_allclose(p2.get_ydata(), [3.0, 20 / 27, 10 / 27])  # 81/27, 20/27, 10/27
    (median,) = [ln for ln in ax.get_lines() if ln.get_gid() == "median"]
    # only days 0–29 hold ≥ 3 patients: P1 10, P2 3, P3 5 -> median 5 at the bin centre, day 15
    assert median.get_xdata().tolist() == [15.0]
    assert median.get_ydata().tolist() == [5.0]
    assert ax.get_yscale() == "log"


def test_spaghetti_median_with_smaller_bins():
    ax = plot_cohort_spaghetti(make_data(), analyte="VMA", assessment=make_assessment(), bin_days=100,
                               min_patients=2, ax=Figure().subplots())
    (median,) = [ln for ln in ax.get_lines() if ln.get_gid() == "median"]
    # days 0–99: P1 median(10, 2) = 6, P2 median(3, 20/27), P3 median(5, 12/13)
    # days 100–199: P1 1 (day 150), P2 10/27 (day 120) -> median 0.685; 200–299: P1 5/13, P3 3
    p2 = (3 + 20 / 27) / 2
    p3 = (5 + 12 / 13) / 2
    np.testing.assert_allclose(median.get_ydata(),
                               [sorted([6.0, p2, p3])[1], (1 + 10 / 27) / 2, (5 / 13 + 3) / 2])
    assert median.get_xdata().tolist() == [50.0, 150.0, 250.0]


def lane_of(ax):
    return [t.get_text() for t in ax.get_yticklabels()]


def test_swimmer_lanes_sorted_by_outcome():
    ax1 = Figure().subplots()
    ax = plot_swimmer(make_data(), therapy=make_therapy(), assessment=make_assessment(), ax=ax1)
    assert ax is ax1
    # P3 relapsed (top); P4 has no remission recorded; P1 and P2 reached CR, longer follow-up first
    # (P1's last sample day 240, P2's day 120)
    assert lane_of(ax) == ["P3", "P4", "P1", "P2"]
    assert ax.get_ylim() == (3.5, -0.5)


def test_swimmer_phase_bars_status_segments_and_events():
    ax = plot_swimmer(make_data(), therapy=make_therapy(), assessment=make_assessment(), ax=Figure().subplots())
    patches = {p.get_gid(): p for p in ax.patches}
    induction = patches["phase:P1:induction"]  # day 4 to day 109, lane 2
    assert (induction.get_x(), induction.get_width()) == (4.0, 105.0)
    assert induction.get_y() + induction.get_height() / 2 == 2
    # P1 status: days 0, 60, 150 elevated (HVA 3, 1.5, 1.5× ULN); day 240 normal (VMA <5, HVA 0.5×)
    segments = [patches[f"status:P1:{k}"] for k in range(4)]
    assert [(s.get_x(), s.get_width()) for s in segments[:3]] == [(0, 60), (60, 90), (150, 90)]
    assert [to_hex(s.get_facecolor()) for s in segments] == ["#d55e00", "#d55e00", "#d55e00", "#009e73"]
    assert segments[3].get_width() == pytest.approx(2.4)  # stub: 1% of the longest follow-up, 240 days
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert lines["event:relapse"].get_marker() == "X"
    assert lines["event:relapse"].get_xdata() == [193.0]  # 2022-03-01 -> 2022-09-10
    assert lines["event:relapse"].get_ydata() == [0.0]
    assert lines["event:surgery"].get_marker() == "^"
    assert lines["event:complete_remission"].get_marker() == "o"


def test_cohort_figures_are_pyplot_free_pages():
    pages = cohort_figures(make_data(), therapy=make_therapy(), assessment=make_assessment(), page_size="Letter")
    assert len(pages) == 3  # spaghetti (VMA, HVA), time to normalization, swimmer
    assert all(isinstance(p, Figure) for p in pages)
    assert all(tuple(p.get_size_inches()) == pytest.approx((8.5, 11.0)) for p in pages)
    assert plt.get_fignums() == []
    spaghetti_titles = [ax.get_title(loc="left") for ax in pages[0].axes]
    assert spaghetti_titles == ["VMA: 3 informative patients", "HVA: 3 informative patients"]


@pytest.mark.slow
def test_cohort_inputs_are_not_changed():
    data, therapy, assessment = make_data(), make_therapy(), make_assessment()
    copies = [data.copy(), therapy.copy(), assessment.copy()]
    cohort_figures(data, therapy=therapy, assessment=assessment)
    for frame, before in zip([data, therapy, assessment], copies, strict=True):
        pd.testing.assert_frame_equal(frame, before)


# -- layout and pseudonymised data ----------------------------------------------------------


def _used_bottom(fig):
    return min(ax.get_position().y0 for ax in fig.axes)


@pytest.mark.slow
def test_cohort_pages_use_the_whole_page():
    pages = cohort_figures(make_data(), therapy=make_therapy(), assessment=make_assessment())
    # Two analytes are stacked at full width but the margin for the patients' names (0.10 to 0.86),
    # down to 5 % above the page's foot.
    spaghetti = pages[0].axes
    assert [round(ax.get_position().x1 - ax.get_position().x0, 2) for ax in spaghetti] == [0.76, 0.76]
    assert _used_bottom(pages[0]) == pytest.approx(0.05)
    # Time to normalization: curve, analyte table and the per-patient table (4 patients + header).
    km = pages[1]
    (days,) = [t for t in tables_of(km) if t.get_gid() == "days_table"]
    assert [days.text(r, 0) for r in range(1, 5)] == ["P1", "P2", "P3", "P4"]
    # P1 VMA normal on day 150 since diagnosis, the count of every page (146 since therapy start on
    # day 4); P4 not informative.
    assert days.text(1, 1) == "150"
    assert days.text(4, 1) == "not informative"
    # Swimmer: 4 lanes of the 0.6-inch maximum = 2.4 in of 11.69 in.
    (swim,) = pages[2].axes
    assert swim.get_position().height == pytest.approx(2.4 / 11.69)


@pytest.mark.slow
def test_swimmer_lanes_shrink_with_many_patients():
    data, therapy, assessment = make_data(), make_therapy(), make_assessment()
    many_ids = [f"Q{i}" for i in range(40)]
    data = pd.concat([data[data["patient_id"] == "P1"].assign(patient_id=q) for q in many_ids], ignore_index=True)
    therapy = pd.concat([therapy[therapy["patient_id"] == "P1"].assign(patient_id=q) for q in many_ids],
                        ignore_index=True)
    assessment = pd.concat([assessment[assessment["patient_id"] == "P1"].assign(patient_id=q) for q in many_ids],
                           ignore_index=True)
    pages = cohort_figures(data, therapy=therapy, assessment=assessment)
    (swim,) = pages[-1].axes
    # 40 lanes share 0.86 of the page: 0.86 × 11.69 / 40 = 0.25 in each, within 0.18–0.6.
    assert swim.get_position().height == pytest.approx(0.86)
    assert len(swim.get_yticklabels()) == 40


@pytest.mark.slow
def test_pseudonymised_cohort_views_equal_the_dated_ones():
    ds, data, assessment = make_pseudonymized()
    assert not any(c.endswith("_date") for c in [*data.columns, *assessment.columns, *ds.therapy.columns])
    dated = normalization_curve(make_assessment(), analyte="VMA", therapy=make_therapy())
    pd.testing.assert_frame_equal(normalization_curve(assessment, analyte="VMA", therapy=ds.therapy), dated)
    ax = plot_swimmer(data, therapy=ds.therapy, assessment=assessment, ax=Figure().subplots())
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    assert lines["event:relapse"].get_xdata() == [193.0]  # P3: 2022-03-01 -> 2022-09-10, as dated
    patches = {p.get_gid(): p for p in ax.patches}
    induction = patches[f"phase:{pseudonym_of('P1')}:induction"]
    assert (induction.get_x(), induction.get_width()) == (4.0, 105.0)
    pages = cohort_figures(data, therapy=ds.therapy, assessment=assessment)
    assert len(pages) == 3


def test_never_normalized_patient_is_censored_at_the_last_sample_day():
    a, t = km_example()
    # The same example pseudonymised by hand: dates -> days since 2024-01-01 (the anchor).
    a = a.assign(last_sample_day=(a["last_sample_date"] - START).dt.days).drop(columns="last_sample_date")
    t = t.assign(event_day=0).drop(columns="event_date")
    curve = normalization_curve(a, analyte="VMA", therapy=t)
    assert curve["day"].tolist() == [0, 20, 30, 60, 90]
    np.testing.assert_allclose(curve["proportion_normalized"], [0.0, 0.0, 0.25, 0.75, 0.75])


@pytest.mark.slow
def test_one_cohort_page_alone_equals_that_page_of_the_whole_set():
    from markers.plot.cohort import iter_cohort_figures

    data, therapy, assessment = make_data(), make_therapy(), make_assessment()
    every = [fig.texts[0].get_text() for fig in iter_cohort_figures(data, therapy=therapy, assessment=assessment,
                                                                     lanes_per_page=2)]
    assert len(every) >= 3
    for k, title in enumerate(every):
        alone = list(iter_cohort_figures(data, therapy=therapy, assessment=assessment, lanes_per_page=2, only=k))
        assert [fig.texts[0].get_text() for fig in alone] == [title]
