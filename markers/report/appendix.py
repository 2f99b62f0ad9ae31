"""The report's appendix: rows read per file, then every rejected row and warning with its cell and hint.

Nothing is cut: each text wraps in its column, a row is as tall as its longest cell, and
the issues continue on further pages, each page filled to its foot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pandas as pd
from matplotlib.figure import Figure

from markers.ingest.dataset import Dataset
from markers.plot.style import MIN_FONT, PAGE_SIZES
from markers.plot.table import add_table

#: Appendix columns: (issue column, heading, relative width).
ISSUE_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("severity", "severity", 1.0),
    ("code", "code", 2.3),
    ("location", "where", 2.3),
    ("value", "value", 1.5),
    ("message", "message", 2.45),
    ("hint", "hint", 2.45),
)

LINE_IN = MIN_FONT * 1.25 / 72  # one line of 8-pt text
PAD_IN = 0.09  # above and below a row's text
TOP = 0.94  # below the page title (figure fraction)
FOOT_IN = 0.45  # kept free at the foot of the page


def column_chars(width: float, page_width_in: float) -> int:
    """Characters of 8-pt text that fit a column of relative ``width`` in the 90 %-wide table.

    Examples
    --------
    >>> column_chars(2.3, 8.27)  # 0.9 × 8.27 × 2.3 / 12 − 0.12 = 1.307 in = 94.1 pt / (0.58 × 8 pt)
    20
    """
    total = sum(w for _c, _h, w in ISSUE_COLUMNS)
    inches = 0.9 * page_width_in * width / total - 0.12  # cell padding
    # DejaVu Sans at 8 pt: about 0.58 em per character of these texts (mostly lower case).
    return max(4, int(inches * 72 / (0.58 * MIN_FONT)))


def _wrap(text: str, chars: int) -> str:
    """Each line of ``text`` wrapped to ``chars`` (a word longer than that is broken, not cut)."""
    lines = [part for line in text.split("\n") for part in textwrap.wrap(line, width=chars) or [""]]
    return "\n".join(lines).strip("\n")


def issue_cells(issues: pd.DataFrame, *, page_width_in: float = PAGE_SIZES["A4"][0]) -> list[list[str]]:
    """One row per issue, each text wrapped (never cut) to its column's width."""
    rows = []
    for _, rec in issues.iterrows():
        sheet, cell = str(rec.get("sheet") or ""), str(rec.get("cell") or "")
        ref = f"{sheet + '!' if sheet else ''}{cell}"
        values = {"severity": rec.get("severity"), "code": rec.get("code"),
                  "location": f"{rec.get('file') or ''}\n{ref}".strip(), "value": rec.get("value"),
                  "message": rec.get("message"), "hint": rec.get("hint")}
        line = []
        for col, _h, rel in ISSUE_COLUMNS:
            value = values[col]
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            line.append(_wrap(text, column_chars(rel, page_width_in)))
        rows.append(line)
    return rows


def row_inches(row: list[str]) -> float:
    """Height of a table row: its tallest cell's lines plus padding."""
    return max(c.count("\n") + 1 for c in row) * LINE_IN + 2 * PAD_IN


def paginate(cells: list[list[str]], *, first_room_in: float, room_in: float) -> list[list[list[str]]]:
    """Rows split into pages of at most ``first_room_in`` (first page) then ``room_in`` inches, heading included.

    Examples
    --------
    >>> one = [["a"]]  # 1 line: 0.139 + 0.18 = 0.319 in; the heading row takes as much
    >>> [len(p) for p in paginate([one[0]] * 5, first_room_in=1.0, room_in=2.0)]
    [2, 3]
    """
    header_in = LINE_IN + 2 * PAD_IN
    pages: list[list[list[str]]] = [[]]
    used, room = header_in, first_room_in
    for row in cells:
        need = row_inches(row)
        if pages[-1] and used + need > room:
            pages.append([])
            used, room = header_in, room_in
        pages[-1].append(row)
        used += need
    return pages


def _counts_inches(dataset: Dataset) -> float:
    return (len(dataset.counts()) + 1) * (LINE_IN + 2 * PAD_IN)


def _sorted_issues(dataset: Dataset) -> pd.DataFrame:
    issues = dataset.issues
    if len(issues):
        rank = {"error": 0, "warning": 1}
        issues = issues.assign(_s=issues["severity"].map(rank).fillna(2)).sort_values(
            ["_s", "file", "sheet", "row"], kind="stable")
    return issues


def appendix_chunks(dataset: Dataset, *, page_size: str) -> list[list[list[str]]]:
    """The issue rows of each appendix page (the first also holds the rows-read table)."""
    width_in, height_in = PAGE_SIZES[page_size]
    cells = issue_cells(_sorted_issues(dataset), page_width_in=width_in)
    room = TOP * height_in - FOOT_IN
    first = room - 0.35 - (_counts_inches(dataset) + 0.45 if len(dataset.counts()) else 0.0) - 0.3
    return paginate(cells, first_room_in=max(first, 1.0), room_in=room)


def _table(fig: Figure, cells: list[list[str]], header: list[str], widths: list[float], *, top: float,
           left_aligned: list[bool] | None = None) -> float:
    """Draw a table whose rows fit their text below ``top``; returns its height (figure fraction)."""
    rows_in = [LINE_IN + 2 * PAD_IN] + [row_inches(row) for row in cells]
    height = sum(rows_in) / fig.get_figheight()
    add_table(fig, (0.05, top - height, 0.9, height), header, cells, widths=widths, header_colour="#E8E8E8",
              bold_header=True, gid="table", heights=rows_in, left_aligned=left_aligned)
    return height


def appendix_pages(dataset: Dataset, *, page_size: str) -> Iterator[Figure]:
    """The appendix pages: rows read per file, then the issues (errors first), continued as needed."""
    chunks = appendix_chunks(dataset, page_size=page_size)
    counts = dataset.counts()
    header = [h for _c, h, _w in ISSUE_COLUMNS]
    widths = [w for _c, _h, w in ISSUE_COLUMNS]
    left = [False, False, True, False, True, True]
    n_issues = sum(len(c) for c in chunks)
    for page, chunk in enumerate(chunks):
        fig = Figure(figsize=PAGE_SIZES[page_size])
        suffix = f" ({page + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        fig.text(0.05, 0.975, f"Appendix: rejected rows and warnings{suffix}", fontsize=13,
                 fontweight="bold", va="top")
        top = TOP
        if page == 0:
            fig.text(0.05, top, "Rows read per file: every row is kept, rejected or skipped.",
                     fontsize=MIN_FONT + 1, va="top")
            if len(counts):
                count_cells = [[str(v) for v in rec] for rec in counts.itertuples(index=False)]
                top -= 0.02 + _table(fig, count_cells, list(counts.columns), [4, 1, 1, 1, 1], top=top - 0.02) + 0.03
            if not n_issues:
                fig.text(0.05, top, "No rejected rows and no warnings.", fontsize=MIN_FONT + 2, va="top")
                yield fig
                continue
            fig.text(0.05, top, f"{n_issues} issues (errors first); each names the file, sheet and cell, "
                     "and how to fix it.", fontsize=MIN_FONT + 1, va="top")
            top -= 0.025
        _table(fig, chunk, header, widths, top=top, left_aligned=left)
        yield fig
