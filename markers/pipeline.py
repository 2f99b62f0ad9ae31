"""The whole analysis in one call: read → flag → timeline → assess.

Notebooks and the CLI both use :func:`analyse`; each stage is also a public
function of its own module for those who want to go step by step.
"""

from __future__ import annotations

import datetime as dt
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
        One row per patient × analyte (see :func:`markers.analysis.assess.assess`); ``None`` when
        :func:`analyse` was asked not to assess (``assess=False``).
    limits
        The reference limits applied.
    reference_set
        Name of the reference set (or the user's file name).
    """

    dataset: Dataset
    measurements: pd.DataFrame
    assessment: pd.DataFrame | None
    limits: pd.DataFrame
    reference_set: str
    rules: object = None
    #: The patient-level status as carried through pseudonymization (``None``: computed from ``assessment``).
    panel: pd.DataFrame | None = None

    @property
    def patient_status(self) -> pd.DataFrame:
        """One row per patient: panel status at each milestone (:func:`markers.analysis.panel.patient_status`).

        In a pseudonymized analysis ``unconfirmed_rise_date`` is ``unconfirmed_rise_day`` (days since the
        patient's anchor, as every other date), computed before the dates were removed.
        """
        if self.panel is not None:
            return self.panel.copy()
        from markers.analysis.panel import patient_status

        return patient_status(self.assessment, rules=self.rules)

    def __repr__(self) -> str:
        """A few lines: counts, reference set, issues by code and a table of patients per analyte."""
        from markers.report.summary import analysis_summary

        return analysis_summary(self)

    def _repr_html_(self) -> str:
        """The same summary for Jupyter, as a small HTML fragment."""
        from markers.report.summary import analysis_summary

        return analysis_summary(self, html=True)

    def plot_patient(self, patient: str, *, y: str = "x_uln", x: str = "day", ax=None, **kwargs):
        """Plot one patient's markers with its therapy, date of birth and assessment taken from here.

        :func:`markers.plot.patient.plot_marker_trend` with ``therapy``, ``patients`` and
        ``assessment`` filled in; ``y="value"`` plots the values with the ULN steps. Draws on
        ``plt.gca()`` when no ``ax`` is given, and returns the Axes.

        Examples
        --------
        >>> ax = markers.analyse(files).plot_patient("NB-009")  # doctest: +SKIP
        """
        from markers.plot.patient import plot_marker_trend

        drawn = day_form(self)  # a date-free analysis is drawn on its days since diagnosis
        return plot_marker_trend(drawn.measurements, patient=patient, x=x, y=y, therapy=drawn.dataset.therapy,
                                 patients=drawn.dataset.patients, assessment=drawn.assessment, ax=ax, **kwargs)


def analyse(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    unit: str = "mg/g",
    config: Config | str | os.PathLike | None = None,
    day_first: bool | None = None,
    reference_set: str | None = None,
    reference: str | os.PathLike | None = None,
    limits: str = "set",
    rules=None,
    today: dt.date | None = None,
    assess: bool = True,
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
    limits
        ``"set"`` (default): grade against the reference set (or ``reference``). ``"reported"``:
        grade each result against its reporting lab's own range (``reported_uln``: a reference-range
        column, HL7 OBX-7, SDTM LBORNRHI, FHIR referenceRange.high) and against the set where a
        result has none; a notice says how many of each (``reference_set="reported"`` is the same).
    rules
        :class:`markers.analysis.assess.AssessmentRules` to change the assessment's defaults.
    assess
        ``False`` stops after the timeline (``Analysis.assessment`` is then ``None``): for
        callers that write the measurements only and need not pay for the assessment.

    Returns
    -------
    Analysis
    """
    from markers.analysis.choices import chosen_limits, notice_reported_ranges, notice_undated, with_config
    from markers.analysis.day_events import phases_on_days
    from markers.analysis.flags import flag
    from markers.analysis.timeline import add_timeline
    from markers.ingest.config import load_config

    config = config if isinstance(config, Config) else load_config(config)
    table, name, reported = chosen_limits(limits=limits, reference_set=reference_set, reference=reference)
    dataset = read(paths, unit=unit, config=config, day_first=day_first, today=today)
    dataset.require_measurements()
    rules = with_config(rules, config)
    flagged = flag(dataset.measurements, limits=table, prefer_reported=reported)
    notice_reported_ranges(dataset.measurements, limits=table, name=name, chosen=reported)
    notice_undated(dataset.measurements)
    timed = add_timeline(flagged, therapy=dataset.therapy, patients=dataset.patients)
    timed = phases_on_days(timed, therapy=dataset.therapy)  # date-free results: the phases from the days
    assessment = None
    if assess:
        from markers.analysis.assess import assess as assess_patients

        assessment = assess_patients(timed, therapy=dataset.therapy, patients=dataset.patients, rules=rules)
    return Analysis(dataset=dataset, measurements=timed, assessment=assessment, limits=table, reference_set=name,
                    rules=rules)


def day_form(analysis: Analysis) -> Analysis:
    """A date-free analysis (no result has a calendar date) in the day form the pages draw.

    Its tables get ``<stem>_day`` columns (days since diagnosis) instead of the empty date columns,
    as pseudonymised tables have (:mod:`markers.plot.date_free`); figures, tables and headings
    then speak in days since diagnosis. A dated analysis is returned as it is.
    """
    from markers.plot.date_free import in_days

    return in_days(analysis)


def _date_free_files(analysis: Analysis) -> str:
    """The input files the (date-free) results come from, for an error message."""
    return ", ".join(sorted(set(analysis.measurements["source_file"].astype(str))))


def _path_list(paths) -> list:
    """``paths`` as a list: one path or several."""
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def _provenance(analysis: Analysis, paths: list, pseudonymize, options: dict) -> dict:
    """How an output was made (markers' version, the inputs' SHA-256, reference set, options); under
    pseudonymisation the inputs are named by label and SHA-256, never by file name."""
    from markers.write.output import provenance_record

    record = provenance_record(inputs=list(paths), options=options, reference_set=analysis.reference_set,
                               checksums=_checksums(analysis))
    if pseudonymize is None:
        return record
    from markers.privacy.pseudonym import pseudonymous_provenance

    return pseudonymous_provenance(record)


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
    created when it does not exist yet) when that is given: where the table writers start. A date-free
    analysis is pseudonymized in its day form (:func:`day_form`): its days stay, as the report's do."""
    analysis = analyse(paths, **analyse_options)
    return analysis if pseudonymize is None else _pseudonymized(day_form(analysis), pseudonymize)


def _pseudonymized(analysis: Analysis, pseudonymize: str | os.PathLike | None) -> Analysis:
    """The analysis under the key in the file ``pseudonymize`` (created when missing), or as it is."""
    if pseudonymize is None:
        return analysis
    from markers.privacy.pseudonym import load_or_create_key

    return pseudonymize_analysis(analysis, key=load_or_create_key(pseudonymize))


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
    """
    from markers.write.export import export_table
    from markers.write.guard import os_errors

    if table not in TABLES:
        raise ValueError(f"table must be one of {sorted(TABLES)}, not {table!r}")
    _check_outputs([(output, "output")], paths, pseudonymize, analyse_options)
    # compute only what is written: the measurements table needs no assessment
    analysis = prepare(paths, pseudonymize=pseudonymize, assess=table != "measurements", **analyse_options)
    provenance = _provenance(analysis, paths, pseudonymize, _options(
        table=table, safe_csv=safe_csv, shape=shape, pseudonymized=pseudonymize is not None, **analyse_options))
    frame = getattr(analysis, table)
    if table == "assessment":
        from markers.report.summary import rounded

        frame = rounded(frame)  # 9.31, not 9.312962962962963: the unrounded numbers stay in analysis
    with os_errors(output):
        export_table(frame, output, table=table, shape=shape, inputs=paths, safe_csv=safe_csv,
                     provenance=provenance)
    return analysis


def _check_outputs(outputs: list, paths, key_file, analyse_options: dict) -> None:
    """Refuse, before any work, outputs that would overwrite what the run reads or cannot be written."""
    from markers.write.guard import check_outputs

    inputs = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    check_outputs([(o, role) for o, role in outputs if o is not None], inputs=inputs,
                  config=analyse_options.get("config"), reference=analyse_options.get("reference"),
                  key_file=key_file)


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
    paths = _path_list(paths)
    _check_outputs([(output, "report"), (png_dir, "PNG folder")], paths, pseudonymize, analyse_options)
    analysis = analyse(paths, **analyse_options)
    outcome = _report_outcomes(analysis)  # before pseudonymization: it needs the dates
    analysis = _pseudonymized(day_form(analysis), pseudonymize)
    # provenance in the PDF's own metadata too, so the file can be traced without its cover page
    provenance = _provenance(analysis, paths, pseudonymize,
                             _options(page_size=page_size, pseudonymized=pseudonymize is not None, **analyse_options))
    n_pages = write_pdf_report(analysis, output, inputs=paths, provenance=provenance, title=title,
                               page_size=page_size, png_dir=png_dir, dpi=dpi, jobs=jobs, progress=progress,
                               outcomes=outcome)
    return analysis, n_pages


def _report_outcomes(analysis: Analysis):
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

    paths = _path_list(paths)
    _check_outputs([(output, "report"), (png_dir, "PNG folder")], paths, pseudonymize, analyse_options)
    analysis = analyse(paths, **analyse_options)
    outcome = _report_outcomes(analysis) if png_dir is not None else None  # the PNGs have its pages
    analysis = _pseudonymized(day_form(analysis), pseudonymize)
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

    paths = _path_list(paths)
    _check_outputs([(output, "figure")], paths, pseudonymize, analyse_options)
    analysis = analyse(paths, **analyse_options)
    if x == "date" and is_date_free(analysis.measurements):
        raise InputFormatError(f"{_date_free_files(analysis)}: the results have no calendar dates (age at sample or "
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


def pseudonymize_analysis(analysis: Analysis, *, key: bytes) -> Analysis:
    """A copy of ``analysis`` fit for sharing: keyed pseudonyms for patient IDs, days for dates.

    Every table (measurements, patients, therapy, issues, row accounting, files and the
    assessment) goes through :mod:`markers.privacy.pseudonym`: patient IDs become
    ``P-`` + 12 hex digits of HMAC-SHA-256 under ``key``; every date column becomes days
    since the patient's diagnosis (``sample_date`` -> ``sample_day``); dates of birth are
    dropped; IDs and dates inside free text are scrubbed. Everything written from the
    result (tables, figures, PDF text and metadata, PNG names) then carries no identity.
    """
    from markers.privacy.shared import pseudonymized_analysis

    return pseudonymized_analysis(analysis, key=key)


def _outcomes(paths, *, landmarks: Sequence[str], min_patients: int, min_events: int,
              pseudonymize: str | os.PathLike | None, **analyse_options):
    """(Analysis, Outcomes): the landmarks added to the rules' milestones; pseudonyms when asked."""
    from dataclasses import replace

    from markers.analysis.assess import AssessmentRules
    from markers.analysis.day_events import on_day_calendar
    from markers.analysis.outcomes import outcomes_of_analysis

    rules = analyse_options.pop("rules", None) or AssessmentRules()
    chosen = [m for m in landmarks if m != "diagnosis"]
    rules = replace(rules, milestones=tuple(dict.fromkeys((*rules.milestones, *chosen))))
    analysis = analyse(paths, rules=rules, **analyse_options)
    result = outcomes_of_analysis(analysis.assessment, patients=analysis.dataset.patients,
                                  therapy=on_day_calendar(analysis.dataset.therapy), landmarks=chosen, rules=rules,
                                  min_patients=min_patients, min_events=min_events)
    if pseudonymize is not None:
        from markers.privacy.pseudonym import load_or_create_key
        from markers.privacy.shared import pseudonymized_outcomes

        result = pseudonymized_outcomes(result, key=load_or_create_key(pseudonymize))
    return analysis, result


def outcomes(
    paths: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    landmarks: Sequence[str] = ("end_of_induction", "complete_remission"),
    min_patients: int = 10,
    min_events: int = 5,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
):
    """Analyse ``paths``, then EFS and OS from diagnosis and at each landmark by marker status there.

    Parameters
    ----------
    paths
        Input files with the measurements, the patients sheet (outcome columns, age, stage, MYCN)
        and the therapy events (milestones, relapse, progression, second malignancy, death, last
        follow-up).
    landmarks
        Milestone event codes (``markers.schema.EVENTS``); the analysis from diagnosis always comes first.
    min_patients, min_events
        Below these (per group; events in both groups together) no test is computed.
    pseudonymize
        A key file: keyed pseudonyms instead of patient IDs in the per-patient table.
    **analyse_options
        ``unit``, ``config``, ``day_first``, ``reference_set``, ``reference``, ``rules``: see :func:`analyse`.
        The landmarks are added to the rules' milestones.

    Returns
    -------
    markers.analysis.outcomes.Outcomes
        ``patients``, ``curves``, ``tests`` and ``estimates`` tables, and the outcome issue records.
    """
    return _outcomes(paths, landmarks=landmarks, min_patients=min_patients, min_events=min_events,
                     pseudonymize=pseudonymize, **analyse_options)[1]


def write_outcomes(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    landmarks: Sequence[str] = ("end_of_induction", "complete_remission"),
    min_patients: int = 10,
    min_events: int = 5,
    pseudonymize: str | os.PathLike | None = None,
    **analyse_options,
):
    """:func:`outcomes`, written to ``output``: ``.json`` (lists ``patients``, ``curves``, ``tests``,
    ``estimates``), ``.xlsx`` (the same as sheets) or ``.csv``/``.tsv`` (the ``tests`` table), with
    its provenance. Returns the :class:`~markers.analysis.outcomes.Outcomes`."""
    from pathlib import Path

    from markers.write.output import write_table, write_tables

    paths = _path_list(paths)
    analysis, result = _outcomes(paths, landmarks=landmarks, min_patients=min_patients, min_events=min_events,
                                 pseudonymize=pseudonymize, **analyse_options)
    provenance = _provenance(analysis, paths, None, _options(  # the outcome tables name their inputs as given
        landmarks=list(landmarks), min_patients=min_patients, min_events=min_events,
        pseudonymized=pseudonymize is not None, **analyse_options))
    if Path(output).suffix.lower() in (".csv", ".tsv"):
        write_table(result.tests, output, inputs=paths, provenance=provenance, sheet_name="tests")
    else:
        write_tables(result.tables(), output, inputs=paths, provenance=provenance)
    return result
