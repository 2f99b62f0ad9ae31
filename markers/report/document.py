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

import functools
import gc
import io
import logging
import math
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
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
from markers.report.pages import (
    cover_page,
    n_cohort_pages,
    patient_ids,
    report_date,
    rows_per_page,
    summary_pages,
)
from markers.report.panel_pages import n_panel_pages, panel_pages
from markers.write.output import atomic_write, png_bytes, write_bytes_atomic

logger = logging.getLogger(__name__)

__all__ = [
    "PAGE_SIZES",
    "build_report",
    "figure_jobs",
    "pdf_metadata",
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


_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> None:
    """Save one figure as PNG, PDF or SVG (by the file extension), atomically, with fixed metadata.

    Parameters
    ----------
    fig
        The figure.
    path
        Target file ending in ``.png``, ``.pdf`` or ``.svg``.
    dpi
        Resolution of raster output.

    Raises
    ------
    OutputError
        Unknown extension or missing folder.

    Examples
    --------
    >>> save_figure(patient_figure(data, patient="P1"), "P1.png")  # doctest: +SKIP
    """
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OutputError(f"Cannot save a figure as {Path(path).name}: use a .png, .pdf or .svg file name.")
    tag = f"markers {__version__}"
    meta: dict[str, Any] = {
        "png": {"Software": tag},
        "pdf": {"Creator": tag, "Producer": tag, "CreationDate": None, "ModDate": None},
        "svg": {"Creator": tag, "Date": None},
    }[fmt]
    if fmt == "png":
        # The pixels from matplotlib, the file from png_bytes: half the time of matplotlib's PNG writer.
        raw = io.BytesIO()
        fig.savefig(raw, format="rgba", dpi=dpi)
        width, height = (int(side * dpi) for side in fig.get_size_inches())  # as Agg sizes its canvas
        # (any other size, which these figures never have, is left to matplotlib's own writer below)
        if raw.getbuffer().nbytes == width * height * 4:
            pixels = np.frombuffer(raw.getbuffer(), dtype=np.uint8).reshape(height, width, 4)
            write_bytes_atomic(png_bytes(pixels, dpi=dpi, text=meta), path)
            return
    # A fixed salt makes SVG element ids (hashes) the same from run to run.
    with atomic_write(path) as handle, matplotlib.rc_context({"svg.hashsalt": "markers", "pdf.fonttype": 42}):
        fig.savefig(handle, format=fmt, dpi=dpi, metadata=meta)


def safe_filename(name: str) -> str:
    """A file-name stem from any name: characters other than letters, digits, ``._-`` become ``_``.

    Examples
    --------
    >>> safe_filename("patient 12/A")
    'patient_12_A'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._") or "figure"
    return stem[:120]


#: This process's patient page for each page size: PNG builders draw every patient on it.
_SHARED_PAGES: dict[str, PatientPage] = {}


def _patient_png_figure(data: pd.DataFrame, *, patient: str, therapy: pd.DataFrame | None,
                        patients: pd.DataFrame | None, assessment: pd.DataFrame | None, page_size: str) -> Figure:
    """One patient's page drawn on this process's shared page (see :class:`PatientPage`)."""
    page = _SHARED_PAGES.get(page_size)
    if page is None:
        page = _SHARED_PAGES[page_size] = PatientPage(page_size=page_size)
    return page.draw(data, patient=patient, therapy=therapy, patients=patients, assessment=assessment)


def _render_png(make: Callable[[], Figure] | Figure, path: str, dpi: int) -> str:
    fig = make if isinstance(make, Figure) else make()
    save_figure(fig, path, dpi=dpi)
    # A figure's artists refer to each other in cycles that only the cyclic collector frees, and it
    # seldom visits old objects: clearing the figure now keeps memory flat over a thousand PNGs.
    # The shared patient page is kept for the next patient (it removes the last one's artists).
    if not any(fig is page.figure for page in _SHARED_PAGES.values()):
        fig.clear()
    return path


def write_pngs(figures_by_name: Mapping[str, Callable[[], Figure] | Figure], directory: str | os.PathLike[str],
               *, dpi: int = 150, jobs: int = 1) -> list[Path]:
    """Write one PNG per named figure into ``directory``.

    Each value is a zero-argument callable that builds the figure (or a figure). With
    ``jobs > 1`` the figures are built and saved in worker processes, so only the
    callables (e.g. ``functools.partial`` of a module-level function and its data)
    are pickled, never a figure. The mapping :func:`figure_jobs` returns is sent to
    each worker once, as its tables; each figure is then asked for by name.

    Parameters
    ----------
    figures_by_name
        ``{name: builder}``; the file is ``<safe name>.png``.
    directory
        Output folder (created if missing).
    dpi
        Resolution.
    jobs
        Worker processes (1: in this process).

    Returns
    -------
    list of pathlib.Path
        The files written, in the mapping's order.

    Raises
    ------
    OutputError
        Two names map to the same file name, or ``jobs < 1``.

    Examples
    --------
    >>> write_pngs(figure_jobs(data, therapy=t, patients=p, assessment=a), "figures", jobs=2)  # doctest: +SKIP
    """
    if jobs < 1:
        raise OutputError(f"jobs={jobs}: give at least 1 worker.")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in figures_by_name:
        path = folder / f"{safe_filename(name)}.png"
        if path in paths.values():
            raise OutputError(f"Figures {name!r} and another name would both be written to {path.name}; "
                              "rename one of them.")
        paths[name] = path
    if jobs == 1:
        try:
            for count, (name, make) in enumerate(figures_by_name.items(), start=1):
                _render_png(make, str(paths[name]), dpi)
                if count % 50 == 0:
                    gc.collect()
        finally:
            _SHARED_PAGES.clear()  # the page is not kept once the PNGs are written
        return list(paths.values())
    if isinstance(figures_by_name, _FigureJobs):
        # Each worker gets the tables once, at start-up, and takes each patient's rows itself:
        # a task is only a figure's name. Taking and pickling a thousand patients' rows here,
        # one builder at a time, kept this process busy for a tenth of the time the workers
        # needed, on a core they needed too.
        initializer, initargs = _install_worker_jobs, figures_by_name.tables()

        def task(name: str) -> tuple:
            return (_render_worker_png, name)
    else:
        initializer, initargs = None, ()

        def task(name: str) -> tuple:
            return (_render_png, figures_by_name[name])

    # "spawn" starts clean interpreters: no inherited locks or pyplot state, same on every OS.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=initializer, initargs=initargs) as pool:
        # a bounded window of jobs in flight: the builders (and their rows) of a thousand patients
        # are never all held at once, and an error surfaces without waiting for the rest
        pending: set = set()
        for name in figures_by_name:
            pending.add(pool.submit(*task(name), str(paths[name]), dpi))
            if len(pending) >= 4 * jobs:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
        for future in pending:
            future.result()
    return list(paths.values())


def _nth_cohort_figure(data: pd.DataFrame, therapy: pd.DataFrame, assessment: pd.DataFrame,
                       page_size: str, index: int) -> Figure:
    return next(iter_cohort_figures(data, therapy=therapy, assessment=assessment, page_size=page_size, only=index))


class _FigureJobs(Mapping[str, Callable[[], Figure]]):
    """``{name: builder}`` whose builders are made on access, each with only its own rows.

    Made lazily so that writing a thousand PNGs one after another never holds a thousand
    patients' subsets at once.
    """

    def __init__(self, data: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame | None,
                 assessment: pd.DataFrame, page_size: str) -> None:
        self._data, self._therapy, self._patients = data, therapy, patients
        self._assessment, self._page_size = assessment, page_size
        self._cohort = [f"cohort_{k + 1}" for k in range(n_cohort_pages(assessment, page_size=page_size))]
        self._patient_ids = {f"patient_{pid}": pid for pid in patient_ids(data)}

    @functools.cached_property
    def _rows(self) -> list[PatientRows]:
        # grouped when a builder is first asked for: write_pngs on several processes never asks
        # here (each worker groups its own copy of the tables)
        return [PatientRows(frame) for frame in (self._data, self._therapy, self._patients, self._assessment)]

    def tables(self) -> tuple:
        """What :func:`_install_worker_jobs` needs to make the same jobs in another process."""
        return self._data, self._therapy, self._patients, self._assessment, self._page_size

    def __iter__(self) -> Iterator[str]:
        yield from self._cohort
        yield from self._patient_ids

    def __len__(self) -> int:
        return len(self._cohort) + len(self._patient_ids)

    def __getitem__(self, name: str) -> Callable[[], Figure]:
        if name in self._patient_ids:
            pid = self._patient_ids[name]
            data, therapy, patients, assessment = (rows(pid) for rows in self._rows)
            return functools.partial(_patient_png_figure, data, patient=pid, therapy=therapy, patients=patients,
                                     assessment=assessment, page_size=self._page_size)
        if name in self._cohort:
            return functools.partial(_nth_cohort_figure, self._data, self._therapy, self._assessment,
                                     self._page_size, self._cohort.index(name))
        raise KeyError(name)


#: In a worker process of :func:`write_pngs`: the figure jobs, made once from the tables it was sent.
_WORKER_JOBS: list[_FigureJobs] = []


def _install_worker_jobs(data: pd.DataFrame, therapy: pd.DataFrame, patients: pd.DataFrame | None,
                         assessment: pd.DataFrame, page_size: str) -> None:
    _WORKER_JOBS[:] = [_FigureJobs(data, therapy=therapy, patients=patients, assessment=assessment,
                                   page_size=page_size)]


def _render_worker_png(name: str, path: str, dpi: int) -> str:
    return _render_png(_WORKER_JOBS[0][name], path, dpi)


def figure_jobs(data: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame | None,
                assessment: pd.DataFrame, page_size: str = "A4") -> Mapping[str, Callable[[], Figure]]:
    """Picklable builders for :func:`write_pngs`: ``cohort_1``, ``cohort_2``, ..., ``patient_<id>``.

    Each patient's builder carries only that patient's rows, and builders are made when asked
    for, so memory does not grow with the number of patients. :func:`write_pngs` sends the
    whole mapping to each worker process once and then only the figures' names.
    Patient builders draw on one page per process (:class:`markers.plot.patient.PatientPage`):
    save each figure before calling the next builder, as :func:`write_pngs` does.

    Examples
    --------
    >>> jobs = figure_jobs(data, therapy=therapy, patients=patients, assessment=assessment)  # doctest: +SKIP
    """
    return _FigureJobs(data, therapy=therapy, patients=patients, assessment=assessment, page_size=page_size)


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

    def tick(label: str) -> None:
        nonlocal done
        done += 1
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
    for fig in iter_cohort_figures(data, therapy=dataset.therapy, assessment=assessment, page_size=page_size):
        yield fig
        tick("cohort")
    if outcomes is not None:  # EFS/OS by marker status (markers.plot.survival)
        from markers.plot.survival import outcome_pages

        for fig in outcome_pages(outcomes, page_size=page_size):
            yield fig
            tick("outcomes")
    # Each page gets only its patient's rows, found by one grouping of each table, and is drawn
    # on the same figure as the page before it (PatientPage).
    of = [PatientRows(frame) for frame in (data, dataset.therapy, dataset.patients, assessment)]
    page = PatientPage(page_size=page_size)
    for pid in patients:
        rows, therapy, known, assessed = (table(pid) for table in of)
        yield page.draw(rows, patient=pid, therapy=therapy, patients=known, assessment=assessed,
                        unit_label=dataset.unit, status=panel)
        tick(f"patient {pid}")
    for fig in appendix_pages(dataset, page_size=page_size):
        yield fig
        tick("appendix")

