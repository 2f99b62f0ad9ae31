"""Date-free event tables on a calendar of their own, for the outcome analysis that counts from dates.

EFS and OS (:mod:`markers.analysis.endpoints`, :mod:`markers.analysis.outcomes`) are differences
between event dates. A date-free event table gives each event's day since diagnosis
(``event_day``) instead: placing day N on a fixed origin + N days gives the same differences
exactly, and the diagnosis (day 0) becomes the origin itself. The dates made here are never shown
or written: they exist only for the subtraction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.schema import DAY, EVENT, EVENT_DATE, EVENT_DAY, EVENT_LABEL, PATIENT_ID, PHASE, SAMPLE_DATE

__all__ = ["ORIGIN", "on_day_calendar", "phases_on_days"]

#: The date day 0 (the diagnosis) is placed on; any date gives the same day counts.
ORIGIN = pd.Timestamp("2000-01-01")


def on_day_calendar(therapy: pd.DataFrame | None) -> pd.DataFrame | None:
    """A date-free therapy table with ``event_date`` = :data:`ORIGIN` + ``event_day``, and a diagnosis
    event on day 0 for each patient whose table has none. Any other table is returned as it is.

    Examples
    --------
    >>> t = pd.DataFrame({"patient_id": ["C1", "C1"], "event": ["relapse", "last_follow_up"],
    ...                   "event_date": pd.to_datetime([None, None]), "event_day": [500, 730]})
    >>> out = on_day_calendar(t)
    >>> out["event"].tolist(), (out["event_date"] - ORIGIN).dt.days.tolist()
    (['diagnosis', 'relapse', 'last_follow_up'], [0, 500, 730])
    """
    if therapy is None or EVENT_DAY not in therapy.columns or len(therapy) == 0:
        return therapy
    if EVENT_DATE in therapy.columns and therapy[EVENT_DATE].notna().any():
        return therapy
    out = therapy.copy()
    days = pd.to_numeric(out[EVENT_DAY], errors="coerce").astype("float64")
    out[EVENT_DATE] = (ORIGIN + pd.to_timedelta(days, unit="D")).astype("datetime64[ns]")
    has_dx = set(out.loc[out[EVENT] == "diagnosis", PATIENT_ID].astype(str))
    missing = [p for p in pd.unique(out[PATIENT_ID].astype(str)) if p not in has_dx]
    if missing:
        dx = pd.DataFrame({PATIENT_ID: missing, EVENT: "diagnosis", EVENT_LABEL: "diagnosis (day 0)",
                           EVENT_DATE: pd.Series([ORIGIN] * len(missing), dtype="datetime64[ns]"), EVENT_DAY: 0})
        out = pd.concat([dx.astype({c: out[c].dtype for c in (EVENT_DAY,) if c in out.columns}), out],
                        ignore_index=True)
    return out


def phases_on_days(measurements: pd.DataFrame, *, therapy: pd.DataFrame | None) -> pd.DataFrame:
    """Date-free results with the timeline's ``phase`` worked out from their ``day`` and the events' days.

    The timeline (:func:`markers.analysis.timeline.add_timeline`) places samples in the treatment
    phases by date; date-free results have none, so they are placed on the day calendar of
    :func:`on_day_calendar`, where the same phases follow from the same day counts. Results with
    dates, or without a day, keep the phase they have.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["C1", "C1"], "sample_date": pd.to_datetime([None, None]),
    ...                   "day": pd.array([0, 30], dtype="Int64"), "phase": ["", ""]})
    >>> t = pd.DataFrame({"patient_id": ["C1"], "event": ["therapy_start"], "event_label": ["induction"],
    ...                   "event_date": pd.to_datetime([None]), "event_day": [4]})
    >>> phases_on_days(m, therapy=t)["phase"].tolist()
    ['pre-treatment', 'induction']
    """
    from markers.analysis.timeline import add_timeline

    if (SAMPLE_DATE not in measurements.columns or DAY not in measurements.columns or len(measurements) == 0
            or measurements[SAMPLE_DATE].notna().any()):
        return measurements
    dated = on_day_calendar(therapy)
    if dated is None or EVENT_DAY not in dated.columns or len(dated) == 0:
        return measurements
    days = pd.to_numeric(measurements[DAY], errors="coerce").astype("float64")
    proxy = pd.DataFrame({PATIENT_ID: measurements[PATIENT_ID].to_numpy(),
                          SAMPLE_DATE: (ORIGIN + pd.to_timedelta(days.to_numpy(), unit="D")).astype("datetime64[ns]")})
    placed = add_timeline(proxy, therapy=dated, patients=pd.DataFrame())[PHASE].to_numpy(dtype=object)
    phase = np.where(days.notna().to_numpy(), placed, measurements[PHASE].to_numpy(dtype=object))
    return measurements.assign(**{PHASE: pd.array(phase.astype(str), dtype=measurements[PHASE].dtype)})
