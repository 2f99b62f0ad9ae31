"""Per-patient dates (or, for date-free sources, days since diagnosis) the assessment anchors on."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from markers.analysis.rules import TREATMENT_EVENTS
from markers.analysis.timeline import event_dates
from markers.schema import EVENT, EVENT_DAY, EVENTS, PATIENT_ID

__all__ = ["FIRST_TREATMENT", "ORIGIN", "as_days", "day_anchors", "patient_anchors"]

#: Column of :func:`patient_anchors`: the earliest treatment event of any kind (surgery included).
FIRST_TREATMENT = "first_treatment"
#: Column of :func:`patient_anchors`: day 0 of the timeline (diagnosis, else therapy start), as
#: ``markers.analysis.timeline.add_timeline`` counts ``day``.
ORIGIN = "origin"

_NS_PER_DAY = 86_400_000_000_000.0


def as_days(dates: object) -> np.ndarray:
    """Float days since 1970-01-01 (NaN for a missing date) of datetime-like values."""
    if isinstance(dates, np.ndarray | pd.Series) and dates.dtype == np.dtype("datetime64[ns]"):
        values = np.asarray(dates)  # already nanoseconds: no conversion
    else:
        values = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[ns]")
    # nanoseconds since 1970 / one day's: the same float as (values - 1970-01-01) / 1 day
    return np.where(np.isnat(values), np.nan, values.view(np.int64) / _NS_PER_DAY)


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
    dates = event_dates(therapy, patients=patients)
    # the days of every code (a column each), converted at once for the patients with any event only
    days = np.full((len(index), len(EVENTS)), np.nan)
    if len(dates):  # no event and no diagnosis date (a lab export alone): no look-up of the IDs
        at = index.get_indexer(dates.index)
        found = at >= 0
        if found.any():
            known = dates[list(EVENTS)].to_numpy(dtype="datetime64[ns]")[found]
            days[at[found]] = as_days(known.ravel()).reshape(known.shape)
    table = pd.DataFrame(days, index=index, columns=list(EVENTS), copy=False)  # ``days`` is this table's own
    if not len(dates):  # nothing dated (a lab export alone): no first treatment and no day 0 either
        table[FIRST_TREATMENT] = table[ORIGIN] = np.nan
        return table
    with warnings.catch_warnings():  # a patient without any treatment: NaN, as a skipna minimum gives
        warnings.simplefilter("ignore", RuntimeWarning)
        table[FIRST_TREATMENT] = np.nanmin(table[list(TREATMENT_EVENTS)].to_numpy(), axis=1) if len(index) else []
    diagnosis = table["diagnosis"].to_numpy()
    table[ORIGIN] = np.where(np.isnan(diagnosis), table["therapy_start"].to_numpy(), diagnosis)
    return table


def day_anchors(therapy: pd.DataFrame | None, *, index: pd.Index) -> pd.DataFrame:
    """As :func:`patient_anchors`, on the day axis of a date-free source: days since diagnosis.

    The diagnosis is day 0 of every patient in ``index``; therapy events count when the therapy
    table gives their day (column ``event_day``, days since diagnosis), the earliest per code.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["C1", "C1"], "event": ["therapy_start", "surgery"],
    ...                   "event_day": [4, 60]})
    >>> row = day_anchors(t, index=pd.Index(["C1"])).loc["C1"]
    >>> float(row["diagnosis"]), float(row["first_treatment"]), float(row["surgery"])
    (0.0, 4.0, 60.0)
    """
    table = pd.DataFrame({code: np.full(len(index), np.nan) for code in EVENTS}, index=index)
    if therapy is not None and {PATIENT_ID, EVENT, EVENT_DAY} <= set(therapy.columns) and len(therapy):
        events = pd.DataFrame({PATIENT_ID: therapy[PATIENT_ID].astype(str).to_numpy(),
                               EVENT: therapy[EVENT].astype(str).to_numpy(),
                               "day": pd.to_numeric(therapy[EVENT_DAY], errors="coerce").to_numpy(dtype=float)})
        events = events[events["day"].notna() & events[EVENT].isin(EVENTS) & events[PATIENT_ID].isin(index)]
        first = events.groupby([PATIENT_ID, EVENT])["day"].min().unstack(EVENT)
        first = first.reindex(index=index, columns=list(EVENTS)).astype(float)
        table = table.fillna(first) if len(first.columns) else table
    table["diagnosis"] = 0.0
    table[FIRST_TREATMENT] = table[list(TREATMENT_EVENTS)].min(axis=1, skipna=True)
    table[ORIGIN] = 0.0
    return table
