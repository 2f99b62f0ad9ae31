"""Input files under pseudonymisation: named by a label and their SHA-256, never by their file name."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

__all__ = ["input_label", "pseudonymous_provenance", "relabelled", "relabeller"]


def input_label(position: int, name: str) -> str:
    """The pseudonymous label of the input at ``position`` (1-based): ``input-<n>`` plus its suffix.

    A file name often carries a patient ID or a date (``t18_NB-777_2023-05-04.csv``); under
    pseudonymisation every output names an input by this label and its SHA-256 only.

    Examples
    --------
    >>> input_label(2, "t18_NB-777_2023-05-04.CSV")
    'input-2.csv'
    """
    suffix = Path(str(name)).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        suffix = ""
    return f"input-{position}{suffix}"


def relabeller(labels: Mapping[str, str]) -> Callable[[str], str]:
    """Replace every input name (longest first) inside a text by its label."""
    if not labels:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(n) for n in sorted(labels, key=lambda n: (-len(n), n)) if n))
    return lambda text: pattern.sub(lambda m: labels[m.group(0)], text)


def relabelled(frame: pd.DataFrame, relabel: Callable[[str], str]) -> pd.DataFrame:
    """A copy of ``frame`` with input names replaced by labels in every text cell."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            values = [relabel(v) if isinstance(v, str) else v for v in column]
            out[name] = pd.Series(values, index=column.index, dtype=column.dtype if column.dtype != object else object)
    return out


def pseudonymous_provenance(record: Mapping[str, object]) -> dict[str, object]:
    """A provenance record that names no file: inputs by :func:`input_label` and SHA-256, option paths by SHA-256.

    Examples
    --------
    >>> pseudonymous_provenance({"inputs": [{"file": "NB-777_2023-05-04.csv", "sha256": "ab"}], "options": {}})
    {'inputs': [{'file': 'input-1.csv', 'sha256': 'ab'}], 'options': {}}
    """
    from markers.readers.files import sha256_of

    out = dict(record)
    out["inputs"] = [dict(entry, file=input_label(i, entry.get("file", "")))
                     for i, entry in enumerate(record.get("inputs") or [], start=1)]
    options = dict(record.get("options") or {})
    for name in ("config", "reference"):
        value = options.get(name)
        if isinstance(value, str):
            try:
                options[name] = {"sha256": sha256_of(value)}
            except Exception:  # noqa: BLE001 - a path that cannot be read is still not written
                options[name] = "given"
    out["options"] = options
    return out
