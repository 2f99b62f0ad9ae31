"""The optional TOML configuration file (``--config``): map what markers does not know.

Example::

    [columns]            # header as written = role
    "Pat.-Nr." = "patient_id"
    "Abnahme" = "sample_date"

    [analytes]           # name or code as written = analyte code
    "VMS" = "VMA"
    "LAB-0815" = "HVA"

    [units]              # spelling as written = an accepted spelling
    "mg/g Krea" = "mg/g creatinine"

    [events]             # therapy event as written = event code
    "Beginn Induktion" = "therapy_start"

    [dates]
    day_first = true     # when every date in a column is ambiguous

    [validation]
    dilute_creatinine_mmol_l = 1.41

    [sheets]             # sheet name = role (measurements, patients, therapy, ignore)
    "Notes" = "ignore"

    [kinetics]           # samples left out of the half-life fit: patient, analyte ("" = all), date
    exclude = [["NB-004", "VMA", "2022-03-01"]]

    [limits]             # read limits (markers.readers.limits.ReadLimits), checked before a file is read
    max_line_bytes = 1048576
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from markers.errors import ConfigError
from markers.readers.limits import ReadLimits
from markers.schema import ANALYTES, EVENTS

#: Column roles a header can be mapped to.
COLUMN_ROLES = (
    "patient_id",
    "sample_id",
    "sample_date",
    "date_of_birth",
    "sex",
    "age_years",
    "age_months",
    "age_days",
    "diagnosis_date",
    "analyte",
    "loinc",
    "result",
    "unit",
    "flag",
    "reference_range",
    "comment",
    "creatinine",
    "creatinine_unit",
    "event",
    "event_date",
    "ignore",
)
SHEET_ROLES = ("measurements", "patients", "therapy", "ignore")

#: Default dilute-urine threshold: 16 mg/dL creatinine, the lower limit of Mayo's adult random-urine
#: creatinine reference (RCTUR, source S31; Mayo gives none below 18 y) = 16 × 10 / 113.12 mmol/L.
#: No paediatric threshold has been published that we know of: configure your lab's.
DEFAULT_DILUTE_CREATININE_MMOL_L = 16 * 10 / 113.12


@dataclass(frozen=True)
class Config:
    """Options from a TOML file; every table is optional."""

    columns: dict[str, str] = field(default_factory=dict)
    analytes: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    day_first: bool | None = None
    dilute_creatinine_mmol_l: float = DEFAULT_DILUTE_CREATININE_MMOL_L
    kinetics_exclude: tuple[tuple[str, str, str], ...] = ()
    path: str = ""
    limits: ReadLimits = field(default_factory=ReadLimits)


def _table(data: dict, name: str, path: Path, allowed: tuple[str, ...] | None) -> dict[str, str]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path.name}: [{name}] must be a table of \"name\" = \"value\" pairs.")
    out = {}
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path.name}: [{name}] {key!r} must map to a text value, not {value!r}.")
        if allowed is not None and value not in allowed:
            raise ConfigError(
                f"{path.name}: [{name}] {key!r} = {value!r} is not one of: {', '.join(allowed)}."
            )
        out[str(key)] = value
    return out


def load_config(path: str | os.PathLike | None) -> Config:
    """Read a TOML configuration file; ``None`` gives the defaults.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML, or maps to unknown roles/codes.
    """
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path.name} not found; check the --config path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not valid TOML ({exc}); see the README's config example.") from None
    known = {"columns", "analytes", "units", "events", "sheets", "dates", "validation", "kinetics", "limits"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path.name}: unknown table(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
    dates = data.get("dates", {})
    day_first = dates.get("day_first") if isinstance(dates, dict) else None
    if day_first is not None and not isinstance(day_first, bool):
        raise ConfigError(f"{path.name}: [dates] day_first must be true or false.")
    validation = data.get("validation", {})
    dilute = validation.get("dilute_creatinine_mmol_l", DEFAULT_DILUTE_CREATININE_MMOL_L)
    if not isinstance(dilute, int | float) or dilute < 0:
        raise ConfigError(f"{path.name}: [validation] dilute_creatinine_mmol_l must be a number ≥ 0.")
    return Config(
        columns=_table(data, "columns", path, COLUMN_ROLES),
        analytes=_table(data, "analytes", path, ANALYTES),
        units=_table(data, "units", path, None),
        events=_table(data, "events", path, EVENTS),
        sheets=_table(data, "sheets", path, SHEET_ROLES),
        day_first=day_first,
        dilute_creatinine_mmol_l=float(dilute),
        kinetics_exclude=_kinetics_exclude(data, path),
        path=str(path),
        limits=_read_limits(data, path),
    )


def _read_limits(data: dict, path: Path) -> ReadLimits:
    """The ``[limits]`` table: any of ReadLimits' fields, each a whole number ≥ 1; the rest keep their defaults."""
    table = data.get("limits", {})
    names = [f.name for f in dataclasses.fields(ReadLimits)]
    if not isinstance(table, dict):
        raise ConfigError(f"{path.name}: [limits] must be a table of name = whole number, e.g. max_line_bytes = 1048576.")
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise ConfigError(f"{path.name}: [limits] unknown limit(s) {', '.join(unknown)}; known: {', '.join(names)}.")
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{path.name}: [limits] {key} = {value!r} must be a whole number ≥ 1.")
    return ReadLimits(**table)


def _kinetics_exclude(data: dict, path: Path) -> tuple[tuple[str, str, str], ...]:
    """``[kinetics] exclude``: a list of [patient, analyte or "", "YYYY-MM-DD"] left out of half-life fits."""
    table = data.get("kinetics", {})
    entries = table.get("exclude", []) if isinstance(table, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path.name}: [kinetics] exclude must be a list of [patient, analyte, date] triples.")
    out = []
    for entry in entries:
        ok = isinstance(entry, list) and len(entry) == 3 and all(isinstance(v, str) for v in entry)
        if not ok or (entry[1] and entry[1] not in ANALYTES) or not _is_iso_date(entry[2]):
            raise ConfigError(
                f"{path.name}: [kinetics] exclude entry {entry!r} must be [\"patient\", \"analyte or empty\", "
                f"\"YYYY-MM-DD\"], e.g. [\"NB-004\", \"VMA\", \"2022-03-01\"]."
            )
        out.append((entry[0], entry[1], entry[2]))
    return tuple(out)


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10
