"""Stata (.dta), SAS transport (.xpt v5) and SPSS (.sav) files, with each format's limits kept honestly.

* **Stata** (pandas' ``to_stata``, format 118, UTF-8): names must be 1-32 letters, digits or ``_``
  not starting with a digit; another name is changed (invalid characters to ``_``, cut to 32) and the
  original kept as the variable label (80 characters); a table with ``frame.attrs["labels"]`` (the
  CDISC-shaped ones) gets those labels in every format. Dates are Stata dates (``%td``), date-times
  ``%tc``; booleans 0/1 numbers; nullable integers keep their missing values; a fixed vocabulary
  (analyte, unit, grade, ...) becomes a labelled integer (Stata's categorical); text longer than 2045
  bytes a ``strL``. Stata cannot store infinity: an infinite value becomes missing, with a warning.
* **SAS transport v5** (``pyreadstat``; the FDA submission format): names at most 8 characters,
  labels 40, text 200 bytes. Longer names are shortened (upper case, cut to 8, a number appended on a
  clash) with the original as the label; longer text is cut with a warning. Every number is a double;
  dates carry the ``DATE9.`` format, booleans are 0/1.
* **SPSS** (``pyreadstat``): names up to 64 bytes, dates as SPSS dates, booleans 0/1.

No format has room for the whole provenance record: it goes to a sidecar ``<name>.provenance.json``
(written by :func:`markers.write.tables.write_table`); the file's own label names markers, its version
and the time of the run.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from markers.errors import OutputError
from markers.write.arrow import CATEGORICAL_COLUMNS
from markers.write.cells import datetime_columns

_STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")
_STATA_STR_MAX = 2045
_XPT_TEXT_MAX = 200
_XPT_NAME_MAX = 8
_XPT_LABEL_MAX = 40
_SAV_NAME_MAX = 64
INSTALL_HINT = "pip install 'markers[stats]' (or pip install pyreadstat)"


def _label(provenance: Mapping[str, object] | None, limit: int) -> str:
    """``markers <version> <created>``, cut to the format's label length."""
    record = provenance or {}
    text = " ".join(str(record[k]) for k in ("markers_version", "created") if record.get(k))
    return f"markers {text}".strip()[:limit]


def safe_names(columns: list[str], *, limit: int, upper: bool = False) -> list[str]:
    """Names a statistics package accepts: letters, digits, ``_``; not starting with a digit; unique.

    Examples
    --------
    >>> safe_names(["patient_id", "sample_date", "3MT value"], limit=8, upper=True)
    ['PATIENT_', 'SAMPLE_D', '_3MT_VAL']
    """
    result: list[str] = []
    for column in columns:
        name = _NOT_NAME.sub("_", str(column)) or "_"
        if name[0].isdigit():
            name = "_" + name
        name = name.upper() if upper else name
        candidate = name[:limit]
        number = 1
        while candidate.lower() in {n.lower() for n in result}:
            number += 1
            candidate = name[: limit - len(str(number))] + str(number)
        result.append(candidate)
    return result


def _plain_frame(frame: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Columns renamed; booleans as 0/1 floats with missing; naive UTC date-times; datetime kinds."""
    dates = datetime_columns(frame)
    out = {}
    kinds = {}
    for position, (name, new) in enumerate(zip(frame.columns, names, strict=True)):
        series = frame.iloc[:, position]
        if name in dates:
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            kinds[new] = dates[name]
        elif pd.api.types.is_bool_dtype(series.dtype):
            series = series.astype("Float64").astype("float64")
        out[new] = series.reset_index(drop=True)
    return pd.DataFrame(out), kinds


def _without_infinity(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_float_dtype(series.dtype) and np.isinf(series.to_numpy(dtype=float, na_value=np.nan)).any():
            warnings.warn(f"{fmt} cannot store infinity: the infinite values of {name} are written as missing",
                          UserWarning, stacklevel=4)
            frame[name] = series.where(~np.isinf(series.to_numpy(dtype=float, na_value=np.nan)))
    return frame


def dta_bytes(frame: pd.DataFrame, *, provenance: Mapping[str, object] | None = None) -> bytes:
    """A Stata 118 file of ``frame`` (see the module notes)."""
    names = [str(c) if _STATA_NAME.fullmatch(str(c)) else new
             for c, new in zip(frame.columns, safe_names(list(frame.columns), limit=32), strict=True)]
    plain, kinds = _plain_frame(frame, names)
    plain = _without_infinity(plain, "Stata")
    given = frame.attrs.get("labels") or {}
    labels = {new: str(given.get(old, old))[:80] for old, new in zip(frame.columns, names, strict=True)
              if str(old) != new or old in given}
    strl = []
    for old, new in zip(frame.columns, names, strict=True):
        series = plain[new]
        if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
            series = series.astype(object).where(series.notna(), None)
            if old in CATEGORICAL_COLUMNS and series.map(lambda v: v is None or isinstance(v, str)).all():
                plain[new] = pd.Categorical(series.fillna(""))
                continue
            series = series.map(lambda v: v if v is None or isinstance(v, str) else str(v))
            plain[new] = series
            if max((len(v.encode("utf-8")) for v in series if isinstance(v, str)), default=0) > _STATA_STR_MAX:
                strl.append(new)
    buffer = io.BytesIO()
    stamp = _created(provenance)
    plain.to_stata(buffer, write_index=False, version=118, convert_strl=strl or None,
                   convert_dates={n: "td" if d else "tc" for n, d in kinds.items()},
                   data_label=_label(provenance, 80), variable_labels=labels or None, time_stamp=stamp)
    return buffer.getvalue()


def _created(provenance: Mapping[str, object] | None):
    created = (provenance or {}).get("created")
    if isinstance(created, str):
        try:
            return pd.Timestamp(created).tz_convert(None).to_pydatetime()
        except (ValueError, TypeError):
            return None
    return None


def _pyreadstat(fmt: str):
    try:
        import pyreadstat
    except ImportError:
        raise OutputError(f"writing .{fmt} files needs the optional package pyreadstat: {INSTALL_HINT}; "
                          "or write .dta, .parquet or .csv instead") from None
    return pyreadstat


def _readstat_frame(frame: pd.DataFrame, names: list[str], *, text_max: int | None, fmt: str) -> pd.DataFrame:
    """Dates as ``datetime.date`` (so they carry a date format), text as str, integers as floats."""
    plain, kinds = _plain_frame(frame, names)
    for name in plain.columns:
        series = plain[name]
        if name in kinds and kinds[name]:
            plain[name] = pd.Series([None if pd.isna(v) else v.date() for v in series], dtype=object)
        elif name in kinds:
            continue
        elif pd.api.types.is_numeric_dtype(series.dtype):
            plain[name] = series.astype("float64")
        else:
            text = series.astype(object).map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                                             else str(v))
            if text_max is not None:
                long = text.map(lambda v: len(v.encode("utf-8")) > text_max)
                if long.any():
                    warnings.warn(f"{fmt} text holds at most {text_max} bytes: {int(long.sum())} value(s) of "
                                  f"{name} were cut", UserWarning, stacklevel=4)
                    text = text.map(lambda v: v.encode("utf-8")[:text_max].decode("utf-8", "ignore"))
            plain[name] = text
    return plain


def readstat_bytes(frame: pd.DataFrame, fmt: str, *, provenance: Mapping[str, object] | None = None,
                   name: str = "markers", workdir: Path | None = None) -> bytes:
    """A SAS transport v5 (``fmt="xpt"``) or SPSS (``"sav"``) file of ``frame`` through pyreadstat.

    pyreadstat writes to a path: a private temporary folder in ``workdir`` (the output's folder, so the
    data never pass through a shared temporary folder), removed before returning.
    """
    pyreadstat = _pyreadstat(fmt)
    columns = [str(c) for c in frame.columns]
    given = frame.attrs.get("labels") or {}
    if fmt == "xpt":
        names = safe_names(columns, limit=_XPT_NAME_MAX, upper=True)
        plain = _readstat_frame(frame, names, text_max=_XPT_TEXT_MAX, fmt="SAS transport")
        labels = [str(given.get(old, old))[:_XPT_LABEL_MAX] for old in columns]
        table = safe_names([name], limit=_XPT_NAME_MAX, upper=True)[0]
    else:
        names = [c if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", c) else n
                 for c, n in zip(columns, safe_names(columns, limit=_SAV_NAME_MAX), strict=True)]
        names = [n if n[0].isalpha() else "v" + n[: _SAV_NAME_MAX - 1] for n in names]
        plain = _readstat_frame(frame, names, text_max=None, fmt="SPSS")
        labels = [str(given.get(old, old)) for old in columns]
    with tempfile.TemporaryDirectory(prefix=".markers-", dir=workdir) as folder:
        path = Path(folder) / f"table.{fmt}"
        if fmt == "xpt":
            pyreadstat.write_xport(plain, str(path), file_label=_label(provenance, _XPT_LABEL_MAX),
                                   column_labels=labels, table_name=table, file_format_version=5)
        else:
            pyreadstat.write_sav(plain, str(path), file_label=_label(provenance, 64), column_labels=labels)
        return path.read_bytes()


def stats_bytes(frame: pd.DataFrame, fmt: str, *, provenance: Mapping[str, object] | None = None,
                name: str = "markers", workdir: Path | None = None) -> bytes:
    """The bytes of a ``dta``, ``xpt`` or ``sav`` file of ``frame``; ``name`` names the SAS dataset."""
    if fmt == "dta":
        return dta_bytes(frame, provenance=provenance)
    if fmt in ("xpt", "sav"):
        return readstat_bytes(frame, fmt, provenance=provenance, name=name, workdir=workdir)
    raise ValueError(f"fmt must be 'dta', 'xpt' or 'sav', not {fmt!r}")
