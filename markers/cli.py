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
            _NOTICES.append(notices)
            try:
                result = command(*args, **kwargs)
            except MarkersError as exc:
                raise click.ClickException(str(exc)) from None  # a failed run: the error alone
            except OSError as exc:  # the file system refused a write: one line naming the path
                from markers.write.guard import describe_os_error

                raise click.ClickException(describe_os_error(exc)) from None
            except SystemExit:
                _show_notices()  # `validate` exits with its own code after its output
                raise
            finally:
                _NOTICES.pop()
            _show_notices(notices)
        return result

    return wrapper


#: The notices recorded by the running command (a stack: commands do not nest, tests may).
_NOTICES: list[list[warnings.WarningMessage]] = []


def _show_notices(notices: list[warnings.WarningMessage] | None = None) -> None:
    """Print the recorded UserWarnings not shown yet as ``Warning:`` lines; a command calls this before
    saying what it wrote, so notices about the analysis come first."""
    if notices is None:
        if not _NOTICES:
            return
        notices = _NOTICES[-1]
    for message in dict.fromkeys(str(n.message) for n in notices if issubclass(n.category, UserWarning)):
        click.echo(f"Warning: {message}", err=True)
    notices.clear()


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
        click.option("--dictionary", type=click.Path(dir_okay=False, path_type=Path),
                     help="REDCap data dictionary CSV of the exports among FILES (else found beside an export)."),
        click.option("--encoding", metavar="NAME", default=None,
                     help="Text encoding of csv/tsv/txt FILES, e.g. shift_jis, gb18030 (default: UTF-8, UTF-16 "
                          "or Windows-1252, recognised)."),
    ]

    @functools.wraps(command)
    def with_dictionary(*args, dictionary=None, encoding=None, **kwargs):
        from markers.ingest.reader import text_encoding

        # a dictionary is read as one of the files: recognised, used for the exports, and accounted for
        if dictionary is not None:
            kwargs["files"] = (*kwargs["files"], dictionary)
        with text_encoding(encoding):
            return command(*args, **kwargs)

    for option in reversed(options):
        with_dictionary = option(with_dictionary)
    return with_dictionary


def _reference_options(command):
    command = click.option("--reference", "reference_path", type=click.Path(dir_okay=False, path_type=Path),
                           help="CSV of your lab's reference limits, in the columns of `markers references`.")(command)
    command = click.option("--reference-set", default=None,
                           help="Shipped reference set(s), e.g. ARUP-3018863 or Mayo-VH-legacy (see `markers references --list`).")(command)
    return command


def _limits_option(command):
    """``--limits reported`` (its earlier spelling ``--reference-set reported`` still works)."""
    return click.option("--limits", "limits", type=click.Choice(["set", "reported"]), default="set",
                        show_default=True,
                        help="set: the reference set's age-specific limits; reported: each result's own reference "
                             "range from the lab (reported_uln), the set where a result has none.")(command)


def _privacy_option(command):
    return click.option(
        "--pseudonymize", "key_file", type=click.Path(dir_okay=False, path_type=Path),
        help="Key file (created if missing; keep it secret): write keyed pseudonyms instead of patient IDs "
             "and days since diagnosis instead of dates, in every output.")(command)


def _analyse_options(unit, config_path, day_first, reference_set, reference_path, limits="set") -> dict:
    return {"unit": unit, "config": config_path, "day_first": day_first, "reference_set": reference_set,
            "reference": reference_path, "limits": limits}


@click.group()
@click.version_option(__version__, prog_name="markers")
def cli():
    """Urinary VMA/HVA (and catecholamine panel) results: from lab spreadsheets to assessments."""
    from markers.write.allocator import use_system_allocator
    from markers.write.guard import cleanup_on_sigterm

    cleanup_on_sigterm()  # a kill removes temporary files as Ctrl-C does
    use_system_allocator()  # less kernel time and memory than Arrow's default for a run's large buffers


@cli.command()
@_input_options
@_reference_options
@click.option("--json", "as_json", is_flag=True, help="Print the validation result as JSON.")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every issue record (rejected rows and warnings) to this file (.csv, .xlsx, .parquet, "
                   "...: the extension chooses).")
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


def _by_option(command):
    return click.option("--by", "by", type=click.Choice(["analyte", "patient"]), default="analyte",
                        show_default=True,
                        help="One row per patient and analyte, or one row per patient (panel status).")(command)


def _same(command):
    return command


def _table_command(table: str, name: str, doc: str, *, by: bool = False):
    """`normalize` and `assess` differ only in the table they write (`assess --by patient`: the panel)."""

    @cli.command(name=name, help=doc)
    @(_by_option if by else _same)
    @_input_options
    @_reference_options
    @_limits_option
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Output file: .csv, .tsv, .xlsx, .json, .parquet, .feather, .dta, .xpt, .sav, "
                       "or FHIR R4 .fhir.json / .ndjson (measurements).")
    @click.option("--safe-csv", is_flag=True, help="Prefix text cells starting with = + - @ with ' (for Excel users).")
    @click.option("--shape", type=click.Choice(["tidy", "adam"]), default="tidy", show_default=True,
                  help="adam: CDISC ADLB-like variables (USUBJID, PARAMCD, AVAL, ...; measurements only).")
    @_privacy_option
    @_user_errors
    def command(files, unit, config_path, day_first, reference_set, reference_path, limits, output, safe_csv, shape,
                key_file, by="analyte"):
        from markers.pipeline import write_analysis_table
        from markers.report.summary import summary_text

        chosen = "patient_status" if by == "patient" else table
        analysis = write_analysis_table(
            files, output, table=chosen, safe_csv=safe_csv, shape=shape, pseudonymize=key_file,
            **_analyse_options(unit, config_path, day_first, reference_set, reference_path, limits))
        _show_notices()
        click.echo(summary_text(analysis.dataset), err=True)
        click.echo(f"Wrote {len(getattr(analysis, chosen))} rows to {output}", err=True)

    return command


normalize = _table_command(
    "measurements", "normalize",
    "Write the tidy table of FILES (one row per measurement, flagged against the age-specific limit) to OUTPUT.")
assess = _table_command(
    "assessment", "assess",
    "Assess each patient and analyte of FILES (baseline, nadir, normalization, persistence) into OUTPUT.",
    by=True)


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
REPORT_SUFFIXES = (".pdf", ".html", ".htm")


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
@_limits_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The report: a .pdf, or a .html file (self-contained, works offline).")
@click.option("--page-size", type=click.Choice(["A4", "Letter"]), default="A4", show_default=True)
@click.option("--title", default="markers report", show_default=True, help="Title on the cover page.")
@click.option("--png-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write one PNG per patient and per cohort figure into this folder.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True, help="Resolution of the PNGs.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Processes for the PNGs (default: all cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_privacy_option
@_user_errors
def report(files, unit, config_path, day_first, reference_set, reference_path, limits, output, page_size, title,
           png_dir, dpi, jobs, quiet, key_file):
    """Write the PDF (or HTML) report of FILES: cover, cohort table and figures, a page per patient, issues."""
    from markers.pipeline import write_html, write_report
    from markers.report.html import is_html_path

    if output.suffix.lower() not in REPORT_SUFFIXES:
        raise click.BadParameter(f"{output.name!r}: the report is written as PDF (.pdf) or HTML (.html); "
                                 "choose a file name ending in one of them.", param_hint="'-o' / '--output'")
    html = is_html_path(output)
    progress = _Progress(not quiet)
    try:
        analysis, pages = (write_html if html else write_report)(
            files, output, page_size=page_size, title=title, png_dir=png_dir, dpi=dpi, jobs=jobs,
            progress=progress, pseudonymize=key_file,
            **_analyse_options(unit, config_path, day_first, reference_set, reference_path, limits))
    finally:
        progress.close()
    dataset = analysis.dataset
    _show_notices()
    size = f"{pages / 1e6:.1f} MB" if html else f"{pages} pages"  # write_html returns the size in bytes
    click.echo(f"Wrote {output}: {size}, {dataset.measurements['patient_id'].nunique()} patients, "
               f"{dataset.n_rejected} rejected rows", err=True)


@cli.command()
@_input_options
@_reference_options
@_limits_option
@click.option("--patient", required=True, help="The patient ID, as written in the input.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The figure: .png, .pdf or .svg.")
@click.option("--x", "x_axis", type=click.Choice(["day", "date"]), default="day", show_default=True,
              help="Days since diagnosis or calendar dates on the x axis.")
@click.option("--dpi", type=click.IntRange(50, 600), default=150, show_default=True)
@_privacy_option
@_user_errors
def plot(files, unit, config_path, day_first, reference_set, reference_path, limits, patient, output, x_axis, dpi,
         key_file):
    """Plot one patient's markers over time (× ULN and values with the age-specific limit)."""
    from markers.pipeline import write_patient_figure

    if key_file is not None and x_axis == "date":
        raise click.UsageError("--x date shows dates; a pseudonymized figure can only use --x day.")
    write_patient_figure(files, output, patient=patient, x=x_axis, dpi=dpi, pseudonymize=key_file,
                         **_analyse_options(unit, config_path, day_first, reference_set, reference_path, limits))
    _show_notices()
    click.echo(f"Wrote {output}", err=True)


@cli.command()
@_input_options
@_reference_options
@_limits_option
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .json or .xlsx (patients, curves, tests, estimates) or .csv (the tests).")
@click.option("--landmark", "landmarks", multiple=True, metavar="MILESTONE",
              help="Milestone event code to start the clock at (repeatable); default end_of_induction and "
                   "complete_remission. The analysis from diagnosis is always included.")
@click.option("--min-patients", type=click.IntRange(1), default=10, show_default=True,
              help="No test when a group has fewer patients.")
@click.option("--min-events", type=click.IntRange(1), default=5, show_default=True,
              help="No test when the two groups together have fewer events.")
@_privacy_option
@_user_errors
def outcomes(files, unit, config_path, day_first, reference_set, reference_path, limits, output, landmarks, min_patients,
             min_events, key_file):
    """EFS and OS of FILES by marker status at landmarks: per-patient table, Kaplan-Meier curves, tests."""
    from markers.pipeline import write_outcomes

    result = write_outcomes(
        files, output, landmarks=landmarks or ("end_of_induction", "complete_remission"), min_patients=min_patients,
        min_events=min_events, pseudonymize=key_file,
        **_analyse_options(unit, config_path, day_first, reference_set, reference_path, limits))
    n = result.patients["patient_id"].nunique()
    click.echo(f"Wrote {output}: {n} patients, {len(result.tests)} comparisons, "
               f"{len(result.issues)} outcome issue(s)", err=True)
