"""Recognise the columns of a sheet's header row and decide the sheet's role and layout.

The header row itself is found by :mod:`markers.ingest.header_row`.

Column recognition is case-, space- and punctuation-insensitive and uses the
synonym lists below; the config file's ``[columns]`` table maps anything else.
Analytes are recognised by name, synonym (``data/analytes.csv``) or LOINC code
(``data/loinc.csv``).

Roles of a sheet:

* ``measurements`` in **long** layout: an analyte column and a result column
  (one result a row, as LIS exports are);
* ``measurements`` in **wide** layout: one column per analyte, the unit in the
  header (``VMA (mmol/mol creat)``) or in a unit column;
* ``patients``: an ID column with date of birth, age, sex or diagnosis date;
* ``therapy``: an ID column, an event column and a date column.
"""

from __future__ import annotations

import csv
import functools
import re
import typing
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

from markers.ingest.config import Config
from markers.ingest.outcome_cells import OUTCOME_SYNONYMS

#: Header synonyms for each column role, written in their normalised form (see ``normalise_header``).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "patient_id": (
        "patient id", "patientid", "patient", "pat id", "patient no", "patient number", "patient nr",
        "mrn", "medical record number", "study id", "subject", "subject id", "subject no", "usubjid", "subjid",
        "case id", "case", "pid", "id", "upn", "patient identifier", "participant id", "record id",
        "patienten id", "patientennummer",
    ),
    "sample_id": (
        "sample id", "sample", "sample no", "specimen id", "specimen", "accession", "accession number",
        "lab number", "lab no", "order number", "order id", "barcode", "probe", "probennummer",
    ),
    "sample_date": (
        "sample date", "sampling date", "date sampled", "collected", "collection date", "date collected",
        "collection datetime", "collection date time", "specimen date", "date of sample", "date of collection",
        "sample collection date", "date", "urine date", "entnahmedatum", "abnahmedatum", "datum",
        "specimen collected", "collected date", "observation date", "sample datetime",
    ),
    "date_of_birth": ("date of birth", "dob", "birth date", "birthdate", "birthday", "born", "geburtsdatum"),
    "sex": ("sex", "gender", "geschlecht", "m f", "sex m f"),
    "age_years": ("age", "age years", "age y", "age yrs", "age at sample", "age at sample years", "alter", "age yr"),
    "age_months": ("age months", "age mo", "age m", "age in months", "age at sample months"),
    "age_days": ("age days", "age d", "age in days", "age at sample days", "age at sample in days",
                 "age at collection days", "age at collection in days", "age at test days", "age at test in days",
                 "age at lab days", "age at specimen collection days", "age at specimen collection in days"),
    "days_since_diagnosis": ("days since diagnosis", "days from diagnosis", "days after diagnosis",
                             "days post diagnosis", "days since dx", "days from dx", "day since diagnosis",
                             "days since initial diagnosis", "days from initial diagnosis"),
    # date-free event tables (markers.ingest.event_days): the Pediatric Cancer Data Commons keeps every
    # time point as the age in days (age_at_disease_phase, age_at_course_start)
    "age_at_event_days": ("age at event days", "age at event in days", "age at disease phase",
                          "age at disease phase days", "age at course start", "age at course start days"),
    "age_at_diagnosis_days": ("age at diagnosis days", "age at diagnosis in days", "age at initial diagnosis days"),
    "diagnosis_date": (
        "date of diagnosis", "diagnosis date", "dx date", "date diagnosis", "date of dx", "diagnosed",
        "diagnosedatum",
    ),
    "analyte": (
        "test", "test name", "analyte", "component", "parameter", "analysis", "observation", "investigation",
        "test description", "assay", "measurement", "marker", "item", "lab test", "untersuchung",
        "test code", "order item", "result name",
    ),
    "loinc": ("loinc", "loinc code", "loinc no", "loinc number", "loinc id"),
    "result": (
        "result", "value", "result value", "results", "numeric result", "result text", "ergebnis", "wert",
        "observation value", "reported value", "measured value",
    ),
    "unit": ("unit", "units", "uom", "unit of measure", "result unit", "einheit", "result units", "local unit",
             "local units", "lab unit", "reported unit", "original unit", "units of measure", "masseinheit"),
    "comparator": ("comparator", "operator", "qualifier", "result qualifier", "modifier", "result modifier",
                   "result operator", "value comparator", "less greater", "censor"),
    # markers' own tidy tables: ``censor`` ("<", ">") and ``censor_inclusive`` (true for "<=", ">=")
    "censor_inclusive": ("censor inclusive",),
    "flag": ("flag", "flags", "abnormal flag", "h l", "abn", "abnormal", "interpretation", "hl flag"),
    "reference_range": (
        "reference range", "ref range", "reference interval", "normal range", "reference", "range",
        "referenzbereich", "ref interval", "reference values", "normal values", "ref",
    ),
    "comment": ("comment", "comments", "notes", "note", "remark", "remarks", "kommentar", "bemerkung",
                "medication", "medications", "drugs", "current medication", "medikation"),
    "creatinine": ("creatinine", "urine creatinine", "creat", "crea", "creatinine urine", "u creatinine", "kreatinin", "crt"),
    "creatinine_unit": ("creatinine unit", "creatinine units", "creat unit"),
    "event": (
        "event", "therapy event", "treatment event", "milestone", "event name", "therapy", "treatment",
        "ereignis", "phase", "timepoint", "time point", "disease phase",
    ),
    "event_date": ("event date", "date of event", "treatment date", "therapy date"),
    **OUTCOME_SYNONYMS,
    "ignore": ("studyid", "study", "study name", "protocol", "name", "patient name", "first name", "last name", "surname", "diagnosis", "lab", "laboratory", "site", "centre", "center", "ward", "physician", "status", "method", "specimen type", "material"),
}

def normalise_header(text: object) -> str:
    """Lower-case, accents folded, punctuation to spaces, spaces collapsed: ``"Study-ID "`` -> ``"study id"``."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    s = s.lower().replace("_", " ")
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


@functools.cache
def _analyte_table() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(normalised synonym -> code, LOINC -> (code, measure)) from the package data files."""
    synonyms: dict[str, str] = {}
    with resources.files("markers").joinpath("data", "analytes.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for name in [row["code"], row["name"], *row["synonyms"].split("|")]:
                synonyms[normalise_header(name)] = row["code"]
    with resources.files("markers").joinpath("data", "loinc.csv").open(encoding="utf-8") as handle:
        loinc, short_names = read_loinc_table(handle)
    synonyms.update(short_names)
    return synonyms, loinc


def read_loinc_table(handle: typing.IO[str]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(LOINC -> (analyte, measure), normalised LOINC short name -> analyte) from ``loinc.csv`` text.

    A row's ``short_name`` (empty where no public source was found) is recognised as a test name
    or column header just as the analyte's own names are.
    """
    loinc: dict[str, tuple[str, str]] = {}
    short_names: dict[str, str] = {}
    for row in csv.DictReader(handle):
        loinc[row["loinc"]] = (row["analyte"], row["measure"])
        if (row.get("short_name") or "").strip():
            short_names[normalise_header(row["short_name"])] = row["analyte"]
    return loinc, short_names


_RATIO_WORDS = re.compile(
    r"\b(to|per|ratio|creatinine ratio|creatinine|creat|crea|cr|crt|random|spot|urine|u|urinary|free|"
    r"in urine|mass ratio|molar ratio|24h|24 h|24 hour|ur)\b"
)
_LOINC_RE = re.compile(r"\b(\d{3,6}-\d)\b")
_TOTAL = re.compile(r"\b(total|sum|gesamt)\b|metanephrines|catecholamines|metadrenalines")


def analyte_from_text(text: object, *, aliases: dict[str, str] | None = None) -> str | None:
    """The analyte code a name, synonym or LOINC code stands for; ``CREA`` for creatinine; else ``None``.

    Examples
    --------
    >>> analyte_from_text("Vanillylmandelic acid")
    'VMA'
    >>> analyte_from_text("3124-5")
    'VMA'
    >>> analyte_from_text("HVA/Creatinine ratio, urine")
    'HVA'
    """
    if text is None or (isinstance(text, float) and text != text):
        return None
    raw = str(text).strip()
    if not raw:
        return None
    synonyms, loinc = _analyte_table()
    if aliases:
        for alias, code in aliases.items():
            if normalise_header(alias) == normalise_header(raw) or alias.strip() == raw:
                return code
    match = _LOINC_RE.search(raw)
    if match and match.group(1) in loinc:
        return loinc[match.group(1)][0]
    key = normalise_header(re.sub(r"\(.*?\)|\[.*?\]", " ", raw))
    if _TOTAL.search(key):
        return None  # "Total metanephrines" is a sum, not metanephrine: kept apart, never graded as MN
    if key in synonyms:
        return synonyms[key]
    # "HVA/Creatinine ratio, urine" -> "hva"; keep "creatinine" alone as creatinine
    stripped = re.sub(r"\s+", " ", _RATIO_WORDS.sub(" ", key)).strip()
    if stripped in synonyms:
        return synonyms[stripped]
    return None


def loinc_measure(text: object) -> str | None:
    """The LOINC property (``mass_ratio``, ``mass_rate_24h``...) of a LOINC code in ``text``, if any."""
    if text is None:
        return None
    match = _LOINC_RE.search(str(text))
    if not match:
        return None
    return _analyte_table()[1].get(match.group(1), (None, None))[1]


_UNIT_IN_HEADER = re.compile(r"^(?P<name>.*?)\s*[\(\[](?P<unit>[^\)\]]*)[\)\]]\s*$")


def split_header_unit(header: object) -> tuple[str, str]:
    """``"VMA (mmol/mol creat)"`` -> ``("VMA", "mmol/mol creat")``; ``"VMA mg/g Cr"`` -> ``("VMA", "mg/g Cr")``."""
    text = str(header).strip()
    match = _UNIT_IN_HEADER.match(text)
    if match and "/" in match.group("unit"):
        return match.group("name").strip(), match.group("unit").strip()
    parts = text.split(None, 1)
    if len(parts) == 2 and "/" in parts[1] and re.match(r"^[\wµμ]+/", parts[1]):
        return parts[0], parts[1]
    return text, ""


@dataclass
class ColumnMap:
    """What each column of a sheet holds."""

    roles: dict[int, str] = field(default_factory=dict)  # column position -> role
    analyte_columns: dict[int, tuple[str, str]] = field(default_factory=dict)  # wide: position -> (analyte, header unit)
    analyte_unit_columns: dict[str, int] = field(default_factory=dict)  # wide: analyte -> its unit column
    creatinine_unit: str = ""  # from a "Creatinine (mmol/L)" header
    headers: dict[int, str] = field(default_factory=dict)  # column position -> header text as written

    def column(self, role: str) -> int | None:
        for position, r in self.roles.items():
            if r == role:
                return position
        return None

    @property
    def score(self) -> int:
        return len([r for r in self.roles.values() if r != "ignore"]) + len(self.analyte_columns)


@functools.cache
def _synonym_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for role, names in COLUMN_SYNONYMS.items():
        for name in names:
            index.setdefault(name, role)
    return index


def map_columns(header_cells: pd.Series, *, config: Config | None = None) -> ColumnMap:
    """Recognise the columns of one header row (a Series: column position -> header cell)."""
    config = config or Config()
    index = _synonym_index()
    user = {normalise_header(k): v for k, v in config.columns.items()}
    result = ColumnMap()
    for position, cell in header_cells.items():
        if cell is None or (isinstance(cell, float) and cell != cell) or str(cell).strip() == "":
            continue
        text = str(cell).strip()
        result.headers[position] = text
        key = normalise_header(text)
        if key in user:
            result.roles[position] = user[key]
            continue
        name, header_unit = split_header_unit(text)
        name_key = normalise_header(name)
        if name_key in user:
            result.roles[position] = user[name_key]
            continue
        # "VMA unit" / "Unit VMA": a per-analyte unit column in wide layout
        unit_match = re.match(r"^(?:(.+) units?|units? (.+))$", key)
        if unit_match:
            target = analyte_from_text(unit_match.group(1) or unit_match.group(2), aliases=config.analytes)
            if target == "CREA":
                result.roles[position] = "creatinine_unit"
                continue
            if target:
                result.analyte_unit_columns[target] = position
                continue
        role = index.get(key) or index.get(name_key)
        if role in ("creatinine",) or (role is None and analyte_from_text(name, aliases=config.analytes) == "CREA"):
            result.roles[position] = "creatinine"
            result.creatinine_unit = header_unit
            continue
        if role is not None:
            result.roles[position] = role
            continue
        analyte = analyte_from_text(name, aliases=config.analytes)
        if analyte is not None:
            result.analyte_columns[position] = (analyte, header_unit)
    _one_patient_column(result)
    return result


#: Among several ID columns, the per-person one wins: a subject's unique ID before a site's
#: subject number, a record ID before a hospital number, any of them before a "study ID".
_ID_PRIORITY = ("usubjid", "subjid", "record id", "participant id", "subject id", "patient id", "patientid",
                "pat id", "patient", "mrn", "medical record number", "study id")


def _one_patient_column(column_map: ColumnMap) -> None:
    """Keep one ``patient_id`` column (see ``_ID_PRIORITY``); the others become ``ignore``.

    Columns of equal rank (``Patient ID`` twice, or ``Patient ID`` and ``Patient-ID``) all stay
    ``patient_id``: which one names the patient cannot be told, and the sheet is refused
    (:meth:`markers.ingest.sheets.SheetReader.refuse_two_id_columns`).
    """
    ids = [p for p, role in column_map.roles.items() if role == "patient_id"]
    if len(ids) < 2:
        return

    def rank(position: int) -> int:
        key = normalise_header(column_map.headers[position])
        return _ID_PRIORITY.index(key if key in _ID_PRIORITY else "mrn")

    best = min(rank(position) for position in ids)
    # two columns of the same kind (two "Patient ID"s) stay: which one names the patient cannot be
    # guessed, and the sheet reader refuses the sheet with both cells named
    for position in ids:
        if rank(position) != best:
            column_map.roles[position] = "ignore"


def sheet_role(sheet_name: str, column_map: ColumnMap, *, config: Config | None = None) -> str:
    """``measurements``, ``patients``, ``therapy`` or ``ignore`` for a mapped sheet."""
    config = config or Config()
    if sheet_name in config.sheets:
        return config.sheets[sheet_name]
    roles = set(column_map.roles.values())
    if ("analyte" in roles or "loinc" in roles) and "result" in roles:
        return "measurements"
    if column_map.analyte_columns:
        return "measurements"
    if "event" in roles and "patient_id" in roles:
        return "therapy"
    if "patient_id" in roles and roles & {"date_of_birth", "sex", "diagnosis_date", "age_years", "age_months", "age_days",
                                          *OUTCOME_SYNONYMS}:
        return "patients"
    return "ignore"
