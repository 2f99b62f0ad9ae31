"""Codes the standard exports share: LOINC per analyte and unit, UCUM units, ADaM parameter codes."""

from __future__ import annotations

import csv
import functools
from importlib import resources

from markers.schema import MASS_RATIO, MOLAR_RATIO

#: UCUM code of each output unit (the creatinine is in the LOINC code, not in the unit).
UCUM = {MASS_RATIO: "mg/g", MOLAR_RATIO: "mmol/mol"}

#: The LOINC property (``data/loinc.csv`` ``measure`` column) that each output unit is reported in.
_MEASURE = {MASS_RATIO: "mass_ratio", MOLAR_RATIO: "molar_ratio"}

#: ADaM parameter codes (at most 8 characters, starting with a letter): markers' own codes, the
#: analyte and ``CR`` for "per creatinine", and M for a molar ratio; not CDISC controlled terminology.
_PARAMCD_STEM = {"VMA": "VMA", "HVA": "HVA", "DA": "DA", "3MT": "MT3", "NE": "NE", "E": "EPI",
                 "NMN": "NMN", "MN": "MN"}


@functools.cache
def _loinc_rows() -> tuple[dict[str, str], ...]:
    with resources.files("markers").joinpath("data", "loinc.csv").open(encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def loinc_for(analyte: str, unit: str) -> tuple[str, str] | None:
    """(LOINC code, long common name) of an analyte-to-creatinine ratio in ``unit``, or ``None``.

    Only codes in ``data/loinc.csv`` are used (with their sources there); e.g. no code was found
    for normetanephrine or 3-methoxytyramine per creatinine, nor for DA/NE/E as a mass ratio.

    Examples
    --------
    >>> loinc_for("VMA", "mg/g creatinine")
    ('3124-5', 'Vanillylmandelate/Creatinine [Mass Ratio] in Urine')
    >>> loinc_for("NMN", "mmol/mol creatinine") is None
    True
    """
    measure = _MEASURE.get(unit)
    for row in _loinc_rows():
        if row["analyte"] == analyte and row["measure"] == measure:
            return row["loinc"], row["long_common_name"]
    return None


@functools.cache
def analyte_names() -> dict[str, str]:
    """Analyte code -> name as in ``data/analytes.csv`` (``VMA`` -> ``vanillylmandelic acid``)."""
    with resources.files("markers").joinpath("data", "analytes.csv").open(encoding="utf-8") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle)}


def paramcd(analyte: str, unit: str) -> str:
    """The ADaM ``PARAMCD`` of an analyte per creatinine in ``unit``.

    Examples
    --------
    >>> paramcd("VMA", "mg/g creatinine"), paramcd("3MT", "mmol/mol creatinine")
    ('VMACR', 'MT3CRM')
    """
    stem = _PARAMCD_STEM.get(analyte, analyte)
    return f"{stem}CR{'M' if unit == MOLAR_RATIO else ''}"[:8]


def from_paramcd(code: str) -> tuple[str, str] | None:
    """The (analyte, unit) a :func:`paramcd` code stands for, or ``None``.

    Examples
    --------
    >>> from_paramcd("MT3CRM")
    ('3MT', 'mmol/mol creatinine')
    """
    for analyte in _PARAMCD_STEM:
        for unit in (MASS_RATIO, MOLAR_RATIO):
            if paramcd(analyte, unit) == code:
                return analyte, unit
    return None


def param(analyte: str, unit: str) -> str:
    """The ADaM ``PARAM``: analyte name per creatinine with the unit (at most 200 characters).

    Examples
    --------
    >>> param("HVA", "mg/g creatinine")
    'Homovanillic acid/Creatinine (mg/g)'
    """
    name = analyte_names().get(analyte, analyte)
    return f"{name[:1].upper()}{name[1:]}/Creatinine ({UCUM.get(unit, unit)})"[:200]
