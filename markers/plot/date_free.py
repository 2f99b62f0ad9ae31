"""Date-free tables (age at sample or days since diagnosis, no calendar date) put in the pages' day form.

A data-commons table gives no calendar date: the timeline's ``day`` (days since diagnosis) is the
only time there is. The pages already draw tables without dates: pseudonymised ones, whose
``<stem>_date`` columns became ``<stem>_day`` (days since the patient's diagnosis). A date-free
table is put in the same form: ``sample_day`` beside no ``sample_date``, ``event_day`` without
``event_date``, the assessment's ``<finding>_day`` columns without their empty dates. Every page,
axis, table and heading then speaks in days since diagnosis, as it does for pseudonymised data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.plot.frames import day_column
from markers.schema import DATE_OF_BIRTH, DAY, EVENT_DATE, EVENT_DAY, PATIENT_ID, SAMPLE_DATE

__all__ = ["day_form_assessment", "in_days", "day_form_measurements", "day_form_patients", "day_form_status",
           "day_form_therapy", "is_date_free"]


def is_date_free(measurements: pd.DataFrame) -> bool:
    """True when the measurements have rows and none has a calendar sample date.

    Examples
    --------
    >>> is_date_free(pd.DataFrame({"sample_date": pd.to_datetime([None, None]), "day": [0, 30]}))
    True
    >>> is_date_free(pd.DataFrame({"sample_date": pd.to_datetime(["2024-01-01"]), "day": [0]}))
    False
    """
    return SAMPLE_DATE in measurements.columns and len(measurements) > 0 and bool(measurements[SAMPLE_DATE].isna().all())


def _without_empty_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its ``*_date`` columns (and date of birth) that hold no date at all."""
    empty = [name for name in frame.columns
             if (str(name).endswith("_date") or name == DATE_OF_BIRTH) and frame[name].isna().all()]
    return frame.drop(columns=empty)


def day_form_measurements(measurements: pd.DataFrame) -> pd.DataFrame:
    """Date-free measurements with ``sample_day`` (the timeline's ``day``) where ``sample_date`` was.

    Examples
    --------
    >>> m = pd.DataFrame({"patient_id": ["C1"], "sample_date": pd.to_datetime([None]), "day": [30]})
    >>> day_form_measurements(m).columns.tolist(), int(day_form_measurements(m)["sample_day"].iloc[0])
    (['patient_id', 'sample_day', 'day'], 30)
    """
    if SAMPLE_DATE not in measurements.columns or not measurements[SAMPLE_DATE].isna().all():
        return measurements.copy()
    position = measurements.columns.get_loc(SAMPLE_DATE)
    days = measurements[DAY] if DAY in measurements.columns else pd.Series(pd.NA, index=measurements.index)
    out = _without_empty_dates(measurements)
    out.insert(int(position), day_column(SAMPLE_DATE), pd.array(pd.to_numeric(days, errors="coerce"),
                                                                 dtype="Float64").astype("Int64"))
    return out


def day_form_therapy(therapy: pd.DataFrame | None) -> pd.DataFrame | None:
    """A date-free therapy table with its ``event_day`` alone (no empty ``event_date`` beside it)."""
    if therapy is None or EVENT_DATE not in therapy.columns or not therapy[EVENT_DATE].isna().all():
        return therapy
    out = therapy.drop(columns=[EVENT_DATE])
    if EVENT_DAY not in out.columns:
        out[EVENT_DAY] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


def day_form_patients(patients: pd.DataFrame | None) -> pd.DataFrame | None:
    """The patients table without the date columns a date-free source leaves empty."""
    return None if patients is None else _without_empty_dates(patients)


def day_form_assessment(assessment: pd.DataFrame | None) -> pd.DataFrame | None:
    """The assessment without empty ``<finding>_date`` columns whose ``<finding>_day`` says the day."""
    if assessment is None:
        return None
    empty = [name for name in assessment.columns if str(name).endswith("_date")
             and day_column(str(name)) in assessment.columns and assessment[name].isna().all()]
    return assessment.drop(columns=empty)


def day_form_status(status: pd.DataFrame, assessment: pd.DataFrame | None) -> pd.DataFrame:
    """The patient-level status with its unconfirmed rise as ``unconfirmed_rise_day`` (the latest
    rise day of the patient's informative markers, as the status takes the latest rise date).

    Examples
    --------
    >>> s = pd.DataFrame({"patient_id": ["C1"], "reelevation": [False],
    ...                   "unconfirmed_rise_date": pd.to_datetime([None])})
    >>> a = pd.DataFrame({"patient_id": ["C1", "C1"], "informative": [True, True],
    ...                   "unconfirmed_rise_day": [250, None]})
    >>> int(day_form_status(s, a)["unconfirmed_rise_day"].iloc[0])
    250
    """
    out = status.copy()
    if "unconfirmed_rise_date" not in out.columns or not out["unconfirmed_rise_date"].isna().all():
        return out
    out = out.drop(columns=["unconfirmed_rise_date"])
    days = pd.Series(np.nan, index=out.index)
    if assessment is not None and "unconfirmed_rise_day" in assessment.columns and len(out):
        informative = assessment["informative"].astype("boolean").fillna(False).to_numpy(dtype=bool) \
            if "informative" in assessment.columns else np.ones(len(assessment), dtype=bool)
        rises = pd.to_numeric(assessment["unconfirmed_rise_day"], errors="coerce").astype("float64")[informative]
        latest = rises.groupby(assessment[PATIENT_ID].astype(str)[informative]).max()
        days = pd.Series(latest.reindex(out[PATIENT_ID].astype(str)).to_numpy(), index=out.index)
        if "reelevation" in out.columns:  # a confirmed re-elevation is no unconfirmed rise
            days = days.where(out["reelevation"].ne(True).fillna(True).to_numpy(dtype=bool))
    out["unconfirmed_rise_day"] = pd.array(days.to_numpy(dtype="float64"), dtype="Float64").astype("Int64")
    return out


def in_days(analysis):
    """An analysis (:func:`markers.pipeline.analyse`) whose results have no calendar date, with every
    table in the day form above; a dated analysis is returned as it is."""
    from dataclasses import replace

    if not is_date_free(analysis.measurements):
        return analysis
    panel = None
    if analysis.assessment is not None:
        panel = day_form_status(analysis.patient_status, analysis.assessment)
    dataset = replace(analysis.dataset, measurements=day_form_measurements(analysis.dataset.measurements),
                      therapy=day_form_therapy(analysis.dataset.therapy),
                      patients=day_form_patients(analysis.dataset.patients))
    return replace(analysis, dataset=dataset, measurements=day_form_measurements(analysis.measurements),
                   assessment=day_form_assessment(analysis.assessment), panel=panel)
