"""Units: recognise spellings, and convert between them via molar masses.

Conversion factors are never typed in: they follow from the molecular
formulas in ``data/analytes.csv`` and the atomic weights in
``data/atomic_weights.csv`` (mg/g creatinine ↔ mmol/mol creatinine is
``× M_creatinine / M_analyte``).

A unit string is reduced to a *kind* and a *scale* to that kind's base unit:

================  =====================  ===================================
kind              base unit              examples accepted
================  =====================  ===================================
``mass_ratio``    mg/g creatinine        mg/g, µg/mg, ug/mg, mcg/mg, µg/g, UCUM mg/g{creat}
``molar_ratio``   mmol/mol creatinine    mmol/mol, µmol/mmol, nmol/mmol, UCUM umol/mmol{creat}
``mass_conc``     mg/L                   mg/L, µg/mL, µg/L, ng/mL, mg/dL, g/L
``molar_conc``    µmol/L                 µmol/L, nmol/L, mmol/L
``per_time``      (rejected)             mg/24 h, µmol/d, mg/day
================  =====================  ===================================
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from importlib import resources

from markers.errors import UnknownUnitError
from markers.schema import MASS_RATIO, MOLAR_RATIO

CREATININE = "CREA"


@dataclass(frozen=True)
class Unit:
    """A recognised unit: its kind and the factor to that kind's base unit."""

    kind: str
    scale: float
    text: str = ""


def _read_csv(name: str) -> list[dict[str, str]]:
    with resources.files("markers").joinpath("data", name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def atomic_weights() -> dict[str, float]:
    """Standard atomic weights by element symbol, from ``data/atomic_weights.csv``."""
    return {row["element"]: float(row["atomic_weight"]) for row in _read_csv("atomic_weights.csv")}


def molar_mass_of_formula(formula: str) -> float:
    """Molar mass (g/mol) of a molecular formula such as ``C9H10O5``.

    Examples
    --------
    >>> round(molar_mass_of_formula("C9H10O5"), 2)
    198.17
    """
    weights = atomic_weights()
    total = 0.0
    consumed = 0
    for match in re.finditer(r"([A-Z][a-z]?)(\d*)", formula):
        element, count = match.group(1), match.group(2)
        if element not in weights:
            raise ValueError(f"no atomic weight for element {element!r} in {formula!r}")
        total += weights[element] * (int(count) if count else 1)
        consumed += len(match.group(0))
    if consumed != len(formula) or not formula:
        raise ValueError(f"not a molecular formula: {formula!r}")
    return total


@functools.cache
def molar_masses() -> dict[str, float]:
    """Molar mass in g/mol of each analyte code (and ``CREA``), computed from its formula."""
    return {row["code"]: molar_mass_of_formula(row["formula"]) for row in _read_csv("analytes.csv")}


def mass_to_molar_factor(analyte: str) -> float:
    """Factor from mg/g creatinine to mmol/mol creatinine for ``analyte``.

    Examples
    --------
    >>> round(mass_to_molar_factor("VMA"), 4)
    0.5708
    """
    masses = molar_masses()
    return masses[CREATININE] / masses[analyte]


_MICRO = re.compile(r"µ|μ|mc(?=[gm])|\bu(?=[gm])")
_PER_TIME = re.compile(r"(/24h|/24hr|/24hrs|/24hours|/d|/day|/dag|/tag|/24std|/24-h|per24h)$")


def _canonical_text(text: str) -> str:
    s = str(text).strip().lower()
    s = _MICRO.sub("u", s)
    s = s.replace(" per ", "/").replace("per ", "/")
    s = re.sub(r"\s+", "", s)
    s = s.replace("mcg", "ug").replace("μ", "u").replace("µ", "u")
    s = s.replace("hours", "h").replace("hour", "h").replace("hrs", "h").replace("hr", "h")
    s = s.strip("()[]")
    # UCUM annotations: "mg/g{creat}", "umol/mmol{creatinine}" are the creatinine ratios
    s = re.sub(r"\{([^{}]*)\}", r"\1", s)
    return s


# base tables: canonical spelling (creatinine words removed) -> Unit
_RATIOS = {
    "mg/g": Unit("mass_ratio", 1.0),
    "ug/mg": Unit("mass_ratio", 1.0),
    "g/g": Unit("mass_ratio", 1000.0),
    "ug/g": Unit("mass_ratio", 1e-3),
    "ng/mg": Unit("mass_ratio", 1e-3),
    "mmol/mol": Unit("molar_ratio", 1.0),
    "umol/mmol": Unit("molar_ratio", 1.0),
    "umol/mol": Unit("molar_ratio", 1e-3),
    "nmol/mmol": Unit("molar_ratio", 1e-3),
    "mol/mol": Unit("molar_ratio", 1000.0),
}
_CONCENTRATIONS = {
    "mg/l": Unit("mass_conc", 1.0),
    "ug/ml": Unit("mass_conc", 1.0),
    "ug/l": Unit("mass_conc", 1e-3),
    "ng/ml": Unit("mass_conc", 1e-3),
    "mg/dl": Unit("mass_conc", 10.0),
    "g/l": Unit("mass_conc", 1000.0),
    "umol/l": Unit("molar_conc", 1.0),
    "nmol/l": Unit("molar_conc", 1e-3),
    "mmol/l": Unit("molar_conc", 1000.0),
}

ACCEPTED_RATIO_SPELLINGS = (
    "mg/g creatinine, µg/mg creatinine (ug/mg, mcg/mg), µg/g creatinine, "
    "mmol/mol creatinine, µmol/mmol creatinine (umol/mmol), µmol/mol, nmol/mmol; "
    "creatinine may be written creat, crea, Cr or CRT, or as a UCUM annotation (mg/g{creat}, umol/mmol{creat})"
)
ACCEPTED_CONCENTRATION_SPELLINGS = "mg/L, µg/mL, µg/L, ng/mL, mg/dL, g/L, µmol/L, nmol/L, mmol/L"
ACCEPTED_SPELLINGS = ACCEPTED_RATIO_SPELLINGS + "; or a concentration (" + ACCEPTED_CONCENTRATION_SPELLINGS + ") with urine creatinine"


def parse_unit(text: object, *, aliases: dict[str, str] | None = None) -> Unit | None:
    """Recognise a unit spelling; ``None`` when it is not one markers knows.

    ``aliases`` maps further spellings (from the config file's ``[units]``
    table) to an accepted spelling.

    Examples
    --------
    >>> parse_unit("µmol/mmol creat")
    Unit(kind='molar_ratio', scale=1.0, text='µmol/mmol creat')
    >>> parse_unit("mg/24 h").kind
    'per_time'
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw or raw.lower() in {"nan", "none"}:
        return None
    for alias, target in (aliases or {}).items():
        if _canonical_text(alias) == _canonical_text(raw):
            found = parse_unit(target)
            return Unit(found.kind, found.scale, raw) if found else None
    return _parse_unit_cached(raw)


@functools.lru_cache(maxsize=4096)  # a million rows hold a handful of distinct spellings: parse each once
def _parse_unit_cached(raw: str) -> Unit | None:
    s = _canonical_text(raw)
    # "mg/g creat", "mg/gcr", "mg/g-cr", "mg/gofcr" -> "mg/g" below
    if _PER_TIME.search(s) or "/24h" in s or re.search(r"/(d|day)\b", s):
        return Unit("per_time", float("nan"), raw)
    s = s.replace("creatinine", "cr") if "/" in s else s
    stripped = re.sub(r"[-_.]?(of)?(creatinine|kreatinin|creat|crea|krea|crt|cr)$", "", s)
    if stripped in _RATIOS:
        unit = _RATIOS[stripped]
        return Unit(unit.kind, unit.scale, raw)
    if stripped != s:
        return None  # "x/y creatinine" with an unknown x/y
    if s in _CONCENTRATIONS:
        unit = _CONCENTRATIONS[s]
        return Unit(unit.kind, unit.scale, raw)
    return None


def require_unit(text: object, *, where: str, aliases: dict[str, str] | None = None) -> Unit:
    """Like :func:`parse_unit` but raise :class:`UnknownUnitError` naming ``where``."""
    unit = parse_unit(text, aliases=aliases)
    if unit is None:
        raise UnknownUnitError(
            f"{where}: unknown unit {str(text)!r}. Accepted: {ACCEPTED_SPELLINGS}. "
            "Map other spellings in the config file's [units] table."
        )
    return unit


def creatinine_to_mmol_per_l(value: float, unit: Unit) -> float:
    """Urine creatinine in mmol/L from a value in a concentration unit."""
    if unit.kind == "molar_conc":
        return value * unit.scale / 1000.0  # µmol/L -> mmol/L
    if unit.kind == "mass_conc":
        return value * unit.scale / molar_masses()[CREATININE]  # mg/L / (g/mol) = mmol/L
    raise ValueError(f"not a concentration unit: {unit}")


def ratio_to_output(value, *, unit: Unit, analyte: str, output: str):
    """Convert a per-creatinine ratio (scalar or array) to ``output`` (MASS_RATIO or MOLAR_RATIO)."""
    if unit.kind == "mass_ratio":
        mg_per_g = value * unit.scale
        return mg_per_g if output == MASS_RATIO else mg_per_g * mass_to_molar_factor(analyte)
    if unit.kind == "molar_ratio":
        mmol_per_mol = value * unit.scale
        return mmol_per_mol if output == MOLAR_RATIO else mmol_per_mol / mass_to_molar_factor(analyte)
    raise ValueError(f"not a ratio unit: {unit}")


def concentration_to_output(value, creatinine_mmol_l, *, unit: Unit, analyte: str, output: str):
    """Ratio to creatinine from an analyte concentration and urine creatinine (mmol/L).

    mass: mg/L ÷ creatinine g/L = mg/g; molar: µmol/L ÷ creatinine mmol/L = mmol/mol.
    """
    masses = molar_masses()
    if unit.kind == "mass_conc":
        creatinine_g_l = creatinine_mmol_l * masses[CREATININE] / 1000.0
        mg_per_g = value * unit.scale / creatinine_g_l
        return ratio_to_output(mg_per_g, unit=Unit("mass_ratio", 1.0), analyte=analyte, output=output)
    if unit.kind == "molar_conc":
        mmol_per_mol = value * unit.scale / creatinine_mmol_l
        return ratio_to_output(mmol_per_mol, unit=Unit("molar_ratio", 1.0), analyte=analyte, output=output)
    raise ValueError(f"not a concentration unit: {unit}")


def convert_ratio(value, *, analyte: str, from_unit: str, to_unit: str):
    """Convert between MASS_RATIO and MOLAR_RATIO for ``analyte`` (scalar or array)."""
    if from_unit == to_unit:
        return value
    factor = mass_to_molar_factor(analyte)
    if from_unit == MASS_RATIO and to_unit == MOLAR_RATIO:
        return value * factor
    if from_unit == MOLAR_RATIO and to_unit == MASS_RATIO:
        return value / factor
    raise ValueError(f"cannot convert {from_unit!r} to {to_unit!r}")
