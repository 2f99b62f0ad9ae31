"""Therapy timeline: event names, days since diagnosis and phases on and between event days."""

import csv
from importlib import resources

import pandas as pd
import pytest

from markers.analysis.timeline import add_timeline, event_dates, patient_timeline
from markers.errors import ConfigError, MissingColumnError
from markers.ingest.events import canonical_event
from markers.schema import EVENTS

# -- canonical_event --------------------------------------------------------------------------------


def _synonym_rows() -> list[dict[str, str]]:
    with resources.files("markers").joinpath("data", "events.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("row", _synonym_rows(), ids=lambda r: r["synonym"])
def test_every_synonym_maps_to_its_event(row):
    assert canonical_event(row["synonym"]) == row["event"]


def test_every_event_has_a_synonym():
    assert {r["event"] for r in _synonym_rows()} == set(EVENTS)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("START OF THERAPY", "therapy_start"),
        ("  start   of induction ", "therapy_start"),
        ("c1d1", "therapy_start"),
        ("Hdc-Asct", "consolidation"),
        ("anti GD2", "maintenance"),
        ("cis RA", "maintenance"),
        ("Surgery (Resection)", "surgery"),
        ("Tumour/Tumor resection", "surgery"),
        ("diagnose", "diagnosis"),
        ("Rezidiv", "relapse"),
        ("end_of_induction", "end_of_induction"),  # the code itself
        ("Last Follow-Up", "last_follow_up"),
    ],
)
def test_exact_match_ignores_case_space_and_punctuation(label, expected):
    assert canonical_event(label) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Start of induction chemotherapy (N7)", "therapy_start"),
        ("Second-look surgery", "surgery"),
        ("Radiotherapy 21 Gy to primary site", "radiotherapy"),
        ("CR confirmed on MIBG", "complete_remission"),
        ("Relapse, bone marrow", "relapse"),
        ("End of induction evaluation", "end_of_induction"),
    ],
)
def test_contains_match_for_longer_labels(label, expected):
    assert canonical_event(label) == expected


@pytest.mark.parametrize(
    "label",
    [
        "Relapse after end of therapy",  # names two events: ambiguous
        "stop",  # "OP" only as a whole word
        "cortisol level",  # "CR" only as a whole word
        "blood pressure",
        "",
        None,
        float("nan"),
    ],
)
def test_unknown_or_ambiguous_labels_give_none(label):
    assert canonical_event(label) is None


def test_aliases_are_used_and_take_precedence():
    assert canonical_event("Beginn Induktion", aliases={"Beginn Induktion": "therapy_start"}) == "therapy_start"
    assert canonical_event("beginn induktion", aliases={"Beginn Induktion": "therapy_start"}) == "therapy_start"
    # built-in "MAT" is consolidation (myeloablative therapy); a centre may use it for maintenance
    assert canonical_event("MAT") == "consolidation"
    assert canonical_event("MAT", aliases={"MAT": "maintenance"}) == "maintenance"
    # a synonym is accepted as the target
    assert canonical_event("Hochdosis", aliases={"Hochdosis": "HDC"}) == "consolidation"
    # aliases also take part in the contains-match
    assert canonical_event("Beginn Induktion (Zyklus 1)", aliases={"Beginn Induktion": "therapy_start"}) == (
        "therapy_start"
    )


def test_alias_to_unknown_event_is_a_config_error():
    with pytest.raises(ConfigError, match="'Beginn' = 'kickoff' is not an event code"):
        canonical_event("Beginn", aliases={"Beginn": "kickoff"})


# -- add_timeline -----------------------------------------------------------------------------------

DX = pd.Timestamp("2024-01-01")
P1_EVENTS = {
    "therapy_start": "2024-01-11",
    "surgery": "2024-04-01",
    "end_of_induction": "2024-05-01",
    "consolidation": "2024-05-21",
    "radiotherapy": "2024-07-01",
    "maintenance": "2024-08-01",
    "end_of_therapy": "2025-01-31",
    "relapse": "2025-06-01",
}


def _therapy(patient: str, events: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [patient] * len(events),
            "event": list(events),
            "event_label": [e.replace("_", " ").title() for e in events],
            "event_date": pd.to_datetime(list(events.values())),
        }
    )


def _patients(rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"patient_id": list(rows), "diagnosis_date": pd.to_datetime(list(rows.values())).astype("datetime64[ns]")}
    )


def _measurements(patient: str, dates: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [patient] * len(dates),
            "sample_date": pd.to_datetime(dates).astype("datetime64[ns]"),
            "analyte": ["VMA"] * len(dates),
            "value": [10.0] * len(dates),
        }
    )


# (sample date, day since diagnosis 2024-01-01, phase). 2024 is a leap year:
# Jan 31 + Feb 29 + Mar 31 = 91 -> Apr 1 is day 91; May 1 = 91 + 30 = 121; May 21 = 141;
# Jul 1 = 121 + 31 (May) + 30 (Jun) = 182; Aug 1 = 213; 2025-01-01 = 366, Jan 31 = 396;
# Jun 1 2025 = 396 + 1 + 28 (Feb) + 31 + 30 + 31 = 517; Jul 1 2025 = 547.
P1_EXPECTED = [
    ("2023-12-20", -12, "pre-treatment"),
    ("2024-01-01", 0, "pre-treatment"),  # diagnosis day
    ("2024-01-10", 9, "pre-treatment"),  # day before therapy start
    ("2024-01-11", 10, "induction"),  # therapy start day
    ("2024-04-01", 91, "induction"),  # surgery is a milestone, not a phase boundary
    ("2024-04-30", 120, "induction"),  # day before end of induction
    ("2024-05-01", 121, ""),  # end of induction: induction over, consolidation not started
    ("2024-05-10", 130, ""),
    ("2024-05-21", 141, "consolidation"),
    ("2024-06-30", 181, "consolidation"),
    ("2024-07-01", 182, "radiotherapy"),
    ("2024-08-01", 213, "maintenance"),
    ("2025-01-31", 396, "maintenance"),  # end-of-therapy day still belongs to maintenance
    ("2025-02-01", 397, "off-therapy"),
    ("2025-05-31", 516, "off-therapy"),
    ("2025-06-01", 517, "relapse"),  # relapse day
    ("2025-07-01", 547, "relapse"),
]


def test_day_and_phase_on_and_between_event_days():
    measurements = _measurements("P1", [d for d, _, _ in P1_EXPECTED])
    out = add_timeline(measurements, therapy=_therapy("P1", P1_EVENTS), patients=_patients({"P1": DX}))
    assert out["day"].tolist() == [day for _, day, _ in P1_EXPECTED]
    assert out["phase"].tolist() == [phase for _, _, phase in P1_EXPECTED]
    assert str(out["day"].dtype) == "Int64"


def test_induction_ends_at_next_phase_without_end_of_induction():
    events = {"therapy_start": "2024-01-11", "radiotherapy": "2024-03-01", "maintenance": "2024-04-01"}
    out = add_timeline(
        _measurements("P1", ["2024-02-29", "2024-03-01", "2024-03-31", "2024-04-01", "2024-12-31"]),
        therapy=_therapy("P1", events),
        patients=_patients({"P1": DX}),
    )
    assert out["phase"].tolist() == ["induction", "radiotherapy", "radiotherapy", "maintenance", "maintenance"]


def test_same_day_boundaries_later_phase_wins():
    events = {"therapy_start": "2024-01-11", "end_of_induction": "2024-05-01", "consolidation": "2024-05-01"}
    out = add_timeline(_measurements("P1", ["2024-05-01"]), therapy=_therapy("P1", events),
                       patients=_patients({"P1": DX}))
    assert out["phase"].tolist() == ["consolidation"]


def test_diagnosis_from_therapy_event_when_patients_table_has_none():
    events = {"diagnosis": "2024-02-01", "therapy_start": "2024-02-05"}
    out = add_timeline(_measurements("P1", ["2024-02-01", "2024-02-11"]), therapy=_therapy("P1", events),
                       patients=_patients({"P1": pd.NaT}))
    assert out["day"].tolist() == [0, 10]
    assert out["phase"].tolist() == ["pre-treatment", "induction"]


def test_patients_table_diagnosis_wins_over_event():
    events = {"diagnosis": "2024-02-01", "therapy_start": "2024-02-05"}
    out = add_timeline(_measurements("P1", ["2024-02-11"]), therapy=_therapy("P1", events),
                       patients=_patients({"P1": "2024-01-30"}))
    assert out["day"].tolist() == [12]  # Jan 30 -> Feb 11 = 1 + 11


def test_day_counts_from_therapy_start_without_diagnosis():
    out = add_timeline(_measurements("P1", ["2024-01-08", "2024-01-20"]),
                       therapy=_therapy("P1", {"therapy_start": "2024-01-10"}), patients=pd.DataFrame())
    assert out["day"].tolist() == [-2, 10]
    assert out["phase"].tolist() == ["pre-treatment", "induction"]


def test_no_dates_gives_na_day_and_empty_phase():
    measurements = pd.concat([_measurements("P1", ["2024-01-08"]), _measurements("P2", ["2024-01-08"])])
    out = add_timeline(measurements, therapy=_therapy("P1", {"therapy_start": "2024-01-01"}),
                       patients=pd.DataFrame())
    assert out["day"].iloc[0] == 7
    assert out["day"].isna().tolist() == [False, True]
    assert out["phase"].tolist() == ["induction", ""]


def test_diagnosis_only_has_day_but_no_phase():
    out = add_timeline(_measurements("P1", ["2024-01-05"]), therapy=pd.DataFrame(),
                       patients=_patients({"P1": DX}))
    assert out["day"].tolist() == [4]
    assert out["phase"].tolist() == [""]


def test_relapse_phase_without_therapy_start():
    out = add_timeline(_measurements("P1", ["2024-01-05", "2024-03-01"]),
                       therapy=_therapy("P1", {"relapse": "2024-03-01"}), patients=pd.DataFrame())
    assert out["phase"].tolist() == ["", "relapse"]
    assert out["day"].isna().all()


def test_input_not_mutated_and_index_kept():
    measurements = _measurements("P1", ["2024-01-05", "2024-02-05"]).set_axis([10, 20])
    before = measurements.copy()
    out = add_timeline(measurements, therapy=_therapy("P1", P1_EVENTS), patients=_patients({"P1": DX}))
    pd.testing.assert_frame_equal(measurements, before)
    assert out.index.tolist() == [10, 20]
    assert list(out.columns) == [*before.columns, "day", "phase"]


def test_missing_measurement_column_raises():
    with pytest.raises(MissingColumnError, match="measurements table lacks column\\(s\\) 'sample_date'"):
        add_timeline(pd.DataFrame({"patient_id": ["P1"]}), therapy=pd.DataFrame(), patients=pd.DataFrame())


def test_missing_therapy_column_raises():
    therapy = pd.DataFrame({"patient_id": ["P1"], "event": ["surgery"]})
    with pytest.raises(MissingColumnError, match="therapy table lacks column\\(s\\) 'event_date'"):
        add_timeline(_measurements("P1", ["2024-01-05"]), therapy=therapy, patients=pd.DataFrame())


def test_event_dates_takes_earliest_of_repeated_events():
    therapy = pd.concat([_therapy("P1", {"surgery": "2024-05-01"}), _therapy("P1", {"surgery": "2024-03-01"})])
    dates = event_dates(therapy, patients=_patients({"P1": DX}))
    assert dates.loc["P1", "surgery"] == pd.Timestamp("2024-03-01")
    assert dates.loc["P1", "anchor"] == DX


# -- patient_timeline -----------------------------------------------------------------------------------


def test_patient_timeline_sorted_with_days_and_diagnosis_row():
    therapy = pd.concat(
        [_therapy("P1", {"surgery": "2024-04-01", "therapy_start": "2024-01-11"}),
         _therapy("P2", {"therapy_start": "2024-01-01"})]
    )
    out = patient_timeline(therapy, _patients({"P1": DX}), patient_id="P1")
    assert out["event"].tolist() == ["diagnosis", "therapy_start", "surgery"]
    assert out["day"].tolist() == [0, 10, 91]
    assert out["event_label"].tolist() == ["diagnosis (patients table)", "Therapy Start", "Surgery"]
    assert list(out.columns) == ["patient_id", "event", "event_label", "event_date", "day"]


def test_patient_timeline_unknown_patient_is_empty():
    out = patient_timeline(_therapy("P1", {"surgery": "2024-04-01"}), pd.DataFrame(), patient_id="P9")
    assert out.empty
    assert list(out.columns) == ["patient_id", "event", "event_label", "event_date", "day"]
