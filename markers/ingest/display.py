"""Short text and HTML summaries of results for notebooks: counts, issues by code, a small table, no data dumps."""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

__all__ = ["dataset_facts", "html_summary", "issue_counts", "row_counts", "text_summary"]

#: Files listed in a dataset's summary.
SHOWN_FILES = 10


def row_counts(rows: pd.DataFrame) -> dict[str, int]:
    """Rows read, kept, rejected and skipped over all files.

    Examples
    --------
    >>> row_counts(pd.DataFrame({"status": ["kept", "kept", "skipped"]}))
    {'read': 3, 'kept': 2, 'rejected': 0, 'skipped': 1}
    """
    status = rows["status"] if "status" in rows else pd.Series(dtype=str)
    counts = {s: int((status == s).sum()) for s in ("kept", "rejected", "skipped")}
    return {"read": int(len(rows)), **counts}


def issue_counts(issues: pd.DataFrame) -> list[tuple[str, str, int]]:
    """``(severity, code, count)`` for each issue code, errors first, then by count (most first) and code.

    Examples
    --------
    >>> issue_counts(pd.DataFrame({"severity": ["warning", "error", "warning"], "code": ["b", "a", "b"]}))
    [('error', 'a', 1), ('warning', 'b', 2)]
    """
    if issues.empty:
        return []
    grouped = issues.groupby(["severity", "code"], sort=False).size()
    rank = {"error": 0, "warning": 1}
    items = [(str(s), str(c), int(n)) for (s, c), n in grouped.items()]
    return sorted(items, key=lambda item: (rank.get(item[0], 2), -item[2], item[1]))


def _issue_line(issues: pd.DataFrame) -> str:
    counts = issue_counts(issues)
    errors = sum(n for s, _c, n in counts if s == "error")
    warnings = sum(n for s, _c, n in counts if s == "warning")
    line = f"{errors} errors, {warnings} warnings"
    if counts:
        line += ": " + ", ".join(f"{c} {n}" for _s, c, n in counts)
    return line


def text_summary(heading: str, facts: Sequence[tuple[str, str]], table: pd.DataFrame | None = None,
                 *, issues: pd.DataFrame | None = None) -> str:
    """A few lines: ``<heading>``, one ``name: value`` line per fact, issues by code, then ``table``.

    Examples
    --------
    >>> print(text_summary("Dataset: 1 patient", [("unit", "mg/g creatinine")]))
    <Dataset: 1 patient>
    unit: mg/g creatinine
    """
    lines = [f"<{heading}>", *(f"{name}: {value}" for name, value in facts)]
    if issues is not None:
        lines.append(f"issues: {_issue_line(issues)}")
    if table is not None and len(table):
        lines += ["", table.to_string(index=False)]
    return "\n".join(lines)


def _html_table(table: pd.DataFrame) -> str:
    head = "".join(f'<th style="text-align:left">{html.escape(str(c))}</th>' for c in table.columns)
    body = "".join("<tr>" + "".join(f'<td style="text-align:left">{html.escape(str(v))}</td>' for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_summary(heading: str, facts: Sequence[tuple[str, str]], table: pd.DataFrame | None = None,
                 *, issues: pd.DataFrame | None = None) -> str:
    """The same as :func:`text_summary` as a small HTML fragment (escaped text, no link, no script).

    Examples
    --------
    >>> html_summary("Dataset", [("file", "<a>.csv")])
    '<div><strong>Dataset</strong><ul><li>file: &lt;a&gt;.csv</li></ul></div>'
    """
    items = [f"<li>{html.escape(name)}: {html.escape(value)}</li>" for name, value in facts]
    if issues is not None:
        items.append(f"<li>issues: {html.escape(_issue_line(issues))}</li>")
    out = f"<div><strong>{html.escape(heading)}</strong><ul>{''.join(items)}</ul>"
    if table is not None and len(table):
        out += _html_table(table)
    return out + "</div>"


def dataset_facts(dataset) -> tuple[str, list[tuple[str, str]], pd.DataFrame]:
    """A dataset's summary: heading, ``(name, value)`` facts and the rows per file (at most ``SHOWN_FILES``).

    ``dataset`` is a :class:`markers.ingest.dataset.Dataset`.
    """
    n_patients = dataset.measurements["patient_id"].nunique() if len(dataset.measurements) else 0
    rows = row_counts(dataset.rows)
    facts = [("measurements", f"{len(dataset.measurements)} in {dataset.unit}"),
             ("rows read", f"{rows['read']} = {rows['kept']} kept + {rows['rejected']} rejected "
                           f"+ {rows['skipped']} skipped"),
             ("therapy events", str(len(dataset.therapy)))]
    per_file = dataset.counts()
    if len(per_file) > SHOWN_FILES:
        facts.append(("files", f"{len(per_file)} (the first {SHOWN_FILES} below)"))
    return f"Dataset: {n_patients} patients", facts, per_file.head(SHOWN_FILES)
