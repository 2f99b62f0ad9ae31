"""The sample data's HTML report in a real headless Chromium: no console error, no request beyond
the file itself, and the search and filters hide exactly the rows that do not match.

Chromium is driven over the DevTools protocol through a pipe (``tests/browser.py``): the
standard library is enough, and there is no chromedriver to keep in step with the browser.
``.ci/install-system-deps`` installs Debian's chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import Browser, chromium_path
from click.testing import CliRunner

from markers.cli import cli

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]
ALL = ["0042", "NB-001", "NB-002", "NB-003", "NB-004", "NB-005", "NB-006", "NB-007", "NB-008", "NB-009",
       "NB-010", "NB-011", "NB-012", "NB-013"]

VISIBLE = """Array.from(document.querySelectorAll('#cohort-table tbody tr'))
  .filter(r => r.getClientRects().length > 0).map(r => r.dataset.patient)"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if chromium_path() is None:
        pytest.fail("chromium is missing: run .ci/install-system-deps", pytrace=False)
    out = tmp_path_factory.mktemp("browser") / "report.html"
    CliRunner().invoke(cli, ["report", *FILES, "-o", str(out), "--quiet"], catch_exceptions=False)
    with Browser(width=1280, height=900) as chromium:
        chromium.open(out)
        chromium.report = out
        yield chromium


@pytest.mark.slow
def test_opens_without_console_error_or_request(browser):
    assert browser.evaluate("document.title") == "markers report"
    assert browser.console_errors() == []
    # the page itself, then its inline images: nothing from the network
    urls = browser.requested_urls()
    assert urls[0] == browser.report.resolve().as_uri()
    assert all(u.startswith("data:image/png;base64,") for u in urls[1:])
    assert browser.evaluate("document.getElementById('shown-count').textContent") == "14 of 14 patients shown"
    # the script ran under the page's own Content-Security-Policy (no CSP error above); the images:
    # three cohort pages (spaghetti, time to normalization, one swimmer page) and one per patient
    assert browser.evaluate("document.images.length") == 3 + 14
    browser.evaluate("document.getElementById('patient-NB-009').scrollIntoView()")
    width = browser.evaluate("document.querySelector('#patient-NB-009 img').decode()"
                             ".then(() => document.querySelector('#patient-NB-009 img').naturalWidth)")
    assert width == 720  # a 9-inch figure at 80 dpi, decoded
    assert browser.console_errors() == []


def test_search_status_and_marker_filters_hide_other_rows(browser, tmp_path):
    assert browser.evaluate(VISIBLE) == ALL
    browser.type_text("#patient-search", "nb-00")
    assert browser.evaluate(VISIBLE) == ALL[1:10]
    browser.type_text("#patient-search", "9")  # "nb-009"
    assert browser.evaluate(VISIBLE) == ["NB-009"]
    assert browser.evaluate("document.getElementById('shown-count').textContent") == "1 of 14 patients shown"
    browser.screenshot(tmp_path / "search.png")
    browser.evaluate("document.getElementById('patient-search').value = ''")
    browser.type_text("#patient-search", "")
    browser.evaluate("""(() => { const s = document.getElementById('status-filter');
        s.value = 'persistent'; s.dispatchEvent(new Event('change')); })()""")
    assert browser.evaluate(VISIBLE) == ["NB-005"]
    browser.evaluate("""(() => { const s = document.getElementById('status-filter');
        s.value = ''; s.dispatchEvent(new Event('change'));
        const m = document.getElementById('marker-filter'); m.value = 'HVA'; m.dispatchEvent(new Event('change')); })()""")
    assert browser.evaluate(VISIBLE) == ALL  # every patient has HVA
    assert browser.console_errors() == []


def test_sorting_by_a_column(browser):
    browser.evaluate("document.querySelectorAll('#cohort-table thead button.sort')[4].click()")  # Samples
    order = browser.evaluate("Array.from(document.querySelectorAll('#cohort-table tbody tr')).map(r => r.dataset.patient)")
    # README: NB-006 has 6 samples, NB-012 9, NB-007 10; ties keep the natural order
    assert order[:3] == ["NB-006", "NB-012", "NB-007"]
    assert order[-1] == "NB-009"  # 14 samples, the most
    browser.evaluate("document.querySelectorAll('#cohort-table thead button.sort')[4].click()")
    assert browser.evaluate("document.querySelectorAll('#cohort-table thead th')[4].getAttribute('aria-sort')") \
        == "descending"
    assert browser.evaluate(
        "document.querySelector('#cohort-table tbody tr').dataset.patient") == "NB-009"


def test_patient_link_jumps_to_its_section(browser):
    browser.evaluate("document.querySelector('#cohort-table a[href=\"#patient-NB-005\"]').click()")
    assert browser.evaluate("location.hash") == "#patient-NB-005"
    top = browser.evaluate("document.getElementById('patient-NB-005').getBoundingClientRect().top")
    assert 0 <= top < 120  # scrolled to, just below the sticky navigation bar
