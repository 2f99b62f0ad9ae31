"""The API's writing commands: a table, the PDF or HTML report, one patient's figure."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from markers.pipeline.core import Analysis, analyse, day_form, prepare, pseudonymize_analysis, pseudonymized
from markers.pipeline.runs import date_free_files, guard_outputs, options_record, path_list, provenance_of

TABLES = {"measurements": "the flagged tidy measurements", "assessment": "the per-patient assessment",
          "patient_status": "the patient-level panel status"}


def write_analysis_table(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    table: str = "measurements",
    safe_csv: bool = False,
    shape: str = "tidy",
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
) -> Analysis:
    """Analyse ``paths`` and write one of its tables to ``output`` (the extension chooses the format).

    Parameters
    ----------
    paths
        Input files.
    output
        The table file; the extension chooses the format. Written atomically with its provenance
        (markers version, the inputs' SHA-256, reference set, options); an input is never overwritten.
    table
        ``"measurements"`` (the flagged tidy table, one row per measurement) or ``"assessment"``
        (one row per patient and analyte) or ``"patient_status"`` (one row per patient).
    safe_csv
        Prefix text cells starting with ``= + - @`` by ``'`` in CSV/TSV output.
    shape
        ``"tidy"`` or ``"adam"`` (the measurements as an ADLB-like table, see ``docs/adam.md``).
        ``*.fhir.json``/``*.ndjson`` outputs are FHIR R4 (see :mod:`markers.write.fhir`).
    pseudonymize
        A key file: write pseudonyms and days instead of patient IDs and dates.
    **analyse_options
        ``unit``, ``config``, ``day_first``, ``reference_set``, ``reference``, ``rules``: see :func:`analyse`.

    Returns
    -------
    Analysis
        What was written from; for an assessment written to CSV/TSV, its columns of words are
        Categoricals (``analyse(..., categorical_text=True)``).
    """
    from markers.write.export import export_table
    from markers.write.guard import os_errors

    if table not in TABLES:
        raise ValueError(f"table must be one of {sorted(TABLES)}, not {table!r}")
    guard_outputs([(output, "output")], paths, pseudonymize, analyse_options)
    # compute only what is written: the measurements table needs no assessment; the CSV/TSV writer
    # formats each word of a Categorical once, so the assessment's words stay codes on their way to
    # the file (the same bytes as from text: 100,000 courses' sentences are neither made nor hashed)
    categorical = table == "assessment" and pseudonymize is None and Path(output).suffix.lower() in (".csv", ".tsv")
    analysis = prepare(paths, pseudonymize=pseudonymize, assess=table != "measurements",
                       categorical_text=categorical, **analyse_options)
    provenance = provenance_of(analysis, paths, pseudonymize, options_record(
        table=table, safe_csv=safe_csv, shape=shape, pseudonymized=pseudonymize is not None, **analyse_options))
    frame = getattr(analysis, table)
    if table == "assessment":
        from markers.report.summary import rounded

        frame = rounded(frame)  # 9.31, not 9.312962962962963: the unrounded numbers stay in analysis
    with os_errors(output):
        export_table(frame, output, table=table, shape=shape, inputs=paths, safe_csv=safe_csv,
                     provenance=provenance)
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
        The analysis and the number of PDF pages written (1 for an HTML report: an ``output``
        ending in ``.html`` or ``.htm`` is written by :func:`write_html` instead).
    """
    from markers.report.html import is_html_path
    from markers.report.writers import write_pdf_report

    if is_html_path(output):  # report.html: the self-contained HTML report, one page
        return write_html(paths, output, title=title, page_size=page_size, png_dir=png_dir, dpi=dpi, jobs=jobs,
                          progress=progress, pseudonymize=pseudonymize, **analyse_options)[0], 1
    paths = path_list(paths)
    guard_outputs([(output, "report"), (png_dir, "PNG folder")], paths, pseudonymize, analyse_options)
    analysis = analyse(paths, **analyse_options)
    outcome = report_outcomes(analysis)  # before pseudonymization: it needs the dates
    analysis = pseudonymized(day_form(analysis), pseudonymize)
    # provenance in the PDF's own metadata too, so the file can be traced without its cover page
    provenance = provenance_of(analysis, paths, pseudonymize,
                             options_record(page_size=page_size, pseudonymized=pseudonymize is not None, **analyse_options))
    n_pages = write_pdf_report(analysis, output, inputs=paths, provenance=provenance, title=title,
                               page_size=page_size, png_dir=png_dir, dpi=dpi, jobs=jobs, progress=progress,
                               outcomes=outcome)
    return analysis, n_pages


def report_outcomes(analysis: Analysis):
    """The outcome analysis for the report's outcome pages, or None when the input holds no outcome."""
    from markers.analysis.day_events import on_day_calendar
    from markers.analysis.outcomes import has_outcome_data, outcomes_of_analysis

    dataset = analysis.dataset
    therapy = on_day_calendar(dataset.therapy)  # a date-free table's days since diagnosis, as the dates it needs
    if not has_outcome_data(dataset.patients, therapy):
        return None
    return outcomes_of_analysis(analysis.assessment, patients=dataset.patients, therapy=therapy)


def write_html(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    title: str = "markers report",
    page_size: str = "A4",
    png_dir: str | os.PathLike | None = None,
    dpi: int = 150,
    jobs: int | None = None,
    progress=None,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
) -> tuple[Analysis, int]:
    """Analyse ``paths`` and write the HTML report: one self-contained file that works offline.

    Cover with the inputs' SHA-256, the cohort table (sortable, filterable by status and marker,
    searchable by patient ID), the cohort figures, a section per patient and the issues; see
    :mod:`markers.report.html`. Written atomically. Parameters as for :func:`write_report`
    (``page_size``, ``png_dir``, ``dpi`` and ``jobs`` concern the optional PNG files only).

    Returns
    -------
    (Analysis, int)
        The analysis and the size of the file in bytes.
    """
    from markers.report.writers import write_html_document

    paths = path_list(paths)
    guard_outputs([(output, "report"), (png_dir, "PNG folder")], paths, pseudonymize, analyse_options)
    analysis = analyse(paths, **analyse_options)
    outcome = report_outcomes(analysis) if png_dir is not None else None  # the PNGs have its pages
    analysis = pseudonymized(day_form(analysis), pseudonymize)
    size = write_html_document(analysis, output, inputs=paths, title=title, page_size=page_size, png_dir=png_dir,
                               dpi=dpi, jobs=jobs, progress=progress, outcomes=outcome)
    return analysis, size


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
    from markers.errors import ConfigError, InputFormatError
    from markers.plot.date_free import is_date_free
    from markers.report.writers import write_patient_page

    paths = path_list(paths)
    guard_outputs([(output, "figure")], paths, pseudonymize, analyse_options)
    analysis = analyse(paths, **analyse_options)
    if x == "date" and is_date_free(analysis.measurements):
        raise InputFormatError(f"{date_free_files(analysis)}: the results have no calendar dates (age at sample or "
                               "days since diagnosis only): plot them on days since diagnosis (--x day).")
    known = sorted(set(analysis.measurements["patient_id"]))
    if patient not in known:
        listed = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
        raise ConfigError(f"patient {patient!r} has no measurements in the input; patients: {listed}.")
    analysis = day_form(analysis)
    if pseudonymize is not None:
        from markers.privacy.pseudonym import load_or_create_key, pseudonym

        key = load_or_create_key(pseudonymize)
        analysis = pseudonymize_analysis(analysis, key=key)
        patient = pseudonym(patient, key=key)
    write_patient_page(analysis, output, patient=patient, x=x, page_size=page_size, dpi=dpi)
    return analysis
