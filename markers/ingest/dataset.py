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
    seen
        One line per sheet read: how markers understood it (headers, roles), for the error
        of a run without measurements (:meth:`require_measurements`).
    """

    measurements: pd.DataFrame = field(default_factory=lambda: _empty(MEASUREMENT_COLUMNS))
    patients: pd.DataFrame = field(default_factory=lambda: _empty(PATIENT_COLUMNS))
    therapy: pd.DataFrame = field(default_factory=lambda: _empty(THERAPY_COLUMNS))
    issues: pd.DataFrame = field(default_factory=lambda: _empty(ISSUE_COLUMNS))
    rows: pd.DataFrame = field(default_factory=lambda: _empty(["file", "sheet", "row", "status", "reason"]))
    files: pd.DataFrame = field(default_factory=lambda: _empty(["file", "path", "sha256", "format"]))
    unit: str = MASS_RATIO
    seen: tuple[str, ...] = ()

    def require_measurements(self) -> None:
        """Raise :class:`~markers.errors.NoMeasurementsError` when no row became a measurement.

        The message lists what was seen in every sheet and what to map.
        """
        if len(self.measurements):
            return
        from markers.errors import NoMeasurementsError

        names = ", ".join(self.files["file"]) if len(self.files) else "the input"
        raise NoMeasurementsError(
            f"no measurements found in {names}. Seen: " + ("; ".join(self.seen) or "nothing") + ". "
            "A results sheet needs a patient ID column, a sample date (or age) column and either one column "
            "per analyte with its unit ('VMA (mg/g creat)') or a test column with a result column; map other "
            "headers in the config file's [columns] table, e.g. \"Probe\" = \"sample_id\"; "
            "run `markers validate` to see every row's status.")

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

    def __repr__(self) -> str:
        """A few lines: counts, issues by code and rows per file (``print(dataset.measurements)`` shows the data)."""
        from markers.ingest.display import dataset_facts, text_summary

        heading, facts, table = dataset_facts(self)
        return text_summary(heading, facts, table, issues=self.issues)

    def _repr_html_(self) -> str:
        """The same summary for Jupyter, as a small HTML fragment."""
        from markers.ingest.display import dataset_facts, html_summary

        heading, facts, table = dataset_facts(self)
        return html_summary(heading, facts, table, issues=self.issues)

