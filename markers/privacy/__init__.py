"""Pseudonymization: keyed pseudonyms, date shifting, scrubbing."""
