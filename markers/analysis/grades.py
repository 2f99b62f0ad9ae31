"""Grades of a value against its upper reference limit: the cut-offs and the grade codes.

The rules and their sources are in :mod:`markers.analysis.flags`, which grades each measurement
with these: a grade is the number of cut-offs a ratio ``x_uln`` is past, a small integer code per
row (:data:`GRADE_NAMES` gives its name).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from markers.errors import ConfigError

__all__ = ["DEFAULT_GRADE_CUTOFFS", "GRADE_NAMES", "GRADE_ORDER", "INDETERMINATE", "NO_REFERENCE", "check_cutoffs",
           "grade_above", "grade_of_value", "snap"]

#: normal <= 1x ULN; mild (1, 2]; moderate (2, 3); marked >= 3x ULN.
DEFAULT_GRADE_CUTOFFS = (1.0, 2.0, 3.0)

#: Grades ordered from lowest to highest (the graded ones only).
GRADE_ORDER = ("normal", "mild", "moderate", "marked")

# Unit conversion (mg/g <-> mmol/mol) changes value and ULN by the same factor,
# but round-off can leave 2x ULN at 2.0000000000000004. Ratios this close to a
# cut-off count as equal to it, so the grade does not depend on the unit.
_RTOL = 1e-9


def check_cutoffs(grade_cutoffs: Sequence[float]) -> tuple[float, float, float]:
    """The three cut-offs as floats; ``ConfigError`` unless they are three increasing positive numbers."""
    try:
        cutoffs = tuple(float(c) for c in grade_cutoffs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"grade_cutoffs must be three numbers, got {grade_cutoffs!r}.") from err
    if len(cutoffs) != 3 or not all(math.isfinite(c) and c > 0 for c in cutoffs) or not (
        cutoffs[0] < cutoffs[1] < cutoffs[2]
    ):
        raise ConfigError(
            f"grade_cutoffs must be three increasing positive multiples of the ULN, e.g. (1, 2, 3); "
            f"got {grade_cutoffs!r}."
        )
    return cutoffs  # type: ignore[return-value]


def snap(ratio: np.ndarray, cutoffs: tuple[float, float, float]) -> np.ndarray:
    """``ratio`` with the values within ``_RTOL`` of a cut-off set to it, cut-off by cut-off:
    ``np.isclose(ratio, cut, rtol=_RTOL, atol=0)`` written out, without its handling of
    infinities (an infinite ratio is never within a relative distance of a finite cut-off)."""
    snapped = ratio.copy()
    for cut in cutoffs:
        with np.errstate(invalid="ignore"):
            near = np.abs(snapped - cut) <= _RTOL * cut
        snapped[near] = cut
    return snapped


#: Grade codes: the graded ones in GRADE_ORDER, then indeterminate and no_reference.
INDETERMINATE, NO_REFERENCE = len(GRADE_ORDER), len(GRADE_ORDER) + 1
GRADE_NAMES = (*GRADE_ORDER, "indeterminate", "no_reference")


def grade_of_value(ratio: np.ndarray, cutoffs: tuple[float, float, float]) -> np.ndarray:
    """Grade code of an exact value: normal <= c1 < mild <= c2 < moderate < c3 <= marked (NaN: indeterminate).

    Counted as the number of boundaries the value is past: ``(r > c1) + (r > c2) + (r >= c3)``.
    """
    c1, c2, c3 = cutoffs
    code = (ratio > c1).astype(np.int8)
    code += ratio > c2
    code += ratio >= c3
    code[np.isnan(ratio)] = INDETERMINATE
    return code


def grade_above(ratio: np.ndarray, cutoffs: tuple[float, float, float]) -> np.ndarray:
    """Lowest grade code of any value strictly above ``ratio`` (for ``>x``): normal < c1 <= mild < c2 <=
    moderate < c3 <= marked, counted as ``(r >= c1) + (r >= c2) + (r >= c3)`` (NaN: indeterminate)."""
    c1, c2, c3 = cutoffs
    code = (ratio >= c1).astype(np.int8)
    code += ratio >= c2
    code += ratio >= c3
    code[np.isnan(ratio)] = INDETERMINATE
    return code
