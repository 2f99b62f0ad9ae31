"""The report shows the patient-level panel status: its own page in the PDF, a line on each patient page,
columns and filters in the HTML cohort table.

Expected values are the designed courses of ``sample_data/README.md`` (courses_workbook.xlsx), worked out
by hand: NB-016 has no informative marker it could be judged on (a normal late baseline), so it has no row;
NB-017 has no complete remission yet (unknown); NB-019's complete-remission sample is elevated only by a
limit step (positive, persistence unknown); NB-018's single VMA rise is sampled on 2023-04-23, day 524 since
its diagnosis on 2021-11-15 (365 days to 2022-11-15, 151 to 2023-04-15, 8 more).
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest

from markers.pipeline import analyse, pseudonymize_analysis
from markers.plot.table import GridTable
from markers.privacy.pseudonym import pseudonym
from markers.report.document import build_report
from markers.report.html import html_parts

COURSES = Path(__file__).parent.parent / "sample_data" / "courses_workbook.xlsx"
KEY = bytes(range(32))

# patient: (informative markers, end of induction, complete remission, persistent, re-elevation, rise day)
EXPECTED = {
    "NB-014": ("VMA, HVA", None, "negative", "no", "no", "—"),
    "NB-015": ("VMA, HVA", "negative", "negative", "no", "no", "—"),
    "NB-017": ("VMA, HVA", "negative", "unknown", "unknown", "no", "—"),
    "NB-018": ("VMA, HVA", None, "negative", "no", "no", "524"),
    "NB-019": ("VMA, HVA", None, "positive", "unknown", "no", "—"),
}


@pytest.fixture(scope="module")
def analysis():
    return analyse([COURSES])


def _pages(analysis, *, status):
    """(panel table rows by patient, footnote, first summary line of each patient page)."""
    table, footnote, lines = {}, "", {}
    for fig in build_report(analysis.dataset, data=analysis.measurements, assessment=analysis.assessment,
                            patient_status=status):
        gids = {t.get_gid(): t.get_text() for t in fig.texts}
        if "panel:title" in gids:
            grid = next(a for a in fig.artists if isinstance(a, GridTable))
            n_rows, n_cols = grid.shape
            table.update({grid.text(r, 0): [grid.text(r, c) for c in range(1, n_cols)] for r in range(1, n_rows)})
            footnote = gids["panel:footnote"]
        if "title" in gids and gids["title"].startswith("Patient "):
            words = " ".join(t.get_text() for t in fig.texts if (t.get_gid() or "").startswith(("panel:", "summary:")))
            lines[gids["title"].removeprefix("Patient ")] = " ".join(words.split())  # wrapped lines joined
    return table, footnote, lines


def _check_row(cells, expected):
    for got, want in zip(cells, expected, strict=True):
        if want is not None:
            assert got == want


@pytest.mark.slow  # renders every page of the report (1-5 s)
def test_pdf_has_the_patient_level_table_and_lines(analysis):
    table, footnote, lines = _pages(analysis, status=analysis.patient_status)
    assert sorted(table) == sorted(EXPECTED)  # NB-016: no informative marker, no row
    for patient, expected in EXPECTED.items():
        _check_row(table[patient], expected)
    assert "Matser et al. 2025" in footnote and "docs/clinical-rules.md" in footnote
    assert "any informative marker elevated" in footnote
    assert "unconfirmed rise on day 524, repeat advised" in lines["NB-018"]
    assert "complete remission positive · persistent unknown" in lines["NB-019"]
    assert "Patient-level status: informativeness unknown" in lines["NB-016"]


@pytest.mark.slow  # renders every page of the report (1-5 s)
def test_pdf_status_defaults_to_the_assessment(analysis):
    table, _, _ = _pages(analysis, status=None)
    assert table["NB-018"][-1] == "524"


@pytest.mark.slow  # renders every page of the report (1-5 s)
def test_pseudonymized_pdf_keeps_the_rise_day(analysis):
    shared = pseudonymize_analysis(analysis, key=KEY)
    table, _, lines = _pages(shared, status=shared.patient_status)
    p18 = pseudonym("NB-018", key=KEY)
    assert table[p18][-1] == "524"
    assert "unconfirmed rise on day 524" in lines[p18]


class _Rows(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.header, self._row, self._cell, self.selects = {}, [], None, None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self._row = {"attrs": a, "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "select":
            self.selects[a["id"]] = a

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if "data-patient" in self._row["attrs"]:
                self.rows[self._row["attrs"]["data-patient"]] = self._row
            elif not self.header and "Patient" in self._row["cells"]:
                self.header = self._row["cells"]
            self._row = None


@pytest.mark.slow  # renders every page of the report (1-5 s)
def test_html_cohort_table_has_the_panel_columns_and_filters(analysis):
    text = "".join(html_parts(analysis.dataset, data=analysis.measurements, assessment=analysis.assessment,
                              patient_status=analysis.patient_status))
    page = _Rows()
    page.feed(text)
    assert page.header[-5:] == ["End of induction", "Complete remission", "Persistent", "Re-elevation",
                                "Unconfirmed rise (day)"]
    for patient, expected in EXPECTED.items():
        _check_row(page.rows[patient]["cells"][-5:], expected[1:])
    assert page.rows["NB-019"]["attrs"]["data-cr"] == "positive"
    assert page.rows["NB-017"]["attrs"]["data-cr"] == "unknown"
    assert page.rows["NB-016"]["attrs"]["data-cr"] == "unknown"
    assert page.selects["data-cr-filter"]["data-attribute"] == "data-cr"
    assert page.selects["data-eoi-filter"]["data-attribute"] == "data-eoi"
    assert "Matser et al. 2025" in text
    assert "unconfirmed rise on day 524, repeat advised" in text
