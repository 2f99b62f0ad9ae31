"""The ``markers`` command line: a thin client of the library.

Each command parses its options, calls one library function, and renders the
result. A :class:`~markers.errors.MarkersError` (a user's mistake) becomes one
``Error: ...`` line and exit code 1; bad option combinations exit 2 (click's
usage errors). Anything else is a bug and shows its traceback.

Exit codes of ``markers validate``: 0 nothing rejected, 1 rows were rejected
(or an error), 2 usage error.
"""

from __future__ import annotations

import functools
import json
import sys
import warnings
from pathlib import Path

import click

from markers import __version__
from markers.errors import MarkersError


def _user_errors(command):
    """Turn a MarkersError into click's one-line ``Error:`` with exit code 1, and show the
    library's data-quality notices (``warnings.warn``) as ``Warning:`` lines on stderr."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings(record=True) as notices:
            warnings.simplefilter("always", UserWarning)
            try:
                result = command(*args, **kwargs)
            except MarkersError as exc:
                raise click.ClickException(str(exc)) from None  # a failed run: the error alone
            except SystemExit:
                _show_notices(notices)  # `validate` exits with its own code after its output
                raise
        _show_notices(notices)
        return result

    return wrapper


def _show_notices(notices: list[warnings.WarningMessage]) -> None:
    for message in dict.fromkeys(str(n.message) for n in notices if issubclass(n.category, UserWarning)):
        click.echo(f"Warning: {message}", err=True)


def _input_options(command):
    """Options shared by every command that reads input files."""
    options = [
        click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--unit", type=click.Choice(["mg/g", "mmol/mol"]), default="mg/g", show_default=True,
                     help="Output unit: mg/g creatinine or mmol/mol creatinine."),
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="TOML file mapping columns, analytes, units and events markers does not know."),
        click.option("--day-first/--month-first", "day_first", default=None,
                     help="Date order for columns whose dates are all ambiguous (e.g. 05/03/2024)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _reference_options(command):
    command = click.option("--reference", "reference_path", type=click.Path(dir_okay=False, path_type=Path),
                           help="CSV of your lab's reference limits, in the columns of `markers references`.")(command)
    command = click.option("--reference-set", default=None,
                           help="Shipped reference set(s), e.g. ARUP-3018863 or Mayo-VH-legacy (see `markers references --list`).")(command)
    return command


def _privacy_option(command):
    return click.option(
        "--pseudonymize", "key_file", type=click.Path(dir_okay=False, path_type=Path),
        help="Key file (created if missing; keep it secret): write keyed pseudonyms instead of patient IDs "
             "and days since diagnosis instead of dates, in every output.")(command)


def _analyse_options(unit, config_path, day_first, reference_set, reference_path) -> dict:
    return {"unit": unit, "config": config_path, "day_first": day_first, "reference_set": reference_set,
            "reference": reference_path}


@click.group()
@click.version_option(__version__, prog_name="markers")
def cli():
    """Urinary VMA/HVA (and catecholamine panel) results: from lab spreadsheets to assessments."""


@cli.command()
@_input_options
@_reference_options
@click.option("--json", "as_json", is_flag=True, help="Print the validation result as JSON.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every issue record (rejected rows and warnings) to this CSV/XLSX file.")
@_user_errors
def validate(files, unit, config_path, day_first, reference_set, reference_path, as_json, rejects):
    """Check FILES: every row kept, rejected (with a coded reason and cell) or skipped.

    Exits 0 when nothing was rejected, 1 when rows were rejected.
    """
    from markers.ingest.reader import read
    from markers.report.summary import summary_text, validation_dict

    limits = None
    if reference_set or reference_path:  # a wrong set name fails before the files are read
        from markers.analysis.reference import load_reference_limits

        limits = load_reference_limits(reference_set=reference_set, path=reference_path)
    dataset = read(files, unit=unit, config=config_path, day_first=day_first)
    if rejects:
        from markers.write.output import write_table

        write_table(dataset.issues, rejects, inputs=files)
    if as_json:
        click.echo(json.dumps(validation_dict(dataset), indent=2, ensure_ascii=False))
    else:
        click.echo(summary_text(dataset))
        if limits is not None:
            from markers.report.summary import reference_coverage

            click.echo(reference_coverage(dataset, limits=limits, name=str(reference_path or reference_set)))
    sys.exit(1 if dataset.n_rejected else 0)


def _table_command(table: str, name: str, doc: str):
    """`normalize` and `assess` differ only in the table they write."""

    @cli.command(name=name, help=doc)
    @_input_options
    @_reference_options
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Output file: .csv, .tsv, .xlsx or .json.")
    @click.option("--safe-csv", is_flag=True, help="Prefix text cells starting with = + - @ with ' (for Excel users).")
    @_privacy_option
    @_user_errors
    def command(files, unit, config_path, day_first, reference_set, reference_path, output, safe_csv, key_file):
        from markers.pipeline import write_analysis_table
        from markers.report.summary import summary_text

        analysis = write_analysis_table(
            files, output, table=table, safe_csv=safe_csv, pseudonymize=key_file,
            **_analyse_options(unit, config_path, day_first, reference_set, reference_path))
        click.echo(summary_text(analysis.dataset), err=True)
        click.echo(f"Wrote {len(getattr(analysis, table))} rows to {output}", err=True)

    return command


normalize = _table_command(
    "measurements", "normalize",
    "Write the tidy table of FILES (one row per measurement, flagged against the age-specific limit) to OUTPUT.")
assess = _table_command(
    "assessment", "assess",
    "Assess each patient and analyte of FILES (baseline, nadir, normalization, persistence) into OUTPUT.")


@cli.command()
@_reference_options
@click.option("--list", "list_sets", is_flag=True, help="List the shipped reference sets instead.")
@_user_errors
def references(reference_set, reference_path, list_sets):
    """Print the active reference limits with their sources."""
    from markers.analysis.reference import load_reference_limits, reference_sets
    from markers.report.summary import format_limits

    if list_sets:
        click.echo(reference_sets().to_string(index=False))
        return
    limits = load_reference_limits(reference_set=reference_set, path=reference_path)
    click.echo(format_limits(limits))


#: What `markers report -o` writes: a PDF, or the HTML report.
REPORT_SUFFIXES = (".pdf", ".html")


class _Progress:
    """A progress bar on stderr, shown only when stderr is a terminal and not --quiet."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar = None

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Writing report", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@cli.command()
@_input_options
@_reference_options
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF report.")
@click.option("--page-size", type=click.Choice(["A4", "Letter"]), default="A4", show_default=True)
@click.option("--title", default="markers report", show_default=True, help="Title on the cover page.")
@click.option("--png-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write one PNG per patient and per cohort figure into this folder.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True, help="Resolution of the PNGs.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Processes for the PNGs (default: all cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_privacy_option
@_user_errors
def report(files, unit, config_path, day_first, reference_set, reference_path, output, page_size, title,
           png_dir, dpi, jobs, quiet, key_file):
    """Write the PDF report of FILES: cover, cohort table and figures, a page per patient, issues."""
    from markers.pipeline import write_report

    if output.suffix.lower() not in REPORT_SUFFIXES:
        raise click.BadParameter(f"{output.name!r}: the report is written as PDF (.pdf) or HTML (.html); "
                                 "choose a file name ending in one of them.", param_hint="'-o' / '--output'")
    progress = _Progress(not quiet)
    try:
        analysis, pages = write_report(
            files, output, page_size=page_size, title=title, png_dir=png_dir, dpi=dpi, jobs=jobs,
            progress=progress, pseudonymize=key_file,
            **_analyse_options(unit, config_path, day_first, reference_set, reference_path))
    finally:
        progress.close()
    dataset = analysis.dataset
    click.echo(f"Wrote {output}: {pages} pages, {dataset.measurements['patient_id'].nunique()} patients, "
               f"{dataset.n_rejected} rejected rows", err=True)


@cli.command()
@_input_options
@_reference_options
@click.option("--patient", required=True, help="The patient ID, as written in the input.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The figure: .png, .pdf or .svg.")
@click.option("--x", "x_axis", type=click.Choice(["day", "date"]), default="day", show_default=True,
              help="Days since diagnosis or calendar dates on the x axis.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True)
@_privacy_option
@_user_errors
def plot(files, unit, config_path, day_first, reference_set, reference_path, patient, output, x_axis, dpi,
         key_file):
    """Plot one patient's markers over time (× ULN and values with the age-specific limit)."""
    from markers.pipeline import write_patient_figure

    if key_file is not None and x_axis == "date":
        raise click.UsageError("--x date shows dates; a pseudonymized figure can only use --x day.")
    write_patient_figure(files, output, patient=patient, x=x_axis, dpi=dpi, pseudonymize=key_file,
                         **_analyse_options(unit, config_path, day_first, reference_set, reference_path))
    click.echo(f"Wrote {output}", err=True)
