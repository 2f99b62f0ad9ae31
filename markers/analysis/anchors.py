"""Per-patient dates the assessment anchors on: diagnosis, first treatment of any kind, milestones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.rules import TREATMENT_EVENTS
from markers.analysis.timeline import event_dates
from markers.schema import EVENTS

__all__ = ["FIRST_TREATMENT", "as_days", "patient_anchors"]

#: Column of :func:`patient_anchors`: the earliest treatment event of any kind (surgery included).
FIRST_TREATMENT = "first_treatment"

_EPOCH = np.datetime64("1970-01-01", "ns")
_DAY = np.timedelta64(1, "D")


def as_days(dates: object) -> np.ndarray:
    """Float days since 1970-01-01 (NaN for a missing date) of datetime-like values."""
    values = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[ns]")
    days = (values - _EPOCH) / _DAY
    return np.where(np.isnat(values), np.nan, days).astype(float)


def patient_anchors(therapy: pd.DataFrame, *, patients: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    """Float days of each event code, ``diagnosis`` and :data:`FIRST_TREATMENT`, one row per patient in ``index``.

    Parameters
    ----------
    therapy, patients
        As for :func:`markers.analysis.timeline.event_dates`.
    index
        The patient IDs (str) wanted, in order.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``index``; float days since 1970-01-01, NaN when absent.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["P1", "P1"], "event": ["surgery", "therapy_start"],
    ...                   "event_date": pd.to_datetime(["2024-01-05", "2024-02-01"])})
    >>> int(patient_anchors(t, patients=None, index=pd.Index(["P1"]))["first_treatment"].iloc[0])
    19727
    """
    dates = event_dates(therapy, patients=patients).reindex(index)
    table = pd.DataFrame({code: as_days(dates[code]) for code in EVENTS}, index=index)
    table[FIRST_TREATMENT] = table[list(TREATMENT_EVENTS)].min(axis=1, skipna=True)
    return table
