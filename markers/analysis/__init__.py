"""Reference limits, flags, the therapy timeline, per-patient assessment and kinetics."""
