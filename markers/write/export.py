"""One analysis table to one file: the shape (tidy or CDISC) and the extension choose what is written."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from markers.errors import OutputError
from markers.write.atomic import atomic_write, check_target
from markers.write.fhir import fhir_format, fhir_text
from markers.write.provenance import jsonable, sidecar_path
from markers.write.tables import json_text, write_table

PathLike = str | os.PathLike[str]

#: Shapes a table can be written in: markers' own columns, or CDISC ADaM-like variables.
SHAPES = ("tidy", "adam")


def export_table(
    frame: pd.DataFrame,
    path: PathLike,
    *,
    table: str,
    shape: str = "tidy",
    inputs: Iterable[PathLike] = (),
    safe_csv: bool = False,
    provenance: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Write ``frame`` (the analysis table named ``table``) to ``path``; return what was written.

    Parameters
    ----------
    frame
        ``Analysis.measurements`` or ``Analysis.assessment``.
    path
        Output file. ``*.fhir.json`` (a FHIR R4 Bundle) and ``*.ndjson`` (FHIR NDJSON) take the
        measurements; any other extension is a table (:func:`markers.write.tables.write_table`).
    table
        ``"measurements"`` or ``"assessment"``.
    shape
        ``"tidy"`` (markers' columns) or ``"adam"``: the measurements as an ADLB-like table
        (:func:`markers.write.adam.adlb`).
    inputs, safe_csv, provenance
        As for :func:`~markers.write.tables.write_table`.

    Raises
    ------
    OutputError
        An unknown shape, a shape or format that does not fit the table, or any writer's refusal.
    """
    target = Path(path)
    inputs = tuple(inputs)
    if shape not in SHAPES:
        raise OutputError(f"unknown shape {shape!r}; use one of {', '.join(SHAPES)}")
    fhir = fhir_format(target.name)
    if (shape == "adam" or fhir) and table != "measurements":
        what = "--shape adam" if shape == "adam" else "FHIR"
        raise OutputError(f"{what} output is made from the measurements (one row per result), not the {table} "
                          f"table; use `markers normalize` for {target.name}")
    if fhir:
        if shape != "tidy":
            raise OutputError(f"{target.name}: FHIR output has its own shape; leave out --shape")
        sidecar = sidecar_path(target) if provenance is not None else None
        check_target(target, inputs)
        if sidecar is not None:
            check_target(sidecar, inputs)
        with atomic_write(target, mode="w", inputs=inputs, encoding="utf-8") as handle:
            handle.write(fhir_text(frame, fhir, provenance=provenance))
        if sidecar is not None:
            with atomic_write(sidecar, mode="w", inputs=inputs, encoding="utf-8") as handle:
                handle.write(json_text(jsonable(provenance)))
        return frame
    if shape == "adam":
        from markers.write.adam import adlb

        frame = adlb(frame)
    write_table(frame, target, inputs=inputs, safe_csv=safe_csv, provenance=provenance,
                sheet_name="ADLB" if shape == "adam" else table)
    return frame
