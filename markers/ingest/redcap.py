"""REDCap exports: the data dictionary's labels, units and choices applied, record-level fields joined to repeat rows.

A REDCap export (raw or labelled CSV, classic or longitudinal, with repeating instruments
or events) has one row per record, event and repeat instance. The fields of a record's own
form (date of birth, sex, diagnosis date) sit on that record's row without a repeat
instrument; the lab values sit on repeat (or event) rows. :func:`redcap_sheets` splits
an export into a ``record`` sheet (one row per record-level row: a patients table) and a
``data`` sheet (every other row, the record-level fields joined onto it), keeping each
row's line number and naming its record, event and instance as its location.

The data dictionary (REDCap's "Data Dictionary" CSV: ``Variable / Field Name``, ``Form Name``,
``Field Type``, ``Field Label``, ``Choices, Calculations, OR Slider Labels``, ``Field Note``,
``Text Validation Type OR Show Slider Number``...) turns a raw export's variable names into
their labels (with the field note as the unit when it is one), decodes radio, dropdown,
yes/no and true/false codes into their labels, and checkbox columns (``field___code``, 0/1)
into ``Label (choice=Choice)`` columns of ``Checked``/``Unchecked``, as REDCap's labelled
export writes them.
"""

from __future__ import annotations

import html
import pathlib
import re

import pandas as pd

from markers.errors import InputFormatError
from markers.ingest.config import Config
from markers.ingest.mapping import map_columns
from markers.ingest.units import parse_unit
from markers.readers.files import RawSheet
from markers.readers.formats.table import RecordSheet, record_sheet

#: The header of a data dictionary's first column, as REDCap writes it.
DICTIONARY_FIRST = "Variable / Field Name"
_BOOKKEEPING_RAW = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
                    "redcap_data_access_group", "redcap_survey_identifier", "redcap_arm")
_BOOKKEEPING_LABELS = ("event name", "repeat instrument", "repeat instance", "data access group",
                       "survey identifier", "arm")
_RECORD_ROLES = ("date_of_birth", "sex", "diagnosis_date")
_CHOICE_TYPES = ("radio", "dropdown", "yesno", "truefalse")
_FIXED_CHOICES = {"yesno": {"1": "Yes", "0": "No"}, "truefalse": {"1": "True", "0": "False"}}


def is_dictionary(headers: list[str]) -> bool:
    """True for the header row of a REDCap data dictionary."""
    return bool(headers) and str(headers[0]).strip() == DICTIONARY_FIRST


def read_dictionary(path: str | pathlib.Path) -> pd.DataFrame:
    """A data dictionary CSV as a frame indexed by variable name (text cells, "" for empty)."""
    path = pathlib.Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"{path.name}: not a readable REDCap data dictionary ({exc}).") from exc
    if not is_dictionary(list(frame.columns)):
        raise InputFormatError(f"{path.name}: not a REDCap data dictionary (its first column is not "
                               f"{DICTIONARY_FIRST!r}). Download it from the project's Data Dictionary page.")
    frame.columns = [c.strip() for c in frame.columns]
    return frame.set_index(DICTIONARY_FIRST)


def dictionary_beside(path: pathlib.Path) -> pd.DataFrame | None:
    """The one ``*DataDictionary*.csv`` in an export's folder (REDCap's own file name), if there is one."""
    found = [p for p in path.parent.glob("*.csv") if "datadictionary" in p.name.lower().replace("_", "")]
    return read_dictionary(found[0]) if len(found) == 1 else None


def parse_choices(text: str) -> dict[str, str]:
    """``"1, Female | 2, Male"`` -> ``{"1": "Female", "2": "Male"}``."""
    choices = {}
    for part in str(text or "").split("|"):
        code, _, label = part.partition(",")
        if code.strip():
            choices[code.strip()] = _plain(label)
    return choices


def _plain(label: str) -> str:
    """A label without the HTML REDCap allows in it."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", str(label or "")))).strip()


def _column_label(name: str, field: pd.Series) -> str:
    label = _plain(field.get("Field Label", "")) or name
    note = _plain(field.get("Field Note", ""))
    if note and "(" not in label and parse_unit(note) is not None:
        label = f"{label} ({note})"
    return label


def apply_dictionary(frame: pd.DataFrame, dictionary: pd.DataFrame) -> pd.DataFrame:
    """A raw export's columns renamed to their labels and coded values decoded (a new frame)."""
    out = {}
    for name in frame.columns:
        values = frame[name]
        base, _, code = name.partition("___")
        if name in dictionary.index:
            field = dictionary.loc[name]
            kind = str(field.get("Field Type", "")).strip()
            if kind in _CHOICE_TYPES:
                choices = _FIXED_CHOICES.get(kind) or parse_choices(field.get("Choices, Calculations, OR Slider Labels", ""))
                values = values.map(lambda v, c=choices: c.get(v.strip(), v) if isinstance(v, str) else v)
            out[_column_label(name, field)] = values
        elif code and base in dictionary.index:
            field = dictionary.loc[base]
            choice = parse_choices(field.get("Choices, Calculations, OR Slider Labels", "")).get(code, code)
            label = f"{_plain(field.get('Field Label', '')) or base} (choice={choice})"
            out[label] = values.map(lambda v: {"1": "Checked", "0": "Unchecked"}.get(v.strip(), v) if isinstance(v, str) else v)
        else:
            out[name] = values
    return pd.DataFrame(out, index=frame.index)


def _bookkeeping(header: str) -> bool:
    key = re.sub(r"[^a-z ]", "", header.strip().lower().replace("_", " ")).strip()
    return (header.strip().lower() in _BOOKKEEPING_RAW or key in _BOOKKEEPING_LABELS
            or header.strip().lower().endswith("_complete") or key.startswith("complete"))


def looks_like_redcap(headers: list[str]) -> bool:
    """An export's header row: REDCap's own columns (raw or labelled)."""
    lowered = {str(h).strip().lower() for h in headers}
    return bool(lowered & set(_BOOKKEEPING_RAW)) or {"repeat instrument", "repeat instance"} <= lowered \
        or ("record id" in lowered and "event name" in lowered)


def redcap_sheets(sheet: RawSheet, *, dictionary: pd.DataFrame | None, config: Config) -> list[RawSheet] | None:
    """The ``record`` and ``data`` sheets of a REDCap export; ``None`` when ``sheet`` is not one."""
    cells = sheet.cells.dropna(how="all")
    if cells.empty:
        return None
    raw_headers = [str(v).strip() if isinstance(v, str) else "" for v in cells.iloc[0].tolist()]
    from_dictionary = dictionary is not None and raw_headers[0] in dictionary.index
    if not (looks_like_redcap(raw_headers) or from_dictionary):
        return None
    body = cells.iloc[1:]
    frame = pd.DataFrame({h: body[c].astype(object).where(body[c].notna(), None)
                          for c, h in zip(cells.columns, raw_headers, strict=True) if h}, index=body.index)
    if from_dictionary:
        frame = apply_dictionary(frame, dictionary)
    else:
        _refuse_coded_sex(frame, sheet)
    headers = list(frame.columns)
    column_map = map_columns(pd.Series(dict(enumerate(headers)), dtype=object), config=config)
    id_position = column_map.column("patient_id")
    id_header = headers[0 if id_position is None else id_position]
    record_level = [headers[p] for p, role in column_map.roles.items() if role in _RECORD_ROLES]
    keep = {id_header, *record_level} | {h for h in headers if _bookkeeping(h)}
    filled = frame.notna() & frame.apply(lambda col: ~col.astype(str).str.strip().isin(["", "Unchecked"]))
    own_row = ~filled[[h for h in headers if h not in keep]].any(axis=1)
    # the record's own fields onto every row of the record (first value given; rows' own values win)
    joined = frame.copy()
    for header in record_level:
        first = frame[header].where(filled[header]).groupby(frame[id_header]).transform("first")
        joined[header] = frame[header].where(filled[header], first)
    places = {int(n): _place(int(n), frame.loc[n], id_header) for n in frame.index}
    record_rows = [(n, places[n], {h: frame.at[n, h] for h in [id_header, *record_level]}) for n in frame.index[own_row]]
    data_rows = [(n, places[n], {h: joined.at[n, h] for h in headers}) for n in frame.index[~own_row]]
    sheets: list[RawSheet] = []
    if record_rows:
        sheets.append(record_sheet(sheet.path, sheet="record", headers=[id_header, *record_level], rows=record_rows,
                                   fmt="redcap", skip_reason=None if record_level else "record-level"))
    if data_rows:
        sheets.append(record_sheet(sheet.path, sheet="data", headers=headers, rows=data_rows, fmt="redcap"))
    return [_with_convention(s, sheet) for s in sheets]


def _refuse_coded_sex(frame: pd.DataFrame, sheet: RawSheet) -> None:
    """A raw export's sex field holds choice codes whose meaning only the dictionary knows: refuse to guess."""
    raw = any(h.startswith("redcap_") for h in frame.columns)
    for header in frame.columns:
        if raw and header.strip().lower() in ("sex", "gender"):
            values = {str(v).strip() for v in frame[header].dropna() if str(v).strip()}
            if values and all(v.isdigit() for v in values):
                raise InputFormatError(
                    f"{sheet.file}: column {header!r} holds REDCap choice codes ({', '.join(sorted(values))}) "
                    "whose labels are in the data dictionary. Put the project's data dictionary CSV beside the "
                    "export or give it as one of the files, or export with labels.")


def _with_convention(new: RecordSheet, old: RawSheet) -> RecordSheet:
    from dataclasses import replace

    return replace(new, decimal_comma=old.decimal_comma)


def _place(number: int, row: pd.Series, id_header: str) -> str:
    parts = [f"row {number} record {row[id_header]}"]
    for header, word in (("redcap_event_name", "event"), ("Event Name", "event"),
                         ("redcap_repeat_instrument", "instrument"), ("Repeat Instrument", "instrument"),
                         ("redcap_repeat_instance", "instance"), ("Repeat Instance", "instance")):
        if header in row.index and isinstance(row[header], str) and row[header].strip():
            parts.append(f"{word} {row[header].strip()}")
    return " ".join(parts)
