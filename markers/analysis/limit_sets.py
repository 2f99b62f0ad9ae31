"""Reference-limit tables loaded and validated: the shipped sets, a user's CSV file, sets combined per analyte and age band.

See :mod:`markers.analysis.reference` for the shipped sets, their sources and how sets combine.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import os
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from markers.errors import NoReferenceRangeError
from markers.ingest.units import parse_unit
from markers.schema import ANALYTES

logger = logging.getLogger(__name__)

#: VMA/HVA from ARUP's random-urine table plus ARUP-derived catecholamine limits.
DEFAULT_REFERENCE_SET = "ARUP-3018863+extended-UIowa-ARUP"

#: Columns of a reference-limits table, in file order.
LIMIT_COLUMNS = [
    "set",
    "analyte",
    "age_min_months",
    "age_max_months",
    "age_band_label",
    "sex",
    "uln",
    "unit",
    "lab",
    "test_code",
    "specimen",
    "source_tag",
    "source_url",
    "retrieved",
    "notes",
    "bound",
    "collection",
]
#: ``bound`` values: "0-x" includes x (a value equal to x is normal), "<x" excludes it (elevated).
BOUNDS = ("inclusive", "exclusive")
#: ``collection`` values: the specimen the limits were published for (blank: not stated).
COLLECTIONS = ("spot", "24-hour")
#: Columns a user's file must have; the provenance columns may be left out (read as blank).
REQUIRED_LIMIT_COLUMNS = LIMIT_COLUMNS[:8]

SEXES = ("any", "M", "F")
_SHIPPED_FILE = "reference_limits.csv"
_RETRIEVED = re.compile(r"^(unknown|\d{4}(-\d{2}(-\d{2})?)?)$")


# -- loading and validating ---------------------------------------------------------------


def _problem(where: str, line: int, column: str, message: str) -> str:
    return f"{where} row {line}, column '{column}': {message}"


def _read_limits_text(path: Path) -> str:
    raw = path.read_bytes()
    # Spreadsheet programs save CSV as UTF-8 (often with a BOM) or a Windows code page.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


class _Problems:
    """Every problem of a limits table, each naming the file, the CSV row and the column."""

    def __init__(self, table: pd.DataFrame, where: str) -> None:
        self.table = table
        self.where = where
        # CSV line numbers: the header is line 1.
        self.lines = pd.Series(np.arange(len(table)) + 2, index=table.index)
        self.found: list[str] = []

    def report(self, mask: pd.Series, column: str, message: str) -> None:
        for idx in self.table.index[mask]:
            self.found.append(_problem(self.where, int(self.lines[idx]), column,
                                       message.format(value=self.table.at[idx, column])))


def _validate(table: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """Check and type a raw (all-text) limits table; raise one error listing every problem."""
    table = _text_columns(table, where=where)
    problems = _Problems(table, where)
    _check_names(table, problems)
    uln = pd.to_numeric(table["uln"], errors="coerce")
    problems.report(~(uln > 0), "uln",
                    "'{value}' is not a positive number; write the upper limit as a number such as 27 or 8.5")
    lo, hi = _age_bounds(table, problems)
    _check_vocabularies(table, problems)
    if problems.found:
        raise NoReferenceRangeError(_summarise(where, problems.found))

    # a blank bound reads as inclusive ("0-x"), the reading markers has always given a limit
    typed = table.assign(age_min_months=lo, age_max_months=hi, uln=uln.astype(float),
                         bound=table["bound"].where(table["bound"] != "", "inclusive"))
    _check_overlaps(typed, lines=problems.lines, where=where)
    return typed.reset_index(drop=True)


def _text_columns(table: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """The table's columns in file order as stripped text, the optional ones blank when left out."""
    missing = [c for c in REQUIRED_LIMIT_COLUMNS if c not in table.columns]
    if missing:
        raise NoReferenceRangeError(
            f"{where}: missing column(s) {', '.join(repr(c) for c in missing)}. "
            f"A reference file needs the header: {','.join(LIMIT_COLUMNS)} "
            "(the provenance columns after 'unit' may be left out)."
        )
    table = table.copy()
    for column in LIMIT_COLUMNS:
        if column not in table.columns:
            table[column] = ""
        table[column] = table[column].fillna("").astype(str).str.strip()
    return table[LIMIT_COLUMNS]


def _check_names(table: pd.DataFrame, problems: _Problems) -> None:
    """Set, analyte, sex and band label: named, and from markers' vocabularies."""
    problems.report(table["set"] == "", "set", "the reference set name is blank; give the set a name")
    problems.report(~table["analyte"].isin(ANALYTES), "analyte",
                    f"'{{value}}' is not an analyte code; use one of {', '.join(ANALYTES)}")
    problems.report(~table["sex"].isin(SEXES), "sex", "'{value}' is not a sex; use any, M or F")
    problems.report(table["age_band_label"] == "", "age_band_label",
                    "blank; write the band as published, e.g. '1-3 y'")


def _age_bounds(table: pd.DataFrame, problems: _Problems) -> tuple[pd.Series, pd.Series]:
    """The bands' first and last completed months (Int64; a blank minimum is 0, a blank maximum open-ended)."""
    bounds = {}
    for column, blank_means in (("age_min_months", 0), ("age_max_months", None)):
        text = table[column]
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = (text != "") & ~((number >= 0) & (number == np.floor(number)))
        problems.report(bad, column, "'{value}' is not a whole number of months (0 or more); leave blank for open-ended")
        number = number.where(~bad)
        if blank_means is not None:
            number = number.fillna(blank_means)
        bounds[column] = number.astype("Int64")
    lo, hi = bounds["age_min_months"], bounds["age_max_months"]
    problems.report((hi < lo).fillna(False), "age_max_months",
                    "the band ends before it starts (age_max_months < age_min_months)")
    return lo, hi


def _check_vocabularies(table: pd.DataFrame, problems: _Problems) -> None:
    """Unit (a ratio to creatinine), bound, collection and retrieval date."""
    units = table["unit"].map(parse_unit)
    kinds = units.map(lambda u: u.kind if u is not None else "")
    problems.report(
        ~kinds.isin(["mass_ratio", "molar_ratio"]),
        "unit",
        "'{value}' is not a ratio to creatinine; use e.g. mg/g creatinine, µg/g creatinine or nmol/mmol creatinine",
    )
    problems.report(~table["bound"].isin(["", *BOUNDS]), "bound",
                    "'{value}' is not a bound; write inclusive (published as 0-x) or exclusive (published as <x)")
    problems.report(~table["collection"].isin(["", *COLLECTIONS]), "collection",
                    "'{value}' is not a collection; write spot or 24-hour (or leave blank when not stated)")
    problems.report(~table["retrieved"].str.fullmatch(_RETRIEVED.pattern) & (table["retrieved"] != ""), "retrieved",
                    "'{value}' is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD) or 'unknown'")


def _summarise(where: str, problems: list[str]) -> str:
    head = f"{where}: {len(problems)} problem(s) in the reference limits: " if len(problems) > 1 else ""
    return head + "; ".join(problems)


def _check_overlaps(table: pd.DataFrame, *, lines: pd.Series, where: str) -> None:
    """Bands of one set/analyte must not overlap for a sex ('any' overlaps M and F)."""
    keyed = table.assign(_line=lines.to_numpy())
    pairs = keyed.merge(keyed, on=["set", "analyte"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["_line_a"] < pairs["_line_b"]]
    same_sex = (
        (pairs["sex_a"] == pairs["sex_b"]) | (pairs["sex_a"] == "any") | (pairs["sex_b"] == "any")
    )
    inf = np.iinfo(np.int64).max
    overlap = (pairs["age_min_months_a"] <= pairs["age_max_months_b"].fillna(inf)) & (
        pairs["age_min_months_b"] <= pairs["age_max_months_a"].fillna(inf)
    )
    clashes = pairs[same_sex & overlap.astype(bool)]
    if len(clashes):
        problems = [
            _problem(
                where,
                int(row["_line_b"]),
                "age_min_months",
                f"the band '{row['age_band_label_b']}' of set '{row['set']}' {row['analyte']} "
                f"(sex {row['sex_b']}) overlaps row {int(row['_line_a'])} ('{row['age_band_label_a']}', "
                f"sex {row['sex_a']}); make the bands of one set and analyte disjoint",
            )
            for _, row in clashes.iterrows()
        ]
        raise NoReferenceRangeError(_summarise(where, problems))


def _parse_csv(text: str, *, where: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise NoReferenceRangeError(
            f"{where}: not a readable CSV file ({err}). Save the table as CSV with the header "
            f"{','.join(LIMIT_COLUMNS)}."
        ) from err


@functools.cache
def _shipped() -> pd.DataFrame:
    text = resources.files("markers").joinpath("data", _SHIPPED_FILE).read_text(encoding="utf-8")
    return _validate(_parse_csv(text, where=_SHIPPED_FILE), where=_SHIPPED_FILE)


def reference_sets() -> pd.DataFrame:
    """The shipped reference sets.

    Returns
    -------
    pandas.DataFrame
        One row per set with ``name``, ``analytes`` (comma-separated codes),
        ``lab``, ``source_tag`` and ``source_url`` (distinct values joined by
        ``"; "`` where a set has several).

    Examples
    --------
    >>> "ARUP-3018863" in reference_sets()["name"].tolist()
    True
    """
    table = _shipped()

    def distinct(values: pd.Series) -> str:
        return "; ".join(dict.fromkeys(v for v in values if v))

    grouped = table.groupby("set", sort=False)
    return pd.DataFrame(
        {
            "name": list(grouped.groups),
            "analytes": grouped["analyte"].agg(lambda s: ",".join(dict.fromkeys(s))).tolist(),
            "lab": grouped["lab"].agg(distinct).tolist(),
            "source_tag": grouped["source_tag"].agg(distinct).tolist(),
            "source_url": grouped["source_url"].agg(distinct).tolist(),
        }
    )


def _select(table: pd.DataFrame, reference_set: str | None, *, where: str) -> pd.DataFrame:
    available = list(dict.fromkeys(table["set"]))
    names = available if reference_set is None else [n.strip() for n in str(reference_set).split("+")]
    unknown = [n for n in names if n not in available]
    if unknown or not names or "" in names:
        raise NoReferenceRangeError(
            f"unknown reference set {', '.join(repr(n) for n in unknown) or repr(reference_set)} in {where}. "
            f"Available: {', '.join(available)}; combine sets with '+', e.g. '{DEFAULT_REFERENCE_SET}'."
        )
    chosen: list[pd.DataFrame] = []
    for name in dict.fromkeys(names):
        rows = table[table["set"] == name]
        # Sets combine per analyte *and* age band: a later set fills only the ages of an analyte
        # that the sets named before it leave uncovered (its bands trimmed to those ages).
        rows = _uncovered(rows, pd.concat(chosen, ignore_index=True) if chosen else rows.iloc[0:0])
        chosen.append(rows)
    return pd.concat(chosen, ignore_index=True)


def _gaps(lo: int, hi: float, taken: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Parts of the month range [lo, hi] (hi inf: open-ended) not inside any of ``taken``."""
    parts = [(lo, hi)]
    for t_lo, t_hi in taken:
        parts = [piece for a, b in parts
                 for piece in ((a, min(b, t_lo - 1)), (max(a, t_hi + 1), b))
                 if piece[0] <= piece[1] and piece[0] != float("inf")]
    return parts


def _uncovered(rows: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """``rows`` of one set, trimmed to the ages no earlier row covers (same analyte, covering sex)."""
    if earlier.empty:
        return rows
    kept = []
    for _, row in rows.iterrows():
        same = earlier[(earlier["analyte"] == row["analyte"])
                       & ((earlier["sex"] == "any") | (earlier["sex"] == row["sex"]))]
        taken = [(int(a), float("inf") if pd.isna(b) else int(b))
                 for a, b in zip(same["age_min_months"], same["age_max_months"], strict=True)]
        high = float("inf") if pd.isna(row["age_max_months"]) else int(row["age_max_months"])
        for lo, hi in _gaps(int(row["age_min_months"]), high, taken):
            piece = row.copy()
            if (lo, hi) != (int(row["age_min_months"]), high):
                piece["age_band_label"] = f"{row['age_band_label']} (months {lo}-{'' if hi == float('inf') else int(hi)})"
                piece["notes"] = f"{row['notes']}; trimmed to the ages earlier sets leave uncovered".lstrip("; ")
            piece["age_min_months"] = lo
            piece["age_max_months"] = pd.NA if hi == float("inf") else int(hi)
            kept.append(piece)
    if not kept:
        logger.info("reference set %s: every band already covered by an earlier set", rows["set"].iat[0])
        return rows.iloc[0:0]
    out = pd.DataFrame(kept).reset_index(drop=True)
    for column in ("age_min_months", "age_max_months"):
        out[column] = out[column].astype("Int64")
    return out


def load_reference_limits(
    *, reference_set: str | None = None, path: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Load upper reference limits: a shipped set, or a user's own CSV file.

    Parameters
    ----------
    reference_set
        One set name or several joined by ``"+"``; when two sets cover an
        analyte at an age the first named is used for those ages. Default: the shipped
        :data:`DEFAULT_REFERENCE_SET`, or every set in ``path`` when a path
        is given.
    path
        A CSV file with the columns of :data:`LIMIT_COLUMNS` (UTF-8 or
        Windows-1252). The provenance columns after ``unit`` may be left out.

    Returns
    -------
    pandas.DataFrame
        One row per band, columns :data:`LIMIT_COLUMNS`; ``age_min_months`` and
        ``age_max_months`` are ``Int64`` (``<NA>`` maximum = open-ended) and
        ``uln`` is a float in the row's ``unit``.

    Raises
    ------
    NoReferenceRangeError
        The set name is unknown (the message lists the available names), or
        the file is missing, unreadable or malformed (missing columns, bad
        numbers, unknown analyte/sex/unit, overlapping bands); the message
        names the file, the CSV row and the column.

    Examples
    --------
    >>> limits = load_reference_limits(reference_set="ARUP-3018863")
    >>> limits.loc[limits["analyte"] == "VMA", "uln"].tolist()
    [27.0, 13.0, 9.0, 6.0]
    """
    if path is None:
        table = _shipped()
        return _select(table, reference_set or DEFAULT_REFERENCE_SET, where="the shipped reference limits")
    file = Path(path)
    where = str(path)
    if not file.is_file():
        raise NoReferenceRangeError(
            f"{where}: reference file not found. Check the path, or use a shipped set "
            f"({', '.join(reference_sets()['name'])})."
        )
    table = _validate(_parse_csv(_read_limits_text(file), where=where), where=where)
    if table.empty:
        raise NoReferenceRangeError(f"{where}: the reference file has a header but no limits; add one row per age band.")
    return _select(table, reference_set, where=where)


