"""Half-life fits and the VMA/HVA ratio, for every patient × analyte at once.

The vectorised twins of ``Judgement.kinetics`` (:mod:`markers.analysis.response`, with
:func:`markers.analysis.kinetics.fit_half_life`) and :func:`markers.analysis.ratio.fill_ratios`.
The least-squares sums run in the same order as the plain fit (one sample position at a time
across all groups), so the numbers are the same to the last bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from markers.analysis.kinetics import MIN_POINTS
from markers.analysis.ratio import RATIO_SOURCE
from markers.analysis.rules import AssessmentRules
from markers.analysis.segments import NONE, Segments
from markers.analysis.words import Words
from markers.errors import UnknownUnitError
from markers.ingest.units import molar_masses
from markers.schema import MASS_RATIO, MOLAR_RATIO

__all__ = ["half_lives", "ratios"]

_LABEL = "from baseline to first normal"


def _ordered_sums(rank: np.ndarray, group: np.ndarray, size: int, *terms: np.ndarray) -> list[np.ndarray]:
    """Per group, the sum of each term added in rank order (as a plain ``sum`` over the group's points)."""
    order = np.lexsort((group, rank))
    bounds = np.searchsorted(rank[order], np.arange(int(rank.max(initial=-1)) + 2))
    sums = [np.zeros(size) for _ in terms]
    for k in range(len(bounds) - 1):
        take = order[bounds[k]:bounds[k + 1]]
        for total, term in zip(sums, terms, strict=True):
            total[group[take]] += term[take]
    return sums


def half_lives(seg: Segments, fit: np.ndarray, base: np.ndarray, end: np.ndarray, arrays: dict) -> dict:
    """Columns of the half-life fit for the groups in ``fit`` (rows ``base`` to ``end``, both included).

    ``half_life_days``, ``k_per_day``, ``half_life_r2``, ``half_life_n`` and ``points`` are per
    group (NaN, or no words, outside ``fit``). The sums run over the fitted groups alone, numbered
    in group order: ``n``, ``left_out``, ``few``, ``flat`` and ``decline`` are per fitted group (a
    registry of one sample per course fits nothing, and then makes no array per course).
    """
    days, values = arrays["days"], arrays["values"]
    groups = np.flatnonzero(fit)
    size = len(groups)
    number = np.full(seg.size, -1)
    number[groups] = np.arange(size)  # each fitted group's number among them
    in_range = seg.spread(fit) & (seg.row >= seg.spread(base)) & (seg.row <= seg.spread(end))
    with np.errstate(invalid="ignore"):
        points = in_range & ~arrays["censored"] & ~arrays["exclude"] & (values > 0)
    rows = np.flatnonzero(points)
    group = number[seg.gid[rows]]
    n = np.bincount(group, minlength=size)
    left_out = np.bincount(number[seg.gid[in_range]], minlength=size) - n
    rank = np.arange(len(rows)) - np.searchsorted(rows, seg.starts[groups])[group]
    x = days[rows]
    y = np.array([math.log(v) for v in values[rows].tolist()], dtype=float)
    (sx, sy) = _ordered_sums(rank, group, size, x, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean, y_mean = sx / n, sy / n
        dx, dy = x - x_mean[group], y - y_mean[group]
        sxx, sxy, ss_tot = _ordered_sums(rank, group, size, dx * dx, dx * dy, dy * dy)
        slope = sxy / sxx
        (ss_res,) = _ordered_sums(rank, group, size, (dy - slope[group] * dx) ** 2)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, np.nan)
        k = -slope
    spread = np.full(size, False)
    if len(rows):
        high = np.full(size, -np.inf)
        low = np.full(size, np.inf)
        np.maximum.at(high, group, x)
        np.minimum.at(low, group, x)
        spread = high != low
    few = n < MIN_POINTS
    flat = ~few & ~spread
    decline = ~few & spread & (k > 1e-12)
    fitted = ~few & spread

    def per_group(column: np.ndarray) -> np.ndarray:
        out = np.full(seg.size, np.nan)
        out[groups] = column
        return out

    return {
        "half_life_days": per_group(np.where(decline, math.log(2) / np.where(decline, k, 1.0), np.nan)),
        "k_per_day": per_group(np.where(fitted, k, np.nan)),
        "half_life_r2": per_group(np.where(fitted, r2, np.nan)),
        "half_life_n": per_group(n), "n": n, "few": few, "flat": flat, "decline": decline, "left_out": left_out,
        "points": _point_words(seg, points, arrays),
    }


def half_life_notes(fits: dict) -> list[str]:
    """The ``half_life_note`` of each fitted group, in group order (as
    :func:`markers.analysis.kinetics.fit_half_life`)."""
    notes = []
    for left, n, few, flat, decline in zip(fits["left_out"].tolist(), fits["n"].tolist(), fits["few"].tolist(),
                                            fits["flat"].tolist(), fits["decline"].tolist(), strict=True):
        extra = f"; {left} sample(s) left out (censored, excluded or not positive)" if left else ""
        if few:
            notes.append(f"{n} usable sample(s) {_LABEL} ({MIN_POINTS} needed){extra}")
        elif flat:
            notes.append(f"all usable samples on one day{extra}")
        elif not decline:
            notes.append(f"no decline{extra}")
        else:
            notes.append(extra.removeprefix("; "))
    return notes


def sample_words(days: np.ndarray, dated: np.ndarray) -> np.ndarray:
    """Each sample's ISO date, or ``day N`` for a date-free sample (object array)."""
    whole = np.trunc(days)
    text = np.empty(len(days), dtype=object)
    if dated.any():
        text[dated] = whole[dated].astype(np.int64).astype("datetime64[D]").astype(str).astype(object)
    if (~dated).any():
        text[~dated] = [f"day {int(d)}" for d in whole[~dated].tolist()]
    return text


def _point_words(seg: Segments, points: np.ndarray, arrays: dict) -> Words:
    """Per group: its fit's sample dates (or days), ``"; "``-separated."""
    out = Words(seg.size, "")
    rows = np.flatnonzero(points)
    if not len(rows):
        return out
    # joined over the fitted rows only: a course without a point keeps its "" (no str built for it)
    tokens = sample_words(arrays["days"][rows], arrays["dated"][rows]) + "; "
    group = seg.gid[rows]
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    out[group[first]] = [t[:-2] for t in np.add.reduceat(tokens, first).tolist()]
    return out


def _molar_factor(analyte: str) -> float:
    from markers.ingest.units import mass_to_molar_factor

    return mass_to_molar_factor(analyte)


def ratios(seg: Segments, base: np.ndarray, informative: np.ndarray, patient: np.ndarray, analyte: np.ndarray,
           arrays: dict, rules: AssessmentRules, *, names: Sequence[str]) -> dict:
    """The VMA/HVA ratio columns of each group (plain: :func:`markers.analysis.ratio.fill_ratios`).

    ``informative`` is a boolean array: ``informative`` is True (not False, not unknown). ``patient``:
    each group's patient as a code into ``names``."""
    size = seg.size
    out = {"vma_hva_ratio_mass": np.full(size, np.nan), "vma_hva_ratio_molar": np.full(size, np.nan),
           "low_vma_hva_ratio": np.full(size, -1, dtype=np.int8), "vma_hva_ratio_note": Words(size, "")}
    # the groups are sorted by patient: a patient's number is the count of patient changes before it
    patient_no = np.r_[0, np.cumsum(patient[1:] != patient[:-1])] if size else np.zeros(0, dtype=np.int64)
    of_vma, of_hva = (np.full(int(patient_no[-1]) + 1 if size else 0, NONE) for _ in range(2))
    vma, hva = np.flatnonzero(analyte == "VMA"), np.flatnonzero(analyte == "HVA")
    of_vma[patient_no[vma]], of_hva[patient_no[hva]] = vma, hva
    both = (of_vma != NONE) & (of_hva != NONE)
    v_group, h_group = of_vma[both], of_hva[both]  # patients in table order
    keep = (base[v_group] != NONE) & (base[h_group] != NONE)
    v_group, h_group = v_group[keep], h_group[keep]
    v_row, h_row = base[v_group], base[h_group]
    keep = ~arrays["censored"][v_row] & ~arrays["censored"][h_row]
    v_group, h_group, v_row, h_row = v_group[keep], h_group[keep], v_row[keep], h_row[keep]
    # each distinct unit compared once; the samples' units by code (-1, missing: the last entry)
    units = arrays["units"]
    molar_unit = np.array([unit == MOLAR_RATIO for unit in units])
    known_unit = molar_unit | np.array([unit == MASS_RATIO for unit in units])
    v_code, h_code = arrays["unit_code"][v_row], arrays["unit_code"][h_row]
    v_wrong, h_wrong = ~known_unit[v_code], ~known_unit[h_code]
    if (v_wrong | h_wrong).any():
        i = int(np.argmax(v_wrong | h_wrong))
        name, unit = ("VMA", str(units[v_code[i]])) if v_wrong[i] else ("HVA", str(units[h_code[i]]))
        raise UnknownUnitError(
            f"patient {names[patient[v_group[i]]]}, {name}: unit {unit!r} is not {MASS_RATIO!r} or {MOLAR_RATIO!r}; "
            "assess the measurements returned by markers.ingest.reader.read()."
        )
    values = arrays["values"]
    v = np.where(molar_unit[v_code], values[v_row] / _molar_factor("VMA"), values[v_row])
    h = np.where(molar_unit[h_code], values[h_row] / _molar_factor("HVA"), values[h_row])
    with np.errstate(invalid="ignore"):
        keep = h > 0
    v_group, h_group, v, h = v_group[keep], h_group[keep], v[keep], h[keep]
    mass = v / h
    masses = molar_masses()
    molar = mass * masses["HVA"] / masses["VMA"]
    secreting = informative[v_group] | informative[h_group]
    low = np.where(secreting, mass < rules.low_ratio_cutoff, -1).astype(np.int8)  # True/False/unknown: 1/0/-1
    # the two notes by code: one Python str each, not one per course
    note = np.where(secreting, 0, 1)
    for groups in (v_group, h_group):
        out["vma_hva_ratio_mass"][groups] = mass
        out["vma_hva_ratio_molar"][groups] = molar
        out["low_vma_hva_ratio"][groups] = low
        out["vma_hva_ratio_note"].put(groups, note, [RATIO_SOURCE, "not interpreted: neither VMA nor HVA elevated at baseline"])
    return out
