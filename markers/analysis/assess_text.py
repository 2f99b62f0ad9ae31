"""The words of the assessment (statuses, summaries, limit steps), built for all courses at once.

The same words as the plain per-course code (:mod:`markers.analysis.response`,
:mod:`markers.analysis.assess_reference`); Python runs only in list comprehensions over the
courses that need a sentence, never a function call per course.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.analysis.anchors import FIRST_TREATMENT
from markers.analysis.course import LIMIT_STEP
from markers.analysis.grouped_fits import sample_words
from markers.analysis.segments import Segments
from markers.analysis.words import Words

__all__ = ["INFORMATIVE_CODE_WORDS", "INFORMATIVE_WORDS", "STATUS_WORDS", "append", "informative_codes", "limit_step_words",
           "text_array", "warn_assumed", "when_words"]

#: A sample's status by its state code + 1 (:data:`markers.analysis.course.UNKNOWN` is -1).
STATUS_WORDS = ("indeterminate", "normal", "elevated", "elevated")

INFORMATIVE_WORDS = {
    "unknown": "informativeness unknown (baseline indeterminate)",
    "assumed": ("informativeness unknown (assumed baseline normal: first sample, no diagnosis date "
                "or treatment event to tell whether it precedes treatment)"),
    "late": "informativeness unknown (normal late baseline: the first sample follows treatment)",
    "normal": "not marker-informative (normal at baseline)",
}


#: The words of :func:`informative_codes`, by code.
INFORMATIVE_CODE_WORDS = ("informative", "informative (late baseline)", "informative (assumed baseline: first sample)",
                          INFORMATIVE_WORDS["unknown"], INFORMATIVE_WORDS["assumed"], INFORMATIVE_WORDS["late"],
                          INFORMATIVE_WORDS["normal"])


def informative_codes(elevated: np.ndarray, late: np.ndarray, assumed: np.ndarray, unknown: np.ndarray
                      ) -> np.ndarray:
    """For each course with a baseline, its words for ``informative`` as a code into
    :data:`INFORMATIVE_CODE_WORDS` (plain: ``assess_reference._informative``)."""
    return np.select([elevated & assumed, elevated & late, elevated, unknown, assumed, late], [2, 1, 0, 3, 4, 5], 6)


def text_array(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """An object array of text (None: missing) as the table's text type, each distinct value converted once."""
    codes, uniques = pd.factorize(values)
    table = pa.array(np.asarray(uniques, dtype=object), type=pa.large_string())
    return pd.array(table.take(pa.array(codes, mask=codes < 0)), dtype="str")


def when_words(groups: np.ndarray, rows: np.ndarray, days: np.ndarray, dated: np.ndarray, anchors: dict
               ) -> list[str]:
    """Each sample's day in the report's words (plain: ``Judgement.when``): days since diagnosis, else
    after the first treatment, else its date (or ``day N``)."""
    day = days[rows]
    diagnosis, first = anchors["diagnosis"][groups], anchors[FIRST_TREATMENT][groups]
    plain = sample_words(day, dated[rows]).tolist()
    return [f"day {int(d - x)} since diagnosis" if x == x else p if f != f else f"day {int(d - f)} after first treatment"
            for d, x, f, p in zip(day.tolist(), diagnosis.tolist(), first.tolist(), plain, strict=True)]


def limit_step_words(seg: Segments, states: np.ndarray, arrays: dict) -> Words:
    """Per course: its samples elevated only by a lower limit, ``"; "``-separated."""
    rows = np.flatnonzero(states == LIMIT_STEP)
    out = Words(seg.size, "")
    if not len(rows):
        return out
    when = sample_words(arrays["days"][rows], arrays["dated"][rows]).tolist()
    text = [f"{w}: elevated only by a lower limit ({u:g} {unit})"
            for w, u, unit in zip(when, arrays["uln"][rows].tolist(), arrays["unit"][rows].tolist(), strict=True)]
    joined: dict[int, str] = {}
    for group, words in zip(seg.gid[rows].tolist(), text, strict=True):  # a rare event: a few rows at most
        joined[group] = f"{joined[group]}; {words}" if group in joined else words
    out[np.array(list(joined), dtype=np.int64)] = list(joined.values())
    return out


def append(summary: Words, groups: np.ndarray, words: str | list[str] | np.ndarray) -> None:
    """Add ``words`` (one for all, or one per group) to the summaries of ``groups`` (in place), ``"; "``-separated.

    Groups that have the same summary and get the same word share the new summary's str."""
    if not len(groups):
        return
    if isinstance(words, str):  # one new sentence per distinct old summary, not per course
        old = summary.codes[groups]
        seen = np.zeros(len(summary.words), dtype=bool)
        seen[old] = True
        distinct = np.flatnonzero(seen)
        position = np.zeros(len(summary.words), dtype=np.int64)
        position[distinct] = np.arange(len(distinct))  # a table, not a sort: codes are small numbers
        summary.put(groups, position[old], [summary.words[k] + "; " + words for k in distinct.tolist()])
        return
    summary[groups] = summary[groups] + "; " + np.asarray(words, dtype=object)


def warn_assumed(patient: np.ndarray, assumed: np.ndarray, names: pd.Index) -> None:
    """Warn about the patients of the ``assumed`` courses (``patient``: each course's code into ``names``)."""
    codes = patient[assumed]  # nondecreasing: a patient's courses are adjacent and coded in course order
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]]
    # ``names`` is in ID order (the courses are sorted by patient ID, and a patient's code is its rank
    # among them): the first five codes are the first five IDs, as sorting the IDs would give; no test
    # of the order (an Arrow text index checks its 50,000 IDs one by one as Python strs)
    first, count = names.take(codes[:5]).tolist(), len(codes)
    warnings.warn(
        f"{count} patient(s) have neither a diagnosis date nor a treatment event "
        f"({', '.join(first)}{', ...' if count > 5 else ''}): their first sample is taken as "
        "an assumed baseline (column baseline_assumed), so a normal first sample leaves informativeness "
        "unknown. Add a diagnosis date (patients or measurements sheet) or therapy events.",
        UserWarning,
        stacklevel=3,
    )
