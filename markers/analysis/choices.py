"""What a run chooses before it flags (the limits, the rules) and the notices it gives about its data.

:func:`markers.pipeline.analyse` reads the inputs and then asks here: which limits grade the
results (a shipped reference set, the user's own file, or each result's own reported range
with a set where a result has none), which rules assess them (the config file's kinetics
exclusions added), and what the user should be told (results graded differently by the lab's
range; results without calendar dates).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace

import pandas as pd

from markers.analysis.reference import DEFAULT_REFERENCE_SET, load_reference_limits
from markers.analysis.reported import REPORTED, grade_disagreements
from markers.errors import ConfigError
from markers.schema import DAYS_SINCE_DIAGNOSIS, SAMPLE_DATE

__all__ = ["LIMITS", "chosen_limits", "notice_reported_ranges", "notice_undated", "with_config"]

#: What grades the results: the reference set's limits, or each result's reported range (the set as fallback).
LIMITS = ("set", REPORTED)


def chosen_limits(*, limits: str = "set", reference_set: str | None = None,
                  reference: str | os.PathLike | None = None) -> tuple[pd.DataFrame, str, bool]:
    """``(limits table, its name, grade against the reported range first)`` for a run.

    ``limits="reported"`` grades each result against its lab's own range and, where a result has
    none, against ``reference`` or ``reference_set`` (default :data:`DEFAULT_REFERENCE_SET`).
    ``reference_set="reported"`` is the same as ``limits="reported"`` (its earlier spelling).

    Examples
    --------
    >>> chosen_limits(limits="reported")[1:]
    ('reported range (else ARUP-3018863)', True)
    """
    if limits not in LIMITS:
        raise ConfigError(f"limits={limits!r} is not one of {', '.join(map(repr, LIMITS))}.")
    if reference_set == REPORTED:  # the earlier spelling of limits="reported"
        limits, reference_set = REPORTED, None
    if reference is not None:
        table, name = load_reference_limits(path=reference), os.path.basename(os.fspath(reference))
    else:
        table, name = load_reference_limits(reference_set=reference_set), reference_set or DEFAULT_REFERENCE_SET
    if limits == REPORTED:
        return table, f"reported range (else {name})", True
    return table, name, False


def with_config(rules, config):
    """The assessment rules with the config file's ``[kinetics] exclude`` samples added."""
    if not config.kinetics_exclude:
        return rules
    from markers.analysis.rules import AssessmentRules

    base = rules if rules is not None else AssessmentRules()
    return replace(base, kinetics_exclude=(*base.kinetics_exclude, *config.kinetics_exclude))


def notice_reported_ranges(measurements: pd.DataFrame, *, limits: pd.DataFrame, name: str, chosen: bool) -> None:
    """Say how many results carry the lab's own range and how many it grades differently."""
    with_range, differ = grade_disagreements(measurements, limits=limits)
    if not with_range:
        return
    if chosen:
        fallback = len(measurements) - with_range
        warnings.warn(f"{with_range} results graded against the reporting lab's own range; {fallback} without one "
                      f"against the reference set; {differ} of the {with_range} would be graded differently by the set.",
                      UserWarning, stacklevel=3)
    elif differ:
        warnings.warn(f"{differ} of {with_range} results with the lab's own range are graded differently by {name}; "
                      "use --limits reported to grade them against the lab's range.", UserWarning, stacklevel=3)


def notice_undated(measurements: pd.DataFrame) -> None:
    """Say that date-free results are flagged by age and assessed on days since diagnosis, not dates."""
    no_date = measurements[SAMPLE_DATE].isna()
    undated = int(no_date.sum())
    if undated:
        dayless = int((no_date & measurements[DAYS_SINCE_DIAGNOSIS].isna()).sum()) \
            if DAYS_SINCE_DIAGNOSIS in measurements else undated
        unplaced = f"; {dayless} without a day since diagnosis are not assessed" if dayless else ""
        warnings.warn(f"{undated} results without calendar dates are flagged by age and placed and assessed by "
                      f"days since diagnosis (the assessment gives days, not dates){unplaced}.",
                      UserWarning, stacklevel=3)
