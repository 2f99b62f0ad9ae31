"""The analysis object and :func:`analyse`: read → flag → timeline → assess, in one call."""

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
    categorical_text: bool = False,
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
    categorical_text
        ``True``: the assessment's columns of words (statuses, notes, summaries) as pandas
        Categoricals (see :func:`markers.analysis.assess.assess`): the same values in a fraction of
        the memory.

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

        assessment = assess_patients(timed, therapy=dataset.therapy, patients=dataset.patients, rules=rules,
                                     categorical_text=categorical_text)
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
    return analysis if pseudonymize is None else pseudonymized(day_form(analysis), pseudonymize)


def pseudonymized(analysis: Analysis, pseudonymize: str | os.PathLike | None) -> Analysis:
    """The analysis under the key in the file ``pseudonymize`` (created when missing), or as it is."""
    if pseudonymize is None:
        return analysis
    from markers.privacy.pseudonym import load_or_create_key

    return pseudonymize_analysis(analysis, key=load_or_create_key(pseudonymize))


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
