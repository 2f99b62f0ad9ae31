"""markers: urinary catecholamine metabolites (VMA, HVA, ...) from lab spreadsheets to assessments."""

__version__ = "0.1.0"
