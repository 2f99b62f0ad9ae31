"""The reporting lab's own range against the chosen reference set: which results they grade differently."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.flags import flag
from markers.schema import GRADE, REPORTED_ULN

#: The reference-set name that chooses each result's own reported range (the set as fallback).
REPORTED = "reported"


def grade_disagreements(measurements: pd.DataFrame, *, limits: pd.DataFrame) -> tuple[int, int]:
    """``(results with a reported range, those graded differently by it than by limits)``.

    Parameters
    ----------
    measurements
        Tidy measurements with ``reported_uln`` (NaN where the lab gave no range).
    limits
        The reference limits chosen (:func:`markers.analysis.reference.load_reference_limits`).

    Returns
    -------
    tuple of int
        How many results carry a lab range, and how many of them change grade.
    """
    if REPORTED_ULN not in measurements or not len(measurements):
        return 0, 0
    reported = pd.to_numeric(measurements[REPORTED_ULN], errors="coerce").to_numpy(dtype=float)
    has = np.isfinite(reported) & (reported > 0)
    if not has.any():
        return 0, 0
    subset = measurements[has]
    by_set = flag(subset, limits=limits)[GRADE].to_numpy(dtype=object)
    by_lab = flag(subset, limits=limits, prefer_reported=True)[GRADE].to_numpy(dtype=object)
    return int(has.sum()), int((by_set != by_lab).sum())
