"""HL7 v2 ORU^R01 result messages as record sheets: one row per OBX (results) and per PID (patients).

Segments are split on carriage returns (also newlines), fields, components and repetitions
on the separators MSH-1 and MSH-2 declare, and escape sequences (``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\``,
``\\.br\\``, ``\\Xhh\\``) are decoded after splitting, as HL7 v2.5 chapter 2.7 prescribes.
Rows are numbered by segment (1-based, across the file); each location names the message
and the segment within it. Fields read: PID-3 (first identifier), PID-7 (birth date),
PID-8 (sex); OBR-7 (observation date/time); OBX-2 (value type), OBX-3 (code^text^system,
LOINC where the system is ``LN``), OBX-5 (value; an ``SN`` value's comparator joined to its
number), OBX-6 (units), OBX-7 (reference range), OBX-8 (abnormal flag), OBX-11 (result
status) and OBX-14 (date/time of the observation, else OBR-7).
"""

from __future__ import annotations

import pathlib
import re

from markers.errors import InputFormatError
from markers.readers.formats import table as t

_MLLP = str.maketrans("", "", "\x0b\x1c")
#: OBX-11 result statuses that carry no valid result (HL7 table 0085).
_NO_RESULT = {"D": "deleted", "W": "wrong, replaced", "X": "cannot be obtained"}
_SEX = {"M": "M", "F": "F"}


def looks_like_hl7(head: bytes) -> bool:
    """True when a file starts (after a BOM, MLLP framing or blank space) with an ``MSH`` segment."""
    return head.lstrip(b"\xef\xbb\xbf\x0b \t\r\n").startswith(b"MSH")


class _Separators:
    def __init__(self, msh: str, where: str):
        if len(msh) < 8:
            raise InputFormatError(f"{where}: the MSH segment is too short to declare its separators.")
        self.field = msh[3]
        encoding = msh[4:8]
        self.component, self.repetition, self.escape, self.sub = encoding[0], encoding[1], encoding[2], encoding[3]

    def unescape(self, text: str) -> str:
        if self.escape not in text:
            return text
        e = re.escape(self.escape)
        table = {"F": self.field, "S": self.component, "T": self.sub, "R": self.repetition, "E": self.escape,
                 ".br": "\n", "H": "", "N": ""}

        def one(match: re.Match) -> str:
            code = match.group(1)
            if code in table:
                return table[code]
            if code.startswith("X") and re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", code):
                return bytes.fromhex(code[1:]).decode("latin-1")
            return match.group(0)

        return re.sub(rf"{e}([^{e}]*){e}", one, text)

    def components(self, field: str) -> list[str]:
        """The components of a field's first repetition, each unescaped."""
        first = field.split(self.repetition)[0]
        return [self.unescape(c.split(self.sub)[0]) for c in first.split(self.component)]


def _field(fields: list[str], number: int) -> str:
    return fields[number] if number < len(fields) else ""


def hl7_date(stamp: str) -> str:
    """An HL7 TS (``YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]``) as ISO text; partial dates stay partial."""
    digits = re.match(r"\d*", stamp.strip()).group(0)
    if len(digits) >= 12:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]} {digits[8:10]}:{digits[10:12]}"
    if len(digits) >= 8:
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    if len(digits) == 6:
        return f"{digits[:4]}-{digits[4:6]}"
    return stamp.strip()


def _value(fields: list[str], sep: _Separators) -> str:
    raw = _field(fields, 5)
    status = _field(fields, 11).strip().upper()
    if status in _NO_RESULT:
        return f"(result status {status}: {_NO_RESULT[status]})"
    parts = sep.components(raw)
    if _field(fields, 2).strip().upper() == "SN":
        comparator, number = parts[0], parts[1] if len(parts) > 1 else ""
        separator, second = (parts[2] if len(parts) > 2 else ""), (parts[3] if len(parts) > 3 else "")
        return f"{comparator}{number}{separator}{second}"
    return sep.unescape(raw.split(sep.repetition)[0])


def _code(field: str, sep: _Separators) -> tuple[str, str]:
    """``(LOINC code, text)`` of a CE/CWE field: the identifier whose coding system is ``LN``."""
    parts = sep.components(field) + [""] * 6
    loinc = parts[0] if parts[2].upper() in ("LN", "LOINC") else (parts[3] if parts[5].upper() in ("LN", "LOINC") else "")
    return loinc, parts[1] or parts[4] or parts[0]


def segments_of(text: str) -> list[str]:
    """The segments of a file of HL7 v2 messages (CR, LF or CRLF between them; MLLP framing dropped)."""
    return [s for s in re.split(r"\r\n|\r|\n", text.translate(_MLLP)) if s.strip()]


def read_hl7(path: pathlib.Path, text: str) -> list[t.RawSheet]:
    """The record sheets of one file of HL7 v2 ORU^R01 messages."""
    results, people, others = [], [], []
    sep: _Separators | None = None
    message = position = 0
    patient, obr_time = "", ""
    for number, segment in enumerate(segments_of(text), start=1):
        name = segment[:3]
        if name == "MSH":
            sep = _Separators(segment, f"{path.name} segment {number}")
            message, position, patient, obr_time = message + 1, 0, "", ""
        if sep is None:
            raise InputFormatError(f"{path.name} segment {number}: the file does not start with an MSH segment; "
                                   "it is not an HL7 v2 message.")
        position += 1
        where = f"message {message} segment {position} {name}"
        fields = segment.split(sep.field)
        if name == "PID":
            identifiers = _field(fields, 3) or _field(fields, 2)
            patient = sep.components(identifiers)[0]
            people.append((number, where, {t.PATIENT: patient, t.DATE_OF_BIRTH: hl7_date(_field(fields, 7)),
                                           t.SEX: _SEX.get(_field(fields, 8).strip().upper(), "")}))
        elif name == "OBR":
            obr_time = _field(fields, 7)
            others.append((number, where, {"Segment": name}))
        elif name == "OBX":
            loinc, test = _code(_field(fields, 3), sep)
            units = sep.components(_field(fields, 6))
            stamp = _field(fields, 14) or obr_time
            results.append((number, where, {
                t.PATIENT: patient, t.SAMPLE_DATE: hl7_date(stamp), t.TEST: test, t.LOINC: loinc,
                t.RESULT: _value(fields, sep), t.UNIT: units[0] or (units[1] if len(units) > 1 else ""),
                t.REFERENCE_RANGE: sep.unescape(_field(fields, 7)), t.FLAG: sep.unescape(_field(fields, 8)),
            }))
        else:
            others.append((number, where, {"Segment": name}))
    sheets = []
    if people:
        sheets.append(t.record_sheet(path, sheet="PID", headers=t.PATIENT_HEADERS, rows=people, fmt="hl7"))
    if results:
        sheets.append(t.record_sheet(path, sheet="OBX", headers=t.MEASUREMENT_HEADERS, rows=results, fmt="hl7"))
    if others:
        sheets.append(t.record_sheet(path, sheet="other segments", headers=("Segment",), rows=others, fmt="hl7",
                                     skip_reason="not-a-result"))
    return sheets
