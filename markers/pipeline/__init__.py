"""The whole analysis in one call: read → flag → timeline → assess, and the commands that write it.

Notebooks and the CLI both use :func:`analyse`; each stage is also a public
function of its own module for those who want to go step by step. The API is
cut in three: the analysis (:mod:`.core`), the writing commands
(:mod:`.commands`) and the outcome commands (:mod:`.outcome_commands`);
everything public is importable from ``markers.pipeline`` itself.
"""

from markers.pipeline.commands import (
    TABLES,
    write_analysis_table,
    write_html,
    write_patient_figure,
    write_report,
)
from markers.pipeline.core import Analysis, analyse, day_form, prepare, pseudonymize_analysis
from markers.pipeline.outcome_commands import outcomes, write_outcomes

__all__ = [
    "TABLES",
    "Analysis",
    "analyse",
    "day_form",
    "outcomes",
    "prepare",
    "pseudonymize_analysis",
    "write_analysis_table",
    "write_html",
    "write_outcomes",
    "write_patient_figure",
    "write_report",
]
