"""Known interfering drugs and foods named in a medication or comment cell (``data/interferences.csv``)."""

from __future__ import annotations

import csv
import functools
import re
from importlib import resources

import numpy as np
import pandas as pd

from markers.readers.cells import per_distinct

__all__ = ["interference_messages", "interferences"]

_TOKEN = re.compile(r"[a-z0-9]+")


@functools.cache
def interferences() -> tuple[tuple[str, tuple[str, ...], str, str], ...]:
    """``(substance, synonyms as token tuples..., effect, source)`` rows of the shipped table."""
    rows = []
    with resources.files("markers").joinpath("data", "interferences.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            synonyms = tuple(" ".join(_TOKEN.findall(s.casefold())) for s in row["synonyms"].split("|"))
            rows.append((row["substance"], synonyms, row["effect"], f"{row['source']} [{row['source_tag']}]"))
    return tuple(rows)


def _message(text: str) -> str:
    words = f" {' '.join(_TOKEN.findall(text.casefold()))} "
    found = [f"{substance}: {effect} ({source})" for substance, synonyms, effect, source in interferences()
             if any(f" {s} " in words for s in synonyms)]
    return "; ".join(found)


def interference_messages(texts: pd.Series) -> np.ndarray:
    """For each cell, the known interferences it names (``""`` for none), worked out once per distinct text.

    Examples
    --------
    >>> interference_messages(pd.Series(["on L-DOPA", "", "ate a banana"])).tolist()[1]
    ''
    """
    return per_distinct(texts, lambda text: _message(str(text)) if str(text).strip() else "", empty="")
