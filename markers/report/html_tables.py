"""The HTML report's tables as markup: cohort overview, per-patient assessment and samples, issues.

Every text that comes from the data (patient IDs, file names, cells, messages) goes through
:func:`esc`; nothing from the data is ever placed in a script or a style.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from markers.plot.frames import sample_key
from markers.plot.panel import PANEL_MILESTONES, panel_cells
from markers.report.overview import PATIENT_STATUSES, assessment_day
from markers.schema import ANALYTE, ANALYTES, CENSOR, DAY, GRADE, PATIENT_ID, PHASE, SAMPLE_DATE, VALUE, X_ULN

__all__ = ["PANEL_FILTERS", "anchor_ids", "cohort_table", "esc", "issues_table", "patient_assessment_table", "samples_table",
           "table"]

MISSING = "—"


def esc(value: Any) -> str:
    """Text for HTML (element content or a quoted attribute): ``& < > " '`` escaped; missing is ``—``.

    Examples
    --------
    >>> esc('<b title="x">&')
    '&lt;b title=&quot;x&quot;&gt;&amp;'
    """
    if _missing(value):
        return MISSING
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return not isinstance(value, str) and bool(pd.isna(value))


def anchor_ids(patients: Iterable[str]) -> dict[str, str]:
    """A distinct, URL-safe ``id`` for each patient's section: ``patient-`` + the ID's letters and digits.

    Any other character becomes ``_``; two IDs that would then collide get ``-2``, ``-3`` ...

    Examples
    --------
    >>> anchor_ids(["NB 1", "NB_1", "0042"])
    {'NB 1': 'patient-NB_1', 'NB_1': 'patient-NB_1-2', '0042': 'patient-0042'}
    """
    seen: dict[str, int] = {}
    out = {}
    for pid in patients:
        base = "patient-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(pid))
        seen[base] = seen.get(base, 0) + 1
        out[pid] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return out


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "", numeric: Sequence[int] = ()) -> str:
    """A plain table; ``rows`` hold markup already escaped, ``numeric`` columns are right-aligned."""
    num = set(numeric)
    head = "".join(f'<th{" class=num" if j in num else ""} scope="col">{h}</th>' for j, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if j in num else ""}>{c}</td>' for j, c in enumerate(row))
                   + "</tr>\n" for row in rows)
    klass = f' class="{cls}"' if cls else ""
    return f'<div class="scroll"><table{klass}><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table></div>\n'


def _day(value: float) -> str:
    return MISSING if _missing(value) or math.isnan(value) else str(int(value))


def _number(value: Any, digits: int = 1) -> str:
    if _missing(value):
        return MISSING
    return f"{float(value):.{digits}f}"


def _value_text(value: Any, censor: Any) -> str:
    """A result with three significant digits and no exponent (``0.412``, ``12.5``, ``1234``)."""
    if _missing(value):
        return MISSING
    v = float(value)
    digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2 if abs(v) >= 1 else 3
    prefix = str(censor) if not _missing(censor) else ""
    return f"{prefix}{v:.{digits}f}"


_COHORT_HEADER = (
    # (label, type of its sort key)
    ("Patient", "text"), ("Status", "text"), ("Markers measured", "text"), ("Informative", "text"),
    ("Samples", "number"), ("First sample (day)", "number"), ("Latest sample (day)", "number"),
    ("Highest baseline ×ULN", "number"), ("Normal from (day)", "text"), ("Re-elevated (day)", "number"),
    # the patient-level panel status (markers.analysis.panel, Matser 2025)
    ("End of induction", "text"), ("Complete remission", "text"), ("Persistent", "text"),
    ("Re-elevation", "text"), ("Unconfirmed rise (day)", "number"),
)

#: Panel status columns of the cohort table that have a filter: (row attribute, milestone).
PANEL_FILTERS = (("data-eoi", "end_of_induction"), ("data-cr", "complete_remission"))


_PANEL_KEYS = (*PANEL_MILESTONES, "persistent", "reelevation", "rise")


def _panel_records(panel: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    """Each informative patient's panel cells by key (``end_of_induction`` ... ``rise``), by patient ID."""
    if panel is None or not len(panel):
        return {}
    return {cells[0]: dict(zip(_PANEL_KEYS, cells[2:], strict=True)) for cells in panel_cells(panel)}


_PANEL_BLANK = {m: "unknown" for m in PANEL_MILESTONES} | {"persistent": MISSING, "reelevation": MISSING,
                                                          "rise": MISSING}


def cohort_table(overview: pd.DataFrame, anchors: dict[str, str], panel: pd.DataFrame | None = None) -> str:
    """The cohort table: one row per patient, each cell with a ``data-sort`` key, each row with
    ``data-patient``, ``data-status``, ``data-markers``, ``data-eoi`` and ``data-cr`` (the panel
    status at end of induction and in complete remission) for the page's filters. ``panel``: the
    patient-level status with ``unconfirmed_rise_day`` (:func:`markers.plot.panel.panel_with_days`)."""
    head = "".join(
        f'<th scope="col" data-type="{kind}"><button type="button" class="sort">{esc(label)}</button></th>'
        for label, kind in _COHORT_HEADER)
    lines = []
    panel_by_patient = _panel_records(panel)
    for rec in overview.to_dict("records"):
        pid = str(rec[PATIENT_ID])
        status = str(rec["status"])
        cells = [
            (f'<a href="#{anchors[pid]}">{esc(pid)}</a>', pid, ""),
            (esc(status), str(PATIENT_STATUSES.index(status)) + status, "status"),
            (esc(rec["markers"]), rec["markers"], ""),
            (esc(rec["informative"] or "none"), rec["informative"], ""),
            (str(rec["samples"]), str(rec["samples"]), "num"),
            (_day(rec["first_day"]), _sort_number(rec["first_day"]), "num"),
            (_day(rec["last_day"]), _sort_number(rec["last_day"]), "num"),
            (_number(rec["max_baseline_x_uln"]), _sort_number(rec["max_baseline_x_uln"]), "num"),
            (esc(rec["normal_day"] or MISSING), rec["normal_day"], ""),
            (_day(rec["reelevation_day"]), _sort_number(rec["reelevation_day"]), "num"),
        ]
        known = panel_by_patient.get(pid, _PANEL_BLANK)
        for key in _PANEL_KEYS[:-1]:
            cells.append((esc(known[key]), known[key], ""))
        rise = known["rise"]
        cells.append((esc(rise), "" if rise == MISSING else repr(float(rise)), "num"))
        tds = "".join(f'<td{f" class={k}" if k else ""} data-sort="{esc(key)}">{text}</td>' for text, key, k in cells)
        slug = status.replace(" ", "-")
        filters = "".join(f' {attr}="{esc(known.get(m, "unknown"))}"' for attr, m in PANEL_FILTERS)
        lines.append(f'<tr class="status-{slug}" data-patient="{esc(pid)}" data-status="{esc(status)}" '
                     f'data-markers="{esc(rec["markers"])}"{filters} data-anchor="{anchors[pid]}">{tds}</tr>\n')
    return (f'<div class="scroll"><table id="cohort-table"><thead><tr>{head}</tr></thead>\n'
            f'<tbody>\n{"".join(lines)}</tbody></table></div>\n')


def _sort_number(value: Any) -> str:
    return "" if _missing(value) or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


_ASSESSMENT_FIELDS = (
    ("informative", "Informative"), ("baseline_x_uln", "Baseline ×ULN"), ("nadir_x_uln", "Nadir ×ULN"),
    ("normalized", "Normal from (day)"), ("persistent", "Persistent"), ("reelevation", "Re-elevated (day)"),
    ("half_life_days", "Half-life (days)"),
)


def _yes_no(value: Any) -> str:
    return MISSING if _missing(value) else ("yes" if bool(value) else "no")


def patient_assessment_table(assessment_rows: pd.DataFrame, rows: pd.DataFrame) -> str:
    """One row per analyte of one patient: the assessment, its days counted since diagnosis.

    The assessment's ``summary`` (in words) is left out: it counts days from the start of therapy.
    """
    if assessment_rows is None or assessment_rows.empty:
        return '<p class="note">No assessment for this patient.</p>\n'
    key = sample_key(rows)
    lookup = {}
    if DAY in rows and key != DAY:
        days = pd.to_numeric(rows[DAY], errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        lookup = dict(zip(rows[key].tolist(), days, strict=True))
    order = {a: i for i, a in enumerate(ANALYTES)}
    out = []
    for _, rec in sorted(assessment_rows.iterrows(), key=lambda item: order.get(item[1][ANALYTE], 99)):
        informative = _yes_no(rec.get("informative"))
        normal = _day(assessment_day(rec, "normalized", lookup)) if rec.get("normalized") is True else MISSING
        rise = _day(assessment_day(rec, "reelevation", lookup)) if rec.get("reelevation") is True else (
            _yes_no(rec.get("reelevation")))
        out.append([esc(rec[ANALYTE]), informative, _number(rec.get("baseline_x_uln")),
                    _number(rec.get("nadir_x_uln")), normal, _yes_no(rec.get("persistent")), rise,
                    _number(rec.get("half_life_days"))])
    return table(["Analyte", *[label for _c, label in _ASSESSMENT_FIELDS]], out, numeric=(2, 3, 4, 7))


def samples_table(rows: pd.DataFrame) -> str:
    """Every sample of one patient (none left out): date, day since diagnosis, phase, then each
    analyte's value and multiple of the ULN, the cell shaded by grade."""
    key = sample_key(rows)
    analytes = [a for a in ANALYTES if a in set(rows[ANALYTE])] + sorted(set(rows[ANALYTE]) - set(ANALYTES))
    has_date = key == SAMPLE_DATE
    ordered = rows.sort_values([DAY, key] if DAY in rows and key != DAY else [key], kind="stable")
    header = (["Date"] if has_date else []) + ["Day", "Phase"] + [f"{esc(a)} (×ULN)" for a in analytes]
    lines = []
    for when, group in ordered.groupby(key, sort=False):
        first = group.iloc[0]
        cells = [f"<td>{esc(pd.Timestamp(when).date().isoformat())}</td>"] if has_date else []
        cells += [f'<td class="num">{_day(_float(first.get(DAY)))}</td>', f"<td>{esc(first.get(PHASE))}</td>"]
        by_analyte = {str(r[ANALYTE]): r for _, r in group.iterrows()}
        for analyte in analytes:
            rec = by_analyte.get(analyte)
            if rec is None:
                cells.append("<td></td>")
                continue
            grade = str(rec.get(GRADE)) if not _missing(rec.get(GRADE)) else ""
            shade = f" g-{grade}" if grade in ("mild", "moderate", "marked") else ""
            text = f"{_value_text(rec.get(VALUE), rec.get(CENSOR))} ({_number(rec.get(X_ULN))})"
            cells.append(f'<td class="num{shade}" title="{esc(grade or "no grade")}">{text}</td>')
        lines.append("<tr>" + "".join(cells) + "</tr>\n")
    head = "".join(f'<th scope="col">{h}</th>' for h in header)
    return (f'<div class="scroll"><table class="samples"><thead><tr>{head}</tr></thead>\n'
            f'<tbody>\n{"".join(lines)}</tbody></table></div>\n')


def _float(value: Any) -> float:
    return float("nan") if _missing(value) else float(value)


def issues_table(issues: pd.DataFrame) -> str:
    """Every issue record, errors first: severity, code, file, cell, value, message and hint, unshortened."""
    if issues.empty:
        return '<p>No rejected rows and no warnings.</p>\n'
    rank = {"error": 0, "warning": 1}
    ordered = issues.assign(_rank=issues["severity"].map(rank).fillna(2)).sort_values(
        ["_rank", "file", "sheet", "row"], kind="stable", na_position="first")
    rows = []
    for rec in ordered.to_dict("records"):
        sheet, cell = rec.get("sheet"), rec.get("cell")
        where = "!".join(str(p) for p in (sheet, cell) if not _missing(p) and str(p))
        rows.append([esc(rec.get("severity")), f"<code>{esc(rec.get('code'))}</code>", esc(rec.get("file")),
                     esc(where or MISSING), esc(rec.get("value")), esc(rec.get("message")), esc(rec.get("hint"))])
    return table(["Severity", "Code", "File", "Cell", "Value", "Message", "Hint"], rows, cls="issues")
