"""Decline half-life: log-linear least squares checked against fits worked out by hand."""

import math

import pandas as pd
import pytest

from markers.analysis.kinetics import decline_half_life
from markers.errors import MissingColumnError

START = pd.Timestamp("2024-01-01")


def _samples(points: list[tuple[int, float, str]]) -> pd.DataFrame:
    """(day since START, value, censor) -> a samples table."""
    return pd.DataFrame(
        {
            "sample_date": [START + pd.Timedelta(days=d) for d, _, _ in points],
            "value": [v for _, v, _ in points],
            "censor": [c for _, _, c in points],
        }
    )


def test_exact_halving_every_10_days():
    # ln 80, ln 40, ln 20 at days 0, 10, 20 lie on one line of slope ln(1/2)/10,
    # so k = ln 2 / 10 per day, half-life = ln 2 / k = 10 d exactly and r² = 1.
    fit = decline_half_life(_samples([(0, 80.0, ""), (10, 40.0, ""), (20, 20.0, "")]), therapy_start=START)
    assert fit["k_per_day"] == pytest.approx(math.log(2) / 10)
    assert fit["half_life_days"] == pytest.approx(10.0)
    assert fit["r2"] == pytest.approx(1.0)
    assert fit["n_points"] == 3
    assert fit["n_censored_excluded"] == 0
    assert fit["note"] == ""
    assert fit["sample_dates"] == [START, START + pd.Timedelta(days=10), START + pd.Timedelta(days=20)]


def test_inexact_three_point_fit_by_hand():
    # values 100, 50, 40 at days 0, 10, 20; y = ln(value), x̄ = 10, Σ(x − x̄)² = 100 + 0 + 100 = 200.
    # slope = Σ(x − x̄)(y − ȳ) / 200 = (−10·ln100 + 10·ln40) / 200 = ln(0.4) / 20 = −0.0458145
    # k = ln(2.5)/20 = 0.0458145 /d; half-life = ln2 / k = 20·ln2 / ln2.5 = 13.8629 / 0.916291 = 15.1294 d
    # The fitted line passes through (x̄, ȳ); the middle residual is d = y1 − ȳ = (2·ln50 − ln100 − ln40)/3
    # = ln(0.625)/3, the end residuals are −d/2 each, so SS_res = d² + 2(d/2)² = 1.5·d² = ln²(0.625)/6
    # = 0.220903/6 = 0.036817; SS_reg = slope²·200 = ln²(0.4)/2 = 0.839589/2 = 0.419794;
    # r² = SS_reg / (SS_reg + SS_res) = 0.419794 / 0.456611 = 0.91937.
    fit = decline_half_life(_samples([(0, 100.0, ""), (10, 50.0, ""), (20, 40.0, "")]), therapy_start=START)
    assert fit["k_per_day"] == pytest.approx(math.log(2.5) / 20)
    assert fit["half_life_days"] == pytest.approx(20 * math.log(2) / math.log(2.5))
    assert round(fit["half_life_days"], 4) == 15.1294
    ss_reg = math.log(0.4) ** 2 / 2
    ss_res = math.log(0.625) ** 2 / 6
    assert fit["r2"] == pytest.approx(ss_reg / (ss_reg + ss_res))
    assert round(fit["r2"], 5) == 0.91937


def test_censored_samples_are_left_out_and_counted():
    # "<5" on day 15 would pull the line down if used; without it the fit is the exact 10-day halving.
    samples = _samples([(0, 80.0, ""), (10, 40.0, ""), (15, 5.0, "<"), (20, 20.0, ""), (25, 900.0, ">")])
    fit = decline_half_life(samples, therapy_start=START)
    assert fit["half_life_days"] == pytest.approx(10.0)
    assert fit["n_points"] == 3
    assert fit["n_censored_excluded"] == 2


def test_fewer_than_three_usable_points_gives_nan_with_reason():
    samples = _samples([(0, 80.0, ""), (10, 40.0, ""), (20, 5.0, "<")])
    fit = decline_half_life(samples, therapy_start=START)
    assert math.isnan(fit["half_life_days"])
    assert math.isnan(fit["k_per_day"])
    assert fit["n_points"] == 2
    assert fit["n_censored_excluded"] == 1
    assert fit["note"] == "2 usable sample(s) in days 0-100 (3 needed)"


def test_window_is_inclusive_at_both_ends():
    # days −1 and 101 fall outside (0, 100); days 0, 50, 100 with 80, 40, 20 halve every 50 days.
    samples = _samples([(-1, 5000.0, ""), (0, 80.0, ""), (50, 40.0, ""), (100, 20.0, ""), (101, 0.001, "")])
    fit = decline_half_life(samples, therapy_start=START)
    assert fit["half_life_days"] == pytest.approx(50.0)
    assert fit["n_points"] == 3


def test_custom_window():
    samples = _samples([(0, 500.0, ""), (10, 80.0, ""), (20, 40.0, ""), (30, 20.0, "")])
    fit = decline_half_life(samples, therapy_start=START, window=(10, 30))
    assert fit["half_life_days"] == pytest.approx(10.0)
    assert fit["n_points"] == 3


def test_rising_values_are_no_decline():
    # 10, 20, 40 at days 0, 10, 20: slope = +ln2/10, so k = −ln2/10 ≤ 0.
    fit = decline_half_life(_samples([(0, 10.0, ""), (10, 20.0, ""), (20, 40.0, "")]), therapy_start=START)
    assert math.isnan(fit["half_life_days"])
    assert fit["k_per_day"] == pytest.approx(-math.log(2) / 10)
    assert fit["note"] == "no decline"


def test_flat_values_are_no_decline():
    fit = decline_half_life(_samples([(0, 10.0, ""), (10, 10.0, ""), (20, 10.0, "")]), therapy_start=START)
    assert math.isnan(fit["half_life_days"])
    assert fit["note"] == "no decline"


def test_no_therapy_start():
    fit = decline_half_life(_samples([(0, 80.0, ""), (10, 40.0, ""), (20, 20.0, "")]), therapy_start=pd.NaT)
    assert math.isnan(fit["half_life_days"])
    assert fit["note"] == "no therapy start date"


def test_zero_value_is_left_out_with_a_note():
    samples = _samples([(0, 80.0, ""), (5, 0.0, ""), (10, 40.0, ""), (20, 20.0, "")])
    fit = decline_half_life(samples, therapy_start=START)
    assert fit["half_life_days"] == pytest.approx(10.0)
    assert fit["n_points"] == 3
    assert fit["note"] == "1 non-positive value(s) left out"


def test_without_censor_column_all_values_are_used():
    samples = _samples([(0, 80.0, ""), (10, 40.0, ""), (20, 20.0, "")]).drop(columns="censor")
    assert decline_half_life(samples, therapy_start=START)["half_life_days"] == pytest.approx(10.0)


def test_missing_column_raises():
    with pytest.raises(MissingColumnError, match="lacks 'value'"):
        decline_half_life(pd.DataFrame({"sample_date": [START]}), therapy_start=START)


def test_input_not_mutated():
    samples = _samples([(0, 80.0, ""), (10, 40.0, ""), (20, 20.0, "")])
    before = samples.copy()
    decline_half_life(samples, therapy_start=START)
    pd.testing.assert_frame_equal(samples, before)
