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
