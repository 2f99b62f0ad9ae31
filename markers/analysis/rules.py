"""The tunable clinical rules of the assessment, with their defaults (see docs/clinical-rules.md)."""

from __future__ import annotations

from dataclasses import dataclass

from markers.errors import ConfigError
from markers.schema import EVENTS

__all__ = ["PERSISTENCE_SOURCE", "TREATMENT_EVENTS", "AssessmentRules"]

#: Events that are a treatment of any kind: the baseline window closes at the first of them.
TREATMENT_EVENTS = ("therapy_start", "surgery", "consolidation", "radiotherapy", "maintenance")

#: Where the default persistence milestone comes from (domain facts §4 and §6, source S13).
PERSISTENCE_SOURCE = (
    "Matser et al., J Clin Oncol 2025 [S13]: positive status (any of 8 metabolites above its age limit) "
    "in complete remission predicted relapse (EFS 38% vs 80%); positivity at diagnosis, during therapy "
    "and at end of treatment was not associated with EFS/OS"
)


@dataclass(frozen=True)
class AssessmentRules:
    """The tunable rules of :func:`markers.analysis.assess.assess`.

    Every default, its source and its strength are listed in ``docs/clinical-rules.md``.

    Raises
    ------
    ConfigError
        When a milestone is not an event code, a window is negative, a count is below 1,
        or an option is not one of its values.

    Examples
    --------
    >>> AssessmentRules().persistence_milestones
    ('complete_remission',)
    """

    baseline_window_before_days: int = 30
    late_baseline_days: int = 14
    milestone_window_days: int = 30
    milestones: tuple[str, ...] = ("surgery", "end_of_induction", "complete_remission", "end_of_therapy")
    #: milestones at which an elevated marker makes the patient ``persistent`` (Matser 2025 [S13])
    persistence_milestones: tuple[str, ...] = ("complete_remission",)
    normalized_consecutive: int = 2
    reelevation_consecutive: int = 2
    #: a documented option, off by default: one sample at or above this multiple of the ULN confirms a
    #: re-elevation on its own (the 3x cut-off comes from a catecholamine text [S16], not surveillance)
    reelevation_single_x_uln: float | None = None
    low_ratio_cutoff: float = 1.5  # VMA/HVA mass ratio; secondary source S24, units unstated
    #: the half-life fit ends at the first normal sample ("first_normal") or at the sample before it
    kinetics_end: str = "first_normal"
    #: samples left out of the half-life fit: (patient_id, analyte or "", "YYYY-MM-DD") triples
    kinetics_exclude: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        unknown = [m for m in (*self.milestones, *self.persistence_milestones) if m not in EVENTS]
        if unknown:
            raise ConfigError(
                f"AssessmentRules milestones: {', '.join(repr(m) for m in unknown)} not event code(s); "
                f"use codes from: {', '.join(EVENTS)}."
            )
        counts = {
            "baseline_window_before_days": self.baseline_window_before_days,
            "late_baseline_days": self.late_baseline_days,
            "milestone_window_days": self.milestone_window_days,
        }
        for name, value in counts.items():
            if value < 0:
                raise ConfigError(f"AssessmentRules.{name} must be 0 or more days, not {value}.")
        for name in ("reelevation_consecutive", "normalized_consecutive"):
            if getattr(self, name) < 1:
                raise ConfigError(f"AssessmentRules.{name} must be at least 1, not {getattr(self, name)}.")
        if self.kinetics_end not in ("first_normal", "before_first_normal"):
            raise ConfigError(
                f"AssessmentRules.kinetics_end must be 'first_normal' or 'before_first_normal', "
                f"not {self.kinetics_end!r}."
            )
        if self.reelevation_single_x_uln is not None and not self.reelevation_single_x_uln > 1:
            raise ConfigError(
                f"AssessmentRules.reelevation_single_x_uln must be above 1 (a multiple of the ULN) or None, "
                f"not {self.reelevation_single_x_uln}."
            )

    @property
    def all_milestones(self) -> tuple[str, ...]:
        """Milestones reported: :attr:`milestones`, then persistence milestones not among them."""
        return tuple(dict.fromkeys((*self.milestones, *self.persistence_milestones)))
