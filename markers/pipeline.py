"""The whole analysis in one call: read → flag → timeline → assess.

Notebooks and the CLI both use :func:`analyse`; each stage is also a public
function of its own module for those who want to go step by step.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from markers.ingest.config import Config
from markers.ingest.dataset import Dataset
from markers.ingest.reader import read


@dataclass
class Analysis:
    """Everything markers derives from a set of input files.

    Attributes
    ----------
    dataset
        What ingestion read (tidy measurements, patients, therapy, issues, row accounting, files).
    measurements
        The tidy measurements with ``uln``, ``x_uln``, ``elevated``, ``grade``, ``day`` and ``phase``.
    assessment
        One row per patient × analyte (see :func:`markers.analysis.assess.assess`).
    limits
        The reference limits applied.
    reference_set
        Name of the reference set (or the user's file name).
    """

    dataset: Dataset
    measurements: pd.DataFrame
    assessment: pd.DataFrame
    limits: pd.DataFrame
    reference_set: str


def analyse(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    unit: str = "mg/g",
    config: Config | str | os.PathLike | None = None,
    day_first: bool | None = None,
    reference_set: str | None = None,
    reference: str | os.PathLike | None = None,
    rules=None,
    today: dt.date | None = None,
) -> Analysis:
    """Read ``paths`` and assess every patient.

    Parameters
    ----------
    paths
        Input files (see :func:`markers.ingest.reader.read`).
    unit, config, day_first, today
        As for :func:`markers.ingest.reader.read`.
    reference_set
        Name of a shipped reference set (``markers references --list``); default ARUP 3018863.
    reference
        A CSV of your own lab's limits in the same columns (overrides ``reference_set``).
    rules
        :class:`markers.analysis.assess.AssessmentRules` to change the assessment's defaults.

    Returns
    -------
    Analysis
    """
    from markers.analysis.assess import assess
    from markers.analysis.flags import flag
    from markers.analysis.reference import DEFAULT_REFERENCE_SET, load_reference_limits
    from markers.analysis.timeline import add_timeline

    dataset = read(paths, unit=unit, config=config, day_first=day_first, today=today)
    if reference is not None:
        limits = load_reference_limits(path=reference)
        name = os.path.basename(os.fspath(reference))
    else:
        limits = load_reference_limits(reference_set=reference_set)
        name = reference_set or DEFAULT_REFERENCE_SET
    flagged = flag(dataset.measurements, limits=limits)
    timed = add_timeline(flagged, therapy=dataset.therapy, patients=dataset.patients)
    assessment = assess(timed, therapy=dataset.therapy, patients=dataset.patients, rules=rules)
    return Analysis(dataset=dataset, measurements=timed, assessment=assessment, limits=limits, reference_set=name)


def _options(**options) -> dict:
    return {k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in options.items()}


def _checksums(analysis: Analysis) -> dict[str, str]:
    """The inputs' SHA-256 as ingestion computed them, by path as given (not read twice)."""
    files = analysis.dataset.files
    return dict(zip(files["path"], files["sha256"], strict=True)) if "path" in files else {}


def prepare(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
) -> Analysis:
    """:func:`analyse`, then :func:`pseudonymize_analysis` with the key in ``pseudonymize`` (a key file,
    created when it does not exist yet) when that is given. Every ``write_*`` function starts here."""
    analysis = analyse(paths, **analyse_options)
    if pseudonymize is not None:
        from markers.privacy.pseudonym import load_or_create_key

        analysis = pseudonymize_analysis(analysis, key=load_or_create_key(pseudonymize))
    return analysis


TABLES = {"measurements": "the flagged tidy measurements", "assessment": "the per-patient assessment"}


def write_analysis_table(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    table: str = "measurements",
    safe_csv: bool = False,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
) -> Analysis:
    """Analyse ``paths`` and write one of its tables to ``output`` (csv, tsv, xlsx or json).

    Parameters
    ----------
    paths
        Input files.
    output
        The table file; the extension chooses the format. Written atomically with its provenance
        (markers version, the inputs' SHA-256, reference set, options); an input is never overwritten.
    table
        ``"measurements"`` (the flagged tidy table, one row per measurement) or ``"assessment"``
        (one row per patient and analyte).
    safe_csv
        Prefix text cells starting with ``= + - @`` by ``'`` in CSV/TSV output.
    pseudonymize
        A key file: write pseudonyms and days instead of patient IDs and dates.
    **analyse_options
        ``unit``, ``config``, ``day_first``, ``reference_set``, ``reference``, ``rules``: see :func:`analyse`.

    Returns
    -------
    Analysis
    """
    from markers.write.output import provenance_record, write_table

    if table not in TABLES:
        raise ValueError(f"table must be one of {sorted(TABLES)}, not {table!r}")
    analysis = prepare(paths, pseudonymize=pseudonymize, **analyse_options)
    provenance = provenance_record(
        inputs=list(paths),
        options=_options(table=table, safe_csv=safe_csv, pseudonymized=pseudonymize is not None, **analyse_options),
        reference_set=analysis.reference_set,
        checksums=_checksums(analysis),
    )
    frame = getattr(analysis, table)
    if table == "assessment":
        from markers.report.summary import rounded

        frame = rounded(frame)  # 9.31, not 9.312962962962963: the unrounded numbers stay in analysis
    write_table(frame, output, inputs=paths, safe_csv=safe_csv, provenance=provenance, sheet_name=table)
    return analysis


def write_report(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    page_size: str = "A4",
    title: str = "markers report",
    png_dir: str | os.PathLike | None = None,
    dpi: int = 150,
    jobs: int | None = None,
    progress=None,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
) -> tuple[Analysis, int]:
    """Analyse ``paths`` and write the PDF report (and, with ``png_dir``, one PNG per figure).

    Parameters
    ----------
    paths
        Input files.
    output
        The PDF file; written atomically (a failed run leaves the previous file or none).
    page_size
        ``"A4"`` (default) or ``"Letter"``.
    title
        The report's title (cover page and PDF metadata).
    png_dir
        A folder for one PNG per patient and per cohort figure.
    dpi
        Resolution of the PNGs.
    jobs
        Processes for the PNGs (default: all cores).
    progress
        ``progress(done, total, label)`` after each PDF page, e.g. to drive a progress bar.
    pseudonymize
        A key file: pseudonyms and days instead of patient IDs and dates, in every page and file name.
    **analyse_options
        ``unit``, ``config``, ``day_first``, ``reference_set``, ``reference``, ``rules``: see :func:`analyse`.

    Returns
    -------
    (Analysis, int)
        The analysis and the number of PDF pages written.
    """
    from markers.report.document import build_report, figure_jobs, pdf_metadata, write_pngs, write_report_pdf

    analysis = prepare(paths, pseudonymize=pseudonymize, **analyse_options)
    dataset = analysis.dataset
    pages = build_report(
        dataset,
        data=analysis.measurements,
        assessment=analysis.assessment,
        title=title,
        page_size=page_size,
        inputs_sha256=dict(zip(dataset.files["file"], dataset.files["sha256"], strict=True)),
        reference_set=analysis.reference_set,
        progress=progress,
    )
    # provenance in the PDF's own metadata too, so the file can be traced without its cover page
    from markers.write.output import provenance_record

    provenance = provenance_record(
        inputs=list(paths),
        options=_options(page_size=page_size, pseudonymized=pseudonymize is not None, **analyse_options),
        reference_set=analysis.reference_set,
        checksums=_checksums(analysis),
    )
    provenance.pop("created", None)  # the same inputs must give the same bytes
    metadata = pdf_metadata(title=title) | {"Subject": json.dumps(provenance, sort_keys=True, default=str)}
    n_pages = write_report_pdf(pages, output, metadata=metadata, inputs=paths)
    if png_dir is not None:
        builders = figure_jobs(analysis.measurements, therapy=dataset.therapy, patients=dataset.patients,
                               assessment=analysis.assessment, page_size=page_size)
        write_pngs(builders, png_dir, dpi=dpi, jobs=jobs or os.cpu_count() or 1)
    return analysis, n_pages


def write_patient_figure(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    patient: str,
    x: str = "day",
    page_size: str = "A4",
    dpi: int = 150,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
) -> Analysis:
    """Analyse ``paths`` and save one patient's figure as PNG, PDF or SVG (by extension).

    ``patient`` is the ID as written in the input (also when ``pseudonymize`` is given: the
    figure then shows the pseudonym and days only).
    """
    from markers.errors import ConfigError
    from markers.plot.patient import patient_figure
    from markers.report.document import save_figure

    analysis = analyse(paths, **analyse_options)
    known = sorted(set(analysis.measurements["patient_id"]))
    if patient not in known:
        listed = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
        raise ConfigError(f"patient {patient!r} has no measurements in the input; patients: {listed}.")
    if pseudonymize is not None:
        from markers.privacy.pseudonym import load_or_create_key, pseudonym

        key = load_or_create_key(pseudonymize)
        analysis = pseudonymize_analysis(analysis, key=key)
        patient = pseudonym(patient, key=key)
    figure = patient_figure(analysis.measurements, patient=patient, therapy=analysis.dataset.therapy,
                            patients=analysis.dataset.patients, assessment=analysis.assessment, x=x,
                            page_size=page_size)
    save_figure(figure, output, dpi=dpi)
    return analysis


def pseudonymize_analysis(analysis: Analysis, *, key: bytes) -> Analysis:
    """A copy of ``analysis`` fit for sharing: keyed pseudonyms for patient IDs, days for dates.

    Every table (measurements, patients, therapy, issues, row accounting, files and the
    assessment) goes through :mod:`markers.privacy.pseudonym`: patient IDs become
    ``P-`` + 12 hex digits of HMAC-SHA-256 under ``key``; every date column becomes days
    since the patient's diagnosis (``sample_date`` -> ``sample_day``); dates of birth are
    dropped; IDs and dates inside free text are scrubbed. Everything written from the
    result (tables, figures, PDF text and metadata, PNG names) then carries no identity.
    """
    from dataclasses import replace

    from markers.privacy.pseudonym import pseudonymize_with

    # one pass: the patients, therapy and issue tables are shared by the dataset and the analysis
    dataset, tables = pseudonymize_with(
        analysis.dataset, key=key, extra={"flagged": analysis.measurements, "assessment": analysis.assessment})
    return replace(analysis, dataset=dataset, measurements=tables["flagged"], assessment=tables["assessment"])
