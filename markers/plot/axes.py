"""Axis helpers: a log axis labelled with plain numbers, ticks only in view, panel titles."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, Locator

from markers.plot.style import MIN_FONT

logger = logging.getLogger(__name__)


def plain_log_axis(ax: Axes) -> None:
    """Label a log y axis with plain numbers (0.5, 1, 2, 10) rather than powers of ten."""

    def minor(value: float, _pos: int) -> str:
        # Minor ticks are labelled (2, 3, 5 × 10^k) only when the axis spans little more than a
        # decade: otherwise there are majors enough and labels would collide.
        # (or when fewer than two powers of ten are in view, 2 and 5 × 10^k: one labelled tick
        # alone does not tell a reader the scale).
        low, high = ax.get_ylim()
        if value <= 0 or low <= 0:
            return ""
        majors = np.floor(np.log10(high)) - np.ceil(np.log10(low)) + 1
        if high / low <= 15:
            allowed = (2, 3, 5)
        elif majors < 2:
            allowed = (2, 5)
        else:
            return ""
        lead = value / 10 ** np.floor(np.log10(value))
        return f"{value:g}" if round(lead) in allowed else ""

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    ax.tick_params(axis="y", which="minor", labelsize=MIN_FONT)
    for which, locator in (("major", ax.yaxis.get_major_locator()), ("minor", ax.yaxis.get_minor_locator())):
        if not isinstance(locator, InView):
            getattr(ax.yaxis, f"set_{which}_locator")(InView(locator))


class InView(Locator):
    """The ticks of another locator that fall in the axis' view.

    A log locator also returns the ticks of whole decades beyond the axis limits; matplotlib
    builds each tick (lines, grid line, two labels) and formats its label before it leaves out
    those not in view, which made ticks most of the time a report page takes to draw.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from matplotlib.ticker import LogLocator
    >>> ax = Figure().add_subplot(yscale="log", ylim=(0.5, 4))
    >>> ax.yaxis.set_major_locator(InView(LogLocator()))
    >>> ax.yaxis.get_majorticklocs().tolist()
    [1.0]
    """

    def __init__(self, base: Locator) -> None:
        self.base = base

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.base.set_axis(axis)

    def __call__(self) -> np.ndarray:
        locs = np.asarray(self.base(), dtype=float)
        if self.axis is None or not len(locs):
            return locs
        # Compared where matplotlib compares them (log axis: in decades), with room for rounding.
        transform = self.axis.get_transform()
        low, high = sorted(transform.transform(np.asarray(self.axis.get_view_interval(), dtype=float)))
        where = transform.transform(locs)
        room = 1e-6 * max(high - low, 1e-300)
        return locs[(where >= low - room) & (where <= high + room)]

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        return self.base.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> tuple[float, float]:
        return self.base.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        return self.base.nonsingular(v0, v1)


def panel_title(ax: Axes, text: str) -> None:
    """A left-aligned title just above the axes.

    Its height is given (``y=1``): left to itself, matplotlib finds it on every draw by laying
    out the tick labels of the axes and of its siblings once more (about a tenth of the time
    a report page takes); these axes have no tick labels on top, so the answer is always 1.
    """
    ax.set_title(text, fontsize=MIN_FONT + 1, loc="left", y=1.0)
