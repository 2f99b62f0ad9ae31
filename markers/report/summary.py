"""Render a Dataset's validation result for people (text) and machines (JSON-ready dict).

The CLI prints these; notebooks can call them too, so there is one rendering.
"""

from __future__ import annotations

import numpy as np

from markers.ingest.dataset import Dataset
from markers.ingest.issues import ISSUE_TYPES, location


def validation_dict(dataset: Dataset) -> dict:
    """Counts per file, totals, and every issue record, as plain JSON-serialisable data."""
    counts = dataset.counts()
    files = []
    sha = dict(zip(dataset.files["file"], dataset.files["sha256"], strict=True)) if len(dataset.files) else {}
    for rec in counts.itertuples(index=False):
        files.append(
            {"file": rec.file, "sha256": sha.get(rec.file, ""), "read": int(rec.read), "kept": int(rec.kept),
             "rejected": int(rec.rejected), "skipped": int(rec.skipped)}
        )
    issues = dataset.issues.astype(object).where(dataset.issues.notna(), None).to_dict("records")
    for issue in issues:
        if issue.get("row") is not None:
            issue["row"] = int(issue["row"])
    return {
        "files": files,
        "totals": {
            "read": sum(f["read"] for f in files),
            "kept": sum(f["kept"] for f in files),
            "rejected": sum(f["rejected"] for f in files),
            "skipped": sum(f["skipped"] for f in files),
            "measurements": int(len(dataset.measurements)),
            "patients": int(dataset.measurements["patient_id"].nunique()) if len(dataset.measurements) else 0,
            "errors": int((dataset.issues["severity"] == "error").sum()) if len(dataset.issues) else 0,
            "warnings": int((dataset.issues["severity"] == "warning").sum()) if len(dataset.issues) else 0,
        },
        "issues": issues,
    }


def summary_text(dataset: Dataset, *, max_cells: int = 12) -> str:
    """A short readable summary: counts per file, then issues grouped by code with their cells.

    Its cost grows with the number of distinct issue codes, not with rows: counts come from grouped
    sizes and only the first ``max_cells`` places of each code are formatted.
    """
    lines = []
    counts = dataset.counts()
    for rec in counts.itertuples(index=False):
        lines.append(
            f"{rec.file}: {int(rec.read)} rows read = {int(rec.kept)} kept + {int(rec.rejected)} rejected"
            f" + {int(rec.skipped)} skipped"
        )
    issues = dataset.issues
    measurements = dataset.measurements
    patients = int(measurements["patient_id"].nunique()) if len(measurements) else 0
    severity = issues["severity"].value_counts() if len(issues) else {}
    lines.append(
        f"{len(measurements)} measurements of {patients} patients; "
        f"{int(severity.get('error', 0))} errors, {int(severity.get('warning', 0))} warnings"
    )
    if len(issues):
        lines.append("")
        order = {code: i for i, code in enumerate(ISSUE_TYPES)}
        codes = issues["code"]
        for code in sorted(codes.dropna().unique(), key=lambda c: order.get(c, 999)):
            positions = (codes == code).to_numpy().nonzero()[0]
            first = issues.iloc[positions[:max_cells]]
            issue_type = ISSUE_TYPES[code]
            places = [location("", sheet, cell) for sheet, cell in zip(first["sheet"], first["cell"], strict=True)]
            files = sorted(set(issues["file"].iloc[positions].unique()))
            more = len(positions) - max_cells
            shown = ", ".join(places) + (f", … ({more} more)" if more > 0 else "")
            lines.append(f"{issue_type.severity} {code} ({len(positions)}): {issue_type.title}")
            lines.append(f"  {'/'.join(files)}: {shown}")
            lines.append(f"  hint: {issue_type.hint}")
    return "\n".join(lines)


def format_limits(limits) -> str:
    """The reference limits as a readable table, then each distinct source once."""
    columns = [c for c in ("set", "analyte", "age_band_label", "sex", "uln", "unit", "source_tag") if c in limits]
    table = limits[columns].to_string(index=False)
    sources = []
    if "source_url" in limits:
        seen = limits.drop_duplicates(["set", "source_url"]) if "set" in limits else limits.drop_duplicates("source_url")
        for rec in seen.itertuples(index=False):
            parts = [getattr(rec, "set", ""), getattr(rec, "lab", ""), getattr(rec, "test_code", ""),
                     getattr(rec, "source_tag", ""), getattr(rec, "source_url", ""),
                     f"retrieved {getattr(rec, 'retrieved', '')}"]
            sources.append("  " + " | ".join(str(p) for p in parts if str(p) not in ("", "nan")))
    return table + ("\n\nSources:\n" + "\n".join(sources) if sources else "")


def reference_coverage(dataset: Dataset, *, limits, name: str) -> str:
    """One line: how many results have an age-specific limit in the reference set ``name`` (``limits``).

    A result without a limit would be ``no_reference`` in every later command, which is worth
    knowing before running them.
    """
    from markers.analysis.flags import flag

    measurements = dataset.measurements
    if not len(measurements):
        return f"Reference set {name}: no results to check."
    flagged = flag(measurements, limits=limits)
    missing = int(flagged["uln"].isna().sum())
    return (f"Reference set {name}: {len(flagged) - missing} of {len(flagged)} results have an age-specific "
            f"limit" + (f"; {missing} have none (grade no_reference)" if missing else ""))


#: Decimals kept in written summary tables: multiples of the ULN to 2, days and half-lives to 1.
ROUNDING: dict[str, int] = {"x_uln": 2, "ratio": 2, "days": 1, "value": 3, "r2": 3, "k_per_day": 4}


def rounded(table):
    """A copy of an assessment or measurement table with its floats rounded for people.

    Columns ending in ``x_uln`` and the VMA/HVA ratios to 2 decimals, day counts and half-lives
    to 1, ``half_life_r2`` to 3, ``k_per_day`` to 4, values to 3 decimals; the
    unrounded numbers stay in the library's tables (and the JSON of ``analyse``).

    Examples
    --------
    >>> import pandas as pd
    >>> rounded(pd.DataFrame({"baseline_x_uln": [9.312962962962963], "half_life_days": [21.94]})).iloc[0].tolist()
    [9.31, 21.9]
    """
    # a shallow copy: rounded columns are replaced, never changed in place (copy-on-write), so
    # the caller's table keeps its numbers without a copy of every column
    out = table.copy(deep=False)
    for position, (column, dtype) in enumerate(zip(table.columns, table.dtypes, strict=True)):
        digits = _decimals(str(column)) if str(dtype).lower().startswith("float") else None
        if digits is None or (dtype == np.float64 and np.isnan(table.iloc[:, position].to_numpy()).all()):
            continue  # not rounded, or nothing to round (a finding no course reached): no new column
        out.isetitem(position, out.iloc[:, position].round(digits))
    return out


def _decimals(name: str) -> int | None:
    """The decimals :func:`rounded` keeps in a float column of this name (None: as it is)."""
    if name.endswith("x_uln") or "ratio" in name:
        return ROUNDING["x_uln"]
    if name == "k_per_day":
        return ROUNDING["k_per_day"]
    if name.endswith("_days") or name.startswith("days_") or name.endswith("_day"):
        return ROUNDING["days"]
    if name.endswith("r2"):
        return ROUNDING["r2"]
    if name.endswith("value") or name == "uln" or name.startswith("creatinine"):
        return ROUNDING["value"]
    return None


def analysis_summary(analysis, *, html: bool = False) -> str:
    """An analysis (:func:`markers.pipeline.analyse`) in a few lines, or a small HTML fragment: counts,
    reference set, patient statuses, issues by code and a table of patients per analyte."""
    from markers.ingest.display import dataset_facts, html_summary, text_summary
    from markers.report.overview import analyte_summary, status_counts

    heading, facts, _files = dataset_facts(analysis.dataset)
    statuses = status_counts(analysis.assessment)
    facts = [("reference set", analysis.reference_set), *facts,
             ("patient status", ", ".join(f"{s} {n}" for s, n in statuses.items()) or "none")]
    render = html_summary if html else text_summary
    return render(heading.replace("Dataset", "Analysis", 1), facts, analyte_summary(analysis.assessment),
                  issues=analysis.dataset.issues)
