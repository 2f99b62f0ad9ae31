"""Provenance records: how an output was made (version, time, input checksums, options)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from markers import __version__
from markers.errors import ConfigError
from markers.readers.files import sha256_of

PathLike = str | os.PathLike[str]

#: Suffix of the provenance sidecar written next to a CSV/TSV table.
PROVENANCE_SUFFIX = ".provenance.json"

# Used for the workbook's created/modified properties when the provenance does
# not say when the data were produced: any fixed value keeps the bytes stable.
_DEFAULT_TIMESTAMP = dt.datetime(2000, 1, 1)


def _now_utc() -> dt.datetime:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch.strip() == "":
        return dt.datetime.now(dt.UTC)
    try:
        return dt.datetime.fromtimestamp(int(epoch.strip()), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970-01-01; "
            "unset it or give e.g. SOURCE_DATE_EPOCH=1700000000"
        ) from None


def jsonable(value: object) -> object:
    """A JSON-serialisable copy of an option value (paths and tuples included)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def provenance_record(
    *,
    inputs: Sequence[PathLike],
    options: Mapping[str, object],
    reference_set: str | None,
    checksums: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """Describe how an output was made: version, time, input checksums, options.

    Parameters
    ----------
    inputs
        The input files; each is recorded by file name and SHA-256 (the full
        path is left out, as directory names can identify people).
    options
        The options used (unit, date order, ...); converted to JSON values.
    reference_set
        Name of the reference-limit set applied, or ``None``.
    checksums
        SHA-256 already computed, by input path as given (``Dataset.files``): such an
        input is not read again.

    Returns
    -------
    dict
        ``{"markers_version", "created", "inputs": [{"file", "sha256"}],
        "reference_set", "options"}``. ``created`` is the UTC time as
        ``YYYY-MM-DDTHH:MM:SSZ``, taken from ``SOURCE_DATE_EPOCH`` when that
        environment variable is set (for reproducible outputs).

    Raises
    ------
    InputFormatError
        When an input file cannot be read.
    ConfigError
        When ``SOURCE_DATE_EPOCH`` is not an integer.

    Examples
    --------
    >>> record = provenance_record(inputs=[], options={"unit": "mg/g"}, reference_set=None)
    >>> sorted(record)
    ['created', 'inputs', 'markers_version', 'options', 'reference_set']
    """
    return {
        "markers_version": __version__,
        "created": _now_utc().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputs": [{"file": Path(p).name, "sha256": (checksums or {}).get(os.fspath(p)) or sha256_of(p)}
                   for p in inputs],
        "reference_set": reference_set,
        "options": jsonable(dict(options)),
    }


def provenance_time(provenance: Mapping[str, object] | None) -> dt.datetime:
    """The fixed workbook timestamp: provenance["created"] as naive UTC, else 2000-01-01."""
    created = (provenance or {}).get("created")
    if isinstance(created, str):
        with contextlib.suppress(ValueError):
            stamp = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
            return stamp.replace(microsecond=0)
    return _DEFAULT_TIMESTAMP


def flatten(value: object, prefix: str = "") -> list[tuple[str, object]]:
    """Nested provenance as dotted key/value rows (``inputs.0.sha256``)."""
    if isinstance(value, Mapping):
        rows: list[tuple[str, object]] = []
        for key, item in value.items():
            rows.extend(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return rows
    if isinstance(value, list | tuple):
        if not value:
            return [(prefix, "")]
        rows = []
        for i, item in enumerate(value):
            rows.extend(flatten(item, f"{prefix}.{i}"))
        return rows
    return [(prefix, "" if value is None else value)]



def sidecar_path(path: PathLike) -> Path:
    """The provenance sidecar of a CSV/TSV table: ``<name>.provenance.json``.

    Examples
    --------
    >>> sidecar_path("out/results.csv").name
    'results.csv.provenance.json'
    """
    target = Path(path)
    return target.with_name(target.name + PROVENANCE_SUFFIX)

