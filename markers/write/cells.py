"""Cell conversion for text outputs: ISO dates, JSON values, formula-injection safety."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet treat a text cell as a formula
#: (OWASP "CSV injection"); tab and carriage return are included because
#: some applications strip them and then see the character that follows.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START = re.compile("[" + re.escape("".join(FORMULA_TRIGGERS)) + "]")

# A text that is a plain decimal number ("-1.5", "+3", "-2,5e3") is read by a
# spreadsheet as a number, never as a formula: prefixing it would only damage it.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


_NS_PER_DAY = 86_400 * 10**9


def datetime_columns(frame: pd.DataFrame) -> dict[str, bool]:
    """Datetime columns -> True when every value is at midnight (written as a date)."""
    result: dict[str, bool] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series, pd.DataFrame):  # duplicate column names
            continue
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            if series.dtype == np.dtype("datetime64[ns]"):  # midnight: nanoseconds a whole number of days
                stamps = series.to_numpy().view(np.int64)
                result[name] = not (stamps[stamps != np.iinfo(np.int64).min] % _NS_PER_DAY).any()
                continue
            stamps = series.dropna()
            if getattr(stamps.dt, "tz", None) is not None:
                stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
            result[name] = bool((stamps == stamps.dt.normalize()).all())
    return result


def iso(value: object, *, date_only: bool) -> str:
    stamp = pd.Timestamp(value)
    if date_only:
        return stamp.strftime("%Y-%m-%d")
    return stamp.isoformat()


def text_frame(frame: pd.DataFrame, *, safe_csv: bool) -> pd.DataFrame:
    """A copy for CSV/TSV: ISO dates, optional injection-safe text, other values as they are."""
    out = frame.copy(deep=False)  # columns are replaced, never changed in place (copy-on-write)
    for position, converted in text_columns(frame, safe_csv=safe_csv):
        out.isetitem(position, converted)
    if safe_csv:
        out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def text_columns(frame: pd.DataFrame, *, safe_csv: bool) -> Iterator[tuple[int, pd.Series]]:
    """(position, converted column) for each column :func:`text_frame` changes; the others are as they are."""
    dates = datetime_columns(frame)
    for position, name in enumerate(frame.columns):
        series = frame.iloc[:, position]
        if name in dates:
            date_only = dates[name]
            if date_only:  # the usual case, in one call: the per-value loop cost seconds per million rows
                # Arrow text, not a Python str per cell (a million dates: ~70 MB less at the write's peak)
                yield position, date_text(series)
                continue
            yield position, pd.Series(
                [None if is_missing(v) else iso(v, date_only=date_only) for v in series],
                index=frame.index,
                dtype=object,
            )
        elif isinstance(series.dtype, pd.CategoricalDtype):
            if safe_csv:  # each word once; a date's text (date_text) never starts a formula
                yield position, _safe_categories(series)
        elif not safe_csv and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
            continue  # plain text is written as it is
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            yield position, pd.Series(_text_values(series, safe_csv=safe_csv), index=frame.index, dtype=object)


def date_text(series: pd.Series) -> pd.Series:
    """The text of ``series.dt.strftime("%Y-%m-%d")``, each distinct date formatted once, as a
    categorical of those texts (NaT: missing).

    A registry's million samples fall on a few thousand days: the writer takes the texts by code
    (pandas' own writer writes a categorical's values, the same text).
    """
    if series.dtype == np.dtype("datetime64[ns]") and np.isnat(series.to_numpy()).all():
        # no date at all (a finding no course reached): no hashing of the NaTs
        return pd.Series(pd.Categorical.from_codes(np.full(len(series), -1), dtype=pd.CategoricalDtype(
            pd.Index(pd.array([], dtype="str")))), index=series.index, name=series.name)
    codes, uniques = pd.factorize(series)  # NaT -> -1; distinct days, so distinct texts
    texts = pd.Index(pd.array(uniques.strftime("%Y-%m-%d"), dtype="str"))
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(texts)), index=series.index,
                     name=series.name)


def _safe_categories(series: pd.Series) -> pd.Series:
    """A categorical column with formula-looking words prefixed (:func:`neutralise_formula`), each word
    once; as text when two words would become one (``=x`` next to ``'=x``)."""
    categories = series.cat.categories
    if pd.api.types.infer_dtype(categories, skipna=True) not in ("string", "empty"):
        return series
    words = [neutralise_formula(word) for word in categories]
    if len(set(words)) == len(words):
        return series.cat.rename_categories(words)
    return pd.Series(_text_values(series.astype(object), safe_csv=True), index=series.index, dtype=object)


def _text_values(series: pd.Series, *, safe_csv: bool) -> list[object]:
    """ISO text for date objects; with ``safe_csv``, formula-looking text prefixed (see neutralise_formula)."""
    values = series.tolist()
    if safe_csv and pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        # Only text starting with a trigger can change: find those few without a per-value call.
        starts = series.astype(object).str.match(FORMULA_START.pattern, na=False).to_numpy()
        for i in starts.nonzero()[0]:
            values[i] = neutralise_formula(values[i])
        return values
    converted = []
    for value in values:
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        if safe_csv and isinstance(value, str):
            value = neutralise_formula(value)
        converted.append(value)
    return converted


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (OWASP CSV injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets
    the prefix, except a plain number such as ``-1.5``, which a spreadsheet
    reads as a number and never as a formula.

    Parameters
    ----------
    text
        One cell's text.

    Returns
    -------
    str
        The text, prefixed with ``'`` when it could start a formula.

    Examples
    --------
    >>> neutralise_formula("=1+1"), neutralise_formula("-1.5"), neutralise_formula("a=b")
    ("'=1+1", '-1.5', 'a=b')
    """
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts: ISO dates, NA -> null, numpy scalars -> Python."""
    dates = datetime_columns(frame)
    columns = [str(c) for c in frame.columns]
    converters = []
    for name in frame.columns:
        if name in dates:
            date_only = dates[name]
            converters.append(lambda v, d=date_only: None if is_missing(v) else iso(v, date_only=d))
        else:
            converters.append(json_value)
    return [
        {col: convert(v) for col, convert, v in zip(columns, converters, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def json_value(value: object) -> object:
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no infinity; a string keeps the information.
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)

