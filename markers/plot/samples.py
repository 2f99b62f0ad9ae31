"""The patient page's sample table: one row per sample, a note naming what it is, and a shortening that keeps the story.

When the page cannot hold every sample, the rows that tell the response are kept first: the
first sample and the baseline, the nadir, the first normal sample, re-elevations and rises,
the samples nearest each milestone, then the latest; a row of "…" marks each gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from markers.plot.days import with_timeline_days
from markers.plot.frames import as_float, day_column, sample_key, x_positions
from markers.plot.style import GRADE_COLORS
from markers.schema import ANALYTE, CENSOR, DAY, ELEVATED, EVENT, EVENT_DATE, GRADE, SAMPLE_DATE, VALUE, X_ULN

#: Findings of the assessment named in the note column, most important first.
FINDING_NOTES: tuple[tuple[str, str], ...] = (
    ("baseline_date", "baseline"),
    ("nadir_date", "nadir"),
    ("first_normal_date", "first normal"),
    ("reelevation_date", "re-elevation"),
)

#: Milestones whose nearest sample (within ``MILESTONE_WINDOW_DAYS``) is noted.
MILESTONE_NOTES: dict[str, str] = {
    "surgery": "surgery", "end_of_induction": "end of induction", "complete_remission": "CR",
    "end_of_therapy": "end of therapy", "relapse": "relapse",
}

#: How far a sample may lie from a milestone to stand for it (the assessment's ±30 days).
MILESTONE_WINDOW_DAYS = 30


def sample_table_header(rows: pd.DataFrame, analytes: Sequence[str]) -> list[str]:
    """Headings: date (when known), day, one column per analyte, note."""
    return (["date", "day"] if SAMPLE_DATE in rows.columns else ["day"]) + list(analytes) + ["note"]


def sample_table_cells(rows: pd.DataFrame, analytes: Sequence[str]) -> tuple[list[list[str]], list[list[Any]]]:
    """One row per sample: date (when known), day, and per analyte ``value (×ULN)``, shaded by grade.

    Pseudonymised rows have no sample date: the samples are told apart by their day and the
    date column is left out. A sample with two results of one analyte shows the first in table order.
    """
    key = sample_key(rows)
    ordered = rows.sort_values(key, kind="stable")
    ordered = ordered[ordered[key].notna()]
    samples = ordered.drop_duplicates(key)
    firsts = ordered[ordered[ANALYTE].isin(list(analytes))].drop_duplicates([key, ANALYTE])
    censor = (firsts[CENSOR].map(lambda c: c if isinstance(c, str) else "") if CENSOR in firsts.columns
              else pd.Series("", index=firsts.index))
    values = as_float(firsts[VALUE])
    ratios = as_float(firsts[X_ULN]) if X_ULN in firsts.columns else np.full(len(firsts), np.nan)
    grades = firsts[GRADE].to_numpy(dtype=object) if GRADE in firsts.columns else np.full(len(firsts), None)
    found: dict[tuple[Any, str], tuple[str, Any]] = {}
    for when, analyte, c, value, ratio, grade in zip(firsts[key], firsts[ANALYTE], censor, values, ratios,
                                                      grades, strict=True):
        text = f"{c}{value:.3g}" + ("" if np.isnan(ratio) else f" ({ratio:.1f}×)")
        shade = to_rgba(GRADE_COLORS[grade], 0.35) if grade in ("mild", "moderate", "marked") else "white"
        found[(when, analyte)] = (text, shade)
    dated = SAMPLE_DATE in rows.columns
    days = samples[DAY] if DAY in samples.columns else pd.Series(pd.NA, index=samples.index)
    cells: list[list[str]] = []
    colours: list[list[Any]] = []
    for when, day in zip(samples[key], days, strict=True):
        day_text = "" if pd.isna(day) else f"{int(day)}"
        line = [f"{pd.Timestamp(when):%Y-%m-%d}", day_text] if dated else [day_text]
        shade: list[Any] = ["white"] * len(line)
        for analyte in analytes:
            text, colour = found.get((when, analyte), ("", "white"))
            line.append(text)
            shade.append(colour)
        cells.append(line)
        colours.append(shade)
    return cells, colours


def _sample_days(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's day (table order, as :func:`sample_table_cells`) and whether any analyte is elevated."""
    key = sample_key(rows)
    ordered = rows.sort_values(key, kind="stable")
    ordered = ordered[ordered[key].notna()]
    up = ordered[ELEVATED].astype("boolean") if ELEVATED in ordered.columns else pd.Series(pd.NA, index=ordered.index)
    frame = pd.DataFrame({"key": ordered[key].to_numpy(), "day": as_float(ordered[DAY]) if DAY in ordered.columns
                          else np.nan, "up": up.fillna(False).to_numpy(dtype=bool),
                          "down": (up == False).fillna(False).to_numpy(dtype=bool)})  # noqa: E712
    per = frame.groupby("key", sort=False).agg(day=("day", "first"), up=("up", "any"), down=("down", "all"))
    status = np.where(per["up"], 1, np.where(per["down"], 0, -1))
    return per["day"].to_numpy(dtype=float), status


def sample_notes(rows: pd.DataFrame, *, assessment: pd.DataFrame | None, therapy: pd.DataFrame | None,
                 origin: pd.Timestamp | None, shift: float = 0.0) -> list[str]:
    """What each sample of :func:`sample_table_cells` is: baseline, nadir, first normal, rise, CR ...

    A *rise* is an elevated sample after a normal one that the assessment did not call a
    re-elevation (one elevated sample is not confirmed). Nadir and first normal are noted only
    for an informative analyte (elevated at baseline): a normal course has no response to tell.
    """
    days, status = _sample_days(rows)
    notes: list[list[str]] = [[] for _ in days]

    def nearest(day: float, window: float) -> int:
        if np.isnan(day) or not len(days) or np.isnan(days).all():
            return -1
        gap = np.abs(days - day)
        i = int(np.nanargmin(gap))
        return i if gap[i] <= window else -1

    def note_at(day: float, text: str, *, window: float = 0.5) -> None:
        i = nearest(day, window)
        if i >= 0 and text not in notes[i]:
            notes[i].append(text)

    if assessment is not None and len(assessment):
        found = with_timeline_days(assessment, rows)
        informative = found["informative"].astype("boolean").fillna(False).to_numpy(dtype=bool) \
            if "informative" in found.columns else np.zeros(len(found), dtype=bool)
        analytes = found[ANALYTE].astype(str).to_numpy()
        for column, text in FINDING_NOTES:
            name = day_column(column)
            if name not in found.columns:
                continue
            extra = shift if column not in found.columns else 0.0
            where: dict[int, list[str]] = {}
            for day, useful, analyte in zip(as_float(found[name]), informative, analytes, strict=True):
                i = nearest(day + extra, 0.5)
                if i >= 0 and (column == "baseline_date" or useful):
                    where.setdefault(i, []).append(analyte)
            for i, names in where.items():
                # one word when every analyte's finding is this sample, else the analyte says whose
                notes[i].append(text if len(names) == len(set(analytes)) else f"{'/'.join(names)} {text}")
    marked = {i for i, n in enumerate(notes) if "re-elevation" in n}
    for i in range(1, len(days)):
        if status[i] == 1 and status[i - 1] == 0 and i not in marked:
            notes[i].append("rise")
    if therapy is not None and len(therapy):
        events = therapy[therapy[EVENT].isin(list(MILESTONE_NOTES))]
        xs = x_positions(events, EVENT_DATE, x="day", origin=origin, shift=shift)
        if xs is not None:
            for event, day in zip(events[EVENT], xs, strict=True):
                note_at(float(day), MILESTONE_NOTES[event], window=MILESTONE_WINDOW_DAYS)
    return [", ".join(n) for n in notes]


def _rows_needed(chosen: set[int], n_all: int) -> int:
    """Table rows for the chosen samples with one "…" row for each run left out."""
    picked = sorted(chosen)
    gaps = sum(1 for a, b in zip(picked, picked[1:], strict=False) if b > a + 1)
    gaps += (picked[0] > 0) + (picked[-1] < n_all - 1) if picked else 0
    return len(picked) + gaps


def _priority(note: str) -> int:
    if any(word in note for word in ("baseline", "nadir", "first normal", "re-elevation", "rise")):
        return 0
    return 2 if note else 3


def story_rows(notes: Sequence[str], n_fit: int) -> list[int]:
    """Which samples a table of ``n_fit`` rows keeps, with a "…" row counted for each run left out.

    First the first sample and those noted with a finding (baseline, nadir, first normal,
    re-elevation, rise), then the latest, then those at a milestone, then the most recent others.

    Examples
    --------
    >>> story_rows(["baseline", "", "", "nadir", "", "CR", "", "rise", "", ""], 9)  # 8 rows and one "…" for samples 1-2
    [0, 3, 4, 5, 6, 7, 8, 9]
    """
    n_all = len(notes)
    if n_all <= n_fit:
        return list(range(n_all))
    by_need = sorted(range(1, n_all - 1), key=lambda i: (_priority(notes[i]), -i))
    first = [i for i in by_need if _priority(notes[i]) == 0]
    rest = [i for i in by_need if _priority(notes[i]) > 0]
    chosen: set[int] = set()
    for i in [0, *first, n_all - 1, *rest]:
        if i not in chosen and _rows_needed(chosen | {i}, n_all) <= n_fit:
            chosen.add(i)
    return sorted(chosen)


def shortened(cells: list[list[str]], colours: list[list[Any]], keep: Sequence[int]
              ) -> tuple[list[list[str]], list[list[Any]]]:
    """The kept rows, with a row of "…" where samples are left out."""
    out_cells: list[list[str]] = []
    out_colours: list[list[Any]] = []
    previous = -1
    for i in keep:
        if i > previous + 1:
            out_cells.append(["…"] * len(cells[i]))
            out_colours.append(["white"] * len(cells[i]))
        out_cells.append(cells[i])
        out_colours.append(colours[i])
        previous = i
    if cells and previous < len(cells) - 1:
        out_cells.append(["…"] * len(cells[0]))
        out_colours.append(["white"] * len(cells[0]))
    return out_cells, out_colours
