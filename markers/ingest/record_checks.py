"""The checks of :func:`markers.ingest.normalize.normalize_records`: each rejection and warning, vectorised.

A :class:`Rejections` holds the records, the issue records found so far and each record's
rejection code; every check marks the records it rejects (with an issue naming the cell) and
leaves the others open for the next one, so a record is rejected for its first problem only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from markers.errors import UnknownUnitError
from markers.ingest.config import Config
from markers.ingest.interferences import interference_messages
from markers.ingest.issues import issue_frame
from markers.ingest.units import ACCEPTED_SPELLINGS, Unit, parse_unit
from markers.readers import files as raw_io
from markers.readers.cells import cell_refs, distinct, per_distinct
from markers.readers.files import CELL_DTYPE

__all__ = ["Rejections", "UnitColumns", "check_cells", "check_results", "check_units", "issue_rows",
           "located_cells", "warn_about"]

#: The unit kind each LOINC property (``data/loinc.csv`` ``measure``) goes with.
_LOINC_UNIT_KIND = {"mass_ratio": "mass_ratio", "mass_ratio_24h": "mass_ratio", "molar_ratio": "molar_ratio",
                    "mass_conc": "mass_conc", "mass_conc_24h": "mass_conc", "molar_conc": "molar_conc"}


def issue_rows(records: pd.DataFrame, mask: np.ndarray, code: str, col_field: str, header: str, value_field: str,
               message: str | pd.Series = "") -> pd.DataFrame:
    """Issue records of ``code`` for the records selected by ``mask``, at the cell ``col_field`` names.

    ``header`` is a column of ``records`` holding each record's header text, or the text itself.
    """
    fields = ["file", "sheet", "row", col_field, value_field] + ([header] if header in records else [])
    fields += ["location"] if "location" in records else []
    selected = records.loc[mask, list(dict.fromkeys(fields))]
    return issue_frame(
        code,
        file=selected["file"],
        sheet=selected["sheet"],
        cells=located_cells(selected, selected[col_field]),
        rows=selected["row"],
        column=selected[header] if header in selected else header,
        values=selected[value_field],
        messages=message,
    )


def located_cells(records: pd.DataFrame, columns: pd.Series | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``D14``-style references of records, or their ``location`` where a structured source gave one."""
    cells = cell_refs(records["row"], columns)
    if "location" not in records:
        return cells
    location = records["location"]
    given = location.notna().to_numpy(dtype=bool)
    if not given.any():
        return cells
    return pd.array(np.where(given, location.to_numpy(dtype=object, na_value=None), np.asarray(cells, dtype=object)),
                    dtype=CELL_DTYPE)


class Rejections:
    """The records, the issues found so far, each record's rejection code and which are still open."""

    def __init__(self, records: pd.DataFrame) -> None:
        self.records = records
        self.issues: list[pd.DataFrame] = []
        self.reject = np.full(len(records), "", dtype=object)
        self.open = np.ones(len(records), dtype=bool)  # records not rejected yet

    def fail(self, mask: np.ndarray | pd.Series, code: str, col_field: str, header: str, value_field: str,
             message: str = "") -> None:
        """Reject the open records in ``mask`` with ``code`` (an issue record each)."""
        mask = np.asarray(mask, dtype=bool) & self.open
        if mask.any():
            self.issues.append(issue_rows(self.records, mask, code, col_field, header, value_field, message))
            self.reject[mask] = code
            self.open[mask] = False

    def warn(self, mask: np.ndarray, code: str, col_field: str, header: str, value_field: str,
             message: str | pd.Series = "") -> None:
        """An issue record for each record in ``mask``; the records stay."""
        if mask.any():
            self.issues.append(issue_rows(self.records, mask, code, col_field, header, value_field, message))


def check_cells(rej: Rejections) -> np.ndarray:
    """Patient ID, sample date (or age or day) and analyte; returns which records are creatinine results."""
    records = rej.records
    date_status, analyte = records["date_status"], records["analyte"]
    rej.fail(records["patient_id"].isna(), "missing-patient-id", "id_col", "patient ID", "patient_id")
    rej.fail(date_status == "missing", "missing-date", "date_col", "sample date", "date_raw")
    rej.fail(date_status == "invalid", "invalid-date", "date_col", "sample date", "date_raw")
    # a date-free row needs its age at sample or its days since diagnosis
    no_time = records["age_days_given"].isna() & (records["day_given"].isna() if "day_given" in records else True)
    rej.fail((date_status == "dateless") & no_time, "missing-date", "date_col", "sample date", "date_raw",
             "No sample date, age at sample or days since diagnosis")
    is_creatinine = (analyte == "CREA").to_numpy(dtype=bool, na_value=False)
    rej.fail(analyte.isna(), "unknown-analyte", "analyte_col", "result_header", "analyte_text",
             "Unrecognised analyte name or LOINC code")
    return is_creatinine


def check_results(rej: Rejections, status: pd.Series) -> None:
    """Result cells that are empty, text, ambiguous or negative."""
    for word, code in (("missing", "missing-result"), ("text", "non-numeric-result"),
                       ("ambiguous", "ambiguous-number"), ("negative", "negative-result")):
        rej.fail(status == word, code, "result_col", "result_header", "result_raw")


def _unit_lookup(records: pd.DataFrame, codes: np.ndarray, uniques: np.ndarray, open_rows: np.ndarray, *,
                 config: Config) -> list[Unit | None]:
    """Parse each distinct unit spelling once; an unknown spelling stops with an error naming its first cell.

    Only spellings on records not yet rejected count (a row already rejected for,
    say, a missing date does not stop the run for its unit).
    """
    first_open = pd.Series(np.flatnonzero(open_rows)).groupby(codes[open_rows]).first()
    table: list[Unit | None] = [None] * len(uniques)
    for code, position in first_open.items():
        text = uniques[code]
        if not text:
            continue
        unit = parse_unit(text, aliases=config.units)
        if unit is None:
            first = records.iloc[int(position)]
            col = int(first["unit_col"]) if first["unit_col"] is not None and first["unit_col"] == first["unit_col"] else 0
            where = f"{first['file']} {first['sheet']}!{raw_io.cell_ref(int(first['row']), col)}".replace(" !", " ")
            if isinstance(first.get("location"), str):
                where = f"{first['file']} {first['location']}"
            column = f" (column {first['unit_column']!r})" if first.get("unit_column") else ""
            raise UnknownUnitError(
                f"{where}{column}: unknown unit {text!r}. Accepted: {ACCEPTED_SPELLINGS}. "
                "Map other spellings in the config file's [units] table, e.g. \"" + str(text) + "\" = \"mg/g creatinine\"."
            )
        table[code] = unit
    return table


@dataclass
class UnitColumns:
    """Each record's unit: the parsed distinct units, each record's code into them, its kind and scale."""

    units: list[Unit | None]
    codes: np.ndarray
    kind: np.ndarray
    scale: np.ndarray

    def is_kind(self, *kinds: str) -> np.ndarray:
        """Which records' unit is of one of ``kinds`` (``""``: no unit): ``np.isin(kind, kinds)``, decided
        once per distinct unit and taken by code (a comparison of a million objects is a pass in Python calls)."""
        distinct_kinds = np.array([u.kind if u is not None else "" for u in self.units], dtype=object)
        return np.isin(distinct_kinds, kinds)[self.codes] if len(distinct_kinds) else np.zeros(len(self.codes), dtype=bool)


def check_units(rej: Rejections, *, config: Config, is_creatinine: np.ndarray) -> UnitColumns:
    """Each spelling parsed once; records without a unit or with a 24-hour excretion are rejected.

    ``rej.records`` gets the unit text with missing cells as ``""`` (a new frame: the caller's
    records are untouched).
    """
    unit_text = rej.records["unit_text"].fillna("")
    rej.records = records = rej.records.assign(unit_text=unit_text)
    codes, spellings = distinct(unit_text)
    units = _unit_lookup(records, codes, spellings, rej.open, config=config)
    kind = np.array([u.kind if u is not None else "" for u in units], dtype=object)[codes]
    scale = np.array([u.scale if u is not None else np.nan for u in units], dtype=float)[codes]
    columns = UnitColumns(units, codes, kind, scale)
    rej.fail(columns.is_kind("") & ~is_creatinine, "missing-unit", "unit_col", "unit", "unit_text")
    per_time = columns.is_kind("per_time") | records["loinc_measure"].isin(["mass_rate_24h"]).to_numpy(dtype=bool)
    rej.fail(per_time & ~is_creatinine, "not-per-creatinine", "unit_col", "unit", "unit_text",
             "A 24-hour excretion is not a ratio to creatinine; spot-urine limits do not apply")
    return columns


def warn_about(rej: Rejections, kind: np.ndarray, is_creatinine: np.ndarray) -> None:
    """Warnings on kept records: a LOINC code against its unit, an interfering substance, a 24-hour ratio."""
    records = rej.records
    # a LOINC code's property (mass ratio, molar ratio, concentration) must agree with the unit
    # once per distinct measure (a handful), not a dictionary look-up per record
    expected = per_distinct(records["loinc_measure"], lambda measure: _LOINC_UNIT_KIND.get(measure, ""), empty="")
    mismatch = (expected != "") & (kind != "") & (kind != expected) & rej.open & ~is_creatinine
    rej.warn(mismatch, "loinc-unit-mismatch", "unit_col", "unit", "unit_text",
             "The LOINC code's property (mass ratio, molar ratio or concentration) does not match the unit")
    # a drug or food known to interfere, named in a medication or comment cell: a warning on that sample
    if "comment_text" in records:
        named = interference_messages(records["comment_text"])
        interfering = (named != "") & rej.open
        if interfering.any():
            rej.warn(interfering, "interfering-substance", "comment_col", "comment", "comment_text",
                     pd.Series(named[interfering]))
    # a ratio from a 24-hour collection, given as a ratio or as a 24-hour concentration plus creatinine
    day_ratio = records["loinc_measure"].isin(["mass_ratio_24h", "mass_conc_24h"]).to_numpy(dtype=bool) & rej.open
    rej.warn(day_ratio, "24h-ratio", "analyte_col", "result_header", "analyte_text")
