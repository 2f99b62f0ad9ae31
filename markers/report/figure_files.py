"""Figures as files: one figure as PNG, PDF or SVG, and one PNG per page of a report.

:func:`save_figure` writes one figure atomically with fixed metadata (two runs, the same bytes).
:func:`figure_jobs` names the report's figures (cohort figures, outcome pages, one page per
patient) and builds each when asked; :func:`write_pngs` writes them, in worker processes when
asked, each worker sent the tables once. A patient's PNG is the patient's page of the PDF: the
same patient-level status, unit and days.
"""

from __future__ import annotations

import functools
import gc
import io
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from markers import __version__
from markers.errors import OutputError
from markers.plot.cohort import iter_cohort_figures
from markers.plot.frames import PatientRows
from markers.plot.patient import PatientPage
from markers.report.pages import n_cohort_pages, patient_ids
from markers.write.output import atomic_write, png_bytes, write_bytes_atomic

__all__ = ["figure_jobs", "png_paths", "png_saver", "safe_filename", "save_figure", "write_pngs"]

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
                        patients: pd.DataFrame | None, assessment: pd.DataFrame | None, page_size: str,
                        status: pd.DataFrame | None = None, unit_label: str | None = None) -> Figure:
    """One patient's page drawn on this process's shared page (see :class:`PatientPage`)."""
    page = _SHARED_PAGES.get(page_size)
    if page is None:
        page = _SHARED_PAGES[page_size] = PatientPage(page_size=page_size)
    return page.draw(data, patient=patient, therapy=therapy, patients=patients, assessment=assessment,
                     unit_label=unit_label, status=status)


def _render_png(make: Callable[[], Figure] | Figure, path: str, dpi: int) -> str:
    fig = make if isinstance(make, Figure) else make()
    save_figure(fig, path, dpi=dpi)
    # A figure's artists refer to each other in cycles that only the cyclic collector frees, and it
    # seldom visits old objects: clearing the figure now keeps memory flat over a thousand PNGs.
    # The shared patient page is kept for the next patient (it removes the last one's artists).
    if not any(fig is page.figure for page in _SHARED_PAGES.values()):
        fig.clear()
    return path


def png_paths(names: Iterable[str], directory: str | os.PathLike[str]) -> dict[str, Path]:
    """``{name: <directory>/<safe name>.png}``, the folder created if missing.

    Raises
    ------
    OutputError
        Two names map to the same file name.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in names:
        path = folder / f"{safe_filename(name)}.png"
        if path in paths.values():
            raise OutputError(f"Figures {name!r} and another name would both be written to {path.name}; "
                              "rename one of them.")
        paths[name] = path
    return paths


def png_saver(names: Iterable[str], directory: str | os.PathLike[str], *, dpi: int = 150
              ) -> Callable[[str, Figure], None]:
    """``save(name, figure)``: the PNG of an already built figure, named as :func:`write_pngs` names it.

    For :func:`markers.report.document.build_report`'s ``saved``: the PDF's pages become the PNGs,
    each drawn once more at ``dpi`` rather than built again (one process). A name not in
    ``names`` raises ``KeyError``.
    """
    paths = png_paths(names, directory)

    def save(name: str, fig: Figure) -> None:
        save_figure(fig, paths[name], dpi=dpi)

    return save


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
    paths = png_paths(figures_by_name, directory)
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


def _nth_outcome_figure(outcomes: Any, page_size: str, index: int) -> Figure:
    from markers.plot.survival import outcome_pages

    for number, fig in enumerate(outcome_pages(outcomes, page_size=page_size)):
        if number == index:
            return fig
    raise KeyError(index)


class _FigureJobs(Mapping[str, Callable[[], Figure]]):
    """``{name: builder}`` whose builders are made on access, each with only its own rows.

    Made lazily so that writing a thousand PNGs one after another never holds a thousand
    patients' subsets at once. ``page`` holds what every patient page shares with the PDF's:
    the patient-level ``status`` (with its days) and the ``unit_label``.
    """

    def __init__(self, data: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame | None,
                 assessment: pd.DataFrame, page_size: str, outcomes: Any = None,
                 page: dict[str, Any] | None = None) -> None:
        self._data, self._therapy, self._patients = data, therapy, patients
        self._assessment, self._page_size = assessment, page_size
        self._outcomes, self._page = outcomes, dict(page or {})
        self._cohort = [f"cohort_{k + 1}" for k in range(n_cohort_pages(assessment, page_size=page_size))]
        n_outcomes = outcomes.patients["landmark"].nunique() if outcomes is not None else 0  # one page per landmark
        self._outcome_names = [f"outcomes_{k + 1}" for k in range(n_outcomes)]
        self._patient_ids = {f"patient_{pid}": pid for pid in patient_ids(data)}

    @functools.cached_property
    def _rows(self) -> list[PatientRows]:
        # grouped when a builder is first asked for: write_pngs on several processes never asks
        # here (each worker groups its own copy of the tables)
        return [PatientRows(frame) for frame in (self._data, self._therapy, self._patients, self._assessment)]

    def tables(self) -> tuple:
        """What :func:`_install_worker_jobs` needs to make the same jobs in another process."""
        return self._data, self._therapy, self._patients, self._assessment, self._page_size, self._outcomes, self._page

    def __iter__(self) -> Iterator[str]:
        yield from self._cohort
        yield from self._outcome_names
        yield from self._patient_ids

    def __len__(self) -> int:
        return len(self._cohort) + len(self._outcome_names) + len(self._patient_ids)

    def __getitem__(self, name: str) -> Callable[[], Figure]:
        if name in self._patient_ids:
            pid = self._patient_ids[name]
            data, therapy, patients, assessment = (rows(pid) for rows in self._rows)
            return functools.partial(_patient_png_figure, data, patient=pid, therapy=therapy, patients=patients,
                                     assessment=assessment, page_size=self._page_size, **self._page)
        if name in self._cohort:
            return functools.partial(_nth_cohort_figure, self._data, self._therapy, self._assessment,
                                     self._page_size, self._cohort.index(name))
        if name in self._outcome_names:
            return functools.partial(_nth_outcome_figure, self._outcomes, self._page_size,
                                     self._outcome_names.index(name))
        raise KeyError(name)


#: In a worker process of :func:`write_pngs`: the figure jobs, made once from the tables it was sent.
_WORKER_JOBS: list[_FigureJobs] = []


def _install_worker_jobs(data: pd.DataFrame, therapy: pd.DataFrame, patients: pd.DataFrame | None,
                         assessment: pd.DataFrame, page_size: str, outcomes: Any = None,
                         page: dict[str, Any] | None = None) -> None:
    _WORKER_JOBS[:] = [_FigureJobs(data, therapy=therapy, patients=patients, assessment=assessment,
                                   page_size=page_size, outcomes=outcomes, page=page)]


def _render_worker_png(name: str, path: str, dpi: int) -> str:
    return _render_png(_WORKER_JOBS[0][name], path, dpi)


def figure_jobs(data: pd.DataFrame, *, therapy: pd.DataFrame, patients: pd.DataFrame | None,
                assessment: pd.DataFrame, page_size: str = "A4", outcomes: Any = None,
                status: pd.DataFrame | None = None, unit_label: str | None = None,
                ) -> Mapping[str, Callable[[], Figure]]:
    """Picklable builders for :func:`write_pngs`: ``cohort_1``, ..., ``outcomes_1``, ..., ``patient_<id>``.

    Each patient's builder carries only that patient's rows, and builders are made when asked
    for, so memory does not grow with the number of patients. :func:`write_pngs` sends the
    whole mapping to each worker process once and then only the figures' names.
    Patient builders draw on one page per process (:class:`markers.plot.patient.PatientPage`):
    save each figure before calling the next builder, as :func:`write_pngs` does.
    ``outcomes`` (:class:`markers.analysis.outcomes.Outcomes`) adds its Kaplan–Meier pages;
    ``status`` and ``unit_label`` are passed to every patient page as the PDF report passes them
    (:func:`markers.report.document.build_report`), so that a PNG is its PDF page.

    Examples
    --------
    >>> jobs = figure_jobs(data, therapy=therapy, patients=patients, assessment=assessment)  # doctest: +SKIP
    """
    page = {key: value for key, value in (("status", status), ("unit_label", unit_label)) if value is not None}
    return _FigureJobs(data, therapy=therapy, patients=patients, assessment=assessment, page_size=page_size,
                       outcomes=outcomes, page=page)
