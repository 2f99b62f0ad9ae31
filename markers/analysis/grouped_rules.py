"""The rules of :mod:`markers.analysis.course`, for every patient × analyte at once.

Each function here is the vectorised twin of a plain per-course function (named in its
docstring) and gives the same answer: ``tests/test_assess_fast.py`` holds them to the plain
per-course implementation (:mod:`markers.analysis.assess_reference`) on random courses. The
arrays are the sorted measurements (one row per sample; groups contiguous, by date) and
:class:`~markers.analysis.segments.Segments`; positions are rows of that table, -1 for none.
"""

from __future__ import annotations

import numpy as np

from markers.analysis.anchors import FIRST_TREATMENT
from markers.analysis.course import ELEVATED, LIMIT_STEP, NORMAL, UNKNOWN
from markers.analysis.rules import AssessmentRules
from markers.analysis.segments import NONE, Runs, Segments

__all__ = ["baselines", "limit_step_states", "milestone_samples", "nadirs", "normalizations", "persistence",
           "rises"]


def limit_step_states(seg: Segments, states: np.ndarray, values: np.ndarray, uln: np.ndarray,
                      censored: np.ndarray) -> np.ndarray:
    """``states`` with limit-step elevations marked (plain: :func:`markers.analysis.course.limit_steps`)."""
    normal_rows = np.where(states == NORMAL, seg.row, NONE)
    last_normal = np.maximum.accumulate(normal_rows) if len(states) else normal_rows
    known = last_normal >= seg.spread(seg.starts)
    candidate = (states == ELEVATED) & known & ~censored
    before = np.where(candidate, uln[np.where(known, last_normal, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        step = candidate & (before > uln) & (values <= before)
    return np.where(step, LIMIT_STEP, states).astype(np.int8)


def baselines(seg: Segments, days: np.ndarray, anchors: dict, rules: AssessmentRules
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, late, assumed) of each group's baseline (plain: ``assess_reference.choose_baseline``)."""
    diagnosis, first = anchors["diagnosis"], anchors[FIRST_TREATMENT]
    assumed = np.isnan(diagnosis) & np.isnan(first)
    before = rules.baseline_window_before_days
    opens = np.where(~np.isnan(diagnosis), diagnosis - before, first - before)
    opens = np.where(np.isnan(opens), -np.inf, opens)
    closes = np.where(~np.isnan(first), first, diagnosis)
    row_opens, row_closes = seg.spread(opens), seg.spread(closes)
    with np.errstate(invalid="ignore"):
        inside = (row_opens <= days) & (days <= row_closes)
        late_window = (row_closes < days) & (days <= row_closes + rules.late_baseline_days)
    base = seg.last_row(inside)
    late_base = seg.first(late_window)
    late = (base == NONE) & (late_base != NONE)
    base = np.where(base == NONE, late_base, base)
    base = np.where(assumed, seg.starts, base)
    return base, late & ~assumed, assumed


def nadirs(seg: Segments, base: np.ndarray, x_uln: np.ndarray, censored: np.ndarray, below: np.ndarray
           ) -> np.ndarray:
    """Row of the lowest x ULN after the baseline (ties: the earliest); a ``>`` bound never counts."""
    usable = seg.after(base) & (~censored | below) & np.isfinite(x_uln)
    low = seg.minimum(x_uln, usable)
    return seg.first(usable & (x_uln == seg.spread(low)))


def milestone_samples(seg: Segments, days: np.ndarray, anchors: dict, rules: AssessmentRules
                      ) -> dict[str, np.ndarray]:
    """Per milestone: the row that speaks for it, -1 for none (plain: ``course.milestone_sample``)."""
    window = rules.milestone_window_days
    surgery = seg.spread(anchors["surgery"])
    has_surgery = ~np.isnan(surgery)
    out = {}
    for milestone in rules.all_milestones:
        anchor = anchors.get(milestone)
        if anchor is None or np.isnan(anchor).all():  # in no course's timeline: no sample speaks for it
            out[milestone] = np.full(seg.size, NONE, dtype=np.int64)
            continue
        when = seg.spread(anchor)
        with np.errstate(invalid="ignore"):
            if milestone == "surgery":
                out[milestone] = seg.first((when < days) & (days <= when + window))
                continue
            gap = np.abs(days - when)
            same_side = ~has_surgery | ((days > surgery) == (when > surgery))
            usable = (gap <= window) & same_side
        nearest = seg.minimum(gap, usable)
        with np.errstate(invalid="ignore"):
            out[milestone] = seg.last_row(usable & (gap == seg.spread(nearest)))
    return out


def normalizations(seg: Segments, states: np.ndarray, base: np.ndarray, needed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(confirmed, unconfirmed) normalization after the baseline (plain: ``course.normalization``)."""
    runs = Runs(seg.after(base) & (states == NORMAL), seg)
    confirmed = runs.first(runs.length >= needed)
    reaches_end = runs.end == seg.last[runs.group]
    unconfirmed = runs.last(reaches_end)
    return confirmed, np.where(confirmed == NONE, unconfirmed, NONE)


def rises(seg: Segments, states: np.ndarray, after: np.ndarray, needed: int, *, x_uln: np.ndarray,
          below: np.ndarray, single_x_uln: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(confirmed, unconfirmed) rises after ``after`` (plain: ``course.rises``)."""
    runs = Runs(seg.after(after) & (states == ELEVATED), seg)
    where = runs.start.copy()
    qualifies = runs.length >= needed
    if single_x_uln is not None:
        with np.errstate(invalid="ignore"):
            strong = (runs.of_row != NONE) & ~below & (x_uln >= single_x_uln)
        rows = np.flatnonzero(strong)
        first_strong = np.full(len(runs.start), NONE, dtype=np.int64)
        if len(rows):
            run = runs.of_row[rows]
            opening = np.r_[True, run[1:] != run[:-1]]
            first_strong[run[opening]] = rows[opening]
        short_strong = ~qualifies & (first_strong != NONE)
        where = np.where(short_strong, first_strong, where)
        qualifies |= short_strong
    confirmed = runs.first(qualifies, where)
    unconfirmed = runs.last(np.ones(len(runs.start), dtype=bool))
    return confirmed, np.where(confirmed == NONE, unconfirmed, NONE)


def persistence(samples: dict[str, np.ndarray], anchors: dict, states: np.ndarray, base: np.ndarray,
                rules: AssessmentRules) -> dict:
    """Persistence at the persistence milestones (plain: ``Judgement.persistence`` of
    :mod:`markers.analysis.response`).

    Returns (group × milestone matrices): ``present`` (in the timeline; the rules' order),
    ``usable`` (a sample after the baseline speaks for it; the order the rule reads them: by day,
    then name), their ``states`` and ``names``; per group ``at`` (column of the first elevated
    one, -1) and ``judged`` (``persistent`` False can be said: every usable one is normal).
    """
    names = sorted(rules.persistence_milestones)
    size = len(base)
    when = np.column_stack([anchors.get(m, np.full(size, np.nan)) for m in names]) if names \
        else np.empty((size, 0))
    rows = np.column_stack([samples.get(m, np.full(size, NONE)) for m in names]) if names \
        else np.empty((size, 0), dtype=np.int64)
    present_each = ~np.isnan(when)
    usable = present_each & (rows != NONE) & (rows > base[:, None]) & (base[:, None] != NONE)
    order = np.argsort(np.where(usable, when, np.inf), axis=1, kind="stable")
    usable = np.take_along_axis(usable, order, axis=1)
    rows = np.take_along_axis(rows, order, axis=1)
    state = np.where(usable, states[np.where(usable, rows, 0)], NORMAL)
    elevated = usable & (state == ELEVATED)
    at = np.where(elevated.any(axis=1), elevated.argmax(axis=1), NONE)
    doubtful = (usable & ((state == UNKNOWN) | (state == LIMIT_STEP))).any(axis=1)
    in_rules_order = np.column_stack([~np.isnan(anchors.get(m, np.full(size, np.nan)))
                                      for m in rules.persistence_milestones]) if names else np.empty((size, 0), bool)
    return {"present": in_rules_order, "usable": usable, "states": state,
            "names": np.array(names, dtype=object)[order] if names else np.empty((size, 0), dtype=object),
            "at": at, "judged": ~doubtful & usable.any(axis=1) & (at == NONE)}
