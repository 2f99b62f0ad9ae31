"""Render a Dataset's validation result for people (text) and machines (JSON-ready dict).

The CLI prints these; notebooks can call them too, so there is one rendering.
"""

from __future__ import annotations

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
    """A short readable summary: counts per file, then issues grouped by code with their cells."""
    data = validation_dict(dataset)
    lines = []
    for f in data["files"]:
        lines.append(
            f"{f['file']}: {f['read']} rows read = {f['kept']} kept + {f['rejected']} rejected + {f['skipped']} skipped"
        )
    t = data["totals"]
    lines.append(
        f"{t['measurements']} measurements of {t['patients']} patients; "
        f"{t['errors']} errors, {t['warnings']} warnings"
    )
    issues = dataset.issues
    if len(issues):
        lines.append("")
        order = {code: i for i, code in enumerate(ISSUE_TYPES)}
        for code, group in sorted(issues.groupby("code", sort=False), key=lambda item: order.get(item[0], 999)):
            issue_type = ISSUE_TYPES[code]
            places = [location("", rec.sheet, rec.cell) for rec in group.itertuples()]
            files = sorted(set(group["file"]))
            shown = ", ".join(places[:max_cells]) + (f", … ({len(places) - max_cells} more)" if len(places) > max_cells else "")
            lines.append(f"{issue_type.severity} {code} ({len(group)}): {issue_type.title}")
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
