"""Date cells to dates at midnight, vectorised over a whole column; the day/month order inferred per column.

Date cells and Excel serial numbers are unambiguous; so are ISO dates
(``2024-03-05``) and, by the European convention followed by the labs
whose exports use it, dotted dates (``05.03.2024`` is always 5 March).
Dates with slashes or dashes (``05/03/2024``, ``05-03-2024``) have their
day/month order inferred per column; see :func:`parse_dates`.
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd

from markers.errors import AmbiguousDateError
from markers.ingest.cell_kinds import (
    DATE,
    DATETIME,
    MISSING,
    NUMBER,
    STATUS,
    TEXT_KIND,
    as_object,
    broadcast,
    cell_kinds,
    distinct_cells,
    strip_text,
)
from markers.ingest.date_parts import assemble, bounded_ns, excel_serial, full_year, to_int

logger = logging.getLogger(__name__)

_TIME = (
    r"(?:(?:\s+|T)\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:[.,]\d+)?)?"
    r"\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_MONTH_WORD = r"[^\W\d_]{3,9}"
# One expression for every accepted date spelling; exactly one alternative's
# groups are filled for a matching cell.
_DATE_RE = re.compile(
    rf"""^(?:
        (?P<iy>\d{{4}})(?P<isep>[-/.])(?P<im>\d{{1,2}})(?P=isep)(?P<id>\d{{1,2}}){_TIME}
      | (?P<dd>\d{{1,2}})\.(?P<dm>\d{{1,2}})\.(?P<dy>\d{{4}}|\d{{2}}){_TIME}
      | (?P<sa>\d{{1,2}})(?P<ssep>[/-])(?P<sb>\d{{1,2}})(?P=ssep)(?P<sy>\d{{4}}|\d{{2}}){_TIME}
      | (?P<serial>\d{{1,7}}|\d{{3,7}}\.\d+)
      | (?P<compact>\d{{8}})
      | (?P<nd>\d{{1,2}})(?:\s*[-/.]\s*|\s+)?(?P<nmon>{_MONTH_WORD})\.?
        (?:\s*[-/.,]\s*|\s+)(?P<ny>\d{{4}}|\d{{2}}){_TIME}
      | (?P<mmon>{_MONTH_WORD})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}}){_TIME}
    )$""",
    re.VERBOSE,
)

_MONTHS = {
    "jan": 1, "january": 1, "januar": 1, "janvier": 1,
    "feb": 2, "february": 2, "februar": 2, "fev": 2, "fevrier": 2, "février": 2,
    "mar": 3, "march": 3, "mär": 3, "märz": 3, "maerz": 3, "mrz": 3, "mars": 3,
    "apr": 4, "april": 4, "avr": 4, "avril": 4,
    "may": 5, "mai": 5,
    "jun": 6, "june": 6, "juni": 6, "juin": 6,
    "jul": 7, "july": 7, "juli": 7, "juil": 7, "juillet": 7,
    "aug": 8, "august": 8, "aout": 8, "août": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "oct": 10, "october": 10, "okt": 10, "oktober": 10, "octobre": 10,
    "nov": 11, "november": 11, "novembre": 11,
    "dec": 12, "december": 12, "dez": 12, "dezember": 12, "déc": 12, "décembre": 12,
}  # fmt: skip

# First and last whole days datetime64[ns] can hold, in µs so that comparing


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""



def _slash_evidence(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells that can only be day-first, and cells that can only be month-first."""
    day_first_only = (first >= 13) & (first <= 31) & (second >= 1) & (second <= 12)
    month_first_only = (second >= 13) & (second <= 31) & (first >= 1) & (first <= 12)
    return day_first_only, month_first_only


def _decide_order(texts: pd.Series, first: np.ndarray, second: np.ndarray, where: str) -> bool | None:
    """Day-first (True), month-first (False) or undecided (None) from slash dates."""
    day_first_only, month_first_only = _slash_evidence(first, second)
    if day_first_only.any() and month_first_only.any():
        example_dmy = texts.iloc[int(np.flatnonzero(day_first_only)[0])]
        example_mdy = texts.iloc[int(np.flatnonzero(month_first_only)[0])]
        raise AmbiguousDateError(
            f"{_prefix(where)}dates such as '{example_dmy}' and '{example_mdy}' mix day-first and "
            "month-first; the column cannot be read one way. Correct the dates that are wrong, "
            "or rerun with --day-first or --month-first (or set day_first in the config file's "
            "[dates] table) to read the column one way and report the others as invalid."
        )
    if day_first_only.any():
        return True
    if month_first_only.any():
        return False
    return None


_SLASH_RE = re.compile(rf"^(?P<sa>\d{{1,2}})[/-](?P<sb>\d{{1,2}})[/-](?:\d{{4}}|\d{{2}}){_TIME}$")

#: Spellings parsed straight by pd.to_datetime (the bulk of most columns).
#: (pattern, format, characters the format reads: None for all).
_FAST_DATE_FORMATS = (
    # what every workbook reader writes for a date cell: its date is the first ten characters
    (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?", "%Y-%m-%d", 10),
    (r"\d{1,2}\.\d{1,2}\.\d{4}", "%d.%m.%Y", None),
    (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d", None),
)


def _parse_date_texts(
    texts: pd.Series, *, day_first: bool | None, where: str, counts: np.ndarray | None = None
) -> np.ndarray:
    """The general path: stripped, non-empty texts (RangeIndex) to datetime64[ns].

    ``counts``: how many cells each text stands for (when distinct cells are
    parsed once), so that messages count cells, not spellings.
    """
    parts = texts.str.extract(_DATE_RE)
    got = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[ns]")

    def rows(group: str) -> np.ndarray:
        return np.flatnonzero(parts[group].notna().to_numpy(dtype=bool))

    at = rows("serial")
    if len(at):
        got[at] = excel_serial(to_int(parts["serial"].iloc[at]))
    at = rows("iy")
    if len(at):
        p = parts.iloc[at]
        got[at] = assemble(to_int(p["iy"]), to_int(p["im"]), to_int(p["id"]))
    at = rows("compact")
    if len(at):
        c = parts["compact"].iloc[at]
        got[at] = assemble(to_int(c.str[:4]), to_int(c.str[4:6]), to_int(c.str[6:]))
    at = rows("dd")
    if len(at):
        p = parts.iloc[at]
        got[at] = assemble(full_year(to_int(p["dy"]), p["dy"]), to_int(p["dm"]), to_int(p["dd"]))
    at = rows("sa")
    if len(at):
        weights = counts[at] if counts is not None else np.ones(len(at), dtype=np.int64)
        got[at] = _slash_dates(
            parts.iloc[at], texts.iloc[at].reset_index(drop=True), weights, day_first=day_first, where=where
        )
    for day_group, month_group, year_group in (("nd", "nmon", "ny"), ("md", "mmon", "my")):
        at = rows(month_group)
        if len(at):
            p = parts.iloc[at]
            month = p[month_group].str.lower().map(_MONTHS).to_numpy(dtype=float)
            got[at] = assemble(full_year(to_int(p[year_group]), p[year_group]), month, to_int(p[day_group]))
    return got


def _slash_dates(
    p: pd.DataFrame, slash_texts: pd.Series, weights: np.ndarray, *, day_first: bool | None, where: str
) -> np.ndarray:
    """Slash or dash dates (the regex's ``sa``/``sb``/``sy`` groups) in the order the column or the caller sets.

    ``weights``: how many cells each text stands for, so that the warning counts cells.
    """
    first, second = to_int(p["sa"]), to_int(p["sb"])
    order = day_first
    if order is None:
        order = _decide_order(slash_texts, first, second, where)
        logger.debug("%s: slash dates read as %s-first", where, "day" if order else "month")
    if order is None:
        raise AmbiguousDateError(
            f"{_prefix(where)}every date is ambiguous between day-first and month-first "
            f"(e.g. '{slash_texts.iloc[0]}'); rerun with --day-first or --month-first, "
            "or set day_first in the config file's [dates] table"
        )
    day, month = (first, second) if order else (second, first)
    dates = assemble(full_year(to_int(p["sy"]), p["sy"]), month, day)
    if day_first is not None:
        contradicting = _slash_evidence(first, second)[1 if day_first else 0]
        if contradicting.any():
            example = slash_texts.iloc[int(np.flatnonzero(contradicting)[0])]
            n_contradicting = int(weights[contradicting].sum())
            warnings.warn(
                f"{_prefix(where)}{n_contradicting} date(s) such as '{example}' "
                f"cannot be {'day' if day_first else 'month'}-first as requested; "
                "they are reported as invalid, not swapped.",
                stacklevel=6,  # the caller of parse_dates
            )
    return dates


def infer_day_first(values: pd.Series, *, where: str = "") -> bool | None:
    """Infer the day/month order of a column's slash or dash dates.

    Only dates written ``a/b/yyyy`` or ``a-b-yyyy`` (also with two-digit
    years) are considered: ISO dates, dotted dates (always day-first), date
    cells and serial numbers carry no order to infer.

    Parameters
    ----------
    values : pandas.Series
        The column's cells as written.
    where : str, optional
        Where the column is, for the error message, e.g.
        ``"study.xlsx Samples, column 'Sample date'"``.

    Returns
    -------
    bool or None
        True when some date has a first part of 13-31 (so it is a day),
        False when some date has a second part of 13-31, None when every
        slash date is ambiguous or there are none.

    Raises
    ------
    AmbiguousDateError
        When both kinds of evidence occur in the one column.

    Examples
    --------
    >>> infer_day_first(pd.Series(["05/03/2024", "25/03/2024"]))
    True
    >>> infer_day_first(pd.Series(["03/05/2024", "03/25/2024"]))
    False
    >>> infer_day_first(pd.Series(["05/03/2024"])) is None
    True
    """
    pos = np.flatnonzero(cell_kinds(values) == TEXT_KIND)
    texts = strip_text(as_object(values, pos))
    parts = texts.str.extract(_SLASH_RE)
    slash = parts["sa"].notna().to_numpy(dtype=bool)
    return _decide_order(
        texts[slash].reset_index(drop=True), to_int(parts["sa"][slash]), to_int(parts["sb"][slash]), where
    )


def parse_dates(values: pd.Series, *, day_first: bool | None = None, where: str = "") -> pd.DataFrame:
    """Parse a column of date cells into dates at midnight.

    Accepted, per cell:

    * date and datetime cells (also pandas Timestamps, numpy datetime64):
      the date, time of day dropped;
    * numbers, and text of digits such as ``"45000"``: Excel 1900-system
      serials, day 0 = 1899-12-30 (45000 is 2023-03-15, 1 is 1899-12-31),
      valid from 1 to 2958465 as far as ``datetime64[ns]`` reaches (to
      2262-04-11); eight digits such as ``"20240305"`` are YYYYMMDD;
    * ISO dates ``2024-03-05`` (also ``2024/03/05``), optionally with a time
      (``2024-03-05 14:30``, ``2024-03-05T14:30:00``);
    * dotted dates ``05.03.2024`` / ``5.3.24``: **always day-first**, the
      European convention of the labs that write dates with dots;
    * slash or dash dates ``05/03/2024``, ``5/3/2024``, ``05-03-2024``: the
      order is inferred for the whole column (see :func:`infer_day_first`):
      a first part above 12 means day-first, a second part above 12 means
      month-first;
    * dates with a month name: ``5 Mar 2024``, ``05-MAR-24``, ``March 5, 2024``.

    Two-digit years are 20yy unless that year is after the current one, then
    19yy. Times after a date are dropped.

    Parameters
    ----------
    values : pandas.Series
        The column's cells as written, with any index.
    day_first : bool or None, optional
        The order of slash/dash dates when the column does not decide it.
        When given, it is applied as is: dates that contradict it (e.g.
        ``"13/01/2024"`` with ``day_first=False``) get status ``"invalid"``
        (with a warning), never silently swapped.
    where : str, optional
        Where the column is, for error messages, e.g.
        ``"study.xlsx Samples, column 'Sample date'"``.

    Returns
    -------
    pandas.DataFrame
        On the index of ``values``: ``date`` (datetime64[ns] at midnight, NaT
        unless ok) and ``status`` (one of ``"ok"``,
        ``"missing"`` for empty cells, ``"invalid"`` for anything else, such
        as ``"yesterday"``, ``"31.02.2024"`` or ``"2024-13-01"``).

    Raises
    ------
    AmbiguousDateError
        When ``day_first`` is None and either every slash/dash date is
        ambiguous (both parts 12 or less), or the column holds both dates
        that can only be day-first and dates that can only be month-first.

    Examples
    --------
    >>> out = parse_dates(pd.Series(["05.03.2024", "2024-03-05 14:30", 45000, "", "31.02.2024"]))
    >>> [str(d.date()) if pd.notna(d) else None for d in out["date"]]
    ['2024-03-05', '2024-03-05', '2023-03-15', None, None]
    >>> out["status"].tolist()
    ['ok', 'ok', 'ok', 'missing', 'invalid']
    """
    distinct = distinct_cells(values)
    if distinct is not None:
        codes, uniques = distinct
        counts = np.bincount(codes, minlength=len(uniques))
        parsed = _parse_date_cells(pd.Series(uniques, dtype=object), day_first=day_first, where=where, counts=counts)
        return broadcast(parsed, codes, values.index)
    return _parse_date_cells(values, day_first=day_first, where=where)


def _parse_date_cells(
    values: pd.Series, *, day_first: bool | None, where: str, counts: np.ndarray | None = None
) -> pd.DataFrame:
    """:func:`parse_dates` on every cell of ``values``; ``counts`` as for :func:`_parse_date_texts`."""
    n = len(values)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    kinds = cell_kinds(values)
    missing = kinds == MISSING

    at = np.flatnonzero(kinds == DATETIME)
    if len(at):
        dates[at] = _datetime_cells(as_object(values, at))
    # number cells: Excel serials
    at = np.flatnonzero(kinds == NUMBER)
    if len(at):
        dates[at] = excel_serial(as_object(values, at).astype("float64").to_numpy())
    pos = np.flatnonzero(kinds == TEXT_KIND)
    if len(pos):
        texts = strip_text(as_object(values, pos))
        empty = (texts == "").to_numpy(dtype=bool)
        missing[pos[empty]] = True
        dates[pos] = _text_dates(
            texts, empty, day_first=day_first, where=where, counts=None if counts is None else counts[pos]
        )

    status = np.where(missing, "missing", np.where(np.isnat(dates), "invalid", "ok"))
    dates[missing] = np.datetime64("NaT")
    return pd.DataFrame({DATE: dates, STATUS: status.astype(str)}, index=values.index)


def _datetime_cells(cells: pd.Series) -> np.ndarray:
    """Date and datetime cells to their dates (datetime64[ns] at midnight), the time of day dropped."""
    try:
        stamps = pd.to_datetime(cells, errors="coerce")
    except (TypeError, ValueError):
        # Time-zone-aware and naive datetimes mixed: the wall-clock date is
        # what the sheet shows, so drop the zone first.
        cells = cells.map(lambda v: v.replace(tzinfo=None) if getattr(v, "tzinfo", None) else v)
        stamps = pd.to_datetime(cells, errors="coerce")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)
    return bounded_ns(stamps.dt.floor("D").to_numpy())


def _text_dates(
    texts: pd.Series, empty: np.ndarray, *, day_first: bool | None, where: str, counts: np.ndarray | None
) -> np.ndarray:
    """Stripped text cells to datetime64[ns] (NaT where empty or unreadable)."""
    got = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[ns]")
    remaining = np.flatnonzero(~empty)
    # Fast paths: a column is usually written one way, so the common
    # spellings go straight to pd.to_datetime with an explicit format;
    # only what is left goes through the general regex. The spellings exclude one another, so the
    # order they are tried in changes no date: the first cell's spelling is tried first (a column of
    # 50,000 distinct ISO dates is then matched once, not three times).
    first = texts.iloc[remaining[0]] if len(remaining) else ""
    for pattern, fmt, width in sorted(_FAST_DATE_FORMATS, key=lambda spelling: not re.fullmatch(spelling[0], first)):
        if not len(remaining):
            break
        sub = texts.iloc[remaining]
        hit = sub.str.fullmatch(pattern).to_numpy(dtype=bool)
        if hit.any():
            written = sub[hit] if width is None else sub[hit].str.slice(0, width)
            stamps = pd.to_datetime(written, format=fmt, errors="coerce").to_numpy()
            got[remaining[hit]] = bounded_ns(stamps)
            remaining = remaining[~hit]
    if len(remaining):
        got[remaining] = _parse_date_texts(
            texts.iloc[remaining].reset_index(drop=True), day_first=day_first, where=where,
            counts=None if counts is None else counts[remaining],
        )
    return got
