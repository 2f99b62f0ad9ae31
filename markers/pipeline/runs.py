"""What every command of the API does around the analysis: paths, provenance, the output guard."""

from __future__ import annotations

import os

from markers.pipeline.core import Analysis


def date_free_files(analysis: Analysis) -> str:
    """The input files the (date-free) results come from, for an error message."""
    return ", ".join(sorted(set(analysis.measurements["source_file"].astype(str))))


def path_list(paths) -> list:
    """``paths`` as a list: one path or several."""
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def provenance_of(analysis: Analysis, paths: list, pseudonymize, options: dict) -> dict:
    """How an output was made (markers' version, the inputs' SHA-256, reference set, options); under
    pseudonymisation the inputs are named by label and SHA-256, never by file name."""
    from markers.write.output import provenance_record

    record = provenance_record(inputs=list(paths), options=options, reference_set=analysis.reference_set,
                               checksums=checksums(analysis))
    if pseudonymize is None:
        return record
    from markers.privacy.pseudonym import pseudonymous_provenance

    return pseudonymous_provenance(record)


def options_record(**options) -> dict:
    return {k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in options.items()}


def checksums(analysis: Analysis) -> dict[str, str]:
    """The inputs' SHA-256 as ingestion computed them, by path as given (not read twice)."""
    files = analysis.dataset.files
    return dict(zip(files["path"], files["sha256"], strict=True)) if "path" in files else {}


def guard_outputs(outputs: list, paths, key_file, analyse_options: dict) -> None:
    """Refuse, before any work, outputs that would overwrite what the run reads or cannot be written."""
    from markers.write.guard import check_outputs

    check_outputs([(o, role) for o, role in outputs if o is not None], inputs=path_list(paths),
                  config=analyse_options.get("config"), reference=analyse_options.get("reference"),
                  key_file=key_file)
