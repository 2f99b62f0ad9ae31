"""Kaplan–Meier figures of EFS and OS by marker status, with bands, numbers at risk, p and HR."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from markers.plot.style import MIN_FONT, PAGE_SIZES

__all__ = ["GROUP_COLORS", "landmark_words", "outcome_pages", "plot_kaplan_meier"]

GROUP_COLORS = {"positive": "#C0392B", "negative": "#1F6FB2", "unknown": "#8C8C8C", "all": "#333333"}
YEAR = 365.25


def landmark_words(landmark: str) -> str:
    """``"complete_remission"`` -> ``"complete remission"``; ``"diagnosis"`` stays."""
    return landmark.replace("_", " ")


def _numbers_at_risk(rows: pd.DataFrame, times_days: Sequence[float]) -> list[int]:
    time = rows["time_days"].to_numpy(dtype="float64")
    return [int((time >= t).sum()) for t in times_days]


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def comparison_words(test: pd.Series | None) -> str:
    """``log-rank p = 0.004; HR 2.9 (95% CI 1.6–5.4), positive vs negative`` or why there is no test."""
    if test is None:
        return ""
    if isinstance(test.get("warning"), str) and test["warning"] and not (test.get("logrank_p") == test.get("logrank_p")):
        return test["warning"]
    if pd.isna(test.get("logrank_p")):
        return ""
    text = f"log-rank {_fmt_p(float(test['logrank_p']))}"
    if pd.notna(test.get("hazard_ratio")):
        text += (f"; HR {test['hazard_ratio']:.2f} (95% CI {test['hr_ci_low']:.2f}–{test['hr_ci_high']:.2f}), "
                 "positive vs negative")
    if pd.notna(test.get("adjusted_hazard_ratio")):
        text += (f"\nadjusted HR {test['adjusted_hazard_ratio']:.2f} ({test['adjusted_hr_ci_low']:.2f}–"
                 f"{test['adjusted_hr_ci_high']:.2f}) for {test['adjusted_for']}")
    return text


def plot_kaplan_meier(result, *, endpoint: str = "EFS", landmark: str = "complete_remission", ax: Axes | None = None,
                      years: Sequence[float] = (0, 1, 2, 3, 4, 5), at_risk: bool = True,
                      bands: bool = True) -> Axes:
    """Kaplan–Meier curves of one endpoint at one landmark, one per status group.

    Parameters
    ----------
    result
        :class:`markers.analysis.outcomes.Outcomes`.
    endpoint, landmark
        ``"EFS"``/``"OS"``; ``"diagnosis"`` or a milestone code.
    ax
        Axes to draw on (default: the current axes).
    years
        Ticks of the time axis (years since the landmark), and the times of the at-risk table.
    at_risk
        Write the numbers at risk under the time axis, one row per group.
    bands
        Shade the pointwise 95% confidence band.

    Returns
    -------
    matplotlib.axes.Axes
        With one step line per group (``label`` = group and its n/events), censoring ticks, the
        test (p, HR) or the reason there is none in the upper right corner.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    curves = result.curves[(result.curves["endpoint"] == endpoint) & (result.curves["landmark"] == landmark)]
    people = result.patients[(result.patients["endpoint"] == endpoint) & (result.patients["landmark"] == landmark)
                             & result.patients["included"].astype(bool)]
    groups = [g for g in ("positive", "negative", "unknown") if (curves["group"] == g).any()] or ["all"]
    estimates = result.estimates.set_index(["endpoint", "landmark", "group"])
    for group in groups:
        curve = curves[curves["group"] == group]
        if curve.empty:
            continue
        x = curve["time_days"].to_numpy(dtype=float) / YEAR
        y = curve["survival"].to_numpy(dtype=float)
        color = GROUP_COLORS[group]
        est = estimates.loc[(endpoint, landmark, group)] if (endpoint, landmark, group) in estimates.index else None
        label = group if est is None else f"{group} (n={int(est['n'])}, {int(est['events'])} events)"
        if est is not None and isinstance(est["warning"], str) and est["warning"]:
            label += " *"
        ax.step(x, y, where="post", color=color, lw=1.6, label=label)
        if bands:
            ax.fill_between(x, curve["ci_low"].to_numpy(dtype=float), curve["ci_high"].to_numpy(dtype=float),
                            step="post", color=color, alpha=0.15, lw=0)
        rows = people[people["group"] == group]
        censored = rows[~rows["event"].astype(bool)]["time_days"].to_numpy(dtype=float)
        ax.plot(censored / YEAR, np.interp(censored / YEAR, x, y, right=y[-1]) if len(x) else censored,
                ls="none", marker="|", ms=6, color=color)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(years))
    ax.set_xticks(list(years))
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel(f"years since {landmark_words(landmark)}")
    ax.set_ylabel(f"{endpoint} probability")
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(loc="lower left", fontsize=MIN_FONT, frameon=False)
    tests = result.tests[(result.tests["endpoint"] == endpoint) & (result.tests["landmark"] == landmark)]
    words = comparison_words(tests.iloc[0] if len(tests) else None)
    if words and groups != ["all"]:
        ax.text(0.98, 0.98, words, transform=ax.transAxes, ha="right", va="top", fontsize=MIN_FONT,
                bbox={"facecolor": "white", "edgecolor": "#BBBBBB", "boxstyle": "round,pad=0.3"})
    if at_risk:
        _at_risk_table(ax, people, groups, [y * YEAR for y in years])
    return ax


def _at_risk_table(ax: Axes, people: pd.DataFrame, groups: list[str], times_days: list[float]) -> None:
    blend = blended_transform_factory(ax.transData, ax.transAxes)
    ax.text(0, -0.22, "at risk", transform=ax.transAxes, ha="right", va="center", fontsize=MIN_FONT,
            fontweight="bold")
    for i, group in enumerate(groups):
        y = -0.30 - 0.075 * i
        rows = people if group == "all" else people[people["group"] == group]
        ax.text(-0.02, y, group, transform=ax.transAxes, ha="right", va="center", fontsize=MIN_FONT,
                color=GROUP_COLORS[group])
        for t, n in zip(times_days, _numbers_at_risk(rows, times_days), strict=True):
            ax.text(t / YEAR, y, str(n), transform=blend, ha="center", va="center", fontsize=MIN_FONT,
                    color=GROUP_COLORS[group])


def exclusion_words(result, *, landmark: str) -> str:
    """"EFS: 79 of 100 patients included; excluded: 20 landmark not reached, 1 no outcome." for each endpoint."""
    parts = []
    for endpoint in ("EFS", "OS"):
        rows = result.patients[(result.patients["endpoint"] == endpoint) & (result.patients["landmark"] == landmark)]
        if rows.empty:
            continue
        counts = rows.loc[~rows["included"].astype(bool), "reason"].value_counts()
        excluded = ", ".join(f"{n} {reason}" for reason, n in counts.items()) or "none"
        parts.append(f"{endpoint}: {int(rows['included'].astype(bool).sum())} of {len(rows)} patients included; "
                     f"excluded: {excluded}.")
    return " ".join(parts)


def outcome_pages(result, *, page_size: str = "A4") -> Iterator[Figure]:
    """One report page per landmark (diagnosis first): EFS above OS, exclusions and method in words."""
    size = PAGE_SIZES[page_size]
    for landmark in dict.fromkeys(result.patients["landmark"]):
        fig = Figure(figsize=size)
        title = "Outcomes from diagnosis" if landmark == "diagnosis" else \
            f"Outcomes by marker status at {landmark_words(landmark)}"
        fig.text(0.06, 0.975, title, fontsize=13, fontweight="bold", va="top")
        method = ("Kaplan–Meier estimates with pointwise 95% confidence bands (log-log); log-rank test and Cox "
                  "hazard ratio (Efron ties), positive vs negative; unknown status is shown but not tested. "
                  if landmark != "diagnosis" else "Kaplan–Meier estimates with pointwise 95% confidence bands. ")
        if landmark != "diagnosis":
            method += (f"Landmark analysis: time starts at {landmark_words(landmark)}; patients with an event or "
                       "lost to follow-up before it are excluded. ")
        method += (f"No test below {result.min_patients} patients per group or {result.min_events} events; "
                   "* marks an imprecise estimate.")
        text = method + " " + exclusion_words(result, landmark=landmark)
        fig.text(0.06, 0.952, textwrap.fill(text, width=int((size[0] - 1) * 15)), fontsize=MIN_FONT, va="top")
        for i, endpoint in enumerate(("EFS", "OS")):
            ax = fig.add_axes((0.14, 0.62 - i * 0.38, 0.8, 0.24))
            plot_kaplan_meier(result, endpoint=endpoint, landmark=landmark, ax=ax)
            ax.set_title(f"{'Event-free' if endpoint == 'EFS' else 'Overall'} survival", fontsize=10, loc="left")
        fig.text(0.06, 0.015, _estimate_line(result, landmark, width=int((size[0] - 1) * 15)), fontsize=MIN_FONT,
                 va="bottom")
        yield fig


def _estimate_line(result, landmark: str, *, width: int) -> str:
    """3-year estimates with their 95% intervals, one line per endpoint."""
    rows = result.estimates[result.estimates["landmark"] == landmark]
    lines = []
    for endpoint, part in rows.groupby("endpoint", sort=False):
        cells = []
        for r in part.itertuples():
            s3 = "n/a (follow-up too short)" if math.isnan(r.survival_3y) else \
                f"{r.survival_3y:.0%} ({r.survival_3y_ci_low:.0%}–{r.survival_3y_ci_high:.0%})"
            cells.append(f"{r.group} {s3}")
        lines.append(textwrap.fill(f"3-year {endpoint} (95% CI): " + "; ".join(cells), width=width))
    return "\n".join(lines)
