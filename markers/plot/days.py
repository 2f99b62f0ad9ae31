"""One vocabulary of time for every page: days since the timeline's day 0 (the diagnosis).

The timeline (``markers.analysis.timeline``) counts ``day`` from the diagnosis date (else the
therapy start); the assessment dates its findings (``normalized_date`` ...) and words them in
days of therapy. Headings, axes, tables and cohort curves of the report all show the same
count, from the same origin, and say which: these helpers turn the assessment's dates (or,
in pseudonymised tables, its ``*_day`` columns, which count from the same anchor) into it.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from markers.plot.frames import format_age
from markers.schema import AGE_DAYS, DAY, PATIENT_ID, SAMPLE_DATE

#: How axes and table headings name the day count.
DAY_AXIS_LABEL = "days since diagnosis"

#: The note that says it on a page.
DAY_ORIGIN_NOTE = "day = days since diagnosis (day 0; therapy start when no diagnosis date)"

#: What a cover says when the tables have days, not dates (date-free or pseudonymised).
DAYS_ONLY = "days since diagnosis (no calendar dates in these tables)"

#: How the axes name the day count of a patient with no diagnosis date and no treatment event.
FIRST_SAMPLE_AXIS_LABEL = "days since first sample (no diagnosis date or treatment event)"

#: Assessment dates shown as days.
ASSESSMENT_DAY_COLUMNS: tuple[str, ...] = (
    "baseline_date", "nadir_date", "first_normal_date", "normalized_date", "reelevation_date", "last_sample_date")


def _day_name(date_column: str) -> str:
    return date_column[: -len("_date")] + "_day"


def day_origins(data: pd.DataFrame) -> pd.Series:
    """Day 0 of each patient's timeline (``sample_date − day``), as dates; empty without dates.

    Examples
    --------
    >>> d = pd.DataFrame({"patient_id": ["A", "A"], "sample_date": pd.to_datetime(["2024-01-11", "2024-01-21"]),
    ...                   "day": [10, 20]})
    >>> day_origins(d).to_dict()
    {'A': Timestamp('2024-01-01 00:00:00')}
    """
    if SAMPLE_DATE not in data.columns or DAY not in data.columns or data.empty:
        return pd.Series(dtype="datetime64[ns]")
    days = pd.to_numeric(data[DAY], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    ok = ~np.isnan(days)
    dates = pd.DatetimeIndex(pd.to_datetime(data[SAMPLE_DATE]).to_numpy()[ok])
    origin = (dates - pd.to_timedelta(days[ok], unit="D")).normalize()
    frame = pd.DataFrame({PATIENT_ID: data[PATIENT_ID].astype(str).to_numpy()[ok], "origin": origin})
    return frame.groupby(PATIENT_ID, sort=False)["origin"].first()


def anchored_on_first_sample(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.Timestamp | int | str | None]:
    """One patient's rows with ``day`` counted from the first sample when nothing else can anchor it.

    The timeline leaves ``day`` empty for a patient without a diagnosis date or a treatment event
    (or, in a date-free table, without days since diagnosis); the figures then plot against days
    since the first sample instead of plotting nothing. What stands for the first sample is returned,
    to be said on the page (:func:`first_sample_note`): its date; or, without dates, ``""`` when a
    pseudonymised ``sample_day`` gave the days, or the age in days at the first sample when the
    ages at sample did. Rows with any ``day`` (or nothing to count from) are returned as they are,
    with ``None``.

    Examples
    --------
    >>> r = pd.DataFrame({"patient_id": "A", "sample_date": pd.to_datetime(["2024-01-10", "2024-02-09"]),
    ...                   "day": pd.array([None, None], dtype="Int64")})
    >>> rows, first = anchored_on_first_sample(r)
    >>> rows["day"].tolist(), f"{first:%Y-%m-%d}"
    ([0, 30], '2024-01-10')
    >>> r = pd.DataFrame({"patient_id": "C2", "sample_day": pd.array([None, None], dtype="Int64"),
    ...                   "age_days": [2000, 2090], "day": pd.array([None, None], dtype="Int64")})
    >>> rows, first = anchored_on_first_sample(r)
    >>> rows["day"].tolist(), rows["sample_day"].tolist(), first
    ([0, 90], [0, 90], 2000)
    """
    if DAY not in rows.columns or rows.empty or rows[DAY].notna().any():
        return rows, None
    if SAMPLE_DATE in rows.columns:
        dates = pd.to_datetime(rows[SAMPLE_DATE], errors="coerce")
        if dates.notna().any():
            first = dates.min().normalize()
            days = pd.array((dates.dt.normalize() - first).dt.days, dtype="Int64")
            return rows.assign(**{DAY: days}), first
    for column in ("sample_day", AGE_DAYS):  # no date: the pseudonymised days, else the ages at sample
        if column in rows.columns:
            counts = pd.to_numeric(rows[column], errors="coerce").astype("float64")
            if counts.notna().any():
                start = counts.min()
                days = pd.array(np.floor(counts - start).to_numpy(), dtype="Float64").astype("Int64")
                out = rows.assign(**{DAY: days})
                if "sample_day" in out.columns:
                    out["sample_day"] = days
                return out, "" if column == "sample_day" else int(start)
    return rows, None


def first_sample_note(first: pd.Timestamp | int | str) -> str:
    """What day 0 is when it is the first sample (:func:`anchored_on_first_sample`), for a page heading.

    Examples
    --------
    >>> first_sample_note(pd.Timestamp("2024-01-10")), first_sample_note(""), first_sample_note(2000)
    ('first sample 2024-01-10 (assumed)', 'first sample (assumed)', 'first sample, at age 5 y 5 mo (assumed)')
    """
    if isinstance(first, pd.Timestamp):
        return f"first sample {first:%Y-%m-%d} (assumed)"
    if isinstance(first, str):
        return "first sample (assumed)"
    return f"first sample, at age {format_age(first)} (assumed)"


def with_timeline_days(assessment: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``assessment`` with ``<stem>_day`` (days since day 0) beside each dated finding.

    Pseudonymised assessments already carry these columns (they count from the same anchor):
    they are kept as they are.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["A"], "normalized_date": pd.to_datetime(["2024-03-01"])})
    >>> d = pd.DataFrame({"patient_id": ["A"], "sample_date": pd.to_datetime(["2024-01-11"]), "day": [10]})
    >>> int(with_timeline_days(a, d)["normalized_day"].iloc[0])  # day 0 = 2024-01-01
    60
    """
    out = assessment.copy()
    origins = day_origins(data)
    start = pd.to_datetime(origins.reindex(out[PATIENT_ID].astype(str).to_numpy())).to_numpy() \
        if len(out) else np.array([], dtype="datetime64[ns]")
    for column in ASSESSMENT_DAY_COLUMNS:
        name = _day_name(column)
        if column not in out.columns or name in out.columns:
            continue
        days = (pd.to_datetime(out[column]).to_numpy() - start) / np.timedelta64(1, "D")
        out[name] = pd.array(np.floor(np.asarray(days, dtype="float64")), dtype="Float64").astype("Int64") \
            if len(out) else pd.array([], dtype="Int64")
    return out


# the assessment says "since diagnosis" (or "after first treatment" without a diagnosis date); the page says
# "day N" beside an axis labelled days since diagnosis
_WHEN = re.compile(
    r"\b(normalized|re-elevated) on (day -?\d+ (?:of therapy|after first treatment|since diagnosis)|\d{4}-\d{2}-\d{2})")


def reword_days(summary: str, *, normalized_day: object, reelevation_day: object) -> str:
    """The assessment's words with its days of therapy (or dates) told as days since day 0.

    Examples
    --------
    >>> reword_days("informative; normalized on day 77 of therapy; re-elevated on day 610 of therapy",
    ...             normalized_day=81, reelevation_day=614)
    'informative; normalized on day 81; re-elevated on day 614'
    """
    days = {"normalized": normalized_day, "re-elevated": reelevation_day}

    def swap(match: re.Match[str]) -> str:
        day = days[match.group(1)]
        if day is None or pd.isna(day):
            return match.group(0)
        return f"{match.group(1)} on day {int(day)}"

    return _WHEN.sub(swap, summary)
