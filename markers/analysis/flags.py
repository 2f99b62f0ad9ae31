"""Flag each measurement against its age-specific upper reference limit (ULN).

Grades are multiples of the ULN (``x_uln = value / uln``), with the default
cut-offs ``(1, 2, 3)``:

==============  ===========================  ==========================================
grade           x_uln                        why this boundary
==============  ===========================  ==========================================
normal          x_uln <= 1 ("0-x" limit),    above the age-specific ULN is flagged
                x_uln < 1 ("<x" limit)
                                             abnormal (ARUP [S1, S2]); exactly at the
                                             ULN is within the published "0-x" / "<x"
mild            1 < x_uln <= 2               catecholamines "< 2x ULN usually the result
                                             of physiological stimuli, drugs, or improper
                                             specimen collection" [S16]
moderate        2 < x_uln < 3                "> 2x ULN" = "significantly elevated" in a
                                             population study [S21]
marked          x_uln >= 3                   ">= 3x ULN": "increased probability of a
                                             neuroendocrine tumor" [S16]
indeterminate   --                           a censored result that straddles the ULN
no_reference    --                           no limit for the analyte, age or sex, or
                                             the age is unknown
==============  ===========================  ==========================================

The grade is a reading aid, not a diagnosis: the INSS diagnostic criterion is
"> 3.0 SD above the mean per mg creatinine for age" [S15], which a ULN
multiple does not reproduce.

A limit published as "<x" (``bound`` exclusive, e.g. Mayo) excludes x: a value
equal to it is above the limit (mild); one published as "0-x" (ARUP) includes it.

``limit_changed`` (boolean) is True where a sample's ULN differs from the ULN of
the same patient's previous sample of that analyte (a birthday crossing a band
edge, or a change of reference set): a change of grade there may come from the
limit, not the value.

Censored results (``censor`` ``"<"`` / ``">"``, with ``censor_inclusive`` for
``<=`` / ``>=``) are graded only when the bound settles the question:

* ``<x`` with x at or below the ULN is normal (``x_uln`` from x, an upper bound);
  above the ULN it is indeterminate;
* ``>x`` with x at or above the ULN is elevated and graded as the lowest grade
  any value above x could have (``x_uln`` from x, a lower bound); below the ULN
  it is indeterminate. ``>=x`` exactly at the ULN is indeterminate, since the
  value may equal the ULN.

Source tags refer to the project's domain notes: S1/S2 ARUP tests 3018863 and
0080422, S15 Brodeur 1993 (INSS), S16 University of Iowa pathology handbook,
S21 Smith et al., Eye 2010.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.analysis.grades import (
    DEFAULT_GRADE_CUTOFFS,
    GRADE_NAMES,
    GRADE_ORDER,
    INDETERMINATE,
    NO_REFERENCE,
    check_cutoffs,
    grade_above,
    grade_of_value,
    snap,
)
from markers.analysis.limit_changes import LIMIT_CHANGED, limit_changed
from markers.analysis.reference import (
    AGE_BAND_LABEL,
    LIMIT_COLLECTION,
    ULN_EXCLUSIVE,
    limit_choices,
    lookup_uln,
)
from markers.errors import MissingColumnError
from markers.ingest.units import parse_unit
from markers.readers.cells import distinct, text_series
from markers.readers.files import CELL_DTYPE
from markers.schema import (
    AGE_DAYS,
    ANALYTE,
    CENSOR,
    CENSOR_INCLUSIVE,
    DATE_OF_BIRTH,
    ELEVATED,
    GRADE,
    OUTPUT_UNITS,
    REFERENCE_SET,
    REPORTED_ULN,
    SAMPLE_DATE,
    ULN,
    UNIT,
    VALUE,
    X_ULN,
)

#: The ``reference_set`` of a result graded against its lab's own range.
REPORTED_RANGE = "reported range"

__all__ = ["DEFAULT_GRADE_CUTOFFS", "GRADE_ORDER", "REPORTED_RANGE", "flag"]


def _column(frame: pd.DataFrame, name: str, default: object) -> pd.Series:
    if name in frame:
        return frame[name]
    return pd.Series(default, index=frame.index)


def flag(
    measurements: pd.DataFrame,
    *,
    limits: pd.DataFrame,
    grade_cutoffs: Sequence[float] = DEFAULT_GRADE_CUTOFFS,
    prefer_reported: bool = False,
) -> pd.DataFrame:
    """Add the age-specific ULN, the multiple of it, and a grade to each measurement.

    Parameters
    ----------
    measurements
        Tidy measurements (``markers.schema.MEASUREMENT_COLUMNS``): at least
        ``analyte``, ``value`` and ``unit``; ``censor``, ``censor_inclusive``,
        ``sex``, ``date_of_birth``, ``sample_date`` and ``age_days`` are used
        when present. Not modified.
    limits
        From :func:`markers.analysis.reference.load_reference_limits`.
    grade_cutoffs
        Three increasing multiples of the ULN ``(c1, c2, c3)``: normal
        ``<= c1``, mild ``(c1, c2]``, moderate ``(c2, c3)``, marked ``>= c3``.
    prefer_reported
        Grade against the reporting lab's own upper limit (``reported_uln``) where a
        result has one (``reference_set`` then reads ``reported range``), and against
        ``limits`` elsewhere.

    Returns
    -------
    pandas.DataFrame
        A copy with ``uln`` (in the row's unit), ``x_uln``, ``elevated``
        (``"boolean"``; ``<NA>`` when indeterminate or without reference),
        ``grade`` (one of ``markers.schema.GRADES``), ``reference_set`` and
        ``age_band_label``. Missing ``age_days`` are filled from the date of
        birth and sample date.

    Raises
    ------
    MissingColumnError
        ``analyte``, ``value`` or ``unit`` is missing.
    NoReferenceRangeError
        ``limits`` is not a limits table.
    ConfigError
        ``grade_cutoffs`` is not three increasing positive numbers.

    Examples
    --------
    >>> from markers.analysis.reference import load_reference_limits
    >>> limits = load_reference_limits(reference_set="ARUP-3018863")
    >>> frame = pd.DataFrame({"analyte": ["VMA", "VMA"], "value": [27.0, 81.0],
    ...                       "unit": "mg/g creatinine", "censor": "",
    ...                       "date_of_birth": pd.to_datetime(["2020-03-01"] * 2),
    ...                       "sample_date": pd.to_datetime(["2021-06-01"] * 2)})
    >>> flag(frame, limits=limits)[["uln", "x_uln", "grade"]].to_dict("list")
    {'uln': [27.0, 27.0], 'x_uln': [1.0, 3.0], 'grade': ['normal', 'marked']}
    """
    cutoffs = check_cutoffs(grade_cutoffs)
    missing = [c for c in (ANALYTE, VALUE, UNIT) if c not in measurements]
    if missing:
        raise MissingColumnError(
            f"measurements lack column(s) {', '.join(missing)}; flag() needs the tidy measurements table."
        )
    out = measurements.copy(deep=False)  # copy-on-write: new columns never reach the caller's frame
    _fill_age_days(out)
    found = _limits_by_unit(out, limits)
    if prefer_reported and REPORTED_ULN in out:
        _prefer_reported(out, found)
    x_uln, grade = _grades(out, found.uln, found.exclusive, cutoffs)
    elevated = pd.arrays.BooleanArray((grade >= 1) & (grade < len(GRADE_ORDER)), grade >= len(GRADE_ORDER))

    out[ULN] = found.uln
    out[X_ULN] = x_uln
    out[ELEVATED] = pd.Series(elevated, index=out.index)
    out[GRADE] = pd.Series(_names(GRADE_NAMES, grade), index=out.index)
    if found.whole is not None:
        out[REFERENCE_SET] = found.whole[REFERENCE_SET].array
        out[AGE_BAND_LABEL] = found.whole[AGE_BAND_LABEL].array
    else:
        out[REFERENCE_SET] = pd.array(found.reference_set, dtype=CELL_DTYPE)
        out[AGE_BAND_LABEL] = pd.array(found.band, dtype=CELL_DTYPE)
    out[LIMIT_CHANGED] = limit_changed(out)
    _warn_24_hour(out, found.from_24_hour)
    return out


@dataclass
class _Found:
    """The limit found for each row (positional arrays); ``whole``: the ``reference_set`` and
    ``age_band_label`` columns as Arrow text when one unit covers all rows.

    ``from_24_hour`` marks the rows graded by a limit published for 24-hour collections: the one
    use of the limit's ``collection``, kept as a mask rather than a column of a million texts.
    ``reference_set`` and ``band`` are filled only when the rows are in several units.
    """

    uln: np.ndarray
    exclusive: np.ndarray
    from_24_hour: np.ndarray
    reference_set: np.ndarray | None = None
    band: np.ndarray | None = None
    whole: pd.DataFrame | None = None


def _limits_by_unit(out: pd.DataFrame, limits: pd.DataFrame) -> _Found:
    """The limit of each row in the row's unit; a unit that is not a ratio to creatinine gets none (with a warning)."""
    unit_codes, unit_names = distinct(out[UNIT], exact=False)
    unknown_units = sorted({str(u) for u in unit_names[:-1] if _ratio_kind(u) is None})
    if unknown_units:
        warnings.warn(
            f"unit(s) {', '.join(unknown_units)} are not a ratio to creatinine; "
            "those results get grade 'no_reference'.",
            stacklevel=3,  # the caller of flag()
        )
    # one lookup per unit (a table is in one unit, so usually one lookup for every row);
    # positional, so that a frame with a repeated index label is flagged like any other
    n = len(out)
    known = [(code, str(unit)) for code, unit in enumerate(unit_names[:-1]) if str(unit) not in unknown_units]
    if len(known) == 1 and len(unit_names) == 2:
        # every row in one unit: each limit's columns taken by row, the texts as Arrow columns
        chosen, per_limit = limit_choices(out, limits=limits, unit=known[0][1])
        whole = pd.DataFrame({column: text_series(per_limit[column].tolist(), chosen, index=out.index).array
                              for column in (REFERENCE_SET, AGE_BAND_LABEL)}, index=out.index)
        return _Found(uln=per_limit[ULN].to_numpy(dtype=float)[chosen],
                      exclusive=per_limit[ULN_EXCLUSIVE].to_numpy(dtype=bool)[chosen],
                      from_24_hour=_is_24_hour(per_limit[LIMIT_COLLECTION])[chosen], whole=whole)
    found = _Found(uln=np.full(n, np.nan), exclusive=np.zeros(n, dtype=bool), from_24_hour=np.zeros(n, dtype=bool),
                   reference_set=np.full(n, "", dtype=object), band=np.full(n, "", dtype=object))
    for code, unit in known:
        rows = np.flatnonzero(unit_codes == code)
        looked_up = lookup_uln(out.iloc[rows], limits=limits, unit=unit)
        found.uln[rows] = looked_up[ULN].to_numpy(dtype=float)
        found.exclusive[rows] = looked_up[ULN_EXCLUSIVE].to_numpy(dtype=bool)
        found.from_24_hour[rows] = _is_24_hour(looked_up[LIMIT_COLLECTION])
        found.reference_set[rows] = looked_up[REFERENCE_SET].to_numpy(dtype=object)
        found.band[rows] = looked_up[AGE_BAND_LABEL].to_numpy(dtype=object)
    return found


def _is_24_hour(collection: pd.Series) -> np.ndarray:
    return (collection == "24-hour").to_numpy(dtype=bool, na_value=False)


def _prefer_reported(out: pd.DataFrame, found: _Found) -> None:
    """The reporting lab's own upper limit where a result has one, instead of the reference set's."""
    reported = pd.to_numeric(out[REPORTED_ULN], errors="coerce").to_numpy(dtype=float)
    use = np.isfinite(reported) & (reported > 0)
    if use.any():
        found.uln[use] = reported[use]
        if found.whole is not None:
            found.reference_set = found.whole[REFERENCE_SET].to_numpy(dtype=object).copy()
            found.band = found.whole[AGE_BAND_LABEL].to_numpy(dtype=object).copy()
            found.whole = None
        found.reference_set[use] = REPORTED_RANGE
        found.band[use] = ""


def _grades(out: pd.DataFrame, uln: np.ndarray, exclusive: np.ndarray,
            cutoffs: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's multiple of its limit and its grade code, censored results settled only where they can be."""
    value = pd.to_numeric(out[VALUE], errors="coerce").to_numpy(dtype=float)
    below, above, inclusive_sign = _censor_sides(out)
    inclusive = _column(out, CENSOR_INCLUSIVE, False).fillna(False).to_numpy(dtype=bool) | inclusive_sign

    with np.errstate(divide="ignore", invalid="ignore"):
        x_uln = value / uln
    ratio = snap(x_uln, cutoffs)
    has_value = np.isfinite(ratio)
    c1 = cutoffs[0]

    # integer grade codes throughout; the names are taken once at the end
    grade = grade_of_value(ratio, cutoffs)
    grade[~has_value] = INDETERMINATE
    # a "<x" limit excludes x: a value equal to it is above the limit
    grade[exclusive & (ratio == c1)] = 1
    # "<x": the value is below x; settled (normal) only if x itself is not above c1.
    grade[below] = np.where(ratio[below] <= c1, 0, INDETERMINATE)
    # ">x": above x; settled (elevated) only if every value above x exceeds c1 (censored rows are few:
    # worked out on those alone)
    rows = np.flatnonzero(above)
    r, inc, exc = ratio[rows], inclusive[rows], exclusive[rows]
    above_grade = np.where(inc, grade_of_value(r, cutoffs), grade_above(r, cutoffs))
    settled_above = np.where(inc & ~exc, r > c1, r >= c1)
    grade[rows] = np.where(settled_above, above_grade, INDETERMINATE)
    grade[~(np.isfinite(uln) & (uln > 0))] = NO_REFERENCE
    return x_uln, grade


def _warn_24_hour(flagged: pd.DataFrame, from_24_hour: np.ndarray) -> None:
    """Warn when limits published for 24-hour collections grade samples (read as spot urine)."""
    if not from_24_hour.any():
        return
    sets = sorted(set(flagged[REFERENCE_SET].to_numpy(dtype=object)[from_24_hour]))
    warnings.warn(
        f"{int(from_24_hour.sum())} result(s) were graded against limits published for 24-hour urine "
        f"collections ({', '.join(sets)}), while markers reads ratios of spot urine samples: the limits may "
        "not apply. Use a spot-urine set (e.g. ARUP-3018863) unless the samples are 24-hour collections.",
        UserWarning,
        stacklevel=3,
    )


def _names(names: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A text array of ``names[code]`` for every code, taken by Arrow."""
    return pd.array(pa.array(list(names), type=pa.large_string()).take(pa.array(codes)), dtype=CELL_DTYPE)


def _censor_sides(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: censored below (``<``, ``<=``), censored above (``>``, ``>=``), and inclusive (``<=``, ``>=``).

    Worked out once per distinct comparator spelling and taken back by code.
    """
    n = len(frame)
    if CENSOR not in frame:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    codes, uniques = distinct(frame[CENSOR], exact=False)
    texts = ["" if u is None else str(u).strip() for u in uniques]
    below = np.array([t in ("<", "<=") for t in texts])[codes]
    above = np.array([t in (">", ">=") for t in texts])[codes]
    inclusive = np.array([t in ("<=", ">=") for t in texts])[codes]
    return below, above, inclusive


def _ratio_kind(text: object) -> str | None:
    unit = parse_unit(OUTPUT_UNITS.get(str(text), str(text)))
    return unit.kind if unit is not None and unit.kind in ("mass_ratio", "molar_ratio") else None


def _fill_age_days(frame: pd.DataFrame) -> None:
    """Fill missing ``age_days`` in ``frame`` (a private copy) from the dates."""
    if DATE_OF_BIRTH not in frame or SAMPLE_DATE not in frame:
        return
    given = pd.to_numeric(frame[AGE_DAYS], errors="coerce").astype("Int64") if AGE_DAYS in frame else None
    if given is not None and not given.hasnans:
        frame[AGE_DAYS] = given  # every age given: nothing to work out from the dates
        return
    born = pd.to_datetime(frame[DATE_OF_BIRTH], errors="coerce")
    sampled = pd.to_datetime(frame[SAMPLE_DATE], errors="coerce")
    from_dates = (sampled - born).dt.days.astype("Int64")
    frame[AGE_DAYS] = from_dates if given is None else given.fillna(from_dates)
