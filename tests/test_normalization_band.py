"""The time-to-normalization curve's 95% band, against Greenwood's formula worked by hand."""

import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from markers.plot.normalization import normalization_band, normalization_curve, plot_time_to_normalization

# Four informative patients: normalized on days 10 and 20, last sample (not normalized) on
# day 30, normalized on day 40 (days since therapy start).
COHORT = pd.DataFrame({"patient_id": ["A", "B", "C", "D"], "analyte": "VMA", "informative": True,
                       "normalized": [True, True, False, True],
                       "days_to_normalization": [10, 20, None, 40],
                       "days_to_last_sample": [10, 20, 30, 40]})
Z = 1.959963984540054  # 97.5th percentile of the standard normal


def _loglog(s: float, greenwood: float) -> tuple[float, float]:
    """Proportion normalized (1 − S) band from S and Greenwood's sum Σ d/(n(n−d)) (Kalbfleisch–Prentice)."""
    se = s * math.sqrt(greenwood)
    width = Z * se / (s * abs(math.log(s)))
    s_low, s_high = s ** math.exp(width), s ** math.exp(-width)
    return 1 - s_high, 1 - s_low


# by hand: day 10, 4 at risk, 1 event: S = 3/4, Σ = 1/(4·3)
# day 20, 3 at risk, 1 event: S = 3/4 · 2/3 = 1/2, Σ = 1/12 + 1/(3·2) = 1/4
# day 30, censored: unchanged; day 40, 1 at risk, 1 event: S = 0 (band is the point)
DAY10 = _loglog(0.75, 1 / 12)
DAY20 = _loglog(0.5, 1 / 4)


def pytest_approx(value, tol):
    return pytest.approx(value, abs=tol)


def test_worked_values():
    # S = 0.75, se = 0.2165, width = 1.967: S^exp(±width) = 0.9606 and 0.1280
    assert DAY10 == (pytest_approx(0.0394, 1e-3), pytest_approx(0.8720, 1e-3))


def test_band_table_matches_greenwood_by_hand():
    band = normalization_band(normalization_curve(COHORT, analyte="VMA")).set_index("day")
    assert band.loc[0, "ci_low"] == 0.0 and band.loc[0, "ci_high"] == 0.0
    assert (band.loc[10, "ci_low"], band.loc[10, "ci_high"]) == (pytest_approx(DAY10[0], 1e-9),
                                                                 pytest_approx(DAY10[1], 1e-9))
    assert (band.loc[20, "ci_low"], band.loc[20, "ci_high"]) == (pytest_approx(DAY20[0], 1e-9),
                                                                 pytest_approx(DAY20[1], 1e-9))
    assert (band.loc[30, "ci_low"], band.loc[30, "ci_high"]) == (pytest_approx(DAY20[0], 1e-9),
                                                                 pytest_approx(DAY20[1], 1e-9))
    assert band.loc[40, "ci_low"] == 1.0 and band.loc[40, "ci_high"] == 1.0


def test_band_is_drawn_with_those_vertices():
    ax = Figure().add_subplot()
    plot_time_to_normalization(COHORT, analyte="VMA", ax=ax)
    bands = [c for c in ax.collections if c.get_gid() == "band:VMA"]
    assert len(bands) == 1
    vertices = {(round(float(x), 6), round(float(y), 6)) for x, y in bands[0].get_paths()[0].vertices}
    for day, (low, high) in ((10, DAY10), (20, DAY20)):
        assert (float(day), round(low, 6)) in vertices
        assert (float(day), round(high, 6)) in vertices
    line = next(line for line in ax.get_lines() if line.get_gid() == "km:VMA")
    assert list(line.get_ydata()) == pytest_approx([0.0, 0.25, 0.5, 0.5, 1.0], 1e-12)
    assert "95% confidence band" in ax.get_legend().get_title().get_text()
