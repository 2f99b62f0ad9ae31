"""Result cells to value, censor, lab flag and status, vectorised over a whole column.

A result is a number, optionally behind a comparator (``<``, ``<=``,
``≤``, ``>``, ``>=``, ``≥``: a censored result, kept as ``censor`` plus
``censor_inclusive`` and never silently a plain number) and optionally
followed by a lab flag (``H``, ``L``, ``HH``, ``LL``, ``*``, also in
parentheses). Anything else is ``"text"`` (``Cancelled``, ``QNS``,
``n/a``...), empty cells are ``"missing"``, negative numbers are
``"negative"`` and numbers whose separators cannot be read with certainty
are ``"ambiguous"``. Text cells go through one ``Series.str.extract`` with one
regular expression; nothing loops over rows in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from markers.ingest.cell_kinds import (
    BOOL,
    CENSOR,
    CENSOR_INCLUSIVE,
    DATETIME,
    LAB_FLAG,
    MISSING,
    NUMBER,
    OTHER,
    STATUS,
    TEXT,
    TEXT_KIND,
    VALUE,
    as_object,
    broadcast,
    cell_kinds,
    distinct_cells,
    strip_text,
)
from markers.readers.cells import ascii_digits

RESULT_STATUS = ("ok", "missing", "text", "ambiguous", "negative")

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
    distinct = distinct_cells(values)
    if distinct is not None:
        codes, uniques = distinct
        parsed = _parse_result_cells(pd.Series(uniques, dtype=object), decimal_comma=decimal_comma)
        return broadcast(parsed if columns is None else parsed[list(columns)], codes, values.index)
    parsed = _parse_result_cells(values, decimal_comma=decimal_comma)
    return parsed if columns is None else parsed[list(columns)]


def _parse_result_cells(values: pd.Series, *, decimal_comma: bool | None) -> pd.DataFrame:
    """:func:`parse_results` on every cell of ``values`` (no deduplication)."""
    n = len(values)
    kinds = cell_kinds(values)
    out = {
        VALUE: np.full(n, np.nan),
        CENSOR: np.full(n, "", dtype=object),
        CENSOR_INCLUSIVE: np.zeros(n, dtype=bool),
        LAB_FLAG: np.full(n, "", dtype=object),
        STATUS: np.full(n, "text", dtype=object),
        TEXT: np.full(n, "", dtype=object),
    }
    out[STATUS][kinds == MISSING] = "missing"
    pos = np.flatnonzero(kinds == NUMBER)
    if len(pos):
        _number_cells(as_object(values, pos), pos, out)
    # booleans, dates, anything else: text as written
    pos = np.flatnonzero((kinds == BOOL) | (kinds == DATETIME) | (kinds == OTHER))
    if len(pos):
        out[TEXT][pos] = as_object(values, pos).astype(str).to_numpy(dtype=object)
    pos = np.flatnonzero(kinds == TEXT_KIND)
    if len(pos):
        _text_cells(as_object(values, pos), pos, out, decimal_comma=decimal_comma)
    for name in (CENSOR, LAB_FLAG, STATUS, TEXT):
        out[name] = out[name].astype(str)
    return pd.DataFrame(out, index=values.index)


def _number_cells(cells: pd.Series, pos: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """Numeric cells pass through (into ``out`` at ``pos``): negative and non-finite numbers get their status."""
    cells = cells.astype("float64")
    numbers_ = cells.to_numpy()
    out[TEXT][pos] = _number_text(cells).to_numpy(dtype=object)
    finite = np.isfinite(numbers_)
    out[STATUS][pos] = np.where(~finite, "text", np.where(numbers_ < 0, "negative", "ok"))
    out[VALUE][pos] = np.where(finite & (numbers_ >= 0), numbers_ + 0.0, np.nan)  # + 0.0: no -0.0


def _text_cells(raw: pd.Series, pos: np.ndarray, out: dict[str, np.ndarray], *, decimal_comma: bool | None) -> None:
    """Text cells (into ``out`` at ``pos``): plain numbers straight, everything else through one regex."""
    out[TEXT][pos] = raw.to_numpy(dtype=object)
    cells = ascii_digits(strip_text(raw))  # ٣٥ and ３５ are 35 (Unicode decimal digits)
    empty = (cells == "").to_numpy(dtype=bool)
    out[STATUS][pos[empty]] = "missing"

    # Fast path: plain unsigned numbers that need no separator decision
    # (most numeric text) go straight to pd.to_numeric.
    fast_re, fast_comma = _FAST_NUMBER[decimal_comma]
    fast = cells.str.fullmatch(fast_re).to_numpy(dtype=bool)
    if fast.any():
        plain = cells[fast]
        if fast_comma:
            plain = plain.str.replace(",", ".", regex=False)
        out[STATUS][pos[fast]] = "ok"
        out[VALUE][pos[fast]] = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)

    rest = np.flatnonzero(~fast & ~empty)
    parts = cells.iloc[rest].reset_index(drop=True).str.extract(_RESULT_RE)
    sub = np.flatnonzero(parts["mant"].notna().to_numpy(dtype=bool))
    if len(sub):
        written = _written_results(parts.iloc[sub].reset_index(drop=True), decimal_comma)
        target = pos[rest[sub]]
        for name, column in written.items():
            out[name][target] = column


def _written_results(got: pd.DataFrame, decimal_comma: bool | None) -> dict[str, np.ndarray]:
    """The regex's groups of matching cells to value, status, censor, inclusiveness and lab flag."""
    cleaned = _interpret_mantissa(got["mant"], decimal_comma)
    readable = cleaned.notna().to_numpy(dtype=bool)
    number_text = cleaned.fillna("0") + got["exp"].fillna("")
    magnitude = pd.to_numeric(number_text, errors="coerce").to_numpy(dtype=float)
    negative = got["sign"].isin(["-", "\u2212"]).to_numpy(dtype=bool) & (magnitude != 0)
    finite = np.isfinite(magnitude)
    status = np.select([~readable, ~finite, negative], ["ambiguous", "text", "negative"], default="ok").astype(object)

    cmp = got["cmp"].fillna("").str.replace(r"\s+", "", regex=True)
    below = cmp.str.contains("[<≤⩽]").to_numpy(dtype=bool)
    above = cmp.str.contains("[>≥⩾]").to_numpy(dtype=bool)
    inclusive_sign = cmp.isin(["≤", "≥", "⩽", "⩾"])
    return {
        VALUE: np.where(status == "ok", magnitude, np.nan),
        STATUS: status,
        CENSOR: np.select([below, above], ["<", ">"], default="").astype(object),
        CENSOR_INCLUSIVE: (cmp.str.contains("=") | inclusive_sign).to_numpy(dtype=bool),
        LAB_FLAG: got["flag"].fillna(got["pflag"]).fillna("").str.upper().to_numpy(dtype=object),
    }


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
