"""Survival statistics against a published worked example: the Freireich 6-MP leukaemia trial.

Data: remission length in weeks of 42 children, 21 on 6-mercaptopurine and 21 on placebo
(Freireich et al., Blood 1963;21:699-716; analysed by Gehan, Biometrika 1965;52:203-23).
As printed in Kleinbaum & Klein, *Survival Analysis: A Self-Learning Text*, 3rd ed. (2012),
chapter 1 ("Remission data"), and as R's ``MASS::gehan`` (``time``, ``cens``, ``treat``).
``+`` marks a censored time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from markers.analysis.survival import (
    compare_groups,
    cox_model,
    cumulative_incidence,
    estimate_at,
    kaplan_meier,
    logrank,
    median_survival,
)

# 6-MP: 6,6,6,6+,7,9+,10,10+,11+,13,16,17+,19+,20+,22,23,25+,32+,32+,34+,35+
MP_TIME = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP_EVENT = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
# placebo: 1,1,2,2,3,4,4,5,5,8,8,8,8,11,11,12,12,15,17,22,23 (no censoring)
PLACEBO_TIME = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
PLACEBO_EVENT = [1] * 21

TIME = np.array(MP_TIME + PLACEBO_TIME, dtype=float)
EVENT = np.array(MP_EVENT + PLACEBO_EVENT)
PLACEBO = np.array([0] * 21 + [1] * 21)


def test_data_as_printed():
    # Kleinbaum & Klein ch. 1: 9 relapses and 12 censored on 6-MP, 21 relapses on placebo
    assert (len(MP_TIME), sum(MP_EVENT), len(PLACEBO_TIME), sum(PLACEBO_EVENT)) == (21, 9, 21, 21)


def test_kaplan_meier_6mp_by_hand():
    # Product-limit by hand (Kleinbaum & Klein ch. 2, table of ordered failure times, 6-MP group):
    # t=6: 18/21; t=7: ×16/17; t=10: ×14/15; t=13: ×11/12; t=16: ×10/11; t=22: ×6/7; t=23: ×5/6
    curve = kaplan_meier(MP_TIME, MP_EVENT)
    events = curve[curve["events"] > 0].set_index("time_days")
    s6 = 18 / 21
    s7 = s6 * 16 / 17
    s10 = s7 * 14 / 15
    s13 = s10 * 11 / 12
    s16 = s13 * 10 / 11
    s22 = s16 * 6 / 7
    s23 = s22 * 5 / 6
    expected = {6: s6, 7: s7, 10: s10, 13: s13, 16: s16, 22: s22, 23: s23}
    for t, s in expected.items():
        assert events.loc[float(t), "survival"] == pytest.approx(s, abs=1e-12)
    # as printed to 4 places: 0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482
    assert [round(s, 4) for s in expected.values()] == [0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482]
    # numbers at risk just before each failure time: 21, 17, 15, 12, 11, 7, 6
    assert events["at_risk"].tolist() == [21, 17, 15, 12, 11, 7, 6]
    assert curve["time_days"].iloc[0] == 0 and curve["survival"].iloc[0] == 1.0


def test_greenwood_standard_error_and_interval_by_hand():
    # Greenwood: Var S(t) = S(t)² Σ d/(n(n−d)). At t=6: (18/21)² × 3/(21×18); R survfit std.err 0.0764.
    curve = kaplan_meier(MP_TIME, MP_EVENT).set_index("time_days")
    s6 = 18 / 21
    se6 = s6 * math.sqrt(3 / (21 * 18))
    assert curve.loc[6.0, "std_err"] == pytest.approx(se6, rel=1e-9)
    assert round(se6, 4) == 0.0764
    # at t=7: S² × (3/(21·18) + 1/(17·16))
    s7 = s6 * 16 / 17
    se7 = s7 * math.sqrt(3 / (21 * 18) + 1 / (17 * 16))
    assert curve.loc[7.0, "std_err"] == pytest.approx(se7, rel=1e-9)
    # log-log interval (Kalbfleisch & Prentice): S^exp(±1.96 se/(S |log S|))
    z = 1.959963984540054
    w = z * se6 / (s6 * abs(math.log(s6)))
    assert curve.loc[6.0, "ci_low"] == pytest.approx(s6 ** math.exp(w), rel=1e-9)
    assert curve.loc[6.0, "ci_high"] == pytest.approx(s6 ** math.exp(-w), rel=1e-9)
    # R's default conf.type = "log": S × exp(±1.96 se/S); survfit prints 0.720 to 1.000 at t=6
    log_curve = kaplan_meier(MP_TIME, MP_EVENT, conf_type="log").set_index("time_days")
    assert log_curve.loc[6.0, "ci_low"] == pytest.approx(s6 * math.exp(-z * se6 / s6), rel=1e-9)
    assert round(log_curve.loc[6.0, "ci_low"], 3) == 0.720
    assert log_curve.loc[6.0, "ci_high"] == 1.0


def test_medians():
    # Kleinbaum & Klein ch. 2: median remission 23 weeks on 6-MP, 8 weeks on placebo
    assert median_survival(MP_TIME, MP_EVENT)[0] == 23
    assert median_survival(PLACEBO_TIME, PLACEBO_EVENT)[0] == 8


def test_logrank_statistic():
    # Kleinbaum & Klein ch. 2: O−E = 10.26 for placebo, Var = 6.2570, log-rank = 16.79 (1 df);
    # R: survdiff(Surv(time, cens) ~ treat, data = MASS::gehan) prints Chisq = 16.8, p = 4e-05
    chi2, p = logrank(TIME, EVENT, PLACEBO)
    assert chi2 == pytest.approx(16.79, abs=0.005)
    assert p == pytest.approx(4.17e-5, rel=0.01)


def test_cox_hazard_ratio():
    # R: coxph(Surv(time, cens) ~ treat, data = MASS::gehan) (Efron ties) for placebo vs 6-MP:
    # coef 1.572, se 0.412, exp(coef) 4.817, 95% CI 2.147 to 10.81
    # (Kleinbaum & Klein, computer appendix, R output for the remission data)
    fit = cox_model(TIME, EVENT, pd.DataFrame({"placebo": PLACEBO})).iloc[0]
    assert fit["coef"] == pytest.approx(1.572, abs=0.0005)
    assert fit["std_err"] == pytest.approx(0.412, abs=0.0005)
    assert fit["hazard_ratio"] == pytest.approx(4.817, abs=0.0005)
    assert fit["hr_ci_low"] == pytest.approx(2.147, abs=0.0005)
    assert fit["hr_ci_high"] == pytest.approx(10.81, abs=0.005)


def test_compare_groups_gives_test_and_hazard_ratio():
    result = compare_groups(TIME, EVENT, PLACEBO.astype(bool))
    assert (result.n_positive, result.n_negative, result.events_positive, result.events_negative) == (21, 21, 21, 9)
    assert result.logrank_chi2 == pytest.approx(16.79, abs=0.005)
    assert result.hazard_ratio == pytest.approx(4.817, abs=0.0005)
    assert result.warning == ""


def test_small_groups_get_no_test():
    result = compare_groups(TIME[:25], EVENT[:25], PLACEBO[:25].astype(bool), min_patients=10)
    assert result.n_positive == 4
    assert math.isnan(result.logrank_p) and math.isnan(result.hazard_ratio)
    assert result.warning.startswith("no test: a group has fewer than 10 patients")


def test_empty_group_never_gets_a_p_value():
    result = compare_groups(MP_TIME, MP_EVENT, [False] * 21, min_patients=0, min_events=0)
    assert result.n_positive == 0
    assert math.isnan(result.logrank_p)
    assert "no event" in result.warning or "fewer than" in result.warning


def test_estimate_at_and_numbers_at_risk():
    curve = kaplan_meier(MP_TIME, MP_EVENT)
    at = estimate_at(curve, [0, 10, 12, 36])
    # at week 12 S = S(10) = 16/17 × 18/21 × 14/15; 12 still followed (times ≥ 12: 13,16,17,...,35)
    assert at["survival"].iloc[2] == pytest.approx(18 / 21 * 16 / 17 * 14 / 15)
    assert at["at_risk"].tolist()[:3] == [21, 15, 12]
    assert math.isnan(at["survival"].iloc[3]) and at["at_risk"].iloc[3] == 0


def test_cumulative_incidence_mirrors_survival():
    inc = cumulative_incidence(MP_TIME, MP_EVENT).set_index("time_days")
    assert inc.loc[6.0, "proportion"] == pytest.approx(3 / 21)
    assert inc.loc[6.0, "ci_low"] < 3 / 21 < inc.loc[6.0, "ci_high"]
