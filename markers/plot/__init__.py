"""Figures: the patient page and the cohort plots (matplotlib, ax=None -> Axes)."""
