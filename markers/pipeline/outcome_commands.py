"""The API's outcome commands: EFS and OS by marker status at each landmark, and their tables."""

from __future__ import annotations

import os
from collections.abc import Sequence

from markers.pipeline.core import analyse
from markers.pipeline.runs import guard_outputs, options_record, path_list, provenance_of


def _run_outcomes(paths, *, landmarks: Sequence[str], min_patients: int, min_events: int,
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
    return _run_outcomes(paths, landmarks=landmarks, min_patients=min_patients, min_events=min_events,
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

    paths = path_list(paths)
    guard_outputs([(output, "output")], paths, pseudonymize, analyse_options)
    analysis, result = _run_outcomes(paths, landmarks=landmarks, min_patients=min_patients, min_events=min_events,
                                    pseudonymize=pseudonymize, **analyse_options)
    provenance = provenance_of(analysis, paths, pseudonymize, options_record(
        landmarks=list(landmarks), min_patients=min_patients, min_events=min_events,
        pseudonymized=pseudonymize is not None, **analyse_options))
    if Path(output).suffix.lower() in (".csv", ".tsv"):
        write_table(result.tests, output, inputs=paths, provenance=provenance, sheet_name="tests")
    else:
        write_tables(result.tables(), output, inputs=paths, provenance=provenance)
    return result
