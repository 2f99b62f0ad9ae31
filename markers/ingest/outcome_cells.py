"""Outcome columns of a patients sheet (EFS/OS days and indicators, vital status, first event, stage, MYCN)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.readers.cells import cell_text
from markers.schema import EFS_DAYS, EFS_EVENT, FIRST_EVENT, MYCN, OS_DAYS, OS_EVENT, STAGE, VITAL_STATUS

#: Header synonyms of the outcome roles (normalised form, see markers.ingest.mapping.normalise_header).
OUTCOME_SYNONYMS: dict[str, tuple[str, ...]] = {
    EFS_DAYS: ("efs days", "efs", "efs time", "efs time days", "efs d", "event free survival days",
               "event free survival", "time to event days"),
    EFS_EVENT: ("efs event", "efs status", "efs indicator", "event efs", "efs event 1 yes", "efs cens event"),
    OS_DAYS: ("os days", "os", "os time", "os time days", "os d", "overall survival days", "overall survival"),
    OS_EVENT: ("os event", "os status", "os indicator", "event os", "death indicator", "os event 1 dead"),
    VITAL_STATUS: ("vital status", "vital", "alive dead", "status at last follow up", "vitalstatus"),
    FIRST_EVENT: ("first event", "first event type", "type of first event", "event type", "efs event type"),
    STAGE: ("stage", "inss stage", "inrg stage", "inss", "inrgss", "inrgss stage", "stadium"),
    MYCN: ("mycn", "mycn status", "mycn amplification", "mycn amplified", "n myc", "nmyc"),
}

_YES = {"1", "1.0", "yes", "y", "true", "event", "dead", "died", "deceased", "ja"}
_NO = {"0", "0.0", "no", "n", "false", "censored", "alive", "none", "nein"}
_VITAL = {"alive": "alive", "a": "alive", "living": "alive", "0": "alive", "dead": "dead", "d": "dead",
          "died": "dead", "deceased": "dead", "1": "dead", "lebend": "alive", "verstorben": "dead"}
_NO_EVENT = {"none", "no event", "no", "-", "0", "censored", "alive without event", "kein"}
_MYCN = {"amplified": "amplified", "amp": "amplified", "yes": "amplified", "1": "amplified", "pos": "amplified",
         "positive": "amplified", "not amplified": "not amplified", "non amplified": "not amplified",
         "non-amplified": "not amplified", "no": "not amplified", "0": "not amplified", "neg": "not amplified",
         "negative": "not amplified"}


def outcome_fields(data: pd.DataFrame, roles: dict[str, int], *, report) -> pd.DataFrame:
    """Typed outcome columns for the data rows of a patients sheet.

    ``roles`` maps each outcome role present to its column position; ``report(row, position, value)``
    records an unreadable cell (issue ``invalid-outcome``; the cell is left empty).
    """
    from markers.ingest.events import canonical_event

    out = pd.DataFrame(index=data.index)
    for role, position in roles.items():
        text = cell_text(data[position]).str.strip()
        lower = text.str.lower()
        if role in (EFS_DAYS, OS_DAYS):
            values = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce").astype("float64")
            bad = (text != "") & (values.isna() | (values < 0))
            values[bad] = np.nan
        elif role in (EFS_EVENT, OS_EVENT):
            values = pd.Series(np.where(lower.isin(_YES), True, np.where(lower.isin(_NO), False, None)),
                               index=data.index).astype("boolean")
            bad = (text != "") & values.isna()
        elif role == VITAL_STATUS:
            values = lower.map(lambda t: _VITAL.get(t, "")).astype(object)
            bad = (text != "") & (values == "")
        elif role == FIRST_EVENT:
            def code(t: str) -> str:
                if t.lower() in _NO_EVENT:
                    return "none"
                found = canonical_event(t)
                return found if found in ("relapse", "progression", "second_malignancy", "death") else ""
            values = text.map(lambda t: code(t) if t else "").astype(object)
            bad = (text != "") & (values == "")
        elif role == MYCN:
            values = lower.map(lambda t: _MYCN.get(t, "")).astype(object)
            bad = (text != "") & (values == "")
        else:  # stage: kept as written
            values = text.astype(object)
            bad = pd.Series(False, index=data.index)
        for row in data.index[bad.to_numpy(dtype=bool)]:
            report(row, position, data.at[row, position])
        out[role] = values
    return out
