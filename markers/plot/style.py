"""Styles of the plots: page sizes, fonts, colours and symbols of grades, analytes, phases and events."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


PAGE_SIZES: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "Letter": (8.5, 11.0)}

#: Smallest font used on a page (points): legible when an A4 page is printed.
MIN_FONT = 8

#: Grade colours: the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies.
GRADE_COLORS: dict[str, str] = {
    "normal": "#009E73",  # bluish green
    "mild": "#F0E442",  # yellow
    "moderate": "#E69F00",  # orange
    "marked": "#D55E00",  # vermillion
    "indeterminate": "#999999",  # grey
    "no_reference": "#CCCCCC",  # light grey
}

#: Line colour of each analyte (Okabe–Ito and Tol colours not used for grades).
ANALYTE_COLORS: dict[str, str] = {
    "VMA": "#0072B2",
    "HVA": "#CC79A7",
    "DA": "#56B4E9",
    "3MT": "#332288",
    "NE": "#882255",
    "E": "#44AA99",
    "NMN": "#000000",
    "MN": "#777777",
}

#: Marker of each analyte's uncensored points; "v" and "^" are kept for censored results.
ANALYTE_MARKERS: dict[str, str] = {
    "VMA": "o",
    "HVA": "s",
    "DA": "D",
    "3MT": "P",
    "NE": "X",
    "E": "h",
    "NMN": "p",
    "MN": "*",
}

#: Marker of a censored result: it points the way the true value lies.
CENSOR_MARKERS: dict[str, str] = {"<": "v", ">": "^"}

#: Grade cut-offs in multiples of the ULN drawn as bands: mild is ULN–2×, moderate 2–3×, marked ≥ 3×
#: (< 2× ULN is "usually physiological", ≥ 3× "increased probability of a tumour", domain facts §4 [S16]).
GRADE_CUTOFFS: tuple[float, float] = (2.0, 3.0)

#: Therapy events that open a phase, and the phase's name (the span's gid is ``phase:<name>``).
PHASE_START_EVENTS: dict[str, str] = {
    "therapy_start": "induction",
    "consolidation": "consolidation",
    "radiotherapy": "radiotherapy",
    "maintenance": "maintenance",
    "end_of_therapy": "off-therapy",
}

#: Events that close the running phase without opening another.
PHASE_END_EVENTS: tuple[str, ...] = ("end_of_induction", "last_follow_up")

#: Fill colour of each phase span (pale, so points stay readable on top).
PHASE_COLORS: dict[str, str] = {
    "induction": "#D0E2F2",
    "consolidation": "#EED6E6",
    "radiotherapy": "#F8DFB8",
    "maintenance": "#D3EDDF",
    "off-therapy": "#E4E4E4",
}

#: Events drawn as dashed vertical lines, with their label and colour.
MILESTONE_EVENTS: dict[str, tuple[str, str]] = {
    "surgery": ("surgery", "#444444"),
    "complete_remission": ("CR", "#009E73"),
    "relapse": ("relapse", "#D55E00"),
}

X_CHOICES = ("day", "date")
Y_CHOICES = ("x_uln", "value")


#: Short forms of phase names, used when a span is too narrow for the full name.
PHASE_SHORT: dict[str, str] = {
    "induction": "ind.",
    "consolidation": "consol.",
    "radiotherapy": "RT",
    "maintenance": "maint.",
    "off-therapy": "off",
}

# Mean advance width of DejaVu Sans (matplotlib's default font) in ems; enough to decide whether a
