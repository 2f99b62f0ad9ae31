"""A patient with no diagnosis date and no treatment event is plotted against days since the first sample.

The workbook (built here with openpyxl) has samples on 2024-01-10, 2024-02-09 and 2024-04-09 and a date
of birth, nothing else: day 0 is the first sample, so the samples fall on days 0, 30 (21 days left in
January + 9) and 90 (30 + 20 in February 2024, a leap year, + 31 in March + 9).
"""

import datetime as dt

import numpy as np
import openpyxl
import pytest
from matplotlib.figure import Figure

from markers.pipeline import analyse
from markers.plot.days import FIRST_SAMPLE_AXIS_LABEL
from markers.plot.patient import patient_figure, plot_marker_trend
from markers.report.html import patient_trend_figure

SAMPLES = [(dt.date(2024, 1, 10), 60.0, 80.0), (dt.date(2024, 2, 9), 20.0, 30.0), (dt.date(2024, 4, 9), 8.0, 10.0)]


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    path = tmp_path_factory.mktemp("noanchor") / "no_anchor.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Measurements"
    ws.append(["Patient ID", "Sample date", "VMA (mg/g creat)", "HVA (mg/g creat)"])
    for date, vma, hva in SAMPLES:
        ws.append(["P1", date, vma, hva])
    info = wb.create_sheet("Patients")
    info.append(["Patient ID", "Date of birth"])
    info.append(["P1", dt.date(2020, 6, 1)])
    wb.save(path)
    with pytest.warns(UserWarning, match="neither a diagnosis date nor a treatment event"):
        return analyse([path])


def _line(ax, analyte):
    return next(line for line in ax.get_lines() if line.get_gid() == f"trend:{analyte}")


def test_page_lines_hold_every_sample(analysis):
    fig = patient_figure(analysis.measurements, patient="P1", patients=analysis.dataset.patients,
                         assessment=analysis.assessment)
    ax1, ax2 = fig.axes[:2]
    for ax, values in ((ax2, {"VMA": [60.0, 20.0, 8.0], "HVA": [80.0, 30.0, 10.0]}),):
        for analyte, expected in values.items():
            line = _line(ax, analyte)
            assert list(np.asarray(line.get_xdata(), dtype=float)) == [0.0, 30.0, 90.0]
            assert list(np.asarray(line.get_ydata(), dtype=float)) == expected
    assert list(np.asarray(_line(ax1, "VMA").get_xdata(), dtype=float)) == [0.0, 30.0, 90.0]
    assert ax1.get_xlabel() == ax2.get_xlabel() == FIRST_SAMPLE_AXIS_LABEL
    subtitle = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert "day 0 = first sample 2024-01-10 (assumed)" in subtitle


def test_axes_level_plot_and_html_figure_too(analysis):
    ax = Figure().add_subplot()
    plot_marker_trend(analysis.measurements, patient="P1", y="value", ax=ax)
    assert list(np.asarray(_line(ax, "HVA").get_xdata(), dtype=float)) == [0.0, 30.0, 90.0]
    assert ax.get_xlabel() == FIRST_SAMPLE_AXIS_LABEL
    fig = patient_trend_figure(analysis.measurements, patient="P1")
    assert fig.axes[1].get_xlabel() == FIRST_SAMPLE_AXIS_LABEL
    assert len(_line(fig.axes[0], "VMA").get_xdata()) == 3


def test_a_pseudonymized_page_is_drawn_from_the_first_sample_too(analysis):
    # once an empty page: the pseudonymized rows have no dates to count from, only sample_day (since the
    # first sample, the patient's anchor here) and no timeline day
    from markers.pipeline import pseudonymize_analysis

    private = pseudonymize_analysis(analysis, key=b"k" * 32)
    pid = private.measurements["patient_id"].iloc[0]
    fig = patient_figure(private.measurements, patient=pid, patients=private.dataset.patients,
                         assessment=private.assessment)
    ax1 = fig.axes[0]
    assert list(np.asarray(_line(ax1, "VMA").get_xdata(), dtype=float)) == [0.0, 30.0, 90.0]
    assert ax1.get_xlabel() == FIRST_SAMPLE_AXIS_LABEL
    subtitle = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert "day 0 = first sample (assumed)" in subtitle and "2024" not in subtitle


def test_a_date_free_patient_without_days_is_drawn_from_its_ages(tmp_path):
    from markers.pipeline import day_form

    path = tmp_path / "commons.csv"  # ages at sample 2000 and 2090 days, no day since diagnosis
    path.write_text("subject_id,age_at_collection_days,lab_test,result,unit\n"
                    "C2,2000,HVA,<5,mg/g creat\nC2,2090,HVA,30,mg/g creat\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="2 without a day since diagnosis are not assessed"):
        drawn = day_form(analyse(path, today=dt.date(2026, 1, 1)))
    fig = patient_figure(drawn.measurements, patient="C2", patients=drawn.dataset.patients)
    assert list(np.asarray(_line(fig.axes[0], "HVA").get_xdata(), dtype=float)) == [0.0, 90.0]
    subtitle = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    # 2000 days = 65 completed months of 30.44 days: 5 y 5 mo
    assert "day 0 = first sample, at age 5 y 5 mo (assumed)" in subtitle and "2 samples" in subtitle


def test_one_sample_is_drawn_on_whole_days_with_its_limit_in_view(tmp_path):
    from markers.pipeline import day_form

    path = tmp_path / "one.csv"  # one HVA at 2000 days of age: the 3-5 y band, ULN 22 mg/g (ARUP 3018863)
    path.write_text("subject_id,age_at_collection_days,lab_test,result,unit\nC2,2000,HVA,<5,mg/g creat\n",
                    encoding="utf-8")
    with pytest.warns(UserWarning):
        drawn = day_form(analyse(path, today=dt.date(2026, 1, 1)))
    fig = patient_figure(drawn.measurements, patient="C2")
    values = fig.axes[1]
    assert values.get_xlim() == (-10.0, 10.0)  # not -0.04 to 0.04
    assert all(float(t) == int(t) for t in values.get_xticks())
    uln = next(line for line in values.get_lines() if line.get_gid() == "uln:HVA")
    assert list(uln.get_ydata()) == [22.0] and uln.get_marker() == "_"
    low, high = values.get_ylim()
    assert low < 5.0 and high > 22.0
