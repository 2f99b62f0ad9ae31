"""Unit recognition and conversion, checked against hand calculations from molar masses.

Atomic weights C 12.011, H 1.008, N 14.007, O 15.999:
VMA C9H10O5 = 9*12.011 + 10*1.008 + 5*15.999 = 108.099 + 10.080 + 79.995 = 198.174
HVA C9H10O4 = 108.099 + 10.080 + 63.996 = 182.175
creatinine C4H7N3O = 48.044 + 7.056 + 42.021 + 15.999 = 113.120
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markers.errors import UnknownUnitError
from markers.ingest.units import (
    concentration_to_output,
    convert_ratio,
    creatinine_to_mmol_per_l,
    molar_masses,
    parse_unit,
    ratio_to_output,
    require_unit,
)
from markers.schema import ANALYTES, MASS_RATIO, MOLAR_RATIO


def test_molar_masses_from_formulas():
    masses = molar_masses()
    assert masses["VMA"] == pytest.approx(198.174, abs=1e-9)
    assert masses["HVA"] == pytest.approx(182.175, abs=1e-9)
    assert masses["CREA"] == pytest.approx(113.120, abs=1e-9)
    # MN C10H15NO3 = 120.110 + 15.120 + 14.007 + 47.997 = 197.234
    assert masses["MN"] == pytest.approx(197.234, abs=1e-9)


def test_vma_10_umol_per_mmol_is_17_52_mg_per_g():
    unit = parse_unit("µmol/mmol creatinine")
    mg_per_g = ratio_to_output(10.0, unit=unit, analyte="VMA", output=MASS_RATIO)
    assert mg_per_g == pytest.approx(10 * 198.174 / 113.120)
    assert round(mg_per_g, 2) == 17.52


def test_arup_vma_27_mg_per_g_is_15_4_mmol_per_mol():
    value = convert_ratio(27.0, analyte="VMA", from_unit=MASS_RATIO, to_unit=MOLAR_RATIO)
    assert round(value, 1) == 15.4


def test_concentration_with_creatinine_mass():
    # VMA 10 mg/L with creatinine 50 mg/dL (= 0.50 g/L) gives 20 mg/g
    creatinine = creatinine_to_mmol_per_l(50.0, parse_unit("mg/dL"))
    assert creatinine == pytest.approx(500 / 113.120)  # 50 mg/dL = 500 mg/L
    value = concentration_to_output(10.0, creatinine, unit=parse_unit("mg/L"), analyte="VMA", output=MASS_RATIO)
    assert value == pytest.approx(20.0)


def test_concentration_with_creatinine_molar():
    # 50.46 µmol/L VMA / 4.420 mmol/L creatinine = 11.4 mmol/mol
    value = concentration_to_output(
        10.0 * 1000 / 198.174, 500 / 113.120, unit=parse_unit("µmol/L"), analyte="VMA", output=MOLAR_RATIO
    )
    assert round(value, 1) == 11.4


@pytest.mark.parametrize(
    ("text", "kind", "scale"),
    [
        ("mg/g creatinine", "mass_ratio", 1.0),
        ("mg/g creat", "mass_ratio", 1.0),
        ("mg/gCr", "mass_ratio", 1.0),
        ("µg/mg creatinine", "mass_ratio", 1.0),
        ("ug/mg Cr", "mass_ratio", 1.0),
        ("mcg/mg CRT", "mass_ratio", 1.0),
        ("µg/g crea", "mass_ratio", 0.001),
        ("mmol/mol creat", "molar_ratio", 1.0),
        ("µmol/mmol creatinine", "molar_ratio", 1.0),
        ("umol/mmol", "molar_ratio", 1.0),
        ("nmol/mmol", "molar_ratio", 0.001),
        ("µmol/mol", "molar_ratio", 0.001),
        ("mg/L", "mass_conc", 1.0),
        ("mg/dL", "mass_conc", 10.0),
        ("g/L", "mass_conc", 1000.0),
        ("µmol/L", "molar_conc", 1.0),
        ("mmol/L", "molar_conc", 1000.0),
    ],
)
def test_spellings(text, kind, scale):
    unit = parse_unit(text)
    assert unit.kind == kind
    assert unit.scale == scale


@pytest.mark.parametrize("text", ["mg/24 h", "mg/24h", "mg/d", "µmol/24 h", "mg/day"])
def test_per_time_units_are_recognised_as_such(text):
    assert parse_unit(text).kind == "per_time"


def test_unknown_unit_error_names_where_and_lists_spellings():
    with pytest.raises(UnknownUnitError) as err:
        require_unit("furlongs", where="lab.xlsx Results!F2 (column 'Unit')")
    message = str(err.value)
    assert message.startswith("lab.xlsx Results!F2 (column 'Unit'): unknown unit 'furlongs'")
    assert "mmol/mol creatinine" in message


def test_unit_aliases_from_config():
    unit = parse_unit("mg/g Krea-Q", aliases={"mg/g Krea-Q": "mg/g creatinine"})
    assert unit.kind == "mass_ratio"


@given(
    value=st.floats(min_value=1e-3, max_value=1e5, allow_nan=False),
    analyte=st.sampled_from(ANALYTES),
)
def test_mass_molar_round_trip(value, analyte):
    there = convert_ratio(value, analyte=analyte, from_unit=MASS_RATIO, to_unit=MOLAR_RATIO)
    back = convert_ratio(there, analyte=analyte, from_unit=MOLAR_RATIO, to_unit=MASS_RATIO)
    assert math.isclose(back, value, rel_tol=1e-12)


@given(
    value=st.floats(min_value=1e-3, max_value=1e4, allow_nan=False),
    creatinine=st.floats(min_value=0.05, max_value=40, allow_nan=False),
    scale=st.floats(min_value=0.1, max_value=10, allow_nan=False),
)
def test_ratio_is_invariant_to_dilution(value, creatinine, scale):
    """Diluting a urine scales analyte and creatinine alike: the ratio does not change."""
    unit = parse_unit("mg/L")
    a = concentration_to_output(value, creatinine, unit=unit, analyte="HVA", output=MASS_RATIO)
    b = concentration_to_output(value * scale, creatinine * scale, unit=unit, analyte="HVA", output=MASS_RATIO)
    assert math.isclose(a, b, rel_tol=1e-9)


def test_unit_columns_tell_kinds_by_code_as_the_kind_names_would():
    import numpy as np

    from markers.ingest.record_checks import UnitColumns
    from markers.ingest.units import Unit

    units = [Unit("mass_ratio", 1.0), None, Unit("molar_conc", 1.0), Unit("per_time", 1.0)]
    codes = np.array([0, 1, 2, 2, 3, 0, 1])
    kind = np.array(["mass_ratio", "", "molar_conc", "per_time"], dtype=object)[codes]
    columns = UnitColumns(units, codes, kind, np.ones(len(codes)))
    # worked out by hand from the codes: records 2 and 3 are concentrations, 1 and 6 have no unit
    assert columns.is_kind("mass_conc", "molar_conc").tolist() == [False, False, True, True, False, False, False]
    assert columns.is_kind("").tolist() == [False, True, False, False, False, False, True]
    assert columns.is_kind("per_time").tolist() == [False, False, False, False, True, False, False]
    # the same as comparing the kind names themselves
    for kinds in (("mass_ratio",), ("", "per_time"), ("molar_ratio",)):
        assert columns.is_kind(*kinds).tolist() == np.isin(kind, kinds).tolist()
