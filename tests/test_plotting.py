"""Per-patient plots: artists are inspected against hand-worked values (see plot_fixtures)."""

from __future__ import annotations

import collections
import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.backends.backend_pdf import RendererPdf
from matplotlib.colors import to_hex, to_rgba
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.text import Text
from plot_fixtures import (
    make_assessment,
    make_data,
    make_patients,
    make_pseudonymized,
    make_therapy,
    pseudonym_of,
    tables_of,
)

import markers._compat as compat_module
import markers.plot.table as table_module
from markers.errors import ConfigError, MissingColumnError
from markers.plot.events import phase_spans, place_phase_labels
from markers.plot.frames import format_age, time_origin
from markers.plot.patient import PatientPage, patient_figure
from markers.plot.style import GRADE_COLORS
from markers.plot.table import _RasterText, add_table
from markers.plot.trend import plot_marker_trend
from markers.plot.uln import uln_steps


@pytest.fixture
def ax1():
    return Figure().subplots()


def by_gid(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert found, f"no artist with gid {gid!r}"
    return found[0]


def line_labelled(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def test_returns_the_axes_passed(ax1):
    assert plot_marker_trend(make_data(), patient="P1", ax=ax1) is ax1


def test_without_ax_draws_on_current_axes():
    plt.figure()
    ax = plot_marker_trend(make_data(), patient="P1")
    assert ax is plt.gca()


def test_one_line_per_analyte_with_the_frame_values(ax1):
    data = make_data()
    plot_marker_trend(data, patient="P1", ax=ax1)
    vma = line_labelled(ax1, "VMA")
    # P1 VMA: 270/27 = 10, 54/27 = 2, 13/13 = 1, 5/13 on days 0, 60, 150, 240
    np.testing.assert_array_equal(vma.get_xdata(), [0, 60, 150, 240])
    np.testing.assert_allclose(vma.get_ydata(), [10.0, 2.0, 1.0, 5 / 13])
    hva = line_labelled(ax1, "HVA")
    # 126/42 = 3, 63/42 = 1.5, 33/22 = 1.5, 11/22 = 0.5
    np.testing.assert_allclose(hva.get_ydata(), [3.0, 1.5, 1.5, 0.5])
    assert ax1.get_yscale() == "log"


def test_analytes_option_limits_the_lines(ax1):
    plot_marker_trend(make_data(), patient="P1", analytes=["HVA"], ax=ax1)
    assert [ln.get_label() for ln in ax1.get_lines() if not ln.get_label().startswith("_")] == ["HVA"]


def test_value_axis_uses_the_unit_values(ax1):
    plot_marker_trend(make_data(), patient="P1", y="value", ax=ax1)
    np.testing.assert_allclose(line_labelled(ax1, "VMA").get_ydata(), [270.0, 54.0, 13.0, 5.0])
    assert ax1.get_yscale() == "log"
    assert "mg/g creatinine" in ax1.get_ylabel()


def test_x_uln_view_has_uln_line_and_grade_bands(ax1):
    plot_marker_trend(make_data(), patient="P1", ax=ax1)
    uln = by_gid(ax1, "uln:1x")
    np.testing.assert_array_equal(uln.get_ydata(), [1, 1])
    mild, moderate = by_gid(ax1, "band:mild"), by_gid(ax1, "band:moderate")
    # mild band from 1× to 2× ULN, moderate from 2× to 3×
    assert (mild.get_y(), mild.get_y() + mild.get_height()) == (1.0, 2.0)
    assert (moderate.get_y(), moderate.get_y() + moderate.get_height()) == (2.0, 3.0)


def test_uln_steps_change_on_the_third_birthday(ax1):
    plot_marker_trend(make_data(), patient="P1", y="value", ax=ax1)
    step = line_labelled(ax1, "VMA ULN")
    assert step.get_drawstyle() == "steps-post"
    # ARUP VMA: 27 mg/g at 0–2 y, 13 mg/g at 3–5 y [S1]. P1 was born 2020-04-06 and diagnosed
    # 2022-12-01; the 3rd birthday 2023-04-06 is day 121 (to 1 April) + 5 = 126, between the
    # samples of day 60 and day 150.
    np.testing.assert_array_equal(step.get_xdata(), [0, 60, 126, 150, 240])
    np.testing.assert_array_equal(step.get_ydata(), [27, 27, 13, 13, 13])
    hva = line_labelled(ax1, "HVA ULN")  # ARUP HVA 42 -> 22 mg/g at the same birthday
    np.testing.assert_array_equal(hva.get_ydata(), [42, 42, 22, 22, 22])


def test_uln_steps_on_dates_place_the_birthday_date():
    rows = make_data().query("patient_id == 'P1' and analyte == 'VMA'")
    xs, ys = uln_steps(rows, x="date")
    assert pd.Timestamp(xs[2]) == pd.Timestamp("2023-04-06")
    assert ys.tolist() == [27, 27, 13, 13, 13]


def test_uln_step_at_later_sample_when_several_birthdays_pass():
    # Born 2019-01-01; samples at 2020-01-02 and 2022-06-01 cross the 2nd and 3rd birthdays: the
    # band edge cannot be placed, so the new limit starts at the later sample.
    rows = pd.DataFrame({"sample_date": pd.to_datetime(["2020-01-02", "2022-06-01"]), "day": [0, 881],
                         "uln": [27.0, 13.0], "age_days": pd.array([366, 1247], dtype="Int64")})
    xs, ys = uln_steps(rows)
    assert xs.tolist() == [0.0, 881.0]
    assert ys.tolist() == [27.0, 13.0]


def test_censored_results_are_open_triangles(ax1):
    plot_marker_trend(make_data(), patient="P1", ax=ax1)
    below = by_gid(ax1, "points:VMA:normal:<")
    assert below.get_marker() == "v"
    assert below.get_markerfacecolor() == "none"
    np.testing.assert_array_equal(below.get_xdata(), [240])
    np.testing.assert_allclose(below.get_ydata(), [5 / 13])


def test_result_above_the_range_points_up(ax1):
    data = make_data()
    data.loc[(data["patient_id"] == "P2") & (data["day"] == 0) & (data["analyte"] == "VMA"), "censor"] = ">"
    plot_marker_trend(data, patient="P2", ax=ax1)
    above = by_gid(ax1, "points:VMA:marked:>")  # 81/27 = 3.0× ULN: marked
    assert above.get_marker() == "^"
    assert above.get_markerfacecolor() == "none"
    np.testing.assert_array_equal(above.get_xdata(), [0])


def test_points_are_coloured_by_grade(ax1):
    plot_marker_trend(make_data(), patient="P1", ax=ax1)
    # Okabe–Ito: marked vermillion, moderate orange, mild yellow, normal bluish green
    assert to_hex(by_gid(ax1, "points:VMA:marked:").get_markerfacecolor()) == "#d55e00"
    assert to_hex(by_gid(ax1, "points:VMA:moderate:").get_markerfacecolor()) == "#e69f00"
    assert to_hex(by_gid(ax1, "points:HVA:mild:").get_markerfacecolor()) == "#f0e442"
    assert to_hex(by_gid(ax1, "points:VMA:normal:").get_markerfacecolor()) == "#009e73"
    np.testing.assert_array_equal(by_gid(ax1, "points:HVA:mild:").get_xdata(), [60, 150])  # 1.5× twice


def test_phase_spans_start_and_end_on_event_days(ax1):
    plot_marker_trend(make_data(), patient="P1", therapy=make_therapy(), ax=ax1)
    # Days since 2022-12-01: therapy start 12-05 = 4; end of induction 2023-03-20 = 90 + 19 = 109;
    # consolidation 04-10 = 121 + 9 = 130; maintenance 06-01 = 182; it runs to the last sample, day 240.
    expected = {"induction": (4, 109), "consolidation": (130, 182), "maintenance": (182, 240)}
    for phase, (start, stop) in expected.items():
        span = by_gid(ax1, f"phase:{phase}")
        assert (span.get_x(), span.get_x() + span.get_width()) == (start, stop)
    assert "induction" in [t.get_text().strip() for t in ax1.texts]


def test_phase_spans_on_a_date_axis(ax1):
    plot_marker_trend(make_data(), patient="P1", therapy=make_therapy(), x="date", ax=ax1)
    span = by_gid(ax1, "phase:induction")
    assert span.get_x() == pytest.approx(date2num(pd.Timestamp("2022-12-05")))
    assert span.get_x() + span.get_width() == pytest.approx(date2num(pd.Timestamp("2023-03-20")))


def test_surgery_and_remission_are_dashed_lines(ax1):
    plot_marker_trend(make_data(), patient="P1", therapy=make_therapy(), ax=ax1)
    surgery = by_gid(ax1, "event:surgery")  # 2023-03-01 = day 90
    assert surgery.get_linestyle() == "--"
    np.testing.assert_array_equal(surgery.get_xdata(), [90, 90])
    cr = by_gid(ax1, "event:complete_remission")  # 2023-07-01 = 182 + 30 = day 212
    np.testing.assert_array_equal(cr.get_xdata(), [212, 212])
    labels = {t.get_gid(): t.get_text().strip() for t in ax1.texts}
    assert labels["event_label:surgery"] == "surgery"
    assert labels["event_label:complete_remission"] == "CR"


def test_relapse_line(ax1):
    plot_marker_trend(make_data(), patient="P3", therapy=make_therapy(), ax=ax1)
    # P3: diagnosed 2022-03-01, relapse 2022-09-10 = 184 (to 1 Sept) + 9 = day 193
    np.testing.assert_array_equal(by_gid(ax1, "event:relapse").get_xdata(), [193, 193])


def test_baseline_and_nadir_are_annotated(ax1):
    plot_marker_trend(make_data(), patient="P1", assessment=make_assessment(), ax=ax1)
    notes = {a.get_gid(): a for a in ax1.texts if a.get_gid() and ":" in a.get_gid()}
    assert notes["baseline:VMA"].get_text() == "baseline"
    assert notes["baseline:VMA"].xy == (0.0, 10.0)
    assert notes["nadir:VMA"].get_text() == "nadir"
    assert notes["nadir:VMA"].xy == pytest.approx((240.0, 5 / 13))


def test_input_is_not_changed(ax1):
    data = make_data()
    before = data.copy()
    plot_marker_trend(data, patient="P1", therapy=make_therapy(), assessment=make_assessment(), y="value", ax=ax1)
    pd.testing.assert_frame_equal(data, before)


def test_unknown_patient_is_a_clear_error(ax1):
    with pytest.raises(ConfigError, match=r"Patient 'P9' has no measurements.*P1, P2, P3, P4"):
        plot_marker_trend(make_data(), patient="P9", ax=ax1)


def test_bad_choice_and_missing_column(ax1):
    with pytest.raises(ConfigError, match="y='ratio' is not one of 'x_uln', 'value'"):
        plot_marker_trend(make_data(), patient="P1", y="ratio", ax=ax1)
    with pytest.raises(MissingColumnError, match="'x_uln'.*markers.analysis.flags.flag"):
        plot_marker_trend(make_data().drop(columns="x_uln"), patient="P1", ax=ax1)


def test_time_origin_from_the_data():
    assert time_origin(make_data(), patient="P1") == pd.Timestamp("2022-12-01")
    only_dates = make_data().drop(columns="day")
    assert time_origin(only_dates, patient="P1", patients=make_patients()) == pd.Timestamp("2022-12-01")


def test_phase_without_closing_event_needs_an_end():
    t = make_therapy().query("patient_id == 'P3'")
    origin = pd.Timestamp("2022-03-01")
    assert phase_spans(t, origin=origin) == []
    assert phase_spans(t, origin=origin, x_end=200.0) == [("induction", 2.0, 200.0)]


@pytest.mark.parametrize(
    ("days", "dob", "on", "expected"),
    [
        (12, None, None, "12 days"),
        (1, None, None, "1 day"),
        (125, None, None, "4 months"),  # 125 / 30.44 = 4.1
        (None, "2020-01-15", "2023-03-20", "3 y 2 mo"),
        (None, "2020-01-15", "2023-03-14", "3 y 1 mo"),  # one day short of 2 months past
        (None, "2020-01-01", "2021-01-01", "1 y"),
        (None, None, None, ""),
    ],
)
def test_format_age(days, dob, on, expected):
    kwargs = {}
    if dob:
        kwargs = {"date_of_birth": pd.Timestamp(dob), "on": pd.Timestamp(on)}
    assert format_age(days, **kwargs) == expected


def test_patient_page_is_a_pyplot_free_a4_figure():
    fig = patient_figure(make_data(), patient="P1", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    assert plt.get_fignums() == []
    assert tuple(fig.get_size_inches()) == pytest.approx((8.27, 11.69))
    texts = {t.get_gid(): t.get_text() for t in fig.texts if t.get_gid()}
    assert texts["title"] == "Patient P1"
    # born 2020-04-06, diagnosed 2022-12-01: 24 + 8 months − 1 (1st < 6th) = 31 months = 2 y 7 mo
    assert "age at diagnosis 2 y 7 mo" in texts["subtitle"]
    assert texts["summary:0"] == "VMA: VMA elevated at diagnosis (10.0× ULN); normal from day 150."
    assert len(fig.axes) == 2  # × ULN panel, value panel
    assert [t.get_gid() for t in tables_of(fig)] == ["samples"]


@pytest.mark.slow
def test_patient_page_legend_names_what_the_page_shows():
    from matplotlib.legend import Legend

    grades = ["normal", "mild", "moderate", "marked", "indeterminate", "< limit (censored)", "> limit (censored)"]
    page = PatientPage()
    tables = {"therapy": make_therapy(), "patients": make_patients(), "assessment": make_assessment()}
    # P1: induction, consolidation (after the end of induction) and maintenance; P4 only started therapy.
    # P1 comes back after P4: its legend again, not P4's.
    for pid, phases in (("P1", ["induction", "consolidation", "maintenance"]), ("P4", ["induction"]),
                        ("P1", ["induction", "consolidation", "maintenance"])):
        fig = page.draw(make_data(), patient=pid, **tables)
        (legend,) = [a for a in fig.artists if isinstance(a, Legend)]
        assert legend.get_title().get_text() == "analytes / grades"
        assert [t.get_text() for t in legend.get_texts()] == [
            "VMA (circles)", "HVA (squares)", "VMA ULN", "HVA ULN", "1–2× ULN (mild)", "2–3× ULN (moderate)",
            *grades, *phases]


@pytest.mark.slow
def test_patient_page_fonts_are_at_least_8_points():
    fig = patient_figure(make_data(), patient="P1", therapy=make_therapy(), patients=make_patients(),
                         assessment=make_assessment())
    fig.canvas.draw()  # ticks and table cells get their text only when drawn
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    sizes += [t.fontsize for t in tables_of(fig)]
    assert sizes and min(sizes) >= 8


@pytest.mark.slow
def test_patient_page_sample_table_and_letter_size():
    fig = patient_figure(make_data(), patient="P1", page_size="Letter")
    assert tuple(fig.get_size_inches()) == pytest.approx((8.5, 11.0))
    (table,) = tables_of(fig)
    assert table.shape == (5, 5)  # heading + 4 samples; date, day, VMA, HVA, note
    assert table.text(0, 2) == "VMA" and table.text(0, 4) == "note"
    # row 4 = day 240: VMA "<5" (5/13 = 0.38 -> 0.4×), HVA 11 (11/22 = 0.5×); no assessment: no note
    assert [table.text(4, c) for c in range(5)] == ["2023-07-29", "240", "<5 (0.4×)", "11 (0.5×)", ""]
    # Shaded by grade at 35 %: day 0 VMA 270/27 = 10× and HVA 126/42 = 3× marked; day 60 VMA 54/27 = 2×
    # moderate, HVA 63/42 = 1.5× mild; normal results and the date and day columns stay white.
    marked, moderate, mild = (to_rgba(GRADE_COLORS[g], 0.35) for g in ("marked", "moderate", "mild"))
    white = to_rgba("white")
    assert [table.colour(1, c) for c in range(5)] == [white, white, marked, marked, white]
    assert [table.colour(2, c) for c in range(5)] == [white, white, moderate, mild, white]
    assert [table.colour(4, c) for c in range(5)] == [white] * 5


def test_patient_page_rejects_unknown_page_size():
    with pytest.raises(ConfigError, match="page_size='A3'"):
        patient_figure(make_data(), patient="P1", page_size="A3")


# -- label layout --------------------------------------------------------------------------------


def test_phase_labels_use_short_forms_and_a_second_row():
    # 400 pt over 200 days = 2 pt a day; at 8 pt a character is 0.62 × 8 = 4.96 pt, plus a 2.4 pt lead.
    # induction (0–100 = 0–200 pt): "induction" 9 × 4.96 + 2.4 = 47.0 pt fits -> row 0, ends at 47.
    # consolidation (200–240 pt): "consolidation" 66.9 pt no; "consol." 37.1 pt fits -> row 0, ends 237.1.
    # radiotherapy (240–260 pt): "RT" 12.3 pt fits, 240 ≥ 237.1 -> row 0.
    # maintenance (260–270 pt): "maint." 32.2 pt does not fit 10 pt -> row 1 (free), ends at 292.2.
    # off-therapy (270–280 pt): "off" 17.3 pt does not fit; row 1 is taken until 292.2 -> no label.
    spans = [("induction", 0, 100), ("consolidation", 100, 120), ("radiotherapy", 120, 130),
             ("maintenance", 130, 135), ("off-therapy", 135, 140)]
    assert place_phase_labels(spans, extent=200, width_pt=400) == [
        ("induction", "induction", 0), ("consolidation", "consol.", 0), ("radiotherapy", "RT", 0),
        ("maintenance", "maint.", 1)]


def _label_boxes(ax, renderer, gid_prefix):
    return [t.get_window_extent(renderer) for t in ax.texts
            if (t.get_gid() or "").startswith(gid_prefix) and t.get_text().strip()]


@pytest.mark.slow
def test_phase_labels_of_narrow_spans_do_not_overlap():
    # Consolidation, radiotherapy and maintenance 10 days apart: the old labels ran into each other.
    therapy = pd.concat([make_therapy(), pd.DataFrame({
        "patient_id": "P1", "event": ["radiotherapy"], "event_label": "RT",
        "event_date": pd.to_datetime(["2023-04-20"])})], ignore_index=True)
    therapy.loc[(therapy["patient_id"] == "P1") & (therapy["event"] == "maintenance"), "event_date"] = \
        pd.Timestamp("2023-04-30")
    fig = patient_figure(make_data(), patient="P1", therapy=therapy, patients=make_patients(),
                         assessment=make_assessment())
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    for ax in fig.axes[:2]:
        boxes = _label_boxes(ax, canvas.get_renderer(), "phase_label:")
        assert len(boxes) >= 3
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b)


def test_coinciding_baselines_share_one_label(ax1):
    plot_marker_trend(make_data(), patient="P1", assessment=make_assessment(), ax=ax1)
    notes = {a.get_gid(): a for a in ax1.texts if (a.get_gid() or "").startswith("baseline:")}
    # VMA 10× and HVA 3× ULN both on day 0: one word "baseline" (by the higher point) and a bare
    # leader line to the other.
    assert notes["baseline:VMA"].get_text() == "baseline"
    assert notes["baseline:HVA"].get_text() == ""
    assert notes["baseline:HVA"].xy == (0.0, 3.0)
    words = [t.get_text() for t in ax1.texts if t.get_text() == "baseline"]
    assert words == ["baseline"]
    # Nadirs: both on day 240 too (VMA 5/13, HVA 0.5): one word, by the lower point (VMA).
    nadir = {a.get_gid(): a for a in ax1.texts if (a.get_gid() or "").startswith("nadir:")}
    assert nadir["nadir:VMA"].get_text() == "nadir" and nadir["nadir:HVA"].get_text() == ""


# -- pseudonymised data: days instead of dates -----------------------------------------------


def test_pseudonymised_patient_plot_matches_the_dated_one(ax1):
    _ds, data, assessment = make_pseudonymized()
    ds = _ds
    pid = pseudonym_of("P1")
    assert "sample_date" not in data.columns and "event_date" not in ds.therapy.columns
    plot_marker_trend(data, patient=pid, therapy=ds.therapy, patients=ds.patients, assessment=assessment,
                      ax=ax1)
    # Same hand-worked days as test_phase_spans_start_and_end_on_event_days and the milestones.
    expected = {"induction": (4, 109), "consolidation": (130, 182), "maintenance": (182, 240)}
    for phase, (start, stop) in expected.items():
        span = by_gid(ax1, f"phase:{phase}")
        assert (span.get_x(), span.get_x() + span.get_width()) == (start, stop)
    np.testing.assert_array_equal(by_gid(ax1, "event:surgery").get_xdata(), [90, 90])
    np.testing.assert_array_equal(by_gid(ax1, "event:complete_remission").get_xdata(), [212, 212])
    notes = {a.get_gid(): a for a in ax1.texts if a.get_gid()}
    assert notes["baseline:VMA"].xy == (0.0, 10.0)
    assert notes["nadir:VMA"].xy == pytest.approx((240.0, 5 / 13))


def test_pseudonymised_uln_steps_from_ages(ax1):
    _ds, data, _a = make_pseudonymized()
    plot_marker_trend(data, patient=pseudonym_of("P1"), y="value", ax=ax1)
    # No date of birth: the 3rd birthday is taken at age round(3 × 365.25) = 1096 days. Day 150 is
    # 2023-04-30; P1 (born 2020-04-06) is then 3 × 365 = 1095 days (no 29 February in between) + 24
    # = 1119 days old, so the step is at 150 − (1119 − 1096) = day 127: one day after the calendar
    # birthday (day 126, see test_uln_steps_change_on_the_third_birthday), as documented.
    step = line_labelled(ax1, "VMA ULN")
    np.testing.assert_array_equal(step.get_xdata(), [0, 60, 127, 150, 240])


@pytest.mark.slow
def test_pseudonymised_patient_page_has_no_date():
    ds, data, assessment = make_pseudonymized()
    pid = pseudonym_of("P1")
    fig = patient_figure(data, patient=pid, therapy=ds.therapy, patients=ds.patients, assessment=assessment)
    texts = {t.get_gid(): t.get_text() for t in fig.texts if t.get_gid()}
    assert texts["title"] == f"Patient {pid}"
    # age at diagnosis from age_at_diagnosis_days = 969: 969 / 30.44 = 31.8 -> 31 months = 2 y 7 mo
    assert texts["subtitle"] == ("sex F · age at diagnosis 2 y 7 mo · day 0 = diagnosis · 4 samples · "
                                 "values in mg/g creatinine")
    (table,) = tables_of(fig)
    assert [table.text(0, c) for c in range(3)] == ["day", "VMA", "HVA"]
    assert [table.text(4, c) for c in range(3)] == ["240", "<5 (0.4×)", "11 (0.5×)"]


def test_pseudonymised_data_cannot_be_drawn_on_dates(ax1):
    _ds, data, _a = make_pseudonymized()
    with pytest.raises(MissingColumnError, match="pseudonymised.*x='day'"):
        plot_marker_trend(data, patient=pseudonym_of("P1"), x="date", ax=ax1)


@pytest.mark.parametrize(
    ("limits", "labelled"),
    [((0.2, 6.0), {"0.2", "0.5", "2", "5"}),  # one power of ten in view: 2 and 5 x 10^k labelled too
     ((0.5, 4.0), {"0.5", "2", "3"}),  # less than 15-fold: 2, 3 and 5 x 10^k (1 is a major tick)
     ((0.01, 100.0), set())],  # several powers of ten: majors only
)
def test_log_axis_labels_enough_ticks(limits, labelled):
    from markers.plot.axes import plain_log_axis

    fig = Figure()
    ax = fig.add_subplot()
    ax.set_yscale("log")
    ax.set_ylim(*limits)
    plain_log_axis(ax)
    fig.canvas.draw()
    low, high = ax.get_ylim()
    minor = {t.get_text() for t in ax.get_yticklabels(minor=True)
             if t.get_text() and low <= t.get_position()[1] <= high}
    assert minor == labelled


# -- tables ----------------------------------------------------------------------------------------


def _drawn_text(fig, renderer=RendererPdf, fmt="pdf", dpi=72):
    """(text, x, y, weight) of every string ``renderer`` is asked to draw as text."""
    calls = []
    original = renderer.draw_text

    def spy(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        calls.append((s, round(x, 4), round(y, 4), prop.get_weight()))
        return original(self, gc, x, y, s, prop, angle, ismath, mtext)

    renderer.draw_text = spy
    try:
        fig.savefig(io.BytesIO(), format=fmt, dpi=dpi)
    finally:
        renderer.draw_text = original
    return calls


TABLE = ((0.1, 0.2, 0.8, 0.3), ["patient", "baseline\n×ULN"], [["P1", "<5 (0.4×)"], ["", "$x$"]])


# exact to the pixel against the text layout of the matplotlib in use: 3.10.0 places the row half a
# pixel lower than 3.11, so the minimum-versions job skips it
@pytest.mark.golden
def test_table_cells_sit_where_centred_texts_would():
    rect, header, cells = TABLE
    fig = Figure(figsize=(4, 3))
    table = add_table(fig, rect, header, cells, bold_header=True)
    # The same cells as Text artists centred in each cell (heading row bold), as matplotlib's Table places them.
    ref = Figure(figsize=(4, 3))
    rows = [header, *cells]
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            ref.text(rect[0] + rect[2] * (j + 0.5) / 2, rect[1] + rect[3] * (1 - (i + 0.5) / 3), text, ha="center",
                     va="center", fontsize=8, fontweight="bold" if i == 0 else "normal", parse_math=False)
    assert _drawn_text(fig) == _drawn_text(ref)
    assert table.shape == (3, 2) and table.text(2, 1) == "$x$"  # never parsed as math


def _ink(fig, dpi):
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi)
    from PIL import Image

    return 255 - np.asarray(Image.open(png).convert("L")).astype(float)


@pytest.mark.parametrize("dpi", [80, 150])
def test_png_table_text_lands_where_the_renderers_text_would(monkeypatch, dpi):
    # On Agg each cell's text is rendered by FreeType in one call; drawn through the renderer's own
    # draw_text instead (what a missing glyph falls back to), each cell's ink sits within a pixel
    # of the same place and has the same weight.
    rect, header, cells = TABLE
    fig = Figure(figsize=(4, 3))
    add_table(fig, rect, header, [["P1", "<5 (0.4×)"], ["2023-07-29", "126 (3.0×)"]], bold_header=True)
    ours = _ink(fig, dpi)
    monkeypatch.setattr(_RasterText, "draw", lambda *args: False)
    theirs = _ink(fig, dpi)
    height, width = ours.shape
    for i in range(3):
        for j in range(2):
            top, bottom = height * (1 - rect[1] - rect[3] * (3 - i) / 3), height * (1 - rect[1] - rect[3] * (2 - i) / 3)
            left, right = width * (rect[0] + rect[2] * j / 2), width * (rect[0] + rect[2] * (j + 1) / 2)
            box = (slice(int(top) + 2, int(bottom) - 2), slice(int(left) + 2, int(right) - 2))
            a, b = ours[box], theirs[box]
            assert a.sum() == pytest.approx(b.sum(), rel=0.03)
            rows, cols = np.mgrid[box]
            assert abs((rows * a).sum() / a.sum() - (rows * b).sum() / b.sum()) < 1.0
            assert abs((cols * a).sum() / a.sum() - (cols * b).sum() / b.sum()) < 1.0


def test_png_table_text_goes_to_the_renderer_if_freetypes_interface_changes(monkeypatch):
    # Should a matplotlib release change FT2Font's calls, every cell is drawn by the renderer's
    # own draw_text instead of failing the page.
    def changed():
        raise TypeError("set_text() got an unexpected keyword argument 'flags'")

    monkeypatch.setattr(compat_module, "_agg_hinting_flag", changed)
    monkeypatch.setattr(table_module, "_BITMAPS", collections.OrderedDict())  # nothing rendered before
    fig = Figure(figsize=(4, 3))
    add_table(fig, (0.1, 0.2, 0.8, 0.3), ["patient"], [["P1"], ["P2"]])
    assert [call[0] for call in _drawn_text(fig, RendererAgg, "png", 40)] == ["patient", "P1", "P2"]


def test_png_table_text_rendered_again_from_its_first_image(monkeypatch):
    # A string the table has rendered before (same font, size and resolution) is not rendered again,
    # and lands on the same pixels; in another colour it is rendered anew.
    monkeypatch.setattr(table_module, "_BITMAPS", collections.OrderedDict())
    fig = Figure(figsize=(4, 3))
    add_table(fig, (0.1, 0.2, 0.8, 0.3), ["patient"], [["P1"], ["P1"]])
    first = _ink(fig, 80)
    assert sorted(key[1] for key in table_module._BITMAPS) == ["P1", "patient"]
    calls = []
    monkeypatch.setattr(compat_module, "freetype_bitmap", lambda *args, **kwargs: calls.append(args) or None)
    assert np.array_equal(_ink(fig, 80), first)
    assert calls == []


def test_png_table_text_with_a_glyph_the_font_lacks_goes_to_the_renderer():
    fig = Figure(figsize=(4, 3))
    add_table(fig, (0.1, 0.2, 0.8, 0.3), ["patient"], [["患者 P1"], ["P2"]])
    with pytest.warns(UserWarning, match="missing from font"):
        drawn = [call[0] for call in _drawn_text(fig, RendererAgg, "png", 40)]
    assert drawn == ["患者 P1"]  # "patient" and "P2" were rendered by FreeType directly


# -- one page redrawn for each patient ----------------------------------------------------------------


def _page_bytes(fig):
    png, pdf = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=30, metadata={"Software": None})
    fig.savefig(pdf, format="pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    return png.getvalue(), pdf.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("x", ["day", "date"])
def test_a_redrawn_page_equals_a_new_one(x):
    page = PatientPage(x=x)
    tables = {"therapy": make_therapy(), "patients": make_patients(), "assessment": make_assessment()}
    # Every patient after every other one (P1 has the most artists, P4 the fewest), byte for byte.
    for pid in ["P1", "P4", "P2", "P1", "P3", "P4"]:
        new = patient_figure(make_data(), patient=pid, x=x, **tables)
        assert _page_bytes(page.draw(make_data(), patient=pid, **tables)) == _page_bytes(new), pid


@pytest.mark.slow
def test_a_redrawn_pseudonymised_page_equals_a_new_one():
    ds, data, assessment = make_pseudonymized()
    page = PatientPage()
    tables = {"therapy": ds.therapy, "patients": ds.patients, "assessment": assessment}
    for original in ["P1", "P3", "P1"]:
        pid = pseudonym_of(original)
        new = patient_figure(data, patient=pid, **tables)
        assert _page_bytes(page.draw(data, patient=pid, **tables)) == _page_bytes(new), original
