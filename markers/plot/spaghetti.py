"""Every informative patient's ×ULN course as a thin line, named at its end, with the binned median."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from markers.errors import MissingColumnError
from markers.plot.axes import panel_title, plain_log_axis
from markers.plot.days import DAY_AXIS_LABEL
from markers.plot.frames import (
    as_float,
    sample_key,
)
from markers.plot.normalization import informative_rows
from markers.plot.style import MIN_FONT
from markers.schema import ANALYTE, DAY, PATIENT_ID, X_ULN


def binned_median(frame: pd.DataFrame, *, bin_days: int = 30, min_patients: int = 3) -> pd.DataFrame:
    """Median ×ULN per bin of days, each patient weighted once.

    Days are cut into bins ``[k·bin_days, (k+1)·bin_days)`` (day 0 opens the first bin);
    each patient's samples in a bin are first reduced to their median, and the bin's value
    is the median of those patient medians, so a patient sampled weekly does not outweigh
    one sampled monthly. Bins with fewer than ``min_patients`` patients are dropped. The
    median is drawn at the bin's centre. Censored results count at their limit.

    Parameters
    ----------
    frame
        Columns ``patient_id``, ``day``, ``x_uln``.
    bin_days, min_patients
        Bin width in days; smallest number of patients for a bin to be shown.

    Returns
    -------
    pandas.DataFrame
        Columns ``day`` (bin centre), ``median``, ``patients``.

    Examples
    --------
    >>> f = pd.DataFrame({"patient_id": ["A", "A", "B"], "day": [0, 10, 5], "x_uln": [4.0, 2.0, 1.0]})
    >>> binned_median(f, min_patients=1).values.tolist()  # A: median(4, 2) = 3; median(3, 1) = 2
    [[15.0, 2.0, 2.0]]
    """
    days = as_float(frame[DAY])
    values = as_float(frame[X_ULN])
    ok = ~np.isnan(days) & ~np.isnan(values)
    work = pd.DataFrame({"patient": frame[PATIENT_ID].to_numpy()[ok],
                         "bin": np.floor(days[ok] / bin_days).astype(int), "x": values[ok]})
    per_patient = work.groupby(["bin", "patient"])["x"].median().reset_index()
    per_bin = per_patient.groupby("bin")["x"].agg(["median", "size"]).reset_index()
    per_bin = per_bin[per_bin["size"] >= min_patients]
    return pd.DataFrame({"day": (per_bin["bin"] * bin_days + bin_days / 2).astype(float).to_numpy(),
                         "median": per_bin["median"].astype(float).to_numpy(),
                         "patients": per_bin["size"].astype(float).to_numpy()})


def plot_cohort_spaghetti(data: pd.DataFrame, *, analyte: str, assessment: pd.DataFrame,
                          bin_days: int = 30, min_patients: int = 3, ax: Axes | None = None) -> Axes:
    """Every informative patient's ×ULN course as a thin grey line, with the binned median in bold.

    Parameters
    ----------
    data
        Flagged measurements with ``day``.
    analyte
        The analyte.
    assessment
        Decides which patients are informative (elevated at baseline) for ``analyte``.
    bin_days, min_patients
        Binning of the median line (see :func:`binned_median`).
    ax
        Axes to draw on; default ``plt.gca()``.

    Returns
    -------
    matplotlib.axes.Axes
        Patient lines have gid ``"patient:<id>"``; the median line gid ``"median"``.

    Examples
    --------
    >>> ax = plot_cohort_spaghetti(data, analyte="VMA", assessment=assessment)  # doctest: +SKIP
    """
    for col in (PATIENT_ID, ANALYTE, DAY, X_ULN):
        if col not in data.columns:
            raise MissingColumnError(f"data lacks column {col!r}: flag the measurements and add the timeline first.")
    if ax is None:
        import matplotlib.pyplot as plt  # notebooks only

        ax = plt.gca()
    keep = set(informative_rows(assessment, analyte)[PATIENT_ID].astype(str))
    rows = data[(data[ANALYTE] == analyte) & data[PATIENT_ID].astype(str).isin(keep)]
    rows = rows.sort_values([PATIENT_ID, sample_key(rows)], kind="stable")
    ends: list[tuple[str, float, float]] = []
    for pid, grp in rows.groupby(PATIENT_ID, sort=True):
        xv, yv = as_float(grp[DAY]), as_float(grp[X_ULN])
        ok = ~np.isnan(xv) & ~np.isnan(yv) & (yv > 0)
        ax.plot(xv[ok], yv[ok], color="#9A9A9A", linewidth=0.7, alpha=0.8, zorder=2,
                gid=f"patient:{pid}", label=f"_patient:{pid}")
        if ok.any():
            ends.append((str(pid), float(xv[ok][-1]), float(yv[ok][-1])))
    med = binned_median(rows, bin_days=bin_days, min_patients=min_patients)
    ax.plot(med["day"], med["median"], color="#000000", linewidth=2.5, marker="o", markersize=3, zorder=4,
            gid="median", label=f"median per {bin_days}-day bin (≥{min_patients} patients)")
    ax.axhline(1.0, color="#D55E00", linewidth=1.0, linestyle="--", zorder=3, gid="uln:1x", label="1× ULN")
    ax.set_yscale("log", nonpositive="mask")
    plain_log_axis(ax)
    panel_title(ax, f"{analyte}: {len(keep)} informative patient{'' if len(keep) == 1 else 's'}")
    ax.set_xlabel(DAY_AXIS_LABEL, fontsize=MIN_FONT + 1)
    ax.set_ylabel("× ULN (log)", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.legend(fontsize=MIN_FONT, loc="upper right", framealpha=0.85)
    if len(ends) <= MAX_END_LABELS:
        label_line_ends(ax, ends)
    return ax


#: Most patients whose lines are named at their ends (more would be a column of unreadable text).
MAX_END_LABELS = 40


def label_line_ends(ax: Axes, ends: Sequence[tuple[str, float, float]]) -> None:
    """Name each patient's line in the right margin, level with its last point, with a leader line.

    Labels are spread so that no two overlap (one text line apart at least), keeping the order
    of the line ends from top to bottom. Texts have gid ``"patient_label:<id>"``.
    """
    ax.autoscale_view()
    low, high = (np.log10(v) for v in ax.get_ylim())
    height_in = ax.get_position().height * ax.get_figure().get_figheight()
    step = 1.15 * MIN_FONT / 72 / max(height_in, 1e-6)  # one text line, in axes fractions
    placed = sorted(((np.log10(y) - low) / (high - low), pid, x, y) for pid, x, y in ends)
    spots: list[float] = []
    for frac, *_rest in placed:
        spots.append(max(frac, spots[-1] + step) if spots else frac)
    overflow = (spots[-1] - 1.0) if spots else 0.0
    if overflow > 0:  # pushed past the top: shift down, as far as the bottom allows
        spots = [max(s - overflow, i * step) for i, s in enumerate(spots)]
    for spot, (_frac, pid, x, y) in zip(spots, placed, strict=True):
        ax.annotate(pid, xy=(x, y), xycoords="data", xytext=(1.015, spot), textcoords="axes fraction",
                    fontsize=MIN_FONT, va="center", ha="left", color="#555555", annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "#BBBBBB", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 1},
                    gid=f"patient_label:{pid}")
