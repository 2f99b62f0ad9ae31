"""The report's own pages: cover, cohort summary table, and the page counts the writer needs."""

from __future__ import annotations

import math
import os
import re
import textwrap
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from markers import __version__
from markers.ingest.dataset import Dataset
from markers.plot.cohort import cohort_analytes
from markers.plot.days import DAYS_ONLY
from markers.plot.frames import sample_key
from markers.plot.style import GRADE_COLORS, MIN_FONT, PAGE_SIZES
from markers.plot.table import add_table
from markers.schema import (
    ANALYTE,
    ANALYTES,
    PATIENT_ID,
    SAMPLE_DATE,
)

#: Summary-table columns: (assessment column, header, relative width).
SUMMARY_COLUMNS: tuple[tuple[str, str, float], ...] = (
    (PATIENT_ID, "patient", 1.2),
    (ANALYTE, "analyte", 0.9),
    ("informative", "informative", 1.25),
    ("baseline_x_uln", "baseline\n×ULN", 0.9),
    ("nadir_x_uln", "nadir\n×ULN", 0.9),
    ("normalized_day", "normal\non day", 0.9),
    ("status_surgery", "at\nsurgery", 1.0),
    ("status_end_of_induction", "end of\ninduction", 1.0),
    ("status_complete_remission", "at CR", 1.0),
    ("status_end_of_therapy", "end of\ntherapy", 1.0),
    ("persistent", "persistent", 1.15),
    ("reelevation", "re-\nelevation", 1.0),
)

_ROW_HEIGHT_IN = 0.25  # one table row at 8 pt, with padding
_ELEVATED_TINT = to_rgba(GRADE_COLORS["marked"], 0.25)


def report_date(created: datetime | None = None) -> datetime | None:
    """The date printed on the report: ``created``, else ``SOURCE_DATE_EPOCH``, else ``None``.

    ``None`` means "not fixed": the cover then shows today's date but the PDF carries
    no creation time, so the bytes do not depend on when the report was made.

    Examples
    --------
    >>> report_date(datetime(2024, 5, 1, tzinfo=UTC)).date().isoformat()
    '2024-05-01'
    """
    if created is not None:
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return None


def natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def patient_ids(data: pd.DataFrame) -> list[str]:
    return sorted(data[PATIENT_ID].astype(str).unique(), key=natural_key)


def n_cohort_pages(assessment: pd.DataFrame, *, page_size: str, lanes_per_page: int = 45) -> int:
    n_analytes = len(cohort_analytes(assessment))
    n_patients = assessment[PATIENT_ID].astype(str).nunique()
    return max(1, math.ceil(n_analytes / 6)) + 1 + max(1, math.ceil(n_patients / lanes_per_page))


def rows_per_page(page_size: str) -> int:
    """Table rows that fit on one page below the title (header row included in the margin)."""
    height = PAGE_SIZES[page_size][1]
    return int((height - 2.4) / _ROW_HEIGHT_IN)


def draw_table(fig: Figure, cells: list[list[str]], header: list[str], widths: list[float], *,
                top: float, colours: list[list[Any]] | None = None) -> None:
    height_frac = _ROW_HEIGHT_IN * (len(cells) + 1.5) / fig.get_figheight()
    add_table(fig, (0.05, top - height_frac, 0.9, height_frac), header, cells or [[""] * len(header)],
              colours=colours, widths=widths, header_colour="#E8E8E8", bold_header=True, gid="table")


def _fmt(value: Any, column: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, bool) or column in ("informative", "persistent", "reelevation"):
        return "yes" if bool(value) else "no"
    if column.endswith("x_uln"):
        return f"{float(value):.1f}"
    if column in ("days_to_normalization", "normalized_day"):
        return f"{int(value)}"
    return str(value) if str(value) else "—"


def summary_table_rows(assessment: pd.DataFrame) -> list[list[str]]:
    """The cohort summary table's cells, one row per patient × analyte, in patient then analyte order.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["P1"], "analyte": ["VMA"], "informative": [True],
    ...                   "baseline_x_uln": [10.0]})
    >>> summary_table_rows(a)[0][:4]
    ['P1', 'VMA', 'yes', '10.0']
    """
    order = {a: i for i, a in enumerate(ANALYTES)}
    keys = [(natural_key(str(p)), order.get(a, 99))
            for p, a in zip(assessment[PATIENT_ID], assessment[ANALYTE], strict=True)]
    frame = assessment.iloc[sorted(range(len(assessment)), key=keys.__getitem__)]
    rows = []
    for _, rec in frame.iterrows():
        rows.append([_fmt(rec.get(col), col) for col, _h, _w in SUMMARY_COLUMNS])
    return rows


def summary_pages(assessment: pd.DataFrame, *, page_size: str) -> Iterator[Figure]:
    rows = summary_table_rows(assessment)
    per = rows_per_page(page_size)
    n_pages = max(1, math.ceil(len(rows) / per))
    header = [h for _c, h, _w in SUMMARY_COLUMNS]
    widths = [w for _c, _h, w in SUMMARY_COLUMNS]
    for page in range(n_pages):
        chunk = rows[page * per:(page + 1) * per]
        colours = [[_ELEVATED_TINT if cell in ("elevated",) or (j >= 10 and cell == "yes") else "white"
                    for j, cell in enumerate(row)] for row in chunk]
        fig = Figure(figsize=PAGE_SIZES[page_size])
        suffix = f" ({page + 1}/{n_pages})" if n_pages > 1 else ""
        fig.text(0.05, 0.975, f"Cohort summary{suffix}", fontsize=13, fontweight="bold", va="top")
        fig.text(0.05, 0.952, "One row per patient and analyte. ×ULN: multiple of the age-specific upper "
                 "limit; normal on day: first sample of the confirmed normal run, in days since diagnosis as on "
                 "every page; status at each milestone from the nearest sample.",
                 fontsize=MIN_FONT, va="top", wrap=True)
        draw_table(fig, chunk, header, widths, top=0.925, colours=colours or None)
        yield fig


def cover_page(dataset: Dataset, *, data: pd.DataFrame, title: str, page_size: str,
                inputs_sha256: Mapping[str, str], reference_set: str, created: datetime | None) -> Figure:
    fig = Figure(figsize=PAGE_SIZES[page_size])
    when = report_date(created)
    date_text = (when or datetime.now(UTC)).date().isoformat()
    fig.text(0.08, 0.90, title, fontsize=22, fontweight="bold", va="top", gid="title")
    fig.text(0.08, 0.85, "Urinary catecholamine metabolites: marker status per patient and cohort",
             fontsize=11, va="top", color="#333333")
    n_patients = data[PATIENT_ID].astype(str).nunique()
    n_samples = len(data[[PATIENT_ID, sample_key(data)]].drop_duplicates())
    n_warnings = int((dataset.issues["severity"] == "warning").sum()) if len(dataset.issues) else 0
    n_errors = int((dataset.issues["severity"] == "error").sum()) if len(dataset.issues) else 0
    facts = [
        ("Report date", date_text),
        ("Software", f"markers {__version__}"),
        ("Reference set", reference_set or "not stated"),
        ("Unit", dataset.unit),
        *([("Time", DAYS_ONLY)] if SAMPLE_DATE not in data.columns else []),
        ("Patients", f"{n_patients}"),
        ("Samples", f"{n_samples} ({len(data)} results)"),
        ("Rejected rows", f"{dataset.n_rejected} (rows left out whole)"),
        ("Errors", f"{n_errors} (cells and rows; each in the appendix)"),
        ("Warnings", f"{n_warnings} (each in the appendix)"),
    ]
    y = 0.78
    for label, value in facts:
        fig.text(0.08, y, f"{label}:", fontsize=10, fontweight="bold", va="top")
        fig.text(0.32, y, value, fontsize=10, va="top")
        y -= 0.028
    y -= 0.02
    fig.text(0.08, y, "Input files (SHA-256)", fontsize=11, fontweight="bold", va="top")
    y -= 0.03
    for name, digest in inputs_sha256.items():
        fig.text(0.08, y, textwrap.shorten(str(name), 90, placeholder="…"), fontsize=9, va="top")
        fig.text(0.10, y - 0.018, str(digest), fontsize=MIN_FONT, family="monospace", va="top", color="#333333")
        y -= 0.045
        if y < 0.12:
            fig.text(0.08, y, f"… and {len(inputs_sha256)} files in all", fontsize=9, va="top")
            break
    fig.text(0.08, 0.06, textwrap.fill(
        "Reference limits are age-specific upper limits of normal (ULN); a result is graded by its multiple "
        "of the ULN. Urinary catecholamines are not part of the revised INRC 2017 response criteria: read "
        "marker status alongside imaging and marrow findings.", width=110), fontsize=MIN_FONT, va="bottom",
        color="#555555")
    return fig
