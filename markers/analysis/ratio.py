"""The VMA/HVA ratio at baseline, interpreted only when VMA or HVA is elevated there."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.rules import AssessmentRules
from markers.errors import UnknownUnitError
from markers.ingest.units import convert_ratio, molar_masses
from markers.schema import ANALYTE, CENSOR, MASS_RATIO, MOLAR_RATIO, PATIENT_ID, UNIT, VALUE

__all__ = ["RATIO_SOURCE", "fill_ratios"]

#: Said beside every interpreted ratio: the cut-off's only source is weak.
RATIO_SOURCE = ("cut-off 1.5 (mass ratio assumed) from a secondary teaching page [S24], probably after "
                "Laug et al. [S23]; units unstated: weak source")


def _mass_value(value: float, unit: str, *, analyte: str, patient: str) -> float:
    if unit not in (MASS_RATIO, MOLAR_RATIO):
        raise UnknownUnitError(
            f"patient {patient}, {analyte}: unit {unit!r} is not {MASS_RATIO!r} or {MOLAR_RATIO!r}; "
            "assess the measurements returned by markers.ingest.reader.read()."
        )
    return float(convert_ratio(value, analyte=analyte, from_unit=unit, to_unit=MASS_RATIO))


def _baseline_of(columns: tuple[np.ndarray, np.ndarray, np.ndarray], position: int | None
                 ) -> tuple[str, float, str] | None:
    if position is None:
        return None
    censor, value, unit = (column[position] for column in columns)
    return "" if not isinstance(censor, str) else censor.strip(), float(value), str(unit)


def _ratio(vma: tuple, hva: tuple, patient: str) -> tuple[float, float] | None:
    if vma[0] or hva[0]:
        return None  # a censored value is a bound, not a value: no ratio (domain facts §5)
    v = _mass_value(vma[1], vma[2], analyte="VMA", patient=patient)
    h = _mass_value(hva[1], hva[2], analyte="HVA", patient=patient)
    if not h > 0:
        return None
    mass = v / h
    masses = molar_masses()
    return mass, mass * masses["HVA"] / masses["VMA"]  # (v/M_VMA) / (h/M_HVA)


def fill_ratios(rows: list[dict], bases: list[int | None], data: pd.DataFrame, rules: AssessmentRules) -> None:
    """Fill the VMA/HVA ratio columns of the VMA and HVA rows of each patient (in place on ``rows``).

    ``bases`` holds each row's baseline position in ``data`` (the sorted measurements). The ratio is
    computed from the two baseline values when both are uncensored; ``low_vma_hva_ratio`` is set only
    when VMA or HVA is elevated at baseline (``informative`` True): with both normal there is no
    secretion to interpret.
    """
    for row in rows:
        row.update(vma_hva_ratio_mass=np.nan, vma_hva_ratio_molar=np.nan, low_vma_hva_ratio=pd.NA,
                   vma_hva_ratio_note="")
    columns = (data[CENSOR].to_numpy(dtype=object), data[VALUE].to_numpy(dtype=float),
               data[UNIT].to_numpy(dtype=object))
    found: dict[str, dict[str, int]] = {}
    for k, row in enumerate(rows):
        if row[ANALYTE] in ("VMA", "HVA"):
            found.setdefault(row[PATIENT_ID], {})[row[ANALYTE]] = k
    for patient, pair in found.items():
        if len(pair) < 2:
            continue
        vma_row, hva_row = rows[pair["VMA"]], rows[pair["HVA"]]
        vma, hva = _baseline_of(columns, bases[pair["VMA"]]), _baseline_of(columns, bases[pair["HVA"]])
        ratio = _ratio(vma, hva, patient) if vma is not None and hva is not None else None
        if ratio is None:
            continue
        secreting = vma_row["informative"] is True or hva_row["informative"] is True
        low = bool(ratio[0] < rules.low_ratio_cutoff) if secreting else pd.NA
        note = RATIO_SOURCE if secreting else "not interpreted: neither VMA nor HVA elevated at baseline"
        for row in (vma_row, hva_row):
            row.update(vma_hva_ratio_mass=ratio[0], vma_hva_ratio_molar=ratio[1], low_vma_hva_ratio=low,
                       vma_hva_ratio_note=note)
