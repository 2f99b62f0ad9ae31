"""The rules of one patient's course for one analyte, on plain arrays sorted by date.

States are small integers: :data:`NORMAL` (0), :data:`ELEVATED` (1), :data:`UNKNOWN` (-1, an
indeterminate or unreferenced result) and :data:`LIMIT_STEP` (2, elevated only because the limit
stepped down since the last normal sample). Days are float days since 1970-01-01 (NaN = no date).
Each function takes positions into the arrays and returns positions (or ``None``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ELEVATED", "LIMIT_STEP", "NORMAL", "UNKNOWN",
    "baseline", "limit_steps", "milestone_sample", "normalization", "rises",
]

NORMAL, ELEVATED, UNKNOWN, LIMIT_STEP = 0, 1, -1, 2


def baseline(days: list[float], *, opens: float, closes: float, late_days: int) -> tuple[int | None, bool]:
    """Position of the baseline sample and whether it is late.

    The last sample in ``[opens, closes]`` (``opens`` NaN: no lower bound); else the first sample in
    ``(closes, closes + late_days]`` as a *late* baseline; else none. ``closes`` NaN gives none.
    Plain Python: a course holds a handful of samples, where numpy's per-call cost dominates.
    """
    if math.isnan(closes):
        return None, False
    lower = -math.inf if math.isnan(opens) else opens
    inside = [i for i, day in enumerate(days) if lower <= day <= closes]
    if inside:
        return inside[-1], False
    late = next((i for i, day in enumerate(days) if closes < day <= closes + late_days), None)
    return (late, True) if late is not None else (None, False)


def limit_steps(states: list[int], values: np.ndarray, uln: np.ndarray, censored: np.ndarray) -> list[int]:
    """``states`` with each limit-step elevation marked :data:`LIMIT_STEP`.

    An uncensored elevated sample is a limit-step elevation when the limit of the most recent normal
    sample before it was higher than its own and its value would still be within that earlier limit:
    the change of status comes from the limit, not from the value.
    """
    out = list(states)
    last_normal = None
    for i, state in enumerate(states):
        if state == NORMAL:
            last_normal = i
        elif state == ELEVATED and last_normal is not None and not censored[i]:
            before = uln[last_normal]
            if before > uln[i] and values[i] <= before:
                out[i] = LIMIT_STEP
    return out


def normalization(states: list[int], after: int, needed: int) -> tuple[int | None, int | None]:
    """``(confirmed, unconfirmed)``: start of the first run of ``needed`` normal samples after ``after``;
    else the start of a shorter run of normal samples that reaches the last sample (unconfirmed)."""
    n = len(states)
    i = after + 1
    while i < n:
        if states[i] != NORMAL:
            i += 1
            continue
        end = i
        while end + 1 < n and states[end + 1] == NORMAL:
            end += 1
        if end - i + 1 >= needed:
            return i, None
        if end == n - 1:
            return None, i
        i = end + 1
    return None, None


def rises(states: list[int], after: int, needed: int, *, x_uln: np.ndarray, censored_below: np.ndarray,
          single_x_uln: float | None = None) -> tuple[int | None, int | None]:
    """``(confirmed, unconfirmed)`` rises after ``after`` (the start of a confirmed normalization).

    Confirmed: the start of the first run of ``needed`` elevated samples (or, only when
    ``single_x_uln`` is given, one uncensored sample at or above that multiple of the ULN).
    Unconfirmed: when nothing is confirmed, the start of the last shorter run of elevated samples.
    Limit-step elevations are not rises.
    """
    n = len(states)
    unconfirmed = None
    i = after + 1
    while i < n:
        if states[i] != ELEVATED:
            i += 1
            continue
        end = i
        while end + 1 < n and states[end + 1] == ELEVATED:
            end += 1
        if end - i + 1 >= needed:
            return i, None
        if single_x_uln is not None:
            strong = [j for j in range(i, end + 1) if not censored_below[j] and x_uln[j] >= single_x_uln]
            if strong:
                return strong[0], None
        unconfirmed = i
        i = end + 1
    return None, unconfirmed


def milestone_sample(days: list[float], *, when: float, window: int, surgery: float,
                     is_surgery: bool) -> int | None:
    """The sample that speaks for a milestone on day ``when``, or ``None``.

    The surgery milestone takes the first sample after the day of surgery within ``window`` days.
    Any other milestone takes the sample nearest to it within ``±window`` days (ties: the later),
    on its own side of the surgery: after a surgery, only samples after the day of surgery; before
    or on it, only samples up to the day of surgery (a sample on that day counts as pre-operative).
    """
    if is_surgery:
        return next((i for i, day in enumerate(days) if when < day <= when + window), None)
    has_surgery = not math.isnan(surgery)
    after = when > surgery if has_surgery else False
    best, best_gap = None, math.inf
    for i, day in enumerate(days):
        gap = abs(day - when)
        if gap > window or (has_surgery and (day > surgery) != after):
            continue
        if gap <= best_gap:  # later samples come later: "<=" gives ties to the later one
            best, best_gap = i, gap
    return best
