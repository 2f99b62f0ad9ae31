"""Age-specific upper reference limits (ULN), as versioned data.

The limits live in ``markers/data/reference_limits.csv``, one row per
(reference set, analyte, age band, sex), each row carrying its lab, test code,
source tag and address, so that a flag can always be traced to a published
table. Nothing here is an ``if``/``elif`` chain of numbers.

Age bands in completed months
-----------------------------
Bands are stored as ``age_min_months`` and ``age_max_months``: the first and
the last *completed* month of age covered, both inclusive; a blank
``age_max_months`` means "and older". A band published as "1 y" covers the
first to the last day of age 1, i.e. completed months 12 to 23; "0-2 y" covers
0 to 35; "<6 mo" covers 0 to 5; ">=18 y" is 216 and older. Months rather than
days are stored because published bands are whole years or months, and a
year is not a fixed number of days: a child born 2020-03-01 is "1 y" from
2021-03-01 through 2022-02-28.

A child's age is computed in completed months by calendar arithmetic from
``date_of_birth`` and ``sample_date`` (:func:`completed_months`). A monthly
anniversary that does not exist in a month (the 29th to 31st) is reached on the
first day of the next month, so a child born on 29 February turns 1 on
1 March of a common year. When only ``age_days`` is known (an age column, no
date of birth), the age is *approximated* as ``floor(age_days / 30.4375)``
(:func:`approximate_months`; 30.4375 = 365.25 / 12 days), which can be off by
one month within a few days of a band boundary.

Reference sets
--------------
``reference_set`` names one shipped set or several joined by ``"+"``, e.g. a
VMA/HVA table with a catecholamine table. Sets combine per analyte *and* age
band: for the ages of an analyte that a set named earlier covers, that set is
used; a later set fills only the ages left uncovered (its bands trimmed to them,
the label saying so). So ``extended-Mayo-CATCR+extended-UIowa-ARUP`` gives
dopamine from Mayo up to 59 months and from UIowa from 60 months.

Each row says whether its limit is published as "0-x" (``bound`` inclusive: x
itself is normal) or "<x" (exclusive: x is above the limit), and which specimen
it was published for (``collection``: spot or 24-hour urine). Mayo's current HVA
test [S4] and the SGH tables [S18] are 24-hour collections. Shipped sets (see
:func:`reference_sets`):

``ARUP-3018863``
    VMA and HVA, random urine, ARUP [S1] (HVA identical in ARUP 0080422 [S2]).
``Mayo-VH-legacy``
    VMA and HVA, Mayo legacy VH [S3]; none from 15 years ("not applicable").
``Mayo-HVA-current``
    HVA only, Mayo HVA LC-MS/MS [S4], from 24-hour urine; none from 15 years.
``extended-UIowa-ARUP``
    Dopamine, epinephrine, norepinephrine, University of Iowa handbook [S16].
``extended-Mayo-CATCR``
    Epinephrine, norepinephrine, and dopamine up to 59 months, Mayo CATCR [S17].
``extended-SGH``
    Epinephrine and norepinephrine up to 19 years, Singapore General Hospital [S18], from 24-hour urine.
``extended-ARUP-2007996``
    Metanephrine 0-3 months only, ARUP [S19] (later bands not retrieved).

No spot-urine limits for 3-methoxytyramine or normetanephrine were found, so
none are shipped. A user's own table in the same columns can be loaded with
``load_reference_limits(path=...)``.
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

from markers.errors import MissingColumnError, NoReferenceRangeError, UnknownUnitError
from markers.ingest.units import Unit, mass_to_molar_factor, parse_unit
from markers.readers.cells import distinct, text_series
from markers.schema import (
    AGE_DAYS,
    ANALYTE,
    ANALYTES,
    DATE_OF_BIRTH,
    OUTPUT_UNITS,
    REFERENCE_SET,
    SAMPLE_DATE,
    SEX,
    ULN,
)

logger = logging.getLogger(__name__)

#: VMA/HVA from ARUP's random-urine table plus ARUP-derived catecholamine limits.
DEFAULT_REFERENCE_SET = "ARUP-3018863+extended-UIowa-ARUP"

#: Column added by :func:`lookup_uln` (and by :func:`markers.analysis.flags.flag`).
AGE_BAND_LABEL = "age_band_label"

#: Days per month used only when the date of birth is unknown (365.25 / 12).
DAYS_PER_MONTH = 30.4375

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
#: Column added by :func:`lookup_uln`: True where the limit is published as "<x" (x itself is above it).
ULN_EXCLUSIVE = "uln_exclusive"
#: Column added by :func:`lookup_uln`: the limit's ``collection`` ("spot", "24-hour" or "").
LIMIT_COLLECTION = "limit_collection"
#: Columns a user's file must have; the provenance columns may be left out (read as blank).
REQUIRED_LIMIT_COLUMNS = LIMIT_COLUMNS[:8]

SEXES = ("any", "M", "F")
_SHIPPED_FILE = "reference_limits.csv"
_RETRIEVED = re.compile(r"^(unknown|\d{4}(-\d{2}(-\d{2})?)?)$")


# -- ages -----------------------------------------------------------------------------


def _as_datetime(values: object) -> pd.Series:
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series):
        series = pd.to_datetime(series, errors="coerce")
    return series


def completed_months(date_of_birth: object, sample_date: object) -> pd.Series | int | None:
    """Age in completed calendar months at ``sample_date``, vectorised.

    Parameters
    ----------
    date_of_birth, sample_date
        Datetime Series (aligned) or scalars. Missing dates give ``<NA>``.

    Returns
    -------
    pandas.Series or int or None
        ``Int64`` Series aligned on ``sample_date`` (or ``date_of_birth``) when
        either argument is a Series, else an int (``None`` when missing).
        Negative when the sample predates the birth.

    Examples
    --------
    >>> completed_months(pd.Timestamp("2020-03-01"), pd.Timestamp("2022-02-28"))
    23
    >>> completed_months(pd.Timestamp("2020-02-29"), pd.Timestamp("2021-03-01"))
    12
    """
    scalar = not isinstance(date_of_birth, pd.Series) and not isinstance(sample_date, pd.Series)
    if isinstance(sample_date, pd.Series):
        index = sample_date.index
    elif isinstance(date_of_birth, pd.Series):
        index = date_of_birth.index
    else:
        index = pd.RangeIndex(1)
    born = _as_datetime(date_of_birth if isinstance(date_of_birth, pd.Series) else [date_of_birth] * len(index))
    sampled = _as_datetime(sample_date if isinstance(sample_date, pd.Series) else [sample_date] * len(index))
    born = born.set_axis(index)
    sampled = sampled.set_axis(index)
    months = (sampled.dt.year - born.dt.year) * 12 + (sampled.dt.month - born.dt.month)
    # The month is not completed until the day of the month of birth is reached;
    # a day that the month lacks (29-31) is therefore reached on the 1st of the next.
    months = months - (sampled.dt.day < born.dt.day).astype("Int64")
    months = months.astype("Int64")
    if scalar:
        value = months.iloc[0]
        return None if pd.isna(value) else int(value)
    return months


def approximate_months(age_days: object) -> pd.Series:
    """Approximate completed months from an age in days: ``floor(age_days / 30.4375)``.

    Used only when no date of birth is known. Within a few days of a band
    boundary the result can be one month off the calendar age.

    Parameters
    ----------
    age_days
        Ages in completed days (Series or array-like; missing -> ``<NA>``).

    Returns
    -------
    pandas.Series
        ``Int64`` months.

    Examples
    --------
    >>> approximate_months(pd.Series([0, 365, 730])).tolist()
    [0, 11, 23]
    """
    days = pd.to_numeric(age_days if isinstance(age_days, pd.Series) else pd.Series(age_days), errors="coerce")
    return np.floor(days.astype("Float64") / DAYS_PER_MONTH).astype("Int64")


def age_months(measurements: pd.DataFrame) -> pd.Series:
    """Completed months at each sample: calendar age from the date of birth, else from ``age_days``.

    Parameters
    ----------
    measurements
        Tidy measurements; uses ``date_of_birth``, ``sample_date`` and
        ``age_days`` when present.

    Returns
    -------
    pandas.Series
        ``Int64`` months aligned on ``measurements.index`` (``<NA>`` if unknown).

    Examples
    --------
    >>> frame = pd.DataFrame({"date_of_birth": pd.to_datetime(["2020-03-01", None]),
    ...                       "sample_date": pd.to_datetime(["2023-03-01", "2023-03-01"]),
    ...                       "age_days": pd.array([None, 400], dtype="Int64")})
    >>> age_months(frame).tolist()
    [36, 13]
    """
    months = pd.Series(pd.NA, index=measurements.index, dtype="Int64")
    if DATE_OF_BIRTH in measurements and SAMPLE_DATE in measurements:
        months = completed_months(measurements[DATE_OF_BIRTH], measurements[SAMPLE_DATE])
    if AGE_DAYS in measurements:
        months = months.fillna(approximate_months(measurements[AGE_DAYS]))
    return months


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


def _validate(table: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """Check and type a raw (all-text) limits table; raise one error listing every problem."""
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
    table = table[LIMIT_COLUMNS]
    # CSV line numbers: the header is line 1.
    lines = pd.Series(np.arange(len(table)) + 2, index=table.index)
    problems: list[str] = []

    def report(mask: pd.Series, column: str, message: str) -> None:
        for idx in table.index[mask]:
            problems.append(_problem(where, int(lines[idx]), column, message.format(value=table.at[idx, column])))

    report(table["set"] == "", "set", "the reference set name is blank; give the set a name")
    report(~table["analyte"].isin(ANALYTES), "analyte", f"'{{value}}' is not an analyte code; use one of {', '.join(ANALYTES)}")
    report(~table["sex"].isin(SEXES), "sex", "'{value}' is not a sex; use any, M or F")
    report(table["age_band_label"] == "", "age_band_label", "blank; write the band as published, e.g. '1-3 y'")

    uln = pd.to_numeric(table["uln"], errors="coerce")
    report(~(uln > 0), "uln", "'{value}' is not a positive number; write the upper limit as a number such as 27 or 8.5")

    bounds = {}
    for column, blank_means in (("age_min_months", 0), ("age_max_months", None)):
        text = table[column]
        number = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = (text != "") & ~((number >= 0) & (number == np.floor(number)))
        report(bad, column, "'{value}' is not a whole number of months (0 or more); leave blank for open-ended")
        number = number.where(~bad)
        if blank_means is not None:
            number = number.fillna(blank_means)
        bounds[column] = number.astype("Int64")
    lo, hi = bounds["age_min_months"], bounds["age_max_months"]
    report((hi < lo).fillna(False), "age_max_months", "the band ends before it starts (age_max_months < age_min_months)")

    units = table["unit"].map(parse_unit)
    kinds = units.map(lambda u: u.kind if u is not None else "")
    report(
        ~kinds.isin(["mass_ratio", "molar_ratio"]),
        "unit",
        "'{value}' is not a ratio to creatinine; use e.g. mg/g creatinine, µg/g creatinine or nmol/mmol creatinine",
    )
    report(~table["bound"].isin(["", *BOUNDS]), "bound",
           "'{value}' is not a bound; write inclusive (published as 0-x) or exclusive (published as <x)")
    report(~table["collection"].isin(["", *COLLECTIONS]), "collection",
           "'{value}' is not a collection; write spot or 24-hour (or leave blank when not stated)")
    report(~table["retrieved"].str.fullmatch(_RETRIEVED.pattern) & (table["retrieved"] != ""), "retrieved",
           "'{value}' is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD) or 'unknown'")
    if problems:
        raise NoReferenceRangeError(_summarise(where, problems))

    # a blank bound reads as inclusive ("0-x"), the reading markers has always given a limit
    typed = table.assign(age_min_months=lo, age_max_months=hi, uln=uln.astype(float),
                         bound=table["bound"].where(table["bound"] != "", "inclusive"))
    _check_overlaps(typed, lines=lines, where=where)
    return typed.reset_index(drop=True)


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


# -- lookup ------------------------------------------------------------------------------------


def _target_unit(text: str) -> Unit:
    unit = parse_unit(OUTPUT_UNITS.get(text, text))
    if unit is None or unit.kind not in ("mass_ratio", "molar_ratio"):
        raise UnknownUnitError(
            f"cannot express reference limits in {text!r}: use 'mg/g creatinine' or 'mmol/mol creatinine'."
        )
    return unit


def _uln_in_units(uln: pd.Series, limit_units: pd.Series, analytes: pd.Series, targets: pd.Series) -> pd.Series:
    """Convert each limit from its own unit to the row's target unit via the analyte's molar mass."""
    # a handful of distinct unit spellings and analytes: parse each once, then map (vectorised)
    def kind_and_scale(texts: pd.Series, spelled) -> tuple[pd.Series, pd.Series]:
        texts = texts.astype(object)
        parsed = {t: (parse_unit(spelled(t)) if isinstance(t, str) else None) for t in pd.unique(texts)}
        kind = texts.map({t: (u.kind if u else "") for t, u in parsed.items()})
        scale = texts.map({t: (u.scale if u else np.nan) for t, u in parsed.items()}).astype(float)
        return kind.fillna(""), scale

    limit_kind, limit_scale = kind_and_scale(limit_units, lambda t: t)
    target_kind, target_scale = kind_and_scale(targets, lambda t: OUTPUT_UNITS.get(t, t))
    analytes = analytes.astype(object)
    factors = {a: (mass_to_molar_factor(a) if a in ANALYTES else np.nan) for a in pd.unique(analytes)}
    factor = analytes.map(factors).astype(float)
    base = uln.astype(float) * limit_scale  # mg/g or mmol/mol
    converted = np.select(
        [
            limit_kind == target_kind,
            (limit_kind == "mass_ratio") & (target_kind == "molar_ratio"),
            (limit_kind == "molar_ratio") & (target_kind == "mass_ratio"),
        ],
        [base, base * factor, base / factor],
        default=np.nan,
    )
    valid_target = target_kind.isin(["mass_ratio", "molar_ratio"])
    return pd.Series(np.where(valid_target, converted / target_scale, np.nan), index=uln.index, dtype=float)


def _sex_codes(measurements: pd.DataFrame) -> np.ndarray:
    """Each row's sex as ``"M"``, ``"F"`` or ``""`` (unknown), worked out once per distinct spelling."""
    if SEX not in measurements:
        return np.full(len(measurements), "", dtype=object)
    codes, uniques = distinct(measurements[SEX], exact=False)
    texts = ["" if u is None else str(u).strip().upper() for u in uniques]
    return np.array([t if t in ("M", "F") else "" for t in texts], dtype=object)[codes]


def _match(measurements: pd.DataFrame, limits: pd.DataFrame, target: str) -> pd.DataFrame:
    """Vectorised band lookup: the first limit row of the row's analyte whose age band and sex hold it.

    A band depends only on (analyte, sex, completed months), and a million
    measurements hold a few thousand such combinations: each combination is
    matched once, by one pass per limit row (first match wins), and the result
    is taken back by code.
    """
    if ANALYTE not in measurements:
        raise MissingColumnError(f"measurements have no '{ANALYTE}' column; pass the tidy measurements table.")
    missing = [c for c in ("analyte", "age_min_months", "age_max_months", "sex", "uln", "unit", "set") if c not in limits]
    if missing:
        raise NoReferenceRangeError(
            f"the limits table lacks column(s) {', '.join(missing)}; load it with load_reference_limits()."
        )
    analyte_codes, analyte_names = distinct(measurements[ANALYTE], exact=False)
    months = age_months(measurements).to_numpy(dtype="float64", na_value=np.nan)
    sex_codes = np.searchsorted(np.array(["", "F", "M"], dtype=object), _sex_codes(measurements))
    # one integer per (analyte, sex, months): months are whole numbers, -1 when unknown
    month_codes = np.where(np.isnan(months), -1, months).astype(np.int64)
    lowest = min(int(month_codes.min(initial=0)), -1)
    span = int(month_codes.max(initial=0)) - lowest + 1
    combo_codes, combo_keys = pd.factorize((analyte_codes * 3 + sex_codes) * span + (month_codes - lowest))
    combo_analyte = np.asarray(analyte_names, dtype=object)[combo_keys // span // 3]
    combo_sex = np.array(["", "F", "M"], dtype=object)[combo_keys // span % 3]
    combo_months = (combo_keys % span + lowest).astype(float)
    combo_months[combo_months == -1] = np.nan
    chosen = np.full(len(combo_keys), -1, dtype=np.int64)
    for position, limit in enumerate(limits[["analyte", "age_min_months", "age_max_months", "sex"]].itertuples(index=False)):
        rows = (combo_analyte == limit.analyte) & ~np.isnan(combo_months) & (chosen < 0)
        rows &= combo_months >= float(limit.age_min_months)
        if not pd.isna(limit.age_max_months):
            rows &= combo_months <= float(limit.age_max_months)
        if limit.sex != "any":
            rows &= combo_sex == limit.sex
        chosen[rows] = position
    chosen = chosen[combo_codes]
    # each limit converted to the target unit once, then taken by row
    table = limits.reset_index(drop=True)
    converted = _uln_in_units(table["uln"], table["unit"], table["analyte"],
                              pd.Series([target] * len(table), dtype=object)).to_numpy(dtype=float)
    chosen = np.where(chosen < 0, len(table), chosen)  # the last entry of each list: no limit
    uln = np.append(converted, np.nan)[chosen]
    sets = [*table["set"].fillna("").astype(str), ""]
    bands = [*table["age_band_label"].fillna("").astype(str), ""] if "age_band_label" in table else [""] * (len(table) + 1)
    index = measurements.index
    bound = table["bound"] if "bound" in table else pd.Series("", index=table.index)
    exclusive = np.append((bound.fillna("").astype(str) == "exclusive").to_numpy(dtype=bool), False)[chosen]
    collections = [*(table["collection"].fillna("").astype(str) if "collection" in table else [""] * len(table)), ""]
    return pd.DataFrame({ULN: uln, REFERENCE_SET: text_series(sets, chosen, index=index),
                         AGE_BAND_LABEL: text_series(bands, chosen, index=index),
                         ULN_EXCLUSIVE: exclusive,
                         LIMIT_COLLECTION: text_series(collections, chosen, index=index)}, index=index)


def lookup_uln(measurements: pd.DataFrame, *, limits: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The upper reference limit that applies to each measurement, in ``unit``.

    The age is taken in completed calendar months from ``date_of_birth`` and
    ``sample_date``, else approximated from ``age_days`` (see module notes).
    A row with sex ``M``/``F`` matches bands for that sex or ``any``; an
    unknown sex matches only ``any``.

    Parameters
    ----------
    measurements
        Tidy measurements (``analyte``; ``date_of_birth``, ``sample_date``,
        ``age_days``, ``sex`` when known). Not modified.
    limits
        A table from :func:`load_reference_limits`.
    unit
        ``"mg/g creatinine"`` or ``"mmol/mol creatinine"`` (or ``"mg/g"`` /
        ``"mmol/mol"``). Limits are converted with the analyte's molar mass.

    Returns
    -------
    pandas.DataFrame
        Aligned on ``measurements.index``: ``uln`` (float, NaN when no band
        applies or the age is unknown), ``reference_set`` and
        ``age_band_label`` (``""`` when none applies), ``uln_exclusive`` (bool: the
        limit is published as "<x") and ``limit_collection`` ("spot", "24-hour" or "").

    Raises
    ------
    UnknownUnitError
        ``unit`` is not a ratio to creatinine.

    Examples
    --------
    >>> limits = load_reference_limits(reference_set="ARUP-3018863")
    >>> frame = pd.DataFrame({"analyte": ["VMA"], "age_days": pd.array([400], dtype="Int64")})
    >>> round(float(lookup_uln(frame, limits=limits, unit="mmol/mol creatinine")["uln"].iloc[0]), 2)
    15.41
    """
    _target_unit(unit)
    return _match(measurements, limits, unit)
