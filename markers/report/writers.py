"""An analysis to the documents people read: the PDF report with its PNG figures, the HTML report, a figure.

Each function takes an analysis as :func:`markers.pipeline.analyse` returns it (its ``dataset``,
``measurements``, ``assessment``, ``reference_set`` and ``patient_status``), already put in the
form its pages draw (pseudonymised, or a date-free one in days since diagnosis), and writes
atomically: a failed run leaves the previous file or none. :mod:`markers.pipeline` reads the
inputs, decides that form and calls these.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from markers.plot.panel import panel_with_days, report_panel
from markers.report import document
from markers.write.guard import all_or_nothing, os_errors

__all__ = ["write_html_document", "write_patient_page", "write_pdf_report", "write_report_pngs"]

#: Allocations between young collections while the pages are drawn (Python's default: 700).
DRAWING_GC_THRESHOLD = 20_000


@contextlib.contextmanager
def _drawing_collections() -> Iterator[None]:
    """Fewer collections of the cyclic garbage collector while pages are drawn.

    Drawing a page makes and drops tens of thousands of small objects (ticks, transforms,
    paths): with the default threshold the collector ran about every 700 of them, and each full
    pass walked every object made before (modules, the analysis). Those are set aside
    (``gc.freeze``) and young passes run every 20,000 allocations, so a page's cyclic garbage is
    still freed within a few pages. Both are undone on leaving.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(DRAWING_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def write_pdf_report(analysis: Any, output: str | os.PathLike, *, inputs: Sequence[str | os.PathLike],
                     provenance: dict, title: str = "markers report", page_size: str = "A4",
                     png_dir: str | os.PathLike | None = None, dpi: int = 150, jobs: int | None = None,
                     progress: Callable[[int, int, str], None] | None = None, outcomes: Any = None) -> int:
    """Write the PDF report of ``analysis`` (and, with ``png_dir``, its figures as PNGs); the page count.

    ``provenance`` goes into the PDF's own metadata (without its creation time: the same inputs give
    the same bytes). The PDF and the PNGs are one output: complete, or removed together.
    """
    dataset = analysis.dataset
    provenance = {key: value for key, value in provenance.items() if key != "created"}
    metadata = document.pdf_metadata(title=title) | {"Subject": json.dumps(provenance, sort_keys=True, default=str)}
    # On one core the PNGs are the PDF's own pages, each drawn once more as it leaves the PDF
    # (building a patient's page is a third of its cost); on more, workers build them alongside.
    inline = png_dir is not None and (jobs or os.cpu_count() or 1) == 1
    with os_errors(output), all_or_nothing([output], [png_dir] if png_dir is not None else []), \
            _drawing_collections():
        saved = None
        if inline:
            names = document.figure_jobs(analysis.measurements, therapy=dataset.therapy, patients=dataset.patients,
                                         assessment=analysis.assessment, page_size=page_size, outcomes=outcomes)
            saved = document.png_saver(names, png_dir, dpi=dpi)
        pages = document.build_report(
            dataset, data=analysis.measurements, assessment=analysis.assessment, title=title, page_size=page_size,
            inputs_sha256=dict(zip(dataset.files["file"], dataset.files["sha256"], strict=True)),
            reference_set=analysis.reference_set, progress=progress, outcomes=outcomes,
            patient_status=analysis.patient_status, saved=saved)
        n_pages = document.write_report_pdf(pages, output, metadata=metadata, inputs=inputs)
        if png_dir is not None and not inline:
            write_report_pngs(analysis, png_dir, page_size=page_size, dpi=dpi, jobs=jobs, outcomes=outcomes)
    return n_pages


def write_report_pngs(analysis: Any, png_dir: str | os.PathLike, *, page_size: str = "A4", dpi: int = 150,
                      jobs: int | None = None, outcomes: Any = None) -> None:
    """One PNG per figure of the report: cohort figures, outcome pages, then each patient's page as the
    PDF draws it (the same patient-level status, unit and days)."""
    dataset = analysis.dataset
    status = panel_with_days(report_panel(analysis.assessment, status=analysis.patient_status), analysis.measurements)
    builders = document.figure_jobs(analysis.measurements, therapy=dataset.therapy, patients=dataset.patients,
                                    assessment=analysis.assessment, page_size=page_size, outcomes=outcomes,
                                    status=status, unit_label=dataset.unit)
    document.write_pngs(builders, png_dir, dpi=dpi, jobs=jobs or os.cpu_count() or 1)


def write_html_document(analysis: Any, output: str | os.PathLike, *, inputs: Sequence[str | os.PathLike],
                        title: str = "markers report", page_size: str = "A4",
                        png_dir: str | os.PathLike | None = None, dpi: int = 150, jobs: int | None = None,
                        progress: Callable[[int, int, str], None] | None = None, outcomes: Any = None) -> int:
    """Write the self-contained HTML report of ``analysis`` (and, with ``png_dir``, the PNGs); its size in bytes."""
    from markers.report.html import html_parts, write_html_report

    dataset = analysis.dataset
    parts = html_parts(dataset, data=analysis.measurements, assessment=analysis.assessment, title=title,
                       reference_set=analysis.reference_set, progress=progress,
                       patient_status=analysis.patient_status)
    with os_errors(output):
        size = write_html_report(parts, output, inputs=inputs)
    if png_dir is not None:
        write_report_pngs(analysis, png_dir, page_size=page_size, dpi=dpi, jobs=jobs, outcomes=outcomes)
    return size


def write_patient_page(analysis: Any, output: str | os.PathLike, *, patient: str, x: str = "day",
                       page_size: str = "A4", dpi: int = 150) -> None:
    """Save one patient's page of ``analysis`` as PNG, PDF or SVG (by the extension of ``output``)."""
    from markers.plot.patient import patient_figure

    dataset = analysis.dataset
    figure = patient_figure(analysis.measurements, patient=patient, therapy=dataset.therapy, patients=dataset.patients,
                            assessment=analysis.assessment, x=x, page_size=page_size)
    with os_errors(output):
        document.save_figure(figure, output, dpi=dpi)
