"""Reference limits: the shipped table against the domain notes, age bands, lookups, user files.

Every expected number below is typed from the domain notes (§1a, §1b, §1d),
not read back from the data file. Age bands are in completed months,
inclusive: "0-2 y" = months 0..35, "1 y" = 12..23, "<6 mo" = 0..5, ">=18 y" = 216+.

Molar masses (C 12.011, H 1.008, N 14.007, O 15.999):
VMA C9H10O5 198.174, HVA C9H10O4 182.175, creatinine C4H7N3O 113.120,
DA C8H11NO2 = 96.088 + 11.088 + 14.007 + 31.998 = 153.181,
E C9H13NO3 = 108.099 + 13.104 + 14.007 + 47.997 = 183.207.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from markers.analysis.reference import (
    DEFAULT_REFERENCE_SET,
    LIMIT_COLUMNS,
    age_months,
    approximate_months,
    completed_months,
    load_reference_limits,
    lookup_uln,
    reference_sets,
)
from markers.errors import MissingColumnError, NoReferenceRangeError, UnknownUnitError

M_CREA = 113.120
M_VMA = 198.174
M_HVA = 182.175
M_DA = 153.181
M_E = 183.207

MG = "mg/g creatinine"
MMOL = "mmol/mol creatinine"
UG = "µg/g creatinine"
NMOL = "nmol/mmol creatinine"

# (set, analyte, age_min_months, age_max_months or None, label, uln, unit, source_tag)
ARUP_BANDS = [(0, 35, "0-2 y"), (36, 71, "3-5 y"), (72, 215, "6-17 y"), (216, None, ">=18 y")]
MAYO_BANDS = [(0, 11, "<1 y"), (12, 23, "1 y"), (24, 59, "2-4 y"), (60, 119, "5-9 y"), (120, 179, "10-14 y")]
UIOWA_BANDS = [(0, 11, "0-11 mo"), (12, 47, "1-3 y"), (48, 131, "4-10 y"), (132, 215, "11-17 y"), (216, None, ">=18 y")]
SGH_BANDS = [(0, 23, "0-<2 y"), (24, 59, "2-4 y"), (60, 239, "5-19 y")]


def _rows(set_name, analyte, bands, ulns, unit, tag):
    return [(set_name, analyte, lo, hi, label, uln, unit, tag) for (lo, hi, label), uln in zip(bands, ulns, strict=True)]


EXPECTED = (
    # §1a/§1b ARUP [S1]: VMA 27/13/9/6, HVA 42/22/15/8 mg/g CRT
    _rows("ARUP-3018863", "VMA", ARUP_BANDS, [27, 13, 9, 6], MG, "S1")
    + _rows("ARUP-3018863", "HVA", ARUP_BANDS, [42, 22, 15, 8], MG, "S1")
    # Mayo legacy VH [S3]: VMA <27.0/<18.0/<13.0/<8.5/<7.0; HVA <35/<23/<13.5/<9/<12; >=15 y not applicable
    + _rows("Mayo-VH-legacy", "VMA", MAYO_BANDS, [27.0, 18.0, 13.0, 8.5, 7.0], MG, "S3")
    + _rows("Mayo-VH-legacy", "HVA", MAYO_BANDS, [35, 23, 13.5, 9, 12], MG, "S3")
    # Mayo HVA current [S4]: <35.0/<30.0/<25.0/<15.0/<9.0
    + _rows("Mayo-HVA-current", "HVA", MAYO_BANDS, [35.0, 30.0, 25.0, 15.0, 9.0], MG, "S4")
    # §1d UIowa [S16], upper ends of the published intervals, µg/g crt
    + _rows("extended-UIowa-ARUP", "DA", UIOWA_BANDS, [1290, 1220, 720, 450, 250], UG, "S16")
    + _rows("extended-UIowa-ARUP", "E", UIOWA_BANDS, [380, 82, 93, 58, 20], UG, "S16")
    + _rows("extended-UIowa-ARUP", "NE", UIOWA_BANDS, [310, 290, 110, 105, 45], UG, "S16")
    # Mayo CATCR [S17], mcg/g Cr
    + _rows(
        "extended-Mayo-CATCR", "E",
        [(0, 5, "<6 mo"), (6, 11, "6-11 mo"), (12, 23, "12-23 mo"), (24, 59, "24-59 mo"), (60, 119, "5-9 y"), (120, None, ">=10 y")],
        [76, 61, 40, 38, 30, 16], UG, "S17",
    )
    + _rows(
        "extended-Mayo-CATCR", "NE",
        [(0, 2, "<3 mo"), (3, 11, "3-11 mo"), (12, 23, "12-23 mo"), (24, 59, "24-59 mo"), (60, None, ">=5 y")],
        [273, 196, 140, 92, 54], UG, "S17",
    )
    + _rows(
        "extended-Mayo-CATCR", "DA",
        [(0, 5, "<6 mo"), (6, 11, "6-11 mo"), (12, 23, "12-23 mo"), (24, 59, "24-59 mo")],
        [2675, 1933, 1654, 1156], UG, "S17",
    )
    # SGH [S18], nmol/mmol creatinine
    + _rows("extended-SGH", "E", SGH_BANDS, [46, 35, 21], NMOL, "S18")
    + _rows("extended-SGH", "NE", SGH_BANDS, [280, 80, 55], NMOL, "S18")
    # ARUP 2007996 [S19]: metanephrine ratio 0-3 mo 0-700 µg/g CRT only
    + _rows("extended-ARUP-2007996", "MN", [(0, 3, "0-3 mo")], [700], UG, "S19")
)

SHIPPED_SETS = [
    "ARUP-3018863",
    "Mayo-VH-legacy",
    "Mayo-HVA-current",
    "extended-UIowa-ARUP",
    "extended-Mayo-CATCR",
    "extended-SGH",
    "extended-ARUP-2007996",
]


def _all_shipped() -> pd.DataFrame:
    return pd.concat([load_reference_limits(reference_set=s) for s in SHIPPED_SETS], ignore_index=True)


def _as_tuples(frame: pd.DataFrame) -> set[tuple]:
    return {
        (
            r.set,
            r.analyte,
            int(r.age_min_months),
            None if pd.isna(r.age_max_months) else int(r.age_max_months),
            r.age_band_label,
            float(r.uln),
            r.unit,
            r.source_tag,
        )
        for r in frame.itertuples()
    }


# -- the shipped table --------------------------------------------------------------------------


def test_shipped_table_is_exactly_the_domain_numbers():
    shipped = _all_shipped()
    expected = {(s, a, lo, hi, lab, float(u), unit, tag) for s, a, lo, hi, lab, u, unit, tag in EXPECTED}
    assert len(shipped) == len(EXPECTED) == 60
    assert _as_tuples(shipped) == expected


@pytest.mark.parametrize("row", EXPECTED, ids=lambda r: f"{r[0]}-{r[1]}-{r[4]}")
def test_each_shipped_row_is_found_by_lookup_at_both_ends_of_its_band(row):
    """A child at the first and at the last month of each published band gets that band's ULN."""
    set_name, analyte, lo, hi, label, uln, unit, _tag = row
    limits = load_reference_limits(reference_set=set_name)
    last = lo + 30 if hi is None else hi
    # born 2000-01-15; sampled on the 15th lo/last months later = exactly that many completed months
    born = pd.Timestamp("2000-01-15")
    dates = [born + pd.DateOffset(months=m) for m in (lo, last)]
    frame = pd.DataFrame(
        {"analyte": analyte, "date_of_birth": [born, born], "sample_date": pd.to_datetime(dates), "sex": "F"}
    )
    native = MMOL if unit == NMOL else MG
    scale = 1e-3 if unit in (UG, NMOL) else 1.0  # µg/g = 0.001 mg/g; nmol/mmol = 0.001 mmol/mol
    found = lookup_uln(frame, limits=limits, unit=native)
    assert found["uln"].tolist() == pytest.approx([uln * scale] * 2)
    assert found["age_band_label"].tolist() == [label, label]
    assert found["reference_set"].tolist() == [set_name, set_name]


def test_shipped_rows_carry_provenance():
    shipped = _all_shipped()
    assert list(shipped.columns) == LIMIT_COLUMNS
    assert (shipped["source_url"].str.startswith("http")).all()
    assert (shipped["lab"] != "").all()
    # the domain notes give no compilation date, so none is invented
    assert set(shipped["retrieved"]) == {"unknown"}
    catcr_da = shipped[(shipped["set"] == "extended-Mayo-CATCR") & (shipped["analyte"] == "DA")]
    assert catcr_da["notes"].str.contains("older bands not retrieved").all()
    mn = shipped[shipped["analyte"] == "MN"]
    assert mn["notes"].str.contains("truncated").all()


def test_no_invented_limits_for_3mt_or_nmn():
    shipped = _all_shipped()
    assert not shipped["analyte"].isin(["3MT", "NMN"]).any()


def test_reference_sets_lists_each_shipped_set():
    sets = reference_sets()
    assert sets["name"].tolist() == SHIPPED_SETS
    assert list(sets.columns) == ["name", "analytes", "lab", "source_tag", "source_url"]
    row = sets.set_index("name").loc["Mayo-HVA-current"]
    assert row["analytes"] == "HVA"
    assert row["source_tag"] == "S4"
    assert sets.set_index("name").loc["ARUP-3018863", "source_url"] == "https://ltd.aruplab.com/Tests/Pub/3018863"


def test_default_set_is_arup_plus_uiowa():
    assert DEFAULT_REFERENCE_SET == "ARUP-3018863+extended-UIowa-ARUP"
    limits = load_reference_limits()
    assert set(limits["set"]) == {"ARUP-3018863", "extended-UIowa-ARUP"}
    assert sorted(set(limits["analyte"])) == ["DA", "E", "HVA", "NE", "VMA"]
    assert len(limits) == 8 + 15
    assert str(limits["age_min_months"].dtype) == "Int64"
    assert limits["uln"].dtype == np.float64


def test_unknown_set_lists_the_shipped_names():
    with pytest.raises(NoReferenceRangeError) as err:
        load_reference_limits(reference_set="ARUP-3018863+Quest")
    message = str(err.value)
    assert "'Quest'" in message
    for name in SHIPPED_SETS:
        assert name in message


def test_first_named_set_wins_for_a_shared_analyte():
    limits = load_reference_limits(reference_set="Mayo-HVA-current+Mayo-VH-legacy")
    hva = limits[limits["analyte"] == "HVA"]
    vma = limits[limits["analyte"] == "VMA"]
    assert set(hva["set"]) == {"Mayo-HVA-current"}
    assert hva["uln"].tolist() == [35.0, 30.0, 25.0, 15.0, 9.0]
    assert set(vma["set"]) == {"Mayo-VH-legacy"}
    assert len(limits) == 10


def test_loaded_table_is_a_copy():
    first = load_reference_limits(reference_set="ARUP-3018863")
    first.loc[0, "uln"] = -1.0
    again = load_reference_limits(reference_set="ARUP-3018863")
    assert again.loc[0, "uln"] == 27.0


# -- ages in completed months ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "sampled", "months"),
    [
        ("2020-03-01", "2021-02-28", 11),  # day before the 1st birthday
        ("2020-03-01", "2021-03-01", 12),  # 1st birthday
        ("2020-03-01", "2022-02-28", 23),  # last day of age 1
        ("2020-03-01", "2022-03-01", 24),
        ("2020-03-01", "2023-02-28", 35),  # last day of age 2
        ("2020-03-01", "2023-03-01", 36),
        ("2020-02-29", "2021-02-28", 11),  # leap-day child: no 29 Feb in 2021
        ("2020-02-29", "2021-03-01", 12),  # ...so the birthday is reached on 1 March
        ("2020-02-29", "2024-02-28", 47),
        ("2020-02-29", "2024-02-29", 48),
        ("2020-01-31", "2020-02-29", 0),  # no 31 Feb: one month completed on 1 March
        ("2020-01-31", "2020-03-01", 1),
        ("2020-05-10", "2020-05-10", 0),
        ("2020-05-10", "2020-05-09", -1),  # sample before birth: negative, matches no band
    ],
)
def test_completed_months_calendar(born, sampled, months):
    assert completed_months(pd.Timestamp(born), pd.Timestamp(sampled)) == months
    series = completed_months(pd.Series(pd.to_datetime([born])), pd.Series(pd.to_datetime([sampled])))
    assert series.tolist() == [months]
    assert str(series.dtype) == "Int64"


def test_completed_months_missing_dates_are_na():
    born = pd.Series(pd.to_datetime(["2020-03-01", None]), index=[7, 9])
    sampled = pd.Series(pd.to_datetime([None, "2021-03-01"]), index=[7, 9])
    result = completed_months(born, sampled)
    assert result.index.tolist() == [7, 9]
    assert result.isna().tolist() == [True, True]
    assert completed_months(None, pd.Timestamp("2021-03-01")) is None


def test_approximate_months_from_days():
    # floor(d / 30.4375): 1095 -> 35.975 -> 35; 1096 -> 36.008 -> 36; 30 -> 0; 31 -> 1
    result = approximate_months(pd.Series([1095, 1096, 30, 31, None], dtype="Int64"))
    assert result.tolist()[:4] == [35, 36, 0, 1]
    assert result.isna().tolist() == [False, False, False, False, True]


def test_age_months_prefers_the_date_of_birth():
    frame = pd.DataFrame(
        {
            "date_of_birth": pd.to_datetime(["2020-03-01", None, None]),
            "sample_date": pd.to_datetime(["2023-03-01", "2023-03-01", None]),
            # 1000 days would give 32 months; the calendar age 36 wins
            "age_days": pd.array([1000, 1096, None], dtype="Int64"),
        }
    )
    result = age_months(frame)
    assert result.tolist()[:2] == [36, 36]
    assert pd.isna(result.iloc[2])


# -- boundaries of the published bands --------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_name", "analyte", "born", "sampled", "uln", "label"),
    [
        # Mayo legacy VMA: "1 y" runs through the day before the 2nd birthday
        ("Mayo-VH-legacy", "VMA", "2020-03-01", "2021-02-28", 27.0, "<1 y"),
        ("Mayo-VH-legacy", "VMA", "2020-03-01", "2021-03-01", 18.0, "1 y"),
        ("Mayo-VH-legacy", "VMA", "2020-03-01", "2022-02-28", 18.0, "1 y"),
        ("Mayo-VH-legacy", "VMA", "2020-03-01", "2022-03-01", 13.0, "2-4 y"),
        ("Mayo-VH-legacy", "HVA", "2020-03-01", "2035-02-28", 12.0, "10-14 y"),  # last day of age 14
        # ARUP "0-2 y" runs through the last day of age 2
        ("ARUP-3018863", "VMA", "2020-03-01", "2023-02-28", 27.0, "0-2 y"),
        ("ARUP-3018863", "VMA", "2020-03-01", "2023-03-01", 13.0, "3-5 y"),
        ("ARUP-3018863", "HVA", "2020-03-01", "2038-02-28", 15.0, "6-17 y"),
        ("ARUP-3018863", "HVA", "2020-03-01", "2038-03-01", 8.0, ">=18 y"),
        ("ARUP-3018863", "HVA", "2020-03-01", "2090-03-01", 8.0, ">=18 y"),  # open-ended
        # a 29 February birthday
        ("Mayo-VH-legacy", "VMA", "2020-02-29", "2021-02-28", 27.0, "<1 y"),
        ("Mayo-VH-legacy", "VMA", "2020-02-29", "2021-03-01", 18.0, "1 y"),
        ("ARUP-3018863", "VMA", "2020-02-29", "2023-02-28", 27.0, "0-2 y"),
        ("ARUP-3018863", "VMA", "2020-02-29", "2023-03-01", 13.0, "3-5 y"),
        ("ARUP-3018863", "VMA", "2020-02-29", "2024-02-28", 13.0, "3-5 y"),
        # month bands: "<3 mo" is months 0..2; born 31 Jan, 30 Apr is 2 completed months
        ("extended-Mayo-CATCR", "NE", "2020-01-31", "2020-04-30", 0.273, "<3 mo"),
        ("extended-Mayo-CATCR", "NE", "2020-01-31", "2020-05-01", 0.196, "3-11 mo"),
        ("extended-UIowa-ARUP", "E", "2020-03-01", "2021-02-28", 0.380, "0-11 mo"),
        ("extended-UIowa-ARUP", "E", "2020-03-01", "2021-03-01", 0.082, "1-3 y"),
        ("extended-ARUP-2007996", "MN", "2020-01-10", "2020-05-09", 0.700, "0-3 mo"),
    ],
)
def test_band_boundaries(set_name, analyte, born, sampled, uln, label):
    limits = load_reference_limits(reference_set=set_name)
    frame = pd.DataFrame(
        {"analyte": [analyte], "date_of_birth": pd.to_datetime([born]), "sample_date": pd.to_datetime([sampled])}
    )
    found = lookup_uln(frame, limits=limits, unit=MG)
    assert found["uln"].iloc[0] == pytest.approx(uln)
    assert found["age_band_label"].iloc[0] == label


@pytest.mark.parametrize(
    ("set_name", "analyte", "born", "sampled"),
    [
        ("Mayo-VH-legacy", "VMA", "2020-03-01", "2035-03-01"),  # 15 y: "not applicable"
        ("Mayo-HVA-current", "HVA", "2020-03-01", "2035-03-01"),  # 15 y: 24-h urine only
        ("Mayo-HVA-current", "VMA", "2020-03-01", "2021-03-01"),  # HVA-only set
        ("extended-Mayo-CATCR", "DA", "2020-03-01", "2025-03-01"),  # 60 months: older DA bands not retrieved
        ("extended-SGH", "E", "2000-03-01", "2020-03-01"),  # 20 y: only a 24-h interval
        ("extended-ARUP-2007996", "MN", "2020-01-10", "2020-05-10"),  # 4 months
        ("ARUP-3018863", "VMA", "2020-03-01", "2020-02-01"),  # sample before birth
    ],
)
def test_outside_every_band_gives_nan(set_name, analyte, born, sampled):
    limits = load_reference_limits(reference_set=set_name)
    frame = pd.DataFrame(
        {"analyte": [analyte], "date_of_birth": pd.to_datetime([born]), "sample_date": pd.to_datetime([sampled])}
    )
    found = lookup_uln(frame, limits=limits, unit=MG)
    assert math.isnan(found["uln"].iloc[0])
    assert found["reference_set"].iloc[0] == ""
    assert found["age_band_label"].iloc[0] == ""


def test_age_days_fallback_at_the_arup_boundary():
    limits = load_reference_limits(reference_set="ARUP-3018863")
    frame = pd.DataFrame({"analyte": ["VMA", "VMA", "VMA"], "age_days": pd.array([1095, 1096, None], dtype="Int64")})
    found = lookup_uln(frame, limits=limits, unit=MG)
    # 1095 d -> 35 months (0-2 y, 27); 1096 d -> 36 months (3-5 y, 13); unknown -> NaN
    assert found["uln"].iloc[:2].tolist() == [27.0, 13.0]
    assert math.isnan(found["uln"].iloc[2])


# -- unit conversion of the ULN --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("set_name", "analyte", "unit", "expected"),
    [
        # VMA 27 mg/g * 113.120 / 198.174 = 3054.24 / 198.174 = 15.4119 mmol/mol
        ("ARUP-3018863", "VMA", MMOL, 27 * M_CREA / M_VMA),
        # HVA 42 mg/g * 113.120 / 182.175 = 4751.04 / 182.175 = 26.0796 mmol/mol
        ("ARUP-3018863", "HVA", MMOL, 42 * M_CREA / M_HVA),
        # DA 1220 µg/g = 1.220 mg/g; in mmol/mol 1.220 * 113.120 / 153.181 = 0.90094
        ("extended-UIowa-ARUP", "DA", MG, 1.220),
        ("extended-UIowa-ARUP", "DA", MMOL, 1.220 * M_CREA / M_DA),
        # SGH E 46 nmol/mmol = 0.046 mmol/mol; in mg/g 0.046 * 183.207 / 113.120 = 0.074500
        ("extended-SGH", "E", MMOL, 0.046),
        ("extended-SGH", "E", MG, 0.046 * M_E / M_CREA),
    ],
)
def test_uln_unit_conversion(set_name, analyte, unit, expected):
    limits = load_reference_limits(reference_set=set_name)
    # 400 days -> floor(400 / 30.4375) = 13 months: ARUP 0-2 y, UIowa 1-3 y, SGH 0-<2 y
    frame = pd.DataFrame({"analyte": [analyte], "age_days": pd.array([400], dtype="Int64")})
    found = lookup_uln(frame, limits=limits, unit=unit)
    assert found["uln"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_vma_27_is_15_41_mmol_per_mol_with_short_unit_name():
    limits = load_reference_limits(reference_set="ARUP-3018863")
    frame = pd.DataFrame({"analyte": ["VMA"], "age_days": pd.array([0], dtype="Int64")})
    assert round(lookup_uln(frame, limits=limits, unit="mmol/mol")["uln"].iloc[0], 2) == 15.41


def test_lookup_rejects_a_non_ratio_unit():
    limits = load_reference_limits()
    frame = pd.DataFrame({"analyte": ["VMA"], "age_days": pd.array([0], dtype="Int64")})
    with pytest.raises(UnknownUnitError, match="mg/24 h"):
        lookup_uln(frame, limits=limits, unit="mg/24 h")


def test_lookup_needs_an_analyte_column():
    with pytest.raises(MissingColumnError, match="analyte"):
        lookup_uln(pd.DataFrame({"value": [1.0]}), limits=load_reference_limits(), unit=MG)


def test_lookup_keeps_the_index_and_does_not_mutate():
    limits = load_reference_limits()
    frame = pd.DataFrame(
        {
            "analyte": ["HVA", "NMN", "VMA", "E"],
            "age_days": pd.array([100, 100, None, 5000], dtype="Int64"),
            "sex": ["M", "F", "", None],
        },
        index=pd.Index(["r3", "r1", "r9", "r2"]),
    )
    before = frame.copy()
    found = lookup_uln(frame, limits=limits, unit=MG)
    pd.testing.assert_frame_equal(frame, before)
    assert found.index.tolist() == ["r3", "r1", "r9", "r2"]
    # HVA 3 months -> 42; NMN no limit; VMA age unknown; E 5000 d -> 164 months -> 11-17 y 58 µg/g
    assert found["uln"].iloc[0] == 42.0
    assert found["uln"].iloc[1:3].isna().all()
    assert found["uln"].iloc[3] == pytest.approx(0.058)
    assert found["reference_set"].tolist() == ["ARUP-3018863", "", "", "extended-UIowa-ARUP"]


# -- a user's own reference file --------------------------------------------------------------------

HEADER = ",".join(LIMIT_COLUMNS)
SEXED_ROWS = [
    "Local,VMA,0,23,0-1 y,M,20,mg/g creatinine,Local lab,V1,random urine,,,2025-01,",
    "Local,VMA,0,23,0-1 y,F,22,mg/g creatinine,Local lab,V1,random urine,,,2025-01,",
    "Local,VMA,24,,>=2 y,any,10,mg/g creatinine,Local lab,V1,random urine,,,2025-01,",
    "Local,E,0,,all ages,any,40,nmol/mmol creatinine,Local lab,C1,random urine,,,unknown,",
]


def _write(tmp_path, lines, *, name="limits.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def test_user_file_valid_with_sex_specific_bands(tmp_path):
    path = _write(tmp_path, [HEADER, *SEXED_ROWS])
    limits = load_reference_limits(path=path)
    assert len(limits) == 4
    assert limits["age_max_months"].isna().tolist() == [False, False, True, True]
    frame = pd.DataFrame(
        {"analyte": ["VMA", "VMA", "VMA", "VMA", "E"], "sex": ["M", "f", "", "", "M"],
         "age_days": pd.array([100, 100, 100, 800, 100], dtype="Int64")}
    )
    found = lookup_uln(frame, limits=limits, unit=MG)
    # M -> 20; lower-case f -> 22; unknown sex matches only 'any' bands -> NaN; 800 d = 26 months -> 10
    assert found["uln"].iloc[:2].tolist() == [20.0, 22.0]
    assert math.isnan(found["uln"].iloc[2])
    assert found["uln"].iloc[3] == 10.0
    # E 40 nmol/mmol = 0.040 mmol/mol = 0.040 * 183.207 / 113.120 mg/g
    assert found["uln"].iloc[4] == pytest.approx(0.040 * M_E / M_CREA)


def test_user_file_in_windows_1252_with_micro_sign(tmp_path):
    rows = ["Local,DA,0,,all ages,any,500,µg/g creatinine,Labor,D1,random urine,,,unknown,Grenzwert für alle"]
    path = _write(tmp_path, [HEADER, *rows], encoding="cp1252")
    limits = load_reference_limits(path=path)
    assert limits["unit"].tolist() == ["µg/g creatinine"]
    assert limits["notes"].tolist() == ["Grenzwert für alle"]


def test_user_file_with_bom_and_only_required_columns(tmp_path):
    lines = ["set,analyte,age_min_months,age_max_months,age_band_label,sex,uln,unit", "Mine,HVA,,,all,any,30,mg/g"]
    path = _write(tmp_path, lines, encoding="utf-8-sig")
    limits = load_reference_limits(path=path, reference_set="Mine")
    assert list(limits.columns) == LIMIT_COLUMNS
    assert limits["age_min_months"].tolist() == [0]  # blank minimum = from birth
    assert limits["uln"].tolist() == [30.0]
    assert limits["lab"].tolist() == [""]


def test_user_file_missing_columns(tmp_path):
    path = _write(tmp_path, ["set,analyte,age_min_months,age_band_label,sex,unit", "A,VMA,0,x,any,mg/g"])
    with pytest.raises(NoReferenceRangeError) as err:
        load_reference_limits(path=path)
    message = str(err.value)
    assert message.startswith(f"{path}: missing column(s) 'age_max_months', 'uln'.")
    assert HEADER in message


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        ("A,VMA,0,23,0-1 y,any,abc,mg/g creatinine", "uln", "'abc' is not a positive number"),
        ("A,VMA,0,23,0-1 y,any,-3,mg/g creatinine", "uln", "'-3' is not a positive number"),
        ("A,VMA,0,23,0-1 y,any,0,mg/g creatinine", "uln", "'0' is not a positive number"),
        ("A,VMA,1.5,23,0-1 y,any,20,mg/g creatinine", "age_min_months", "'1.5' is not a whole number"),
        ("A,VMA,0,two,0-1 y,any,20,mg/g creatinine", "age_max_months", "'two' is not a whole number"),
        ("A,VMA,24,12,0-1 y,any,20,mg/g creatinine", "age_max_months", "ends before it starts"),
        ("A,VMAX,0,23,0-1 y,any,20,mg/g creatinine", "analyte", "'VMAX' is not an analyte code"),
        ("A,VMA,0,23,0-1 y,male,20,mg/g creatinine", "sex", "'male' is not a sex"),
        ("A,VMA,0,23,0-1 y,any,20,mg/24 h", "unit", "'mg/24 h' is not a ratio to creatinine"),
        ("A,VMA,0,23,,any,20,mg/g creatinine", "age_band_label", "blank"),
        ("A,VMA,0,23,0-1 y,any,20,mg/g creatinine,,,,,,last week,", "retrieved", "'last week' is not an ISO date"),
    ],
)
def test_user_file_bad_cell_names_file_row_and_column(tmp_path, row, column, fragment):
    good = "A,HVA,0,,all,any,30,mg/g creatinine"
    header = HEADER if row.count(",") > 7 else "set,analyte,age_min_months,age_max_months,age_band_label,sex,uln,unit"
    if row.count(",") > 7:
        good += ",,,,,,,"
    path = _write(tmp_path, [header, good, row])
    with pytest.raises(NoReferenceRangeError) as err:
        load_reference_limits(path=path)
    message = str(err.value)
    # the bad row is the third line of the file (header = line 1)
    assert message.startswith(f"{path} row 3, column '{column}': ")
    assert fragment in message


def test_user_file_collects_every_problem(tmp_path):
    path = _write(tmp_path, ["set,analyte,age_min_months,age_max_months,age_band_label,sex,uln,unit",
                             "A,VMA,0,23,a,any,x,mg/g", "A,XYZ,0,23,b,any,5,mg/g"])
    with pytest.raises(NoReferenceRangeError) as err:
        load_reference_limits(path=path)
    message = str(err.value)
    assert message.startswith(f"{path}: 2 problem(s) in the reference limits: ")
    assert "row 2, column 'uln'" in message
    assert "row 3, column 'analyte'" in message


@pytest.mark.parametrize(
    ("rows", "clash"),
    [
        # months 12..23 and 20..30 share 20..23
        (["A,VMA,12,23,1 y,any,18,mg/g", "A,VMA,20,30,x,any,13,mg/g"], "row 3"),
        # an open-ended band overlaps any later band
        (["A,VMA,24,,>=2 y,any,10,mg/g", "A,VMA,100,120,x,any,9,mg/g"], "row 3"),
        # 'any' overlaps a sex-specific band of the same ages
        (["A,VMA,0,23,0-1 y,any,20,mg/g", "A,VMA,0,23,0-1 y,M,22,mg/g"], "row 3"),
    ],
)
def test_user_file_overlapping_bands(tmp_path, rows, clash):
    path = _write(tmp_path, ["set,analyte,age_min_months,age_max_months,age_band_label,sex,uln,unit", *rows])
    with pytest.raises(NoReferenceRangeError) as err:
        load_reference_limits(path=path)
    message = str(err.value)
    assert message.startswith(f"{path} {clash}, column 'age_min_months': ")
    assert "overlaps row 2" in message


def test_user_file_adjacent_bands_and_other_sets_do_not_clash(tmp_path):
    rows = [
        "A,VMA,0,11,<1 y,any,27,mg/g",
        "A,VMA,12,23,1 y,any,18,mg/g",  # starts the month after the previous band ends
        "B,VMA,0,23,0-1 y,any,25,mg/g",  # another set may cover the same ages
        "A,HVA,0,23,0-1 y,M,30,mg/g",
        "A,HVA,0,23,0-1 y,F,31,mg/g",  # M and F do not overlap each other
    ]
    path = _write(tmp_path, ["set,analyte,age_min_months,age_max_months,age_band_label,sex,uln,unit", *rows])
    assert len(load_reference_limits(path=path, reference_set="A")) == 4
    # both sets named, A first: A wins for VMA
    combined = load_reference_limits(path=path, reference_set="A+B")
    assert set(combined.loc[combined["analyte"] == "VMA", "set"]) == {"A"}
    with pytest.raises(NoReferenceRangeError, match="Available: A, B"):
        load_reference_limits(path=path, reference_set="C")


def test_user_file_not_found(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(NoReferenceRangeError, match="reference file not found") as err:
        load_reference_limits(path=path)
    assert str(path) in str(err.value)


def test_user_file_header_only(tmp_path):
    path = _write(tmp_path, [HEADER])
    with pytest.raises(NoReferenceRangeError, match="has a header but no limits"):
        load_reference_limits(path=path)


def test_user_file_empty(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(NoReferenceRangeError, match="not a readable CSV file"):
        load_reference_limits(path=path)


def test_docstring_examples_run():
    import doctest

    import markers.analysis.ages
    import markers.analysis.limit_sets
    import markers.analysis.reference

    results = [doctest.testmod(module) for module in (
        markers.analysis.ages, markers.analysis.limit_sets, markers.analysis.reference)]
    assert sum(r.attempted for r in results) >= 6
    assert sum(r.failed for r in results) == 0
