"""Scrubbing free text: patient IDs replaced by pseudonyms, dates in every accepted spelling by ``[date]``."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

__all__ = ["DATE_PLACEHOLDER", "make_scrubber", "scrub_text"]

#: What a scrubbed date becomes in free text.
DATE_PLACEHOLDER = "[date]"

# Every month spelling the date reader accepts (markers.ingest.parse), longest first within a stem.
_MONTHS = (
    "january|januar|janvier|jänner|jan|february|februar|fevrier|février|fev|feb|"
    "march|märz|maerz|mars|mär|mrz|mar|april|avril|avr|apr|may|mai|june|juni|juin|jun|"
    "july|juli|juillet|juil|jul|august|août|aout|aug|september|septembre|sept|sep|"
    "october|oktober|octobre|okt|oct|november|novembre|nov|december|dezember|décembre|déc|dez|dec"
)
_MONTH = rf"(?:{_MONTHS})(?![^\W\d_])"
# Shapes of a written date, one for each spelling the reader accepts: year first with
# - / or . (2024-03-10, 2019/03/02), day/month first with . / - and a 2- or 4-digit
# year, a month name (05-Mar-2017, 5 März 2024, March 5th, 2024), or 8 digits
# (20240310, checked against the known dates only, as an 8-digit number may be a lab value).
_DATE_SHAPES = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<iso>\d{4}(?P<isep>[-/.])\d{1,2}(?P=isep)\d{1,2})"
    r"|(?P<dmy>\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2}))"
    rf"|(?P<named>\d{{1,2}}(?:\s*[-/.]\s*|\s+)?{_MONTH}\.?(?:\s*[-/.,]\s*|\s+)\d{{2,4}}"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
    r"|(?P<compact>\d{8})"
    r")(?![0-9])",
    re.IGNORECASE,
)


def _date_key(match: re.Match[str]) -> set[dt.date]:
    """The calendar dates a matched text could mean (day- or month-first)."""
    text = match.group(0)
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    candidates: list[tuple[int, int, int]] = []
    if match.group("iso"):
        candidates.append((numbers[0], numbers[1], numbers[2]))
    elif match.group("dmy"):
        first, second, year = numbers
        if year < 100:
            year += 2000 if year < 70 else 1900
        candidates += [(year, second, first), (year, first, second)]
    elif match.group("compact"):
        digits = text
        candidates += [
            (int(digits[:4]), int(digits[4:6]), int(digits[6:])),  # yyyymmdd
            (int(digits[4:]), int(digits[2:4]), int(digits[:2])),  # ddmmyyyy
        ]
    found = set()
    for year, month, day in candidates:
        with contextlib.suppress(ValueError):
            found.add(dt.date(year, month, day))
    return found


def _id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first, so "NB-0012" is replaced whole before "NB-001" could match.
    alternatives = sorted({i for i in ids if i}, key=lambda s: (-len(s), s))
    if not alternatives:
        return None
    body = "|".join(re.escape(i) for i in alternatives)
    # Not inside a longer word or number: "12" must not hit "D120".
    return re.compile(rf"(?<![0-9A-Za-z])(?:{body})(?![0-9A-Za-z])", re.IGNORECASE)


def make_scrubber(
    *, id_map: Mapping[str, str], dates: Iterable[dt.date], any_date: bool
) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """Compiled scrubbers: (ids and dates, dates only)."""
    known = {pd.Timestamp(d).date() for d in dates if not pd.isna(d)}
    lookup = {k.casefold(): v for k, v in sorted(id_map.items(), reverse=True)}
    pattern = _id_pattern(id_map)

    def pseudonym_of(found: str) -> str:
        # The exact ID first, then its case-folded form; the regex's case-insensitive match also pairs
        # letters case folding keeps apart (dotless i with I), so a last resort asks the regex itself.
        if found in id_map:
            return id_map[found]
        if found.casefold() in lookup:
            return lookup[found.casefold()]
        for original, alias in sorted(id_map.items()):
            if re.fullmatch(re.escape(original), found, re.IGNORECASE):
                return alias
        return found  # unreachable: the pattern matched one of the IDs

    def replace_date(match: re.Match[str]) -> str:
        if match.group("compact"):
            # Eight digits are a date only if they spell a known one.
            return DATE_PLACEHOLDER if _date_key(match) & known else match.group(0)
        if any_date or match.group("named") or _date_key(match) & known:
            return DATE_PLACEHOLDER
        return match.group(0)

    def dates_only(text: str) -> str:
        return _DATE_SHAPES.sub(replace_date, text)

    def both(text: str) -> str:
        text = dates_only(text)
        if pattern is not None:
            text = pattern.sub(lambda m: pseudonym_of(m.group(0)), text)
        return text

    return both, dates_only


def scrub_text(
    text: str,
    *,
    id_map: Mapping[str, str],
    dates: Iterable[dt.date],
    any_date: bool = False,
) -> str:
    """Replace patient IDs by pseudonyms and known dates by ``[date]`` in free text.

    Parameters
    ----------
    text
        A message, a cell value as written, a file or sheet name.
    id_map
        Original ID -> pseudonym. IDs are matched case-insensitively and only
        as whole tokens (not inside a longer word or number).
    dates
        The dates to hide. Each is found written as ISO (``2024-03-10``),
        day first (``10.03.2024``, ``10/3/2024``, ``10-03-24``), month first
        (``03/10/2024``) or as 8 digits (``20240310``, ``10032024``).
    any_date
        Also replace every other date-shaped text (ISO, ``d.m.y``,
        ``d/m/y``), known or not: rejected dates that never became a known
        date are hidden too. Texts with a month name are always replaced.

    Returns
    -------
    str
        The scrubbed text.

    Examples
    --------
    >>> scrub_text("NB-7 sampled 10.03.2024", id_map={"NB-7": "P-1a2b"}, dates=[dt.date(2024, 3, 10)])
    'P-1a2b sampled [date]'
    """
    both, _ = make_scrubber(id_map=id_map, dates=dates, any_date=any_date)
    return both(text)
