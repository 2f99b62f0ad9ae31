"""The PDF report and PNG figures, written atomically and reproducibly.

:func:`build_report` is a generator of pages (cover, cohort summary table, cohort
figures, one page per patient, appendix of rejected rows and warnings): the writer
saves each page and drops it before the next is built, so memory stays flat however
many patients there are. :func:`write_report_pdf` writes the pages to a temporary file
beside the target and renames it into place only when every page has been written (a
failure leaves neither a half-written report nor a temporary file). Metadata are fixed
(no creation time unless ``SOURCE_DATE_EPOCH`` gives one), so two runs on the same
inputs give byte-identical files.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from markers import __version__
from markers.errors import OutputError
from markers.ingest.dataset import Dataset
from markers.plot.cohort import iter_cohort_figures
from markers.plot.days import with_timeline_days
from markers.plot.frames import PatientRows, check_choice
from markers.plot.panel import panel_cells, panel_with_days, report_panel
from markers.plot.patient import PatientPage
from markers.plot.style import PAGE_SIZES
from markers.report.appendix import appendix_chunks, appendix_pages
from markers.report.figure_files import figure_jobs, png_saver, save_figure, write_pngs
from markers.report.pages import (
    cover_page,
    n_cohort_pages,
    patient_ids,
    report_date,
    rows_per_page,
    summary_pages,
)
from markers.report.panel_pages import n_panel_pages, panel_pages
from markers.write.output import atomic_write

logger = logging.getLogger(__name__)

__all__ = [
    "PAGE_SIZES",
    "build_report",
    "figure_jobs",
    "pdf_metadata",
    "png_saver",
    "report_date",
    "save_figure",
    "write_pngs",
    "write_report_pdf",
]

# -- dates and metadata ------------------------------------------------------------------------


def pdf_metadata(*, title: str = "markers report", created: datetime | None = None) -> dict[str, Any]:
    """Fixed PDF metadata: ``Creator``/``Producer`` name markers' version; dates only when fixed.

    Examples
    --------
    >>> pdf_metadata()["CreationDate"] is None
    True
    """
    when = report_date(created)
    tag = f"markers {__version__}"
    return {"Title": title, "Creator": tag, "Producer": tag, "CreationDate": when, "ModDate": when}


# -- atomic writing ----------------------------------------------------------------------------


def write_report_pdf(figures: Iterable[Figure], path: str | os.PathLike[str], *,
                     metadata: Mapping[str, Any] | None = None,
                     inputs: Iterable[str | os.PathLike[str]] = ()) -> int:
    """Write figures as the pages of one PDF, atomically.

    Pages go to a temporary file beside ``path``, renamed over it only when the last
    page is written; if the figures' generator raises, neither the target nor the
    temporary file is left behind. Each figure is dropped once saved.

    Parameters
    ----------
    figures
        Pages in order (a generator keeps memory flat).
    path
        Target file.
    metadata
        PDF metadata, merged over :func:`pdf_metadata` (``None`` values remove a key).
    inputs
        Input files the report must not overwrite.

    Returns
    -------
    int
        Number of pages written.

    Raises
    ------
    OutputError
        ``path`` is an input file, its folder is missing, or there is no page to write.

    Examples
    --------
    >>> write_report_pdf(build_report(ds, data=data, assessment=a), "report.pdf",
    ...                  metadata=pdf_metadata())  # doctest: +SKIP
    """
    info = pdf_metadata() | dict(metadata or {})
    pages = 0
    # atomic_write removes its temporary file on any exception, including one raised by
    # the figures' generator halfway through.
    # imported here: a worker drawing PNGs never needs the PDF backend (a quarter of its start-up)
    from matplotlib.backends.backend_pdf import PdfPages

    with atomic_write(path, inputs=inputs) as handle:
        # TrueType embedding (fonttype 42) keeps the text searchable and extractable.
        with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(handle, metadata=info) as pdf:
            for fig in figures:
                pdf.savefig(fig)
                pages += 1
                del fig
            if pages == 0:
                raise OutputError(f"No page to write to {path}: the report is empty.")
    logger.info("wrote %d pages to %s", pages, path)
    return pages


# -- pages -------------------------------------------------------------------------------------


def build_report(
    dataset: Dataset,
    *,
    data: pd.DataFrame,
    assessment: pd.DataFrame,
    title: str = "markers report",
    page_size: str = "A4",
    inputs_sha256: Mapping[str, str] | None = None,
    reference_set: str = "",
    progress: Callable[[int, int, str], None] | None = None,
    created: datetime | None = None,
    outcomes: Any = None,
    patient_status: pd.DataFrame | None = None,
    saved: Callable[[str, Figure], None] | None = None,
) -> Iterator[Figure]:
    """The report's pages, one at a time.

    Order: cover (title, date, version, inputs with SHA-256, reference set, unit,
    counts); cohort summary table (paginated, header on every page); cohort figures
    (:func:`markers.plot.cohort.iter_cohort_figures`); one page per patient in natural ID
    order (P2 before P10); appendix (rows per file, then every rejected row and
    warning with its cell reference, paginated).

    Parameters
    ----------
    dataset
        What ingestion returned (issues, rows, files, unit, therapy, patients).
    data
        Flagged measurements with the timeline.
    assessment
        One row per patient × analyte.
    title
        Report title.
    page_size
        ``"A4"`` or ``"Letter"``.
    inputs_sha256
        ``{file name: SHA-256}``; default from ``dataset.files``.
    reference_set
        Name of the reference limits used, for the cover.
    progress
        Called as ``progress(done, total, label)`` after each page.
    created
        Date for the cover; default ``SOURCE_DATE_EPOCH`` or today.
    outcomes
        :class:`markers.analysis.outcomes.Outcomes`: its Kaplan–Meier pages follow the cohort figures.
    patient_status
        The patient-level panel status (``Analysis.patient_status``); default computed from
        ``assessment``. Its table follows the cohort summary; each patient page has its line.
    saved
        Called as ``saved(name, figure)`` once a figure page has been saved (when the next page is
        asked for), named as :func:`figure_jobs` names it (``cohort_1``, ``outcomes_1``,
        ``patient_<id>``): the report's PNGs are then drawn from the PDF's own pages, which are not
        built a second time.

    Yields
    ------
    matplotlib.figure.Figure
        Pyplot-free pages; drop each after saving. The patient pages are one figure drawn
        again for each patient (:class:`markers.plot.patient.PatientPage`): save each page before
        asking for the next.

    Examples
    --------
    >>> n = write_report_pdf(build_report(ds, data=data, assessment=a), "report.pdf",
    ...                      metadata=pdf_metadata())  # doctest: +SKIP
    """
    check_choice("page_size", page_size, tuple(PAGE_SIZES))
    if inputs_sha256 is None:
        files = dataset.files
        inputs_sha256 = dict(zip(files["file"].astype(str), files["sha256"].astype(str), strict=True)) \
            if len(files) else {}
    patients = patient_ids(data)
    n_summary = max(1, math.ceil(len(assessment) / rows_per_page(page_size)))
    n_cohort = n_cohort_pages(assessment, page_size=page_size)
    n_appendix = len(appendix_chunks(dataset, page_size=page_size))
    panel = panel_with_days(report_panel(assessment, status=patient_status), data)
    panel_rows = panel_cells(panel)
    n_panel = n_panel_pages(len(panel_rows), page_size=page_size)
    total = 1 + n_summary + n_panel + n_cohort + len(patients) + n_appendix
    total += outcomes.patients["landmark"].nunique() if outcomes is not None else 0  # one page per landmark
    done = 0

    def tick(label: str, fig: Figure | None = None, name: str = "") -> None:
        nonlocal done
        done += 1
        if saved is not None and fig is not None:
            saved(name, fig)
        if progress is not None:
            progress(done, total, label)

    yield cover_page(dataset, data=data, title=title, page_size=page_size, inputs_sha256=inputs_sha256,
                      reference_set=reference_set, created=created)
    tick("cover")
    for fig in summary_pages(with_timeline_days(assessment, data), page_size=page_size):
        yield fig
        tick("summary table")
    for fig in panel_pages(panel_rows, page_size=page_size):
        yield fig
        tick("patient-level status")
    for number, fig in enumerate(iter_cohort_figures(data, therapy=dataset.therapy, assessment=assessment,
                                                     page_size=page_size), start=1):
        yield fig
        tick("cohort", fig, f"cohort_{number}")
    if outcomes is not None:  # EFS/OS by marker status (markers.plot.survival)
        from markers.plot.survival import outcome_pages

        for number, fig in enumerate(outcome_pages(outcomes, page_size=page_size), start=1):
            yield fig
            tick("outcomes", fig, f"outcomes_{number}")
    # Each page gets only its patient's rows, found by one grouping of each table, and is drawn
    # on the same figure as the page before it (PatientPage).
    of = [PatientRows(frame) for frame in (data, dataset.therapy, dataset.patients, assessment)]
    page = PatientPage(page_size=page_size)
    for pid in patients:
        rows, therapy, known, assessed = (table(pid) for table in of)
        fig = page.draw(rows, patient=pid, therapy=therapy, patients=known, assessment=assessed,
                        unit_label=dataset.unit, status=panel)
        yield fig
        tick(f"patient {pid}", fig, f"patient_{pid}")
    for fig in appendix_pages(dataset, page_size=page_size):
        yield fig
        tick("appendix")

