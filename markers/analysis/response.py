"""Response of one informative course: milestones, persistence, normalization, rises and half-life."""

from __future__ import annotations

import math

import numpy as np

from markers.analysis.anchors import FIRST_TREATMENT
from markers.analysis.course import (
    ELEVATED,
    LIMIT_STEP,
    NORMAL,
    UNKNOWN,
    milestone_sample,
    normalization,
    rises,
)
from markers.analysis.kinetics import fit_half_life
from markers.analysis.rules import AssessmentRules

__all__ = ["Judgement", "judge_course"]


def _words(code: str) -> str:
    return code.replace("_", " ")


class Judgement:
    """What the rules say about one course; filled by :func:`judge_course`."""

    def __init__(self, g, *, base: int | None, anchors: dict, rules: AssessmentRules) -> None:
        self.g, self.base, self.anchors, self.rules = g, base, anchors, rules
        self.first = anchors[FIRST_TREATMENT]
        self.samples: dict[str, int | None] = {}
        self.milestone_columns: dict[str, str] = {}
        self.words: list[str] = []

    def when(self, i: int) -> str:
        """The sample's day in the one vocabulary of the report: days since diagnosis (day 0), else
        days after the first treatment when there is no diagnosis date, else its date."""
        day, diagnosis = self.g.days[i], self.anchors["diagnosis"]
        if not np.isnan(diagnosis):
            return f"day {int(day - diagnosis)} since diagnosis"
        if np.isnan(self.first):
            return str(np.datetime64(int(day), "D")) if self.g.dated else f"day {int(day)}"
        return f"day {int(day - self.first)} after first treatment"

    def milestones(self) -> None:
        """Status at each milestone in the timeline, from a sample that can speak for it."""
        surgery = self.anchors["surgery"]
        for milestone in self.rules.all_milestones:
            when = self.anchors.get(milestone, np.nan)
            if np.isnan(when):
                self.milestone_columns[f"status_{milestone}"] = ""
                continue
            pos = milestone_sample(self.g.days, when=when, window=self.rules.milestone_window_days,
                                   surgery=surgery, is_surgery=milestone == "surgery")
            self.samples[milestone] = pos
            self.milestone_columns[f"status_{milestone}"] = "no sample" if pos is None else self.g.status(pos)

    def response_columns(self) -> dict:
        if self.base == len(self.g) - 1:
            # nothing after the baseline: neither normalized nor persistent can be judged
            self.words.append("no sample after baseline")
            return {"half_life_note": "no sample after baseline"}
        columns: dict = {}
        columns.update(self.normalization())
        columns.update(self.persistence())
        columns.update(self.rises(columns.get("_normal_at")))
        columns.update(self.kinetics())
        columns.pop("_normal_at", None)
        return columns

    def normalization(self) -> dict:
        g, base = self.g, self.base
        confirmed, unconfirmed = normalization(g.states, base, self.rules.normalized_consecutive)
        if confirmed is not None:
            self.words.append(f"normalized on {self.when(confirmed)}")
            days = int(g.days[confirmed] - self.first) if not np.isnan(self.first) else None
            return {"normalized": True, "normalized_date": g.days[confirmed], "normalization": "confirmed",
                    "days_to_normalization": days, "_normal_at": confirmed}
        if unconfirmed is not None:
            self.words.append(f"normal at last sample ({self.when(unconfirmed)}), unconfirmed: repeat advised")
            return {"normalized": False, "normalization": "unconfirmed"}
        self.words.append("not normalized")
        return {"normalized": False, "normalization": "none"}

    def persistence(self) -> dict:
        """Elevated at a persistence milestone (default: complete remission, Matser 2025 [S13])."""
        g, base = self.g, self.base
        present = [m for m in self.rules.persistence_milestones if m in self.samples]
        if not present:
            names = " or ".join(_words(m) for m in self.rules.persistence_milestones)
            self.words.append(f"persistence not judged (no {names} in the timeline)")
            return {}
        usable = sorted((self.anchors[m], m) for m in present
                        if self.samples[m] is not None and self.samples[m] > base)
        states = {m: g.states[self.samples[m]] for _, m in usable}
        elevated = [m for _, m in usable if states[m] == ELEVATED]
        if elevated:
            self.words.append(f"persistent at {_words(elevated[0])}")
            return {"persistent": True, "persistent_at": elevated[0]}
        for _, m in usable:
            if states[m] == LIMIT_STEP:
                self.words.append(f"elevated at {_words(m)} only because the age limit stepped down "
                                  "(value within the previous limit): not counted as persistence")
        if not usable:
            self.words.append("persistence not assessable (no sample after baseline near "
                              f"{' or '.join(_words(m) for m in present)})")
            return {}
        if any(states[m] in (UNKNOWN, LIMIT_STEP) for _, m in usable):
            return {}
        return {"persistent": False}

    def rises(self, normal_at: int | None) -> dict:
        """Re-elevation (confirmed) or an unconfirmed rise after a confirmed normalization."""
        g = self.g
        if normal_at is None:
            return {"reelevation": False}  # never normalized: nothing could re-elevate
        confirmed, unconfirmed = rises(g.states, normal_at, self.rules.reelevation_consecutive,
                                       x_uln=g.x_uln, censored_below=g.censored_below,
                                       single_x_uln=self.rules.reelevation_single_x_uln)
        if confirmed is not None:
            self.words.append(f"re-elevated on {self.when(confirmed)}")
            return {"reelevation": True, "reelevation_date": g.days[confirmed]}
        if unconfirmed is None:
            return {"reelevation": False}
        x = g.x_uln[unconfirmed]
        follow = "repeat advised" if unconfirmed == len(g) - 1 else "not confirmed by the next sample"
        self.words.append(f"unconfirmed rise on {self.when(unconfirmed)} ({x:.1f}x ULN): {follow}")
        return {"reelevation": False, "unconfirmed_rise_date": g.days[unconfirmed], "unconfirmed_rise_x_uln": x}

    def kinetics(self) -> dict:
        """Half-life from the baseline to the first normal sample (or the sample before it); none without one."""
        g, base = self.g, self.base
        first_normal = next((i for i in range(base + 1, len(g)) if g.states[i] == NORMAL), None)
        if first_normal is None:
            # without a normal sample the series may end on a plateau: a fit over it is no half-life
            return {"half_life_note": "no normal sample after baseline: no end point for the fit"}
        last = first_normal if self.rules.kinetics_end == "first_normal" else first_normal - 1
        points = [i for i in range(base, last + 1)
                  if not g.censored[i] and not g.exclude[i] and g.values[i] > 0]
        left_out = [i for i in range(base, last + 1) if i not in points]
        extra = f"; {len(left_out)} sample(s) left out (censored, excluded or not positive)" if left_out else ""
        fit = fit_half_life([g.days[i] for i in points], [math.log(g.values[i]) for i in points],
                            label="from baseline to first normal",
                            extra=extra)
        return {"half_life_days": fit["half_life_days"], "k_per_day": fit["k_per_day"],
                "half_life_r2": fit["r2"], "half_life_n": fit["n_points"], "half_life_note": fit["note"],
                "half_life_points": "; ".join(
                    str(np.datetime64(int(g.days[i]), "D")) if g.dated else f"day {int(g.days[i])}" for i in points)}


def judge_course(g, *, base: int | None, anchors: dict, rules: AssessmentRules) -> Judgement:
    """Milestone statuses of ``g`` (always) and a :class:`Judgement` ready for the response columns."""
    judgement = Judgement(g, base=base, anchors=anchors, rules=rules)
    judgement.milestones()
    return judgement
