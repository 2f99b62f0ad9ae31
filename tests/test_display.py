"""Short text and HTML summaries of a Dataset and an Analysis, and ``Analysis.plot_patient``.

Expected counts are those of ``sample_data/README.md`` (the validate output and the patients'
stories), worked out by hand: 330 rows read = 316 kept + 2 rejected + 12 skipped over both files;
3 errors and 4 warnings; VMA informative in 12 patients (not NB-006 nor NB-011), HVA in 13.
"""

from __future__ import annotations

import html.parser

import matplotlib.pyplot as plt
import pytest

ISSUES = ("issues: 3 errors, 4 warnings: missing-patient-id 1, non-numeric-result 1, sample-before-birth 1, "
          "dilute-urine 2, duplicate-result 2")


@pytest.fixture(scope="module")
def analysis(sample_analysis):
    return sample_analysis


@pytest.mark.slow
def test_dataset_text_repr(analysis):
    lines = repr(analysis.dataset).splitlines()
    assert lines[:5] == [
        "<Dataset: 14 patients>",
        "measurements: 309 in mg/g creatinine",
        "rows read: 330 = 316 kept + 2 rejected + 12 skipped",
        f"therapy events: {len(analysis.dataset.therapy)}",
        ISSUES,
    ]
    # then the rows per file, and nothing like a dump of the measurements
    assert lines[6].split() == ["file", "read", "kept", "rejected", "skipped"]
    assert lines[7].split() == ["study_workbook.xlsx", "305", "296", "2", "7"]
    assert lines[8].split() == ["lab_export_eu.csv", "25", "20", "0", "5"]
    assert len(lines) == 9


def test_analysis_text_repr(analysis):
    lines = repr(analysis).splitlines()
    assert lines[0] == "<Analysis: 14 patients>"
    assert lines[1] == "reference set: ARUP-3018863+extended-UIowa-ARUP"
    assert lines[2:4] == ["measurements: 309 in mg/g creatinine", "rows read: 330 = 316 kept + 2 rejected + 12 skipped"]
    # NB-009 re-elevated, NB-005 persistent, NB-006 not informative, the 11 others normalized
    assert lines[5] == "patient status: re-elevated 1, persistent 1, normalized 11, not informative 1"
    assert lines[6] == ISSUES
    table = [line.split() for line in lines[8:]]
    assert table == [["analyte", "patients", "informative", "normalized", "persistent", "re-elevated"],
                     ["VMA", "14", "12", "11", "1", "1"],
                     ["HVA", "14", "13", "13", "0", "1"]]


class Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.cells, self.items = [], [], []
        self._into = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._into = tag if tag in ("td", "th", "li") else None

    def handle_data(self, data):
        if self._into in ("td", "th"):
            self.cells.append(data)
        elif self._into == "li":
            self.items.append(data)


def test_html_reprs_are_small_link_free_tables(analysis):
    for obj in (analysis.dataset, analysis):
        parser = Collect()
        parser.feed(obj._repr_html_())
        assert "a" not in parser.tags and "script" not in parser.tags and "img" not in parser.tags
        assert len(parser.tags) < 80  # a summary, not the 309 measurements
    parser = Collect()
    parser.feed(analysis._repr_html_())
    assert "patient status: re-elevated 1, persistent 1, normalized 11, not informative 1" in parser.items
    assert parser.cells[6:12] == ["VMA", "14", "12", "11", "1", "1"]


def test_html_summary_escapes_text():
    from markers.ingest.display import html_summary

    out = html_summary("<script>", [("file", "<b>.csv")])
    assert out == "<div><strong>&lt;script&gt;</strong><ul><li>file: &lt;b&gt;.csv</li></ul></div>"


def test_plot_patient_draws_on_the_axes_given_or_the_current_one(analysis):
    fig, ax = plt.subplots()
    assert analysis.plot_patient("NB-009", ax=ax) is ax
    trends = sorted(line.get_gid() for line in ax.get_lines() if (line.get_gid() or "").startswith("trend:"))
    assert trends == ["trend:HVA", "trend:VMA"]
    vma = next(line for line in ax.get_lines() if line.get_gid() == "trend:VMA")
    assert len(vma.get_xdata()) == 14  # README: NB-009 has 12 + 2 samples
    plt.figure()
    current = plt.gca()
    assert analysis.plot_patient("NB-009", y="value") is current
