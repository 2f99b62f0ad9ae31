"""Parse result cells and date cells, vectorised over a whole column.

Readers hand over cells *as written*: an object Series holding ``str``,
``int``, ``float``, ``bool``, ``datetime.datetime``, ``datetime.date`` or
``None``, indexed by source row. Each function here returns a DataFrame aligned
on that same index, with one status per cell, so that the caller can turn every
cell that is not ``"ok"`` into an issue record (see :mod:`markers.ingest.issues`)
without re-reading the cell.

Nothing here loops over rows in Python: a column is split by cell type once
(``Series.map(type)``, a C-level map), text cells go through one
``Series.str.extract`` with one regular expression, and the numbers and dates
are assembled with numpy / :func:`pandas.to_datetime` on the matching subset.
All the bookkeeping is positional, so a duplicated or non-default index is
handled like any other.

Results
    A result is a number, optionally behind a comparator (``<``, ``<=``,
    ``≤``, ``>``, ``>=``, ``≥``: a censored result, kept as ``censor`` plus
    ``censor_inclusive`` and never silently a plain number) and optionally
    followed by a lab flag (``H``, ``L``, ``HH``, ``LL``, ``*``, also in
    parentheses). Anything else is ``"text"`` (``Cancelled``, ``QNS``,
    ``n/a``...), empty cells are ``"missing"``, negative numbers are
    ``"negative"`` and numbers whose separators cannot be read with certainty
    are ``"ambiguous"``.

Dates
    Date cells and Excel serial numbers are unambiguous; so are ISO dates
    (``2024-03-05``) and, by the European convention followed by the labs
    whose exports use it, dotted dates (``05.03.2024`` is always 5 March).
    Dates with slashes or dashes (``05/03/2024``, ``05-03-2024``) have their
    day/month order inferred per column; see :func:`parse_dates`.
"""

from __future__ import annotations

import datetime as dt
import logging
import numbers
import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.errors import AmbiguousDateError
from markers.readers.cells import ascii_digits, distinct
from markers.readers.files import CELL_DTYPE

logger = logging.getLogger(__name__)

RESULT_STATUS = ("ok", "missing", "text", "ambiguous", "negative")

# Column names of the frames returned here. They are local to this stage: the
# tidy-table names in markers.schema (VALUE, CENSOR, CENSOR_INCLUSIVE) are
# spelled the same, so the caller can copy these columns across unchanged.
VALUE = "value"
CENSOR = "censor"
CENSOR_INCLUSIVE = "censor_inclusive"
LAB_FLAG = "lab_flag"
STATUS = "status"
TEXT = "text"
DATE = "date"

#: Day 0 of Excel's 1900 date system as pandas and most readers count it
#: (serial 1 = 1899-12-31, 45000 = 2023-03-15). Excel itself shows serials
#: 1..59 one day later because of its fictitious 1900-02-29; lab data from
#: before March 1900 does not exist, so that difference never matters here.
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
EXCEL_SERIAL_MAX = 2958465  # 9999-12-31, Excel's last date

# -- classification of cells by Python type --------------------------------------------

_MISSING, _NUMBER, _TEXT, _BOOL, _DATETIME, _OTHER = range(6)


def _kind_of_type(kind: type) -> int:
    """Cell kind of one Python type (called once per distinct type, not per cell)."""
    if kind is type(None) or kind is type(pd.NaT) or kind is type(pd.NA):
        return _MISSING
    if issubclass(kind, (bool, np.bool_)):  # before numbers: bool is an int subclass
        return _BOOL
    if issubclass(kind, (dt.datetime, dt.date, np.datetime64)):
        return _DATETIME
    if issubclass(kind, numbers.Real):
        return _NUMBER
    if issubclass(kind, str):
        return _TEXT
    return _OTHER


#: infer_dtype results that mean "every non-missing cell is of one kind".
_UNIFORM_KINDS = {
    "string": _TEXT,
    "integer": _NUMBER,
    "floating": _NUMBER,
    "mixed-integer-float": _NUMBER,
    "decimal": _NUMBER,
    "boolean": _BOOL,
    "datetime": _DATETIME,
    "datetime64": _DATETIME,
    "date": _DATETIME,
    "empty": _MISSING,
}


def _cell_kinds(values: pd.Series) -> np.ndarray:
    """One kind code per cell (an int8 array), NaN/None counted as missing."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        kinds = np.full(len(values), _BOOL, dtype=np.int8)
    elif pd.api.types.is_numeric_dtype(dtype):
        kinds = np.full(len(values), _NUMBER, dtype=np.int8)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        kinds = np.full(len(values), _DATETIME, dtype=np.int8)
    elif (inferred := _UNIFORM_KINDS.get(pd.api.types.infer_dtype(values, skipna=True))) is not None:
        # One C-level pass tells a uniform column (the usual case) from a mixed one.
        kinds = np.full(len(values), inferred, dtype=np.int8)
    else:
        types = values.map(type)
        lookup = {t: _kind_of_type(t) for t in pd.unique(types.to_numpy())}
        kinds = types.map(lookup).to_numpy(dtype=np.int8)
    # NaN floats, NaT and pd.NA are "missing" whatever the dtype.
    kinds[values.isna().to_numpy()] = _MISSING
    return kinds


# -- parsing each distinct cell once ---------------------------------------------------

#: Columns shorter than this are parsed cell by cell (factorising costs more than it saves).
_DISTINCT_MIN = 256


def _distinct(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, uniques)`` of a column (:func:`markers.readers.cells.distinct`), or None when it is
    parsed cell by cell: a short column, where factorising costs more than it saves.

    Lab columns repeat themselves (a million results hold a few thousand distinct spellings), and
    every cell's parse depends on that cell alone, so parsing the distinct cells and broadcasting
    the result back by code gives the same output much faster.
    """
    if len(values) < _DISTINCT_MIN or not (isinstance(values.dtype, pd.StringDtype) or values.dtype == object):
        return None
    return distinct(values)


def _broadcast(parsed: pd.DataFrame, codes: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """Rows of ``parsed`` (one per distinct cell) taken for every cell, on the cells' index.

    Column by column: numbers and dates with numpy, text with Arrow (a text
    column of a million cells, never a million Python objects).
    """
    taken = {}
    for name in parsed.columns:
        column = parsed[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            table = pa.array(column.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
            taken[name] = pd.array(table.take(pa.array(codes)), dtype=CELL_DTYPE)
        else:
            taken[name] = column.to_numpy()[codes]
    return pd.DataFrame(taken, index=index)


def _as_object(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """The cells at ``positions`` as an object Series with a fresh RangeIndex."""
    return pd.Series(values.to_numpy(dtype=object)[positions], dtype=object)


def _strip_text(text: pd.Series) -> pd.Series:
    """Strip whitespace; str.strip() also removes the non-breaking spaces spreadsheets love."""
    return text.str.strip()


# -- results -----------------------------------------------------------------------------

# One expression for every accepted result spelling. The number itself is
# captured loosely ([digits, dots, commas]) and interpreted afterwards, because
# whether "1,234" is 1.234 or 1234 depends on the file, not on the regex.
_RESULT_RE = re.compile(
    r"""^
    (?P<cmp><\s*=|>\s*=|=\s*<|=\s*>|[<>≤≥⩽⩾])?\s*
    (?P<sign>[-+\u2212])?\s*  # U+2212 MINUS SIGN: what some lab systems print
    (?P<mant>\d(?:[\d.,]*\d)?|[.,]\d+)
    (?P<exp>[eE][-+]?\d+)?
    \s*
    (?:(?P<flag>(?i:HH|LL|H|L)|\*)|\(\s*(?P<pflag>(?i:HH|LL|H|L)|\*)\s*\))?
    $""",
    re.VERBOSE,
)

# A single separator followed by exactly three digits, after a group that does
# not start with 0: "1,234" or "1.234" could be a decimal or a thousands group.
_GROUPABLE_RE = r"^[1-9]\d{0,2}[.,]\d{3}$"
#: Per decimal_comma: (regex of numbers whose reading is certain, comma is decimal).
_FAST_NUMBER = {
    None: (r"\d{1,15}(?:\.\d{1,15})?", False),
    False: (r"\d{1,15}(?:\.\d{1,15})?", False),
    True: (r"\d{1,15}(?:,\d{1,15})?", True),
}
_DOT_GROUPS_RE = r"^[1-9]\d{0,2}(?:\.\d{3})+$"
_COMMA_GROUPS_RE = r"^[1-9]\d{0,2}(?:,\d{3})+$"
_DOT_GROUPS_COMMA_DECIMAL_RE = r"^[1-9]\d{0,2}(?:\.\d{3})+,\d+$"
_COMMA_GROUPS_DOT_DECIMAL_RE = r"^[1-9]\d{0,2}(?:,\d{3})+\.\d+$"


def _number_text(cells: pd.Series) -> pd.Series:
    """Numbers written back as text the way a spreadsheet shows them (45.0 -> "45")."""
    text = cells.astype(str)
    return text.str.replace(r"\.0$", "", regex=True)


def _interpret_mantissa(mant: pd.Series, decimal_comma: bool | None) -> pd.Series:
    """Turn captured digit/dot/comma strings into plain "1234.5" text; NaN if ambiguous.

    Rules (``c`` = decimal_comma):

    * no separator: the digits.
    * one separator: it is the decimal separator, unless exactly three digits
      follow it and a non-zero group of 1-3 digits precedes it ("1,234",
      "1.234"). Then a comma is ambiguous when ``c`` is None, a decimal when
      ``c`` is True and a thousands separator when ``c`` is False; a dot is a
      decimal point unless ``c`` is True (then it groups thousands).
    * the same separator two or more times ("1.234.567"): thousands groups,
      unless that separator is the decimal one for the file.
    * both ("1.234,5", "1,234.5"): the last one is the decimal separator and
      the other must group thousands; refused when the file says otherwise.
    * anything else ("1.2,3", "12,34,5"): ambiguous.
    """
    n_dot = mant.str.count(r"\.")
    n_comma = mant.str.count(",")
    n_sep = n_dot + n_comma
    groupable = mant.str.match(_GROUPABLE_RE)

    as_decimal = mant.str.replace(",", ".", regex=False)
    as_grouped = mant.str.replace(r"[.,]", "", regex=True)
    comma_decimal = mant.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    dot_decimal = mant.str.replace(",", "", regex=False)

    single = n_sep == 1
    multi = n_sep >= 2  # a lone group ("1,234") is decided by the rules for one separator
    single_comma = single & (n_comma == 1)
    single_dot = single & (n_dot == 1)
    conditions = [n_sep == 0, single & ~groupable]
    choices = [mant, as_decimal]
    if decimal_comma is None:
        # Workbooks: a text "12,5" is 12.5, but "1,234" could be either.
        conditions += [single_dot & groupable]
        choices += [as_decimal]
    elif decimal_comma:
        conditions += [single_comma & groupable, single_dot & groupable]
        choices += [as_decimal, as_grouped]
    else:
        conditions += [single_comma & groupable, single_dot & groupable]
        choices += [as_grouped, as_decimal]
    if decimal_comma is not False:
        conditions += [multi & mant.str.match(_DOT_GROUPS_RE), mant.str.match(_DOT_GROUPS_COMMA_DECIMAL_RE)]
        choices += [as_grouped, comma_decimal]
    if decimal_comma is not True:
        conditions += [multi & mant.str.match(_COMMA_GROUPS_RE), mant.str.match(_COMMA_GROUPS_DOT_DECIMAL_RE)]
        choices += [as_grouped, dot_decimal]
    cleaned = np.select(
        [c.to_numpy(dtype=bool) for c in conditions],
        [c.to_numpy(dtype=object) for c in choices],
        default=None,
    )
    return pd.Series(cleaned, index=mant.index, dtype=object)


def parse_results(values: pd.Series, *, decimal_comma: bool | None = None,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Parse a column of result cells into value, censor, lab flag and status.

    Parameters
    ----------
    values : pandas.Series
        Cells as a reader gives them (object dtype: str, int, float, bool,
        datetime or None), with any index.
    decimal_comma : bool or None, optional
        The file's decimal separator for numbers written as text. ``None``
        (workbooks, where real numbers are numeric cells): "12,5" is 12.5 but
        "1,234" is ``"ambiguous"`` (exactly three digits after a single comma;
        "0,123" is 0.123, since no thousands group starts with 0). ``True``: comma decimals, dot thousands
        ("1.234,5" is 1234.5, "1,234" is 1.234). ``False``: dot decimals,
        comma thousands ("1,234" is 1234).

    Returns
    -------
    pandas.DataFrame
        On the index of ``values``, with columns

        ``value`` (float64)
            the number; NaN unless ``status`` is ``"ok"``. For a censored
            result it is the limit written ("<0.5" gives 0.5).
        ``censor`` (str)
            ``"<"``, ``">"`` or ``""``.
        ``censor_inclusive`` (bool)
            True for ``<=``, ``>=``, ``≤``, ``≥``.
        ``lab_flag`` (str)
            ``"H"``, ``"L"``, ``"HH"``, ``"LL"``, ``"*"`` or ``""``.
        ``status`` (str)
            one of :data:`RESULT_STATUS`: ``"ok"``; ``"missing"`` (empty,
            None, NaN, whitespace); ``"text"`` (any text that is not a
            number, booleans, dates, infinities); ``"ambiguous"`` (separators
            that cannot be read with certainty); ``"negative"``.
        ``text`` (str)
            the cell as written ("" for an empty cell).

        ``columns`` limits the frame to the columns named (a million-row
        column not needed is never built).

    Examples
    --------
    >>> out = parse_results(pd.Series(["< 0.5", "12,5", "45.2 H", "QNS", None, -3]))
    >>> out["value"].tolist()
    [0.5, 12.5, 45.2, nan, nan, nan]
    >>> out["censor"].tolist()
    ['<', '', '', '', '', '']
    >>> out["lab_flag"].tolist()
    ['', '', 'H', '', '', '']
    >>> out["status"].tolist()
    ['ok', 'ok', 'ok', 'text', 'missing', 'negative']
    """
    distinct = _distinct(values)
    if distinct is not None:
        codes, uniques = distinct
        parsed = _parse_result_cells(pd.Series(uniques, dtype=object), decimal_comma=decimal_comma)
        return _broadcast(parsed if columns is None else parsed[list(columns)], codes, values.index)
    parsed = _parse_result_cells(values, decimal_comma=decimal_comma)
    return parsed if columns is None else parsed[list(columns)]


def _parse_result_cells(values: pd.Series, *, decimal_comma: bool | None) -> pd.DataFrame:  # noqa: PLR0915 - long, to be split (docs/design.md)
    """:func:`parse_results` on every cell of ``values`` (no deduplication)."""
    n = len(values)
    kinds = _cell_kinds(values)
    value = np.full(n, np.nan)
    censor = np.full(n, "", dtype=object)
    inclusive = np.zeros(n, dtype=bool)
    flag = np.full(n, "", dtype=object)
    status = np.full(n, "text", dtype=object)
    text = np.full(n, "", dtype=object)
    status[kinds == _MISSING] = "missing"

    # -- numeric cells pass through ------------------------------------------
    pos = np.flatnonzero(kinds == _NUMBER)
    if len(pos):
        cells = _as_object(values, pos).astype("float64")
        numbers_ = cells.to_numpy()
        text[pos] = _number_text(cells).to_numpy(dtype=object)
        finite = np.isfinite(numbers_)
        status[pos] = np.where(~finite, "text", np.where(numbers_ < 0, "negative", "ok"))
        value[pos] = np.where(finite & (numbers_ >= 0), numbers_ + 0.0, np.nan)  # + 0.0: no -0.0

    # -- booleans, dates, anything else: text as written --------------------------
    pos = np.flatnonzero((kinds == _BOOL) | (kinds == _DATETIME) | (kinds == _OTHER))
    if len(pos):
        text[pos] = _as_object(values, pos).astype(str).to_numpy(dtype=object)

    # -- text cells: one regex ------------------------------------------------
    pos = np.flatnonzero(kinds == _TEXT)
    if len(pos):
        raw = _as_object(values, pos)
        text[pos] = raw.to_numpy(dtype=object)
        cells = ascii_digits(_strip_text(raw))  # ٣٥ and ３５ are 35 (Unicode decimal digits)
        empty = (cells == "").to_numpy(dtype=bool)
        status[pos[empty]] = "missing"

        # Fast path: plain unsigned numbers that need no separator decision
        # (most numeric text) go straight to pd.to_numeric.
        fast_re, fast_comma = _FAST_NUMBER[decimal_comma]
        fast = cells.str.fullmatch(fast_re).to_numpy(dtype=bool)
        if fast.any():
            plain = cells[fast]
            if fast_comma:
                plain = plain.str.replace(",", ".", regex=False)
            numbers_ = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)
            status[pos[fast]] = "ok"
            value[pos[fast]] = numbers_

        rest = np.flatnonzero(~fast & ~empty)
        parts = cells.iloc[rest].reset_index(drop=True).str.extract(_RESULT_RE)
        matched = parts["mant"].notna().to_numpy(dtype=bool)

        sub = np.flatnonzero(matched)
        if len(sub):
            got = parts.iloc[sub].reset_index(drop=True)
            cleaned = _interpret_mantissa(got["mant"], decimal_comma)
            readable = cleaned.notna().to_numpy(dtype=bool)
            number_text = cleaned.fillna("0") + got["exp"].fillna("")
            magnitude = pd.to_numeric(number_text, errors="coerce").to_numpy(dtype=float)
            negative = got["sign"].isin(["-", "\u2212"]).to_numpy(dtype=bool) & (magnitude != 0)
            finite = np.isfinite(magnitude)
            sub_status = np.select(
                [~readable, ~finite, negative], ["ambiguous", "text", "negative"], default="ok"
            ).astype(object)
            sub_value = np.where(sub_status == "ok", magnitude, np.nan)

            cmp = got["cmp"].fillna("").str.replace(r"\s+", "", regex=True)
            below = cmp.str.contains("[<≤⩽]").to_numpy(dtype=bool)
            above = cmp.str.contains("[>≥⩾]").to_numpy(dtype=bool)
            sub_censor = np.select([below, above], ["<", ">"], default="").astype(object)
            inclusive_sign = cmp.isin(["≤", "≥", "⩽", "⩾"])
            sub_inclusive = (cmp.str.contains("=") | inclusive_sign).to_numpy(dtype=bool)
            sub_flag = got["flag"].fillna(got["pflag"]).fillna("").str.upper()

            target = pos[rest[sub]]
            value[target] = sub_value
            status[target] = sub_status
            censor[target] = sub_censor
            inclusive[target] = sub_inclusive
            flag[target] = sub_flag.to_numpy(dtype=object)

    return pd.DataFrame(
        {
            VALUE: value,
            CENSOR: censor.astype(str),
            CENSOR_INCLUSIVE: inclusive,
            LAB_FLAG: flag.astype(str),
            STATUS: status.astype(str),
            TEXT: text.astype(str),
        },
        index=values.index,
    )


# A reference interval as labs print it: "0-27", "0 – 27.0", "(0-27)", "<27.0", "< 27", "up to 27",
# "0 to 27", optionally followed by a unit.
_UPPER_RE = re.compile(
    r"""^\(?\[?\s*(?:
        (?P<low>-?\d+(?:[.,]\d+)?)\s*(?:[-–—]|to|bis|à)\s*(?P<high>\d+(?:[.,]\d+)?)
      | (?:<\s*=?|≤|⩽|=\s*<)\s*(?P<below>\d+(?:[.,]\d+)?)
      | (?:up\s*to|upto|bis|max\.?|until)\s*(?P<upto>\d+(?:[.,]\d+)?)
    )\s*[^\d]*\]?\)?$""",
    re.VERBOSE | re.IGNORECASE,
)


def upper_limit(text: object) -> float:
    """The upper limit of a lab's reference range as written (``"0-12"``, ``"<= 13"``, ``"up to 27"``), else NaN.

    A unit after the numbers is ignored here: the range is in the unit of its result.

    Examples
    --------
    >>> upper_limit("0-12"), upper_limit("(0–27)"), upper_limit("<=13"), upper_limit("up to 4,5 mg/g")
    (12.0, 27.0, 13.0, 4.5)
    >>> upper_limit("negative")
    nan
    """
    if text is None or (isinstance(text, float) and text != text):
        return float("nan")
    match = _UPPER_RE.match(str(text).strip())
    if not match:
        return float("nan")
    number = match.group("high") or match.group("below") or match.group("upto")
    return float(number.replace(",", "."))


# -- dates -------------------------------------------------------------------------------

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
# far-away dates (year 9999) with them cannot overflow.
_NS_MIN = np.datetime64("1677-09-22", "us")
_NS_MAX = np.datetime64("2262-04-11", "us")


def _today() -> dt.date:
    """Today's date (a function so the two-digit-year pivot can be tested)."""
    return dt.date.today()


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def _to_int(parts: pd.Series) -> np.ndarray:
    """Digit strings (or NaN) to a float array."""
    return pd.to_numeric(parts, errors="coerce").to_numpy(dtype=float)


def _full_year(year: np.ndarray, written: pd.Series) -> np.ndarray:
    """Expand two-digit years: 20yy unless that year is in the future, else 19yy.

    The pivot is on the year alone, so that a sample written "05.12.26" in
    November 2026 stays in 2026 (and is then reported as a future date by the
    caller) instead of silently moving a century back.
    """
    two_digit = (written.str.len() == 2).to_numpy(dtype=bool)
    this_year = _today().year
    expanded = np.where(2000 + year <= this_year, 2000 + year, 1900 + year)
    return np.where(two_digit, expanded, year)


def _assemble(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[ns] from component arrays; NaT where invalid or out of range."""
    ok = ~(np.isnan(year) | np.isnan(month) | np.isnan(day))
    out = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[ns]")
    if not ok.any():
        return out
    parts = pd.DataFrame({"year": year[ok], "month": month[ok], "day": day[ok]})
    # Year 1 or 99999 would not fit; the ns range (1677..2262) is checked below.
    parts.loc[(parts["year"] < 1000) | (parts["year"] > 9999), "year"] = np.nan
    stamps = pd.to_datetime(parts, errors="coerce").to_numpy()
    out[ok] = _bounded_ns(stamps)
    return out


def _bounded_ns(stamps: np.ndarray) -> np.ndarray:
    """Cast datetime64 (any unit) to ns, turning dates outside the ns range into NaT."""
    stamps = stamps.astype("datetime64[us]")
    inside = (stamps >= _NS_MIN) & (stamps <= _NS_MAX)
    return np.where(inside, stamps, np.datetime64("NaT")).astype("datetime64[ns]")


def _excel_serial(serials: np.ndarray) -> np.ndarray:
    """Excel 1900-system serials (fractions are times of day) to datetime64[ns] midnight."""
    valid = np.isfinite(serials) & (serials >= 1) & (serials < EXCEL_SERIAL_MAX + 1)
    days = np.where(valid, np.floor(np.where(valid, serials, 0)), 0).astype(np.int64)
    stamps = (EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[us]")
    stamps = np.where(valid, stamps, np.datetime64("NaT"))
    return _bounded_ns(stamps)


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
        got[at] = _excel_serial(_to_int(parts["serial"].iloc[at]))

    at = rows("iy")
    if len(at):
        p = parts.iloc[at]
        got[at] = _assemble(_to_int(p["iy"]), _to_int(p["im"]), _to_int(p["id"]))

    at = rows("compact")
    if len(at):
        c = parts["compact"].iloc[at]
        got[at] = _assemble(_to_int(c.str[:4]), _to_int(c.str[4:6]), _to_int(c.str[6:]))

    at = rows("dd")
    if len(at):
        p = parts.iloc[at]
        year = _full_year(_to_int(p["dy"]), p["dy"])
        got[at] = _assemble(year, _to_int(p["dm"]), _to_int(p["dd"]))

    at = rows("sa")
    if len(at):
        p = parts.iloc[at]
        first, second = _to_int(p["sa"]), _to_int(p["sb"])
        slash_texts = texts.iloc[at].reset_index(drop=True)
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
        year = _full_year(_to_int(p["sy"]), p["sy"])
        got[at] = _assemble(year, month, day)
        if day_first is not None:
            contradicting = _slash_evidence(first, second)[1 if day_first else 0]
            if contradicting.any():
                example = slash_texts.iloc[int(np.flatnonzero(contradicting)[0])]
                weights = counts[at] if counts is not None else np.ones(len(at), dtype=np.int64)
                n_contradicting = int(weights[contradicting].sum())
                warnings.warn(
                    f"{_prefix(where)}{n_contradicting} date(s) such as '{example}' "
                    f"cannot be {'day' if day_first else 'month'}-first as requested; "
                    "they are reported as invalid, not swapped.",
                    stacklevel=4,
                )

    for day_group, month_group, year_group in (("nd", "nmon", "ny"), ("md", "mmon", "my")):
        at = rows(month_group)
        if len(at):
            p = parts.iloc[at]
            month = p[month_group].str.lower().map(_MONTHS).to_numpy(dtype=float)
            year = _full_year(_to_int(p[year_group]), p[year_group])
            got[at] = _assemble(year, month, _to_int(p[day_group]))
    return got


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
    pos = np.flatnonzero(_cell_kinds(values) == _TEXT)
    texts = _strip_text(_as_object(values, pos))
    parts = texts.str.extract(_SLASH_RE)
    slash = parts["sa"].notna().to_numpy(dtype=bool)
    return _decide_order(
        texts[slash].reset_index(drop=True), _to_int(parts["sa"][slash]), _to_int(parts["sb"][slash]), where
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
    distinct = _distinct(values)
    if distinct is not None:
        codes, uniques = distinct
        counts = np.bincount(codes, minlength=len(uniques))
        parsed = _parse_date_cells(pd.Series(uniques, dtype=object), day_first=day_first, where=where, counts=counts)
        return _broadcast(parsed, codes, values.index)
    return _parse_date_cells(values, day_first=day_first, where=where)


def _parse_date_cells(
    values: pd.Series, *, day_first: bool | None, where: str, counts: np.ndarray | None = None
) -> pd.DataFrame:
    """:func:`parse_dates` on every cell of ``values``; ``counts`` as for :func:`_parse_date_texts`."""
    n = len(values)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    kinds = _cell_kinds(values)
    missing = kinds == _MISSING

    # -- date cells ----------------------------------------------------------------
    at = np.flatnonzero(kinds == _DATETIME)
    if len(at):
        cells = _as_object(values, at)
        try:
            stamps = pd.to_datetime(cells, errors="coerce")
        except (TypeError, ValueError):
            # Time-zone-aware and naive datetimes mixed: the wall-clock date is
            # what the sheet shows, so drop the zone first.
            cells = cells.map(lambda v: v.replace(tzinfo=None) if getattr(v, "tzinfo", None) else v)
            stamps = pd.to_datetime(cells, errors="coerce")
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_localize(None)
        dates[at] = _bounded_ns(stamps.dt.floor("D").to_numpy())

    # -- number cells: Excel serials ---------------------------------------------------------
    at = np.flatnonzero(kinds == _NUMBER)
    if len(at):
        dates[at] = _excel_serial(_as_object(values, at).astype("float64").to_numpy())

    # -- text cells ----------------------------------------------------------------------------
    pos = np.flatnonzero(kinds == _TEXT)
    if len(pos):
        texts = _strip_text(_as_object(values, pos))
        empty = (texts == "").to_numpy(dtype=bool)
        missing[pos[empty]] = True
        got = np.full(len(pos), np.datetime64("NaT"), dtype="datetime64[ns]")
        remaining = np.flatnonzero(~empty)
        # Fast paths: a column is usually written one way, so the common
        # spellings go straight to pd.to_datetime with an explicit format;
        # only what is left goes through the general regex.
        for pattern, fmt, width in _FAST_DATE_FORMATS:
            if not len(remaining):
                break
            sub = texts.iloc[remaining]
            hit = sub.str.fullmatch(pattern).to_numpy(dtype=bool)
            if hit.any():
                written = sub[hit] if width is None else sub[hit].str.slice(0, width)
                stamps = pd.to_datetime(written, format=fmt, errors="coerce").to_numpy()
                got[remaining[hit]] = _bounded_ns(stamps)
                remaining = remaining[~hit]
        if len(remaining):
            got[remaining] = _parse_date_texts(
                texts.iloc[remaining].reset_index(drop=True), day_first=day_first, where=where,
                counts=None if counts is None else counts[pos[remaining]],
            )
        dates[pos] = got

    status = np.where(missing, "missing", np.where(np.isnat(dates), "invalid", "ok"))
    dates[missing] = np.datetime64("NaT")
    return pd.DataFrame({DATE: dates, STATUS: status.astype(str)}, index=values.index)
