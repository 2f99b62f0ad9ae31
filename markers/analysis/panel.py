"""Patient-level panel status: one row per patient from the per-analyte assessment (Matser 2025)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from markers.analysis.rules import AssessmentRules
from markers.schema import ANALYTE, ANALYTES, PATIENT_ID

__all__ = ["PANEL_STATUSES", "panel_columns", "patient_status"]

#: Values of every ``status_<milestone>`` column of :func:`patient_status`.
PANEL_STATUSES = ("positive", "negative", "unknown")


def panel_columns(milestones: tuple[str, ...]) -> list[str]:
    """Column names of :func:`patient_status` for the given milestones, in order."""
    return [PATIENT_ID, "informative", "informative_markers", *[f"status_{m}" for m in milestones],
            "persistent", "reelevation", "unconfirmed_rise_date", "summary"]


def _flag(value: object) -> object:
    return pd.NA if value is pd.NA or value is None or pd.isna(value) else bool(value)


def _triad(any_true: pd.Series, all_false: pd.Series) -> pd.Series:
    """True where any is True, False where all are False, else <NA> (boolean)."""
    out = pd.Series(pd.NA, index=any_true.index, dtype="boolean")
    out[all_false.to_numpy(dtype=bool)] = False
    out[any_true.to_numpy(dtype=bool)] = True
    return out


def _flags(frame: pd.DataFrame, column: str, pid: pd.Series, index: pd.Index) -> pd.Series:
    """Per patient: any row True, every row False (rows of informative markers), as a boolean Series."""
    values = frame[column].astype("boolean") if column in frame else pd.Series(pd.NA, index=frame.index,
                                                                                 dtype="boolean")
    any_true = values.fillna(False).groupby(pid).any().reindex(index, fill_value=False)
    n_false = (values == False).fillna(False).groupby(pid).sum().reindex(index, fill_value=0)  # noqa: E712
    n_rows = pid.groupby(pid).size().reindex(index, fill_value=0)
    return _triad(any_true, (n_rows > 0) & (n_false == n_rows))


def _milestone_status(statuses: pd.Series, pid: pd.Series, index: pd.Index) -> pd.Series:
    """Positive when any informative marker is elevated; negative when at least one is normal and
    none is elevated or indeterminate; unknown otherwise (no informative marker, no sample)."""
    text = statuses.astype(str)

    def per_patient(word: str) -> np.ndarray:
        return (text == word).groupby(pid).any().reindex(index, fill_value=False).to_numpy(dtype=bool)

    elevated, normal, unknown = per_patient("elevated"), per_patient("normal"), per_patient("indeterminate")
    return pd.Series(np.select([elevated, normal & ~unknown], ["positive", "negative"], "unknown"), index=index)


def _summary(row: dict, milestones: tuple[str, ...]) -> str:
    if row["informative"] is False:
        return "not marker-informative (every marker normal at baseline)"
    if row["informative"] is not True:
        return "informativeness unknown"
    parts = [f"informative ({row['informative_markers']})"]
    parts += [f"{row[f'status_{m}']} at {m.replace('_', ' ')}" for m in milestones
              if row[f"status_{m}"] != "unknown"]
    if row["persistent"] is True:
        parts.append("persistent in complete remission")
    if row["reelevation"] is True:
        parts.append("re-elevated")
    if pd.notna(row["unconfirmed_rise_date"]):
        parts.append(f"unconfirmed rise on {pd.Timestamp(row['unconfirmed_rise_date']).date()}: repeat advised")
    elif pd.notna(row.get("_rise_day")):  # a date-free patient: its day since diagnosis
        parts.append(f"unconfirmed rise on day {int(row['_rise_day'])} since diagnosis: repeat advised")
    return "; ".join(parts)


def _joined(keys: np.ndarray, texts: np.ndarray) -> pd.Series:
    """``", "``-joined texts per run of equal keys (``keys`` sorted), indexed by key."""
    if not len(keys):
        return pd.Series(dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    stops = np.r_[starts[1:], len(keys)]
    return pd.Series([", ".join(texts[a:b]) for a, b in zip(starts, stops, strict=True)], index=keys[starts])


def _panel(assessment: pd.DataFrame, milestones: tuple[str, ...]) -> pd.DataFrame:
    pid_all = assessment[PATIENT_ID].astype(str)
    index = pd.Index(sorted(pd.unique(pid_all)), name=PATIENT_ID)
    informative = assessment["informative"].astype("boolean")
    yes = assessment[informative.fillna(False).to_numpy(dtype=bool)]
    pid = pid_all[yes.index]
    n_false = (informative == False).fillna(False).groupby(pid_all).sum().reindex(index)  # noqa: E712
    n_rows = pid_all.groupby(pid_all).size().reindex(index)
    any_yes = pid.groupby(pid).size().reindex(index, fill_value=0) > 0
    order = {code: i for i, code in enumerate(ANALYTES)}
    ranked = yes.assign(_rank=yes[ANALYTE].map(order).fillna(len(ANALYTES)), _pid=pid).sort_values(
        ["_pid", "_rank", ANALYTE], kind="stable")
    markers = _joined(ranked["_pid"].to_numpy(dtype=object), ranked[ANALYTE].astype(str).to_numpy(dtype=object))
    markers = markers.reindex(index, fill_value="")
    panel = pd.DataFrame({"informative": _triad(any_yes, n_false == n_rows), "informative_markers": markers},
                         index=index)
    for m in milestones:
        column = f"status_{m}"
        statuses = yes[column] if column in yes else pd.Series("", index=yes.index)
        panel[column] = _milestone_status(statuses, pid, index)
    panel["persistent"] = _flags(yes, "persistent", pid, index)
    panel["reelevation"] = _flags(yes, "reelevation", pid, index)
    rises = (yes["unconfirmed_rise_date"] if "unconfirmed_rise_date" in yes
             else pd.Series(pd.NaT, index=yes.index, dtype="datetime64[ns]"))
    latest = pd.to_datetime(rises).groupby(pid).max().reindex(index)
    panel["unconfirmed_rise_date"] = latest.where(panel["reelevation"].ne(True).fillna(True).to_numpy(dtype=bool))
    no_rise = panel["reelevation"].ne(True).fillna(True).to_numpy(dtype=bool)
    rise_days = (pd.to_numeric(yes["unconfirmed_rise_day"], errors="coerce").astype("float64").groupby(pid).max()
                 .reindex(index) if "unconfirmed_rise_day" in yes else pd.Series(np.nan, index=index))
    records = panel.assign(_rise_day=rise_days.where(no_rise)).reset_index().to_dict("records")
    for record in records:
        record["informative"] = _flag(record["informative"])
        record["persistent"] = _flag(record["persistent"])
        record["reelevation"] = _flag(record["reelevation"])
    panel["summary"] = [_summary(r, milestones) for r in records]
    return panel.reset_index()


def patient_status(assessment: pd.DataFrame, *, rules: AssessmentRules | None = None) -> pd.DataFrame:
    """One row per patient: is the patient marker-informative, and marker-positive at each milestone?

    A patient is *informative* when any marker was elevated at baseline (``<NA>`` when none was but
    some marker's informativeness is unknown). At each milestone the patient is ``"positive"`` when
    any informative marker is elevated (the definition of Matser et al. 2025 [S13]), ``"negative"``
    when at least one informative marker is normal and none is elevated or indeterminate, and
    ``"unknown"`` otherwise. ``persistent`` and ``reelevation`` are True when any informative marker
    is, False when every informative marker is False, else ``<NA>``.

    Parameters
    ----------
    assessment
        The per-analyte table of :func:`markers.analysis.assess.assess`.
    rules
        The rules the assessment used (for its milestones); defaults when ``None``.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient_id``, ``informative`` (boolean, <NA> unknown), ``informative_markers``,
        ``status_<milestone>`` for each milestone of the rules, ``persistent``, ``reelevation``
        (boolean), ``unconfirmed_rise_date`` (datetime) and ``summary``.

    Examples
    --------
    >>> a = pd.DataFrame({"patient_id": ["P1", "P1"], "analyte": ["VMA", "HVA"],
    ...     "informative": pd.array([False, True], dtype="boolean"),
    ...     "status_complete_remission": ["normal", "elevated"],
    ...     "persistent": pd.array([pd.NA, True], dtype="boolean"),
    ...     "reelevation": pd.array([pd.NA, False], dtype="boolean"),
    ...     "unconfirmed_rise_date": pd.to_datetime([None, None])})
    >>> row = patient_status(a, rules=AssessmentRules(milestones=("complete_remission",))).iloc[0]
    >>> row["informative_markers"], row["status_complete_remission"], bool(row["persistent"])
    ('HVA', 'positive', True)
    """
    rules = rules if rules is not None else AssessmentRules()
    milestones = rules.all_milestones
    columns = panel_columns(milestones)
    if assessment.empty:
        result = pd.DataFrame({c: [] for c in columns})
    else:
        result = _panel(assessment.reset_index(drop=True), milestones)[columns]
    for column in ("informative", "persistent", "reelevation"):
        result[column] = result[column].astype("boolean")
    result["unconfirmed_rise_date"] = pd.to_datetime(result["unconfirmed_rise_date"]).astype("datetime64[ns]")
    for column in columns:
        if column.startswith("status_") or column in (PATIENT_ID, "informative_markers", "summary"):
            result[column] = result[column].astype(str)
    return result.reset_index(drop=True)
