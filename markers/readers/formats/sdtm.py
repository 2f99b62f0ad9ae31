"""CDISC SDTM LB (laboratory results) and DM (demographics) tables, CSV or SAS transport, as record sheets.

Recognised from the SDTMIG variable names alone. The patient is ``USUBJID`` (unique
across studies; ``STUDYID`` names the study, never a person). LB: ``LBTESTCD``/``LBTEST``/
``LBLOINC`` name the test; the result is ``LBORRES`` with ``LBORRESU`` (as the lab reported it,
censored results included, e.g. ``<0.5``), else the standardized ``LBSTRESC`` (or ``LBSTRESN``)
with ``LBSTRESU``; ``LBORNRLO``/``LBORNRHI`` give the lab's range, ``LBSPEC`` the specimen,
``LBDTC`` the collection date (ISO 8601) or, without it, ``LBDY`` the study day counted from
DM's ``RFSTDTC`` (day 1 = RFSTDTC; there is no day 0). DM: ``BRTHDTC``, ``SEX``, ``AGE``/``AGEU``,
``RFSTDTC``.

An ADaM ADLB-like table (``USUBJID``, ``PARAMCD`` and ``AVAL`` or ``AVALC``, as markers' ``--shape adam``
writes it) is read too: the test is ``PARAM`` (else ``PARAMCD``) with ``LBLOINC``; the result is ``AVAL``
or, when it is missing, ``AVALC`` (a censored result such as ``<0.5``) with ``AVALU``; ``ANRLO``/``ANRHI``
give the range; the date is ``ADT`` (ISO 8601 in a CSV; in SAS transport, a SAS date: a number of
days since 1960-01-01). A row without ``ADT`` takes ``ADY`` as its day (ADaM's day 1 is
the reference day and there is no day 0, so ``ADY`` 1 is day 0 and ``ADY`` -1 is day -1); markers'
ADLB counts ``ADY`` from the diagnosis, so it is read as the days since diagnosis.
"""

from __future__ import annotations

import datetime as dt
import math
import pathlib

import pandas as pd

from markers.errors import InputFormatError
from markers.readers.formats import table as t

LB_KEYS = {"USUBJID", "LBTESTCD"}
DM_KEYS = {"USUBJID", "SEX"}
ADLB_KEYS = {"USUBJID", "PARAMCD"}
#: Day 0 of SAS dates.
SAS_EPOCH = dt.date(1960, 1, 1)
_AGE_UNIT_DAYS = {"DAYS": 1.0, "WEEKS": 7.0, "MONTHS": 30.4375, "YEARS": 365.25}


def sdtm_domain(headers: list[str]) -> str | None:
    """``"LB"``, ``"DM"``, ``"ADLB"`` or ``None`` from a table's column names."""
    names = {h.strip().upper() for h in headers if h}
    if LB_KEYS <= names and names & {"LBORRES", "LBSTRESC", "LBSTRESN"}:
        return "LB"
    if DM_KEYS <= names and names & {"BRTHDTC", "AGE", "RFSTDTC"}:
        return "DM"
    if ADLB_KEYS <= names and names & {"AVAL", "AVALC"}:
        return "ADLB"
    return None


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xpt(path: pathlib.Path) -> pd.DataFrame:
    """A SAS transport (XPORT v5) dataset as a frame of text cells (pandas' reader)."""
    try:
        frame = pd.read_sas(path, format="xport", encoding="latin-1")
    except (ValueError, OSError) as exc:
        raise InputFormatError(f"{path.name}: not a readable SAS transport file ({exc}).") from exc
    return frame.map(_text)


def _study_day_date(reference: str, day: str) -> str:
    """The date of SDTM study day ``day`` for a reference start ``reference`` (ISO); "" when either is missing."""
    try:
        start = dt.date.fromisoformat(reference[:10])
        number = int(float(day))
    except ValueError:
        return ""
    return (start + dt.timedelta(days=number - 1 if number > 0 else number)).isoformat()


def dm_rows(frame: pd.DataFrame, rows: list[int]) -> list[tuple[int, str, dict]]:
    """Patient records of a DM table (one per subject)."""
    out = []
    for number, (_, r) in zip(rows, frame.iterrows(), strict=True):
        out.append((number, f"row {number} USUBJID {r.get('USUBJID', '')}", {
            t.PATIENT: r.get("USUBJID", ""), t.DATE_OF_BIRTH: r.get("BRTHDTC", ""), t.SEX: r.get("SEX", ""),
        }))
    return out


def reference_starts(frame: pd.DataFrame | None) -> dict[str, str]:
    """``USUBJID -> RFSTDTC`` of a DM table."""
    if frame is None or "RFSTDTC" not in frame:
        return {}
    return dict(zip(frame["USUBJID"], frame["RFSTDTC"], strict=True))


def lb_rows(frame: pd.DataFrame, rows: list[int], *, starts: dict[str, str]) -> list[tuple[int, str, dict]]:
    """Result records of an LB table (one per row)."""
    out = []
    for number, (_, r) in zip(rows, frame.iterrows(), strict=True):
        g = r.get
        if g("LBORRES", ""):
            result, unit = g("LBORRES", ""), g("LBORRESU", "")
            low, high = g("LBORNRLO", ""), g("LBORNRHI", "")
        else:
            result, unit = g("LBSTRESC", "") or g("LBSTRESN", ""), g("LBSTRESU", "")
            low, high = g("LBSTNRLO", ""), g("LBSTNRHI", "")
        date = g("LBDTC", "")
        if not date and g("LBDY", ""):
            date = _study_day_date(starts.get(g("USUBJID", ""), ""), g("LBDY", ""))
        seq = f" LBSEQ {g('LBSEQ')}" if g("LBSEQ", "") else ""
        out.append((number, f"row {number} USUBJID {g('USUBJID', '')}{seq}", {
            t.PATIENT: g("USUBJID", ""), t.SAMPLE_DATE: date, t.TEST: g("LBTEST", "") or g("LBTESTCD", ""),
            t.LOINC: g("LBLOINC", ""), t.RESULT: result, t.UNIT: unit,
            t.REFERENCE_RANGE: f"{low}-{high}" if low and high else (f"<={high}" if high else ""),
            t.SPECIMEN: g("LBSPEC", ""),
        }))
    return out


def _adam_day(ady: str) -> str:
    """Days since the reference day of an ADaM relative day (1 -> 0, -1 -> -1), "" when not a whole number."""
    try:
        number = float(ady)
    except ValueError:
        return ""
    if not number.is_integer() or number == 0:
        return ""
    return str(int(number) - 1 if number > 0 else int(number))


def sas_date(value: str) -> str:
    """A SAS date (days since 1960-01-01, as ADaM's numeric ``*DT`` variables hold it) as ISO text; other text as is."""
    try:
        number = float(value)
    except ValueError:
        return value
    if not number.is_integer() or abs(number) > 3_000_000:
        return value
    return (SAS_EPOCH + dt.timedelta(days=int(number))).isoformat()


def adlb_rows(frame: pd.DataFrame, rows: list[int], *, sas_dates: bool = False) -> list[tuple[int, str, dict]]:
    """Result records of an ADLB-like table (one per row); ``sas_dates``: ``ADT`` holds SAS dates (transport files)."""
    out = []
    for number, (_, r) in zip(rows, frame.iterrows(), strict=True):
        g = r.get
        low, high = g("ANRLO", ""), g("ANRHI", "")
        date = sas_date(g("ADT", "")) if sas_dates else g("ADT", "")
        out.append((number, f"row {number} USUBJID {g('USUBJID', '')} PARAMCD {g('PARAMCD', '')}", {
            t.PATIENT: g("USUBJID", ""), t.SAMPLE_DATE: date, t.TEST: g("PARAM", "") or g("PARAMCD", ""),
            t.LOINC: g("LBLOINC", ""), t.RESULT: g("AVAL", "") or g("AVALC", ""), t.UNIT: g("AVALU", ""),
            t.REFERENCE_RANGE: f"{low}-{high}" if low and high else (f"<={high}" if high else ""),
            t.DAYS_SINCE_DIAGNOSIS: "" if date else _adam_day(g("ADY", "")),
        }))
    return out


def sdtm_sheets(path: pathlib.Path, frame: pd.DataFrame, rows: list[int], *, fmt: str,
                dm: pd.DataFrame | None = None) -> list[t.RawSheet]:
    """Record sheets of one SDTM table (``frame``: text cells, upper-case variable names; ``rows``: source rows)."""
    domain = sdtm_domain(list(frame.columns))
    if domain == "DM":
        return [t.record_sheet(path, sheet="DM", headers=t.PATIENT_HEADERS, rows=dm_rows(frame, rows), fmt=fmt)]
    if domain == "LB":
        records = lb_rows(frame, rows, starts=reference_starts(dm))
        return [t.record_sheet(path, sheet="LB", headers=t.MEASUREMENT_HEADERS, rows=records, fmt=fmt)]
    if domain == "ADLB":
        records = adlb_rows(frame, rows, sas_dates=fmt == "xpt")
        return [t.record_sheet(path, sheet="ADLB", headers=t.measurement_headers(records), rows=records, fmt=fmt)]
    raise InputFormatError(f"{path.name}: an SDTM table other than LB or DM; markers reads LB results with DM, "
                           "and ADaM ADLB.")
