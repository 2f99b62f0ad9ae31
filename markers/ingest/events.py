"""Therapy and outcome event names as written -> canonical event codes (data/events.csv plus the config)."""

from __future__ import annotations

import csv
import functools
import logging
import re
import unicodedata
from collections.abc import Mapping
from importlib import resources

import numpy as np

from markers.errors import ConfigError
from markers.schema import EVENTS

logger = logging.getLogger(__name__)

__all__ = ["canonical_event", "event_synonyms"]

#: Labels are compared as runs of letters and digits, so synonyms match whole words only
#: ("OP" cannot match inside "stop").
_TOKEN = re.compile(r"[a-z0-9]+")


def _normalise(label: object) -> str:
    """Case-, accent-, space- and punctuation-insensitive form: ``"Surgery (Resection)"`` -> ``"surgery resection"``."""
    text = unicodedata.normalize("NFKD", str(label)).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_TOKEN.findall(text))


@functools.cache
def event_synonyms() -> dict[str, str]:
    """Built-in synonyms from ``data/events.csv``: normalised synonym -> event code.

    Returns
    -------
    dict[str, str]
        e.g. ``{"start of induction": "therapy_start", "hdc asct": "consolidation", ...}``.

    Examples
    --------
    >>> event_synonyms()["c1d1"]
    'therapy_start'
    """
    table: dict[str, str] = {}
    with resources.files("markers").joinpath("data", "events.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["event"].strip()
            if code not in EVENTS:
                raise ValueError(f"data/events.csv: {code!r} is not an event code; use one of {', '.join(EVENTS)}")
            table[_normalise(row["synonym"])] = code
    return table


def _alias_table(aliases: Mapping[str, str] | None) -> dict[str, str]:
    if not aliases:
        return {}
    table: dict[str, str] = {}
    for label, code in aliases.items():
        target = str(code).strip()
        if target not in EVENTS:
            # a synonym as the target is forgiving and unambiguous
            target = event_synonyms().get(_normalise(target), "")
        if not target:
            raise ConfigError(
                f"config [events]: {label!r} = {code!r} is not an event code. "
                f"Use one of: {', '.join(EVENTS)}."
            )
        table[_normalise(label)] = target
    return table


def _contains(haystack: list[str], needle: list[str]) -> list[tuple[int, int]]:
    """Spans (start, end) where the token list ``needle`` occurs in ``haystack`` as whole words."""
    n = len(needle)
    return [(i, i + n) for i in range(len(haystack) - n + 1) if haystack[i : i + n] == needle]


def canonical_event(label: object, *, aliases: Mapping[str, str] | None = None) -> str | None:
    """The canonical event code for a free-text therapy event name.

    Matching, in order:

    1. exact match (ignoring case, accents, spaces and punctuation) against
       ``aliases`` (the config file's ``[events]`` table), which take precedence;
    2. exact match against the built-in synonyms (``data/events.csv``) or a code itself;
    3. a *contains* match for longer labels: every synonym occurring in the
       label as whole words (so ``"OP"`` never matches inside ``"stop"``) is
       collected, matches lying inside a longer match are dropped, and the
       label maps to an event only when all remaining matches agree. A label
       naming two different events ("relapse after end of therapy") is
       ambiguous and gives ``None``.

    Parameters
    ----------
    label
        The event name as written.
    aliases
        Extra ``label -> event code`` pairs (a synonym is accepted as the target).

    Returns
    -------
    str or None
        One of :data:`markers.schema.EVENTS`, or ``None`` when unknown or ambiguous.

    Raises
    ------
    ConfigError
        When an alias maps to something that is not an event code.

    Examples
    --------
    >>> canonical_event("Start of induction chemotherapy (N7)")
    'therapy_start'
    >>> canonical_event("HDC/ASCT")
    'consolidation'
    >>> canonical_event("Beginn Induktion", aliases={"Beginn Induktion": "therapy_start"})
    'therapy_start'
    >>> canonical_event("relapse after end of therapy") is None
    True
    """
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return None
    key = _normalise(label)
    if not key:
        return None
    alias_table = _alias_table(aliases)
    if key in alias_table:
        return alias_table[key]
    builtin = event_synonyms()
    if key in builtin:
        return builtin[key]
    code_key = key.replace(" ", "_")
    if code_key in EVENTS:
        return code_key

    tokens = key.split()
    matches: list[tuple[int, int, str]] = []
    for table in (alias_table, builtin):
        for synonym, code in table.items():
            for start, end in _contains(tokens, synonym.split()):
                matches.append((start, end, code))
    # a match inside a longer one ("induction start" within "chemo induction start") is not separate evidence
    kept = [
        m for m in matches
        if not any(o[0] <= m[0] and m[1] <= o[1] and (o[1] - o[0]) > (m[1] - m[0]) for o in matches)
    ]
    codes = {code for _, _, code in kept}
    if len(codes) == 1:
        return codes.pop()
    if len(codes) > 1:
        logger.debug("event label %r is ambiguous: %s", label, sorted(codes))
    return None
