"""Age-specific upper reference limits (ULN), as versioned data: the limit that applies to each measurement.

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

Loading and validating the tables is in :mod:`markers.analysis.limit_sets`, ages in
completed months in :mod:`markers.analysis.ages`; their public names are importable
from here as well.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.ages import DAYS_PER_MONTH, age_months, approximate_months, completed_months
from markers.analysis.limit_sets import (
    BOUNDS,
    COLLECTIONS,
    DEFAULT_REFERENCE_SET,
    LIMIT_COLUMNS,
    REQUIRED_LIMIT_COLUMNS,
    SEXES,
    load_reference_limits,
    reference_sets,
)
from markers.errors import MissingColumnError, NoReferenceRangeError, UnknownUnitError
from markers.ingest.units import Unit, mass_to_molar_factor, parse_unit
from markers.readers.cells import distinct, text_series
from markers.schema import ANALYTE, ANALYTES, OUTPUT_UNITS, REFERENCE_SET, SEX, ULN

__all__ = [
    "AGE_BAND_LABEL",
    "BOUNDS",
    "COLLECTIONS",
    "DAYS_PER_MONTH",
    "DEFAULT_REFERENCE_SET",
    "LIMIT_COLLECTION",
    "LIMIT_COLUMNS",
    "REQUIRED_LIMIT_COLUMNS",
    "SEXES",
    "ULN_EXCLUSIVE",
    "age_months",
    "approximate_months",
    "completed_months",
    "limit_choices",
    "load_reference_limits",
    "lookup_uln",
    "reference_sets",
]

#: Column added by :func:`lookup_uln` (and by :func:`markers.analysis.flags.flag`).
AGE_BAND_LABEL = "age_band_label"

#: Column added by :func:`lookup_uln`: True where the limit is published as "<x" (x itself is above it).
ULN_EXCLUSIVE = "uln_exclusive"
#: Column added by :func:`lookup_uln`: the limit's ``collection`` ("spot", "24-hour" or "").
LIMIT_COLLECTION = "limit_collection"



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


#: The sexes a limit row can name, in the order of their codes (:func:`_sex_codes`).
_SEX_NAMES = ("", "F", "M")


def _sex_codes(measurements: pd.DataFrame) -> np.ndarray:
    """Each row's sex as a code into :data:`_SEX_NAMES` (0 unknown, 1 ``"F"``, 2 ``"M"``), worked out
    once per distinct spelling."""
    if SEX not in measurements:
        return np.zeros(len(measurements), dtype=np.int64)
    codes, uniques = distinct(measurements[SEX], exact=False)
    texts = ["" if u is None else str(u).strip().upper() for u in uniques]
    return np.array([_SEX_NAMES.index(t) if t in ("M", "F") else 0 for t in texts], dtype=np.int64)[codes]


def _combinations(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of non-negative integer keys, ``uniques[codes] == keys``.

    The keys of :func:`limit_choices` are few and dense (analytes x sexes x months), so a table
    the size of the key range marks the keys present, in two passes and no hashing; a wide key
    range (ages of a thousand years) is factorized instead. Codes are in key order.
    """
    top = int(keys.max(initial=-1)) + 1
    if top > 4 * len(keys) + 4096:
        uniques = np.unique(keys)
        return np.searchsorted(uniques, keys), uniques
    present = np.zeros(top, dtype=bool)
    present[keys] = True
    uniques = np.flatnonzero(present)
    code_of_key = np.cumsum(present) - 1
    return code_of_key[keys], uniques


def limit_choices(measurements: pd.DataFrame, *, limits: pd.DataFrame, unit: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Vectorised band lookup: the first limit row of the row's analyte whose age band and sex hold it.

    Returns ``(chosen, per_limit)``: ``per_limit`` holds one row per limit, in ``unit``, plus a last
    row for "no limit" (``uln`` NaN, texts ``""``), with the columns of :func:`lookup_uln`;
    ``chosen`` gives each measurement's row of it. :func:`lookup_uln` is ``per_limit`` taken
    by ``chosen``; a caller that needs a few of its columns takes only those.

    A band depends only on (analyte, sex, completed months), and a million
    measurements hold a few thousand such combinations: each combination is
    matched once, by one pass per limit row (first match wins), and the result
    is taken back by code.
    """
    _target_unit(unit)
    if ANALYTE not in measurements:
        raise MissingColumnError(f"measurements have no '{ANALYTE}' column; pass the tidy measurements table.")
    missing = [c for c in ("analyte", "age_min_months", "age_max_months", "sex", "uln", "unit", "set") if c not in limits]
    if missing:
        raise NoReferenceRangeError(
            f"the limits table lacks column(s) {', '.join(missing)}; load it with load_reference_limits()."
        )
    analyte_codes, analyte_names = distinct(measurements[ANALYTE], exact=False)
    months = age_months(measurements).to_numpy(dtype="float64", na_value=np.nan)
    sex_codes = _sex_codes(measurements)
    # one integer per (analyte, sex, months): months are whole numbers, -1 when unknown
    month_codes = np.where(np.isnan(months), -1, months).astype(np.int64)
    lowest = min(int(month_codes.min(initial=0)), -1)
    span = int(month_codes.max(initial=0)) - lowest + 1
    combo_codes, combo_keys = _combinations((analyte_codes * 3 + sex_codes) * span + (month_codes - lowest))
    combo_analyte = np.asarray(analyte_names, dtype=object)[combo_keys // span // 3]
    combo_sex = np.array(_SEX_NAMES, dtype=object)[combo_keys // span % 3]
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
    table = limits.reset_index(drop=True)
    chosen = np.where(chosen < 0, len(table), chosen)[combo_codes]  # len(table): the last row, no limit
    return chosen, _per_limit(table, unit)


def _per_limit(table: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Each limit converted to ``unit`` once, with its texts, and a last row for "no limit"."""
    converted = _uln_in_units(table["uln"], table["unit"], table["analyte"],
                              pd.Series([unit] * len(table), dtype=object)).to_numpy(dtype=float)

    def texts(column: str) -> list[str]:
        return [*(table[column].fillna("").astype(str) if column in table else [""] * len(table)), ""]

    bound = table["bound"] if "bound" in table else pd.Series("", index=table.index)
    return pd.DataFrame({ULN: np.append(converted, np.nan), REFERENCE_SET: texts("set"),
                         AGE_BAND_LABEL: texts("age_band_label"),
                         ULN_EXCLUSIVE: np.append((bound.fillna("").astype(str) == "exclusive").to_numpy(dtype=bool),
                                                  False),
                         LIMIT_COLLECTION: texts("collection")}, dtype=object).astype(
        {ULN: float, ULN_EXCLUSIVE: bool})


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
    chosen, per_limit = limit_choices(measurements, limits=limits, unit=unit)
    index = measurements.index
    return pd.DataFrame({ULN: per_limit[ULN].to_numpy()[chosen],
                         REFERENCE_SET: text_series(per_limit[REFERENCE_SET].tolist(), chosen, index=index),
                         AGE_BAND_LABEL: text_series(per_limit[AGE_BAND_LABEL].tolist(), chosen, index=index),
                         ULN_EXCLUSIVE: per_limit[ULN_EXCLUSIVE].to_numpy()[chosen],
                         LIMIT_COLLECTION: text_series(per_limit[LIMIT_COLLECTION].tolist(), chosen, index=index)},
                        index=index)
