"""Stable issue codes and the collector of issue records.

A problem with one cell or one row is data, not an exception (the frictionless
pattern): it becomes an *issue record* with a stable ``code``, a ``severity``
(``error`` rejects the result or row, ``warning`` keeps it), its location
(file, sheet, ``D14`` cell, row, column), the offending value, a message and a
hint. Tests and downstream tools match on codes, never on prose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from markers.schema import ISSUE_COLUMNS


@dataclass(frozen=True)
class IssueType:
    """One kind of issue: a stable code, its severity, a title and a hint."""

    code: str
    severity: str  # "error" (rejects) or "warning" (kept)
    title: str
    hint: str


_TYPES = [
    # -- rejected results / rows (severity "error") --
    IssueType("missing-patient-id", "error", "Missing patient ID", "Fill in the patient ID or delete the row."),
    IssueType("missing-date", "error", "Missing sample date", "Fill in the collection date."),
    IssueType("invalid-date", "error", "Unreadable date", "Write dates as YYYY-MM-DD, DD.MM.YYYY or use a date cell."),
    IssueType("sample-before-birth", "error", "Sample dated before birth", "Check the sample date and the date of birth; a day and month may be swapped."),
    IssueType("sample-in-future", "error", "Sample dated in the future", "Check the sample date; a day and month or the year may be wrong."),
    IssueType("missing-result", "error", "Empty result", "Enter the result or delete the row."),
    IssueType("non-numeric-result", "error", "Result is text, not a number", "A result such as 'Cancelled' or 'QNS' has no value; nothing to do if that is right."),
    IssueType("ambiguous-number", "error", "Number with an ambiguous separator", "Write the number with a decimal point (1.234) or without grouping (1234)."),
    IssueType("negative-result", "error", "Negative result", "A concentration cannot be negative; check the cell."),
    IssueType("unknown-analyte", "error", "Unrecognised analyte", "Map the name or code to an analyte in the config file's [analytes] table."),
    IssueType("not-per-creatinine", "error", "Result is not per creatinine", "A 24-hour excretion (e.g. mg/24 h) cannot be compared with spot-urine limits; export the ratio to creatinine."),
    IssueType("missing-unit", "error", "Missing unit", "Fill in the unit, or give it in the column header, e.g. 'VMA (mg/g creat)'."),
    IssueType("missing-creatinine", "error", "Concentration without urine creatinine", "A result in mg/L or µmol/L needs the urine creatinine of the same sample to give a ratio."),
    IssueType("invalid-creatinine", "error", "Urine creatinine unusable", "Creatinine must be a positive number with a unit (mg/dL, mmol/L, µmol/L, g/L)."),
    IssueType("invalid-patient", "error", "Patient row unusable", "Each patient row needs an ID; check the cell."),
    IssueType("invalid-event", "error", "Therapy event unusable", "Each therapy row needs an ID, an event and a date; map unknown event names in the config file's [events] table."),
    # -- kept with a warning (severity "warning") --
    IssueType("dilute-urine", "warning", "Dilute urine", "Creatinine is below the dilute-urine threshold: the ratio is less reliable. Consider a repeat sample."),
    IssueType("duplicate-result", "warning", "Exact duplicate result", "The same result appears twice; markers keeps one."),
    IssueType("conflicting-duplicate", "warning", "Conflicting results for one sample", "Two different results for the same patient, date and analyte; check which is right."),
    IssueType("no-age", "warning", "Age at sample unknown", "Give a date of birth or age so the age-specific limit can be applied."),
    IssueType("unknown-patient", "warning", "Patient not in the patients sheet", "Add the patient to the patients sheet, or check the ID."),
    IssueType("conflicting-patient", "warning", "Patient details disagree", "Two rows give different details for one patient; markers keeps the first."),
    IssueType("interfering-substance", "warning", "Interfering drug or food named", "A drug or food known to interfere with the assay is named for this sample; read the result with care or repeat off it."),
    IssueType("loinc-unit-mismatch", "warning", "LOINC code and unit disagree", "The LOINC code names a mass ratio, molar ratio or concentration that the unit is not; check which of the two is right."),
    IssueType("24h-ratio", "warning", "Ratio from a 24-hour collection", "Spot-urine reference limits are applied to a 24-hour ratio; check that is intended."),
    IssueType("unrecognised-sheet", "warning", "Sheet not recognised", "The sheet has no recognisable header; its rows are skipped. Map its columns in the config file if it holds data."),
    IssueType("formula-without-value", "warning", "Formula without a calculated value", "The file was saved without calculating its formulas (written by a script, or calculation set to manual), so the cell reads as empty: open it in Excel, press F9 (Calculate Now) and save it."),
    IssueType("unrecognised-event", "warning", "Unrecognised therapy event", "Map the event name in the config file's [events] table."),
    # -- outcome data (markers.analysis.endpoints), warnings: the patient is left out of that analysis --
    IssueType("missing-follow-up", "warning", "No last follow-up", "Add a 'last follow-up' event (or EFS/OS days with their indicators on the patients sheet); the patient is not censored at the last sample."),
    IssueType("missing-diagnosis-date", "warning", "No diagnosis date for the outcome", "Give the diagnosis date on the patients sheet or as a 'diagnosis' event: EFS and OS count from it."),
    IssueType("inconsistent-outcome", "warning", "Outcome dates disagree", "Check the outcome dates: an event before diagnosis, or EFS longer than OS."),
    IssueType("invalid-outcome", "warning", "Outcome cell unreadable", "Write times as whole days, indicators as 1/0 or yes/no, vital status as alive/dead."),
]

ISSUE_TYPES: dict[str, IssueType] = {t.code: t for t in _TYPES}


class IssueLog:
    """Collects issue records, in the order they are added; ``to_frame()`` gives them as a DataFrame.

    Records added one by one (:meth:`add`) and whole frames of them (:meth:`extend`,
    from the vectorised producers) are kept as they come and joined once at the end:
    a registry export can raise tens of thousands of warnings.
    """

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame | list[dict]] = []
        self._count = 0

    def add(
        self,
        code: str,
        *,
        file: str = "",
        sheet: str = "",
        cell: str = "",
        row: int | None = None,
        column: str = "",
        value: object = "",
        message: str = "",
    ) -> None:
        """Record one issue. ``code`` must be a registered issue code."""
        issue_type = ISSUE_TYPES[code]
        if not self._parts or not isinstance(self._parts[-1], list):
            self._parts.append([])
        self._parts[-1].append(
            {
                "code": code,
                "severity": issue_type.severity,
                "file": file,
                "sheet": sheet,
                "cell": cell,
                "row": row,
                "column": column,
                "value": "" if value is None else str(value),
                "message": message or issue_type.title,
                "hint": issue_type.hint,
            }
        )
        self._count += 1

    def extend(self, frame: pd.DataFrame) -> None:
        """Append records given as a DataFrame with ISSUE_COLUMNS (vectorised producers)."""
        if len(frame):
            self._parts.append(frame[ISSUE_COLUMNS].reset_index(drop=True))
            self._count += len(frame)

    def __len__(self) -> int:
        return self._count

    def to_frame(self) -> pd.DataFrame:
        frames = [pd.DataFrame(part, columns=ISSUE_COLUMNS) if isinstance(part, list) else part for part in self._parts]
        frames = [f.astype({"row": "Int64"}) for f in frames]
        if not frames:
            frame = pd.DataFrame(columns=ISSUE_COLUMNS)
            frame["row"] = frame["row"].astype("Int64")
            return frame
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].copy()


def issue_frame(
    code: str,
    *,
    file: str | pd.Series,
    sheet: str | pd.Series,
    cells: pd.Series | list[str],
    rows: pd.Series,
    column: str | pd.Series,
    values: pd.Series,
    messages: pd.Series | str = "",
) -> pd.DataFrame:
    """Build many records of one code at once (vectorised).

    ``file``, ``sheet``, ``column`` and ``messages`` are one value for every record or a
    Series aligned with ``cells``; empty or NaN ``values`` become ``""``.
    """
    issue_type = ISSUE_TYPES[code]
    n = len(cells)

    def each(value: object) -> object:
        # a Series is used by position; a single value is repeated (pandas broadcasts it)
        return value.to_numpy(dtype=object) if isinstance(value, pd.Series) else value

    values = np.asarray(values, dtype=object)
    if n:
        values = np.where(pd.isna(values), "", values).astype(str).astype(object)
    frame = pd.DataFrame(
        {
            "code": code,
            "severity": issue_type.severity,
            "file": each(file),
            "sheet": each(sheet),
            "cell": np.asarray(cells, dtype=object),
            "row": np.asarray(rows, dtype=np.int64),
            "column": each(column),
            "value": values,
            "message": each(messages) if isinstance(messages, pd.Series) else (messages or issue_type.title),
            "hint": issue_type.hint,
        },
        index=pd.RangeIndex(n),
        columns=ISSUE_COLUMNS,
    )
    return frame


def location(file: str, sheet: str, cell: str) -> str:
    """Human-readable location: ``file.xlsx Samples!D14`` (or ``export.csv D14``).

    A structured source's location (``entry 3 Observation/vma-1``, ``message 2 segment 5 OBX``)
    names its place itself and is given without the sheet.
    """
    where = f"{sheet}!{cell}" if sheet and " " not in str(cell) else cell
    return f"{file} {where}".strip()
