"""Which REDCap data dictionary goes with which export in one run, and the sheets that result."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence

import pandas as pd

from markers.ingest.config import Config
from markers.ingest.redcap import dictionary_beside, is_dictionary, read_dictionary, redcap_sheets
from markers.readers.files import RawSheet
from markers.readers.formats.table import RecordSheet


def _first_line(path: pathlib.Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            line = handle.readline()
    except OSError:
        return []
    return [cell.strip().strip('"') for cell in line.split(",")]


def redcap_dictionaries(paths: Sequence[str | os.PathLike], given: str | os.PathLike | None) -> dict[str, pd.DataFrame]:
    """``{"": dictionary}`` for one given (or found among ``paths``), plus ``{folder: dictionary}`` found beside exports."""
    found: dict[str, pd.DataFrame] = {}
    if given is not None:
        found[""] = read_dictionary(given)
        return found
    for path in map(pathlib.Path, paths):
        if path.suffix.lower() == ".csv" and is_dictionary(_first_line(path)):
            found[""] = read_dictionary(path)
            return found
    for path in map(pathlib.Path, paths):
        folder = str(path.resolve().parent)
        if path.suffix.lower() == ".csv" and folder not in found:
            beside = dictionary_beside(path)
            if beside is not None:
                found[folder] = beside
    return found


def structured_sheets(sheets: list[RawSheet], *, dictionaries: dict[str, pd.DataFrame], config: Config) -> list[RawSheet]:
    """``sheets`` with a REDCap export split into record and data sheets, and a data dictionary skipped."""
    out: list[RawSheet] = []
    for sheet in sheets:
        if isinstance(sheet, RecordSheet) or sheet.fmt not in ("csv", "tsv", "txt"):
            out.append(sheet)
            continue
        first = sheet.cells.dropna(how="all")
        headers = [str(v) for v in first.iloc[0].tolist()] if len(first) else []
        if is_dictionary(headers):
            out.append(RecordSheet(file=sheet.file, path=sheet.path, sheet=sheet.sheet, cells=sheet.cells,
                                   decimal_comma=sheet.decimal_comma, fmt="redcap-dictionary",
                                   skip_reason="data-dictionary"))
            continue
        dictionary = dictionaries.get("", dictionaries.get(str(pathlib.Path(sheet.path).resolve().parent)))
        split = redcap_sheets(sheet, dictionary=dictionary, config=config)
        out.extend(split if split is not None else [sheet])
    return out
