"""The object that ingestion returns: every table markers knows about one read."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from markers.schema import ISSUE_COLUMNS, MASS_RATIO, MEASUREMENT_COLUMNS, PATIENT_COLUMNS, THERAPY_COLUMNS


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class Dataset:
    """Tidy tables read from one or more input files.

    Attributes
    ----------
    measurements
        One row per measurement (``markers.schema.MEASUREMENT_COLUMNS``).
    patients
        One row per patient (``PATIENT_COLUMNS``), from patients sheets.
    therapy
        One row per therapy event (``THERAPY_COLUMNS``).
    issues
        One row per issue record (``ISSUE_COLUMNS``): code, severity, location.
    rows
        Row accounting: one row per source row with ``file``, ``sheet``,
        ``row``, ``status`` (kept/rejected/skipped) and ``reason``.
    files
        One row per input file: ``file``, ``path``, ``sha256``, ``format``.
    unit
        The output unit of ``measurements.value``.
    """

    measurements: pd.DataFrame = field(default_factory=lambda: _empty(MEASUREMENT_COLUMNS))
    patients: pd.DataFrame = field(default_factory=lambda: _empty(PATIENT_COLUMNS))
    therapy: pd.DataFrame = field(default_factory=lambda: _empty(THERAPY_COLUMNS))
    issues: pd.DataFrame = field(default_factory=lambda: _empty(ISSUE_COLUMNS))
    rows: pd.DataFrame = field(default_factory=lambda: _empty(["file", "sheet", "row", "status", "reason"]))
    files: pd.DataFrame = field(default_factory=lambda: _empty(["file", "path", "sha256", "format"]))
    unit: str = MASS_RATIO

    def counts(self) -> pd.DataFrame:
        """Rows read, kept, rejected and skipped per file (the accounting identity holds per row)."""
        if self.rows.empty:
            return pd.DataFrame(columns=["file", "read", "kept", "rejected", "skipped"])
        table = (
            self.rows.groupby(["file", "status"], sort=False).size().unstack(fill_value=0)
            .reindex(columns=["kept", "rejected", "skipped"], fill_value=0)
        )
        table.insert(0, "read", table.sum(axis=1))
        return table.reset_index()

    @property
    def n_rejected(self) -> int:
        return int((self.rows["status"] == "rejected").sum()) if len(self.rows) else 0

    def _summary(self) -> tuple[str, list[tuple[str, str]], pd.DataFrame]:
        from markers.ingest.display import row_counts

        n_patients = self.measurements["patient_id"].nunique() if len(self.measurements) else 0
        rows = row_counts(self.rows)
        facts = [("measurements", f"{len(self.measurements)} in {self.unit}"),
                 ("rows read", f"{rows['read']} = {rows['kept']} kept + {rows['rejected']} rejected "
                               f"+ {rows['skipped']} skipped"),
                 ("therapy events", str(len(self.therapy)))]
        per_file = self.counts()
        if len(per_file) > _SHOWN_FILES:
            facts.append(("files", f"{len(per_file)} (the first {_SHOWN_FILES} below)"))
        return f"Dataset: {n_patients} patients", facts, per_file.head(_SHOWN_FILES)

    def __repr__(self) -> str:
        """A few lines: counts, issues by code and rows per file (``print(dataset.measurements)`` shows the data)."""
        from markers.ingest.display import text_summary

        heading, facts, table = self._summary()
        return text_summary(heading, facts, table, issues=self.issues)

    def _repr_html_(self) -> str:
        """The same summary for Jupyter, as a small HTML fragment."""
        from markers.ingest.display import html_summary

        heading, facts, table = self._summary()
        return html_summary(heading, facts, table, issues=self.issues)


#: Files listed in a dataset's summary.
_SHOWN_FILES = 10
