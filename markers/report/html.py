"""The HTML report: one self-contained file (inline CSS, a small inline script, PNG figures as data URIs).

The file asks for nothing over the network: a Content-Security-Policy in its head allows only
its own inline style and script (by their SHA-256) and ``data:`` images, so even a browser that
would follow a link in it fetches nothing. It holds the cover (inputs with SHA-256, counts,
reference set), the cohort table (sortable, filterable by status and marker, searchable by
patient ID), the cohort figures, one section per patient (figure, assessment, every sample)
reached by an anchor, and the appendix of issues with file, cell, code, message and hint.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from importlib import resources

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from markers import __version__
from markers.analysis.panel import PANEL_STATUSES
from markers.ingest.dataset import Dataset
from markers.plot.cohort import iter_cohort_figures
from markers.plot.days import DAYS_ONLY, FIRST_SAMPLE_AXIS_LABEL, anchored_on_first_sample
from markers.plot.frames import PatientRows, patient_rows, sample_key
from markers.plot.panel import PANEL_FOOTNOTE, panel_line, panel_with_days, report_panel
from markers.plot.trend import grade_legend_handles, plot_marker_trend
from markers.report.document import report_date
from markers.report.html_tables import (
    PANEL_FILTERS,
    anchor_ids,
    cohort_table,
    esc,
    issues_table,
    patient_assessment_table,
    samples_table,
    table,
)
from markers.report.overview import PATIENT_STATUSES, patient_overview
from markers.schema import ANALYTES, PATIENT_ID, SAMPLE_DATE
from markers.write.output import atomic_write

__all__ = ["HTML_SUFFIXES", "figure_data_uri", "html_parts", "is_html_path", "patient_trend_figure",
           "write_html_report"]

#: Output suffixes that select the HTML report.
HTML_SUFFIXES = (".html", ".htm")

#: Resolution of the figures in the HTML report (a screen, not paper).
HTML_DPI = 80


def is_html_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names an HTML report (``.html`` or ``.htm``, any case).

    Examples
    --------
    >>> is_html_path("out/Report.HTML"), is_html_path("report.pdf")
    (True, False)
    """
    return os.fspath(path).lower().endswith(HTML_SUFFIXES)


@functools.cache
def _asset(name: str) -> str:
    return resources.files("markers.report").joinpath("assets", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def figure_data_uri(fig: Figure, *, dpi: int = HTML_DPI, colours: int = 64) -> str:
    """A figure as a ``data:image/png;base64,...`` URI, in a palette of ``colours`` colours.

    A plot has few colours: a palette PNG is a fifth of the size of a full-colour one and looks
    the same on screen. The same figure gives the same bytes.
    """
    from PIL import Image  # Pillow: already installed as a dependency of matplotlib

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    original = fig.dpi
    fig.dpi = dpi
    try:
        canvas.draw()
        image = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3])  # a copy: the canvas is reused
    finally:
        fig.dpi = original
    buffer = io.BytesIO()
    image.quantize(colors=colours, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def patient_trend_figure(data: pd.DataFrame, *, patient: str, therapy: pd.DataFrame | None = None,
                         patients: pd.DataFrame | None = None, assessment: pd.DataFrame | None = None,
                         unit_label: str = "") -> Figure:
    """A screen-sized figure of one patient: ×ULN above, values with the ULN steps below, legend beside.

    Both panels are :func:`markers.plot.patient.plot_marker_trend` on a pyplot-free figure; the
    legend stands right of the panels, never over the data.
    """
    fig = Figure(figsize=(9.0, 5.2))
    FigureCanvasAgg(fig)
    top = fig.add_axes((0.08, 0.56, 0.68, 0.40))
    bottom = fig.add_axes((0.08, 0.08, 0.68, 0.40), sharex=top)
    common = {"patient": patient, "therapy": therapy, "patients": patients, "assessment": assessment,
              "legend": False}
    plot_marker_trend(data, y="x_uln", ax=top, **common)
    plot_marker_trend(data, y="value", ax=bottom, **common)
    top.set_ylabel("× ULN (log)")
    top.set_xlabel("")
    bottom.set_ylabel(f"{unit_label} (log)" if unit_label else "value (log)")
    bottom.set_xlabel(FIRST_SAMPLE_AXIS_LABEL if anchored_on_first_sample(patient_rows(data, patient))[1] is not None
                      else "days since diagnosis")
    handles = [h for h in top.get_lines() if not h.get_label().startswith("_")] + grade_legend_handles()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.78, 0.96), fontsize=8, frameon=False)
    return fig


def _img(uri: str, alt: str, caption: str) -> str:
    return (f'<figure><img src="{uri}" alt="{esc(alt)}" loading="lazy" decoding="async">'
            f"<figcaption>{caption}</figcaption></figure>\n")


def _head(title: str) -> str:
    css, script = _asset("report.css"), _asset("report.js")
    policy = (f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
              "base-uri 'none'; form-action 'none'")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="markers {esc(__version__)}">\n'
            f"<title>{esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            '<header class="top"><nav><a href="#cover">Cover</a><a href="#cohort">Cohort table</a>'
            '<a href="#figures">Cohort figures</a><a href="#patients">Patients</a>'
            '<a href="#issues">Issues</a></nav></header>\n<main>\n')


def _cover(dataset: Dataset, *, data: pd.DataFrame, title: str, reference_set: str,
           inputs_sha256: Mapping[str, str], created: datetime | None) -> str:
    issues = dataset.issues
    severity = issues["severity"] if len(issues) else pd.Series(dtype=str)
    n_samples = len(data[[PATIENT_ID, sample_key(data)]].drop_duplicates()) if len(data) else 0
    facts = [
        ("Report date", (report_date(created) or datetime.now(UTC)).date().isoformat()),
        ("Software", f"markers {__version__}"),
        ("Reference set", reference_set or "not stated"),
        ("Unit", dataset.unit),
        *([("Time", DAYS_ONLY)] if SAMPLE_DATE not in data.columns else []),
        ("Patients", str(data[PATIENT_ID].astype(str).nunique() if len(data) else 0)),
        ("Samples", f"{n_samples} ({len(data)} results)"),
        ("Rejected rows", str(dataset.n_rejected)),
        ("Errors (rejected rows or results)", str(int((severity == "error").sum()))),
        ("Warnings", str(int((severity == "warning").sum()))),
    ]
    facts_html = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in facts)
    counts = {rec.file: rec for rec in dataset.counts().itertuples(index=False)}
    inputs = []
    for name, digest in inputs_sha256.items():
        rec = counts.get(name)
        numbers = [str(int(getattr(rec, c))) if rec is not None else "—" for c in ("read", "kept", "rejected", "skipped")]
        inputs.append([esc(name), f'<span class="hash">{esc(digest)}</span>', *numbers])
    return (f'<section id="cover"><h1>{esc(title)}</h1>\n'
            '<p class="lead">Urinary catecholamine metabolites: marker status per patient and cohort.</p>\n'
            f'<table class="facts"><tbody>{facts_html}</tbody></table>\n'
            "<h2>Input files</h2>\n<p class=\"note\">Every row read is kept, rejected or skipped; "
            "the SHA-256 identifies the exact file analysed.</p>\n"
            + table(["File", "SHA-256", "Read", "Kept", "Rejected", "Skipped"], inputs, numeric=(2, 3, 4, 5))
            + '<p class="note">Reference limits are age-specific upper limits of normal (ULN); a result is '
            "graded by its multiple of the ULN. Urinary catecholamines are not part of the revised INRC 2017 "
            "response criteria: read marker status alongside imaging and marrow findings.</p>\n</section>\n")


def _panel_filters() -> str:
    """One select per panel status column of the cohort table (the script filters on ``data-attribute``)."""
    out = []
    for attribute, milestone in PANEL_FILTERS:
        label = milestone.replace("_", " ").capitalize()
        options = "".join(f'<option value="{s}">{s}</option>' for s in PANEL_STATUSES)
        out.append(f'<label for="{attribute}-filter">{label}<select id="{attribute}-filter" class="panel-filter" '
                   f'data-attribute="{attribute}"><option value="">all</option>{options}</select></label>')
    return "".join(out)


def _cohort_section(overview: pd.DataFrame, anchors: dict[str, str], panel: pd.DataFrame | None = None) -> str:
    statuses = [s for s in PATIENT_STATUSES if s in set(overview["status"])]
    measured = set(" ".join(overview["markers"]).split())
    markers = [a for a in ANALYTES if a in measured] + sorted(measured - set(ANALYTES))
    status_options = "".join(f'<option value="{esc(s)}">{esc(s)}</option>' for s in statuses)
    example = f"e.g. {overview[PATIENT_ID].iloc[0]}" if len(overview) else ""  # an ID of this cohort
    marker_options = "".join(f'<option value="{esc(m)}">{esc(m)}</option>' for m in markers)
    return ('<section id="cohort"><h2>Cohort table</h2>\n'
            '<p class="note">One row per patient. Days count from the diagnosis (day 0), as in the figures and '
            "the samples tables. Status: <em>re-elevated</em> (an informative marker rose again after "
            "normalizing), <em>persistent</em> (still elevated at a milestone), <em>not normalized</em> (not "
            "normal yet), <em>normalized</em>, <em>not informative</em> (no marker elevated at diagnosis). "
            "Click a column heading to sort; a patient ID jumps to the patient's section.</p>\n"
            '<div class="controls">'
            '<label for="patient-search">Search patient ID<input id="patient-search" type="search" '
            f'autocomplete="off" placeholder="{esc(example)}"></label>'
            f'<label for="status-filter">Status<select id="status-filter"><option value="">all</option>'
            f"{status_options}</select></label>"
            f'<label for="marker-filter">Marker measured<select id="marker-filter"><option value="">all</option>'
            f"{marker_options}</select></label>" + _panel_filters() +
            f'<output id="shown-count">{len(overview)} of {len(overview)} patients shown</output></div>\n'
            + cohort_table(overview, anchors, panel) + f'<p class="note" id="panel-note">{esc(PANEL_FOOTNOTE)}</p>\n'
            + "</section>\n")


def _cohort_figures(data: pd.DataFrame, *, therapy: pd.DataFrame, assessment: pd.DataFrame) -> Iterator[str]:
    yield '<section id="figures"><h2>Cohort figures</h2>\n'
    for k, fig in enumerate(iter_cohort_figures(data, therapy=therapy, assessment=assessment), start=1):
        FigureCanvasAgg(fig)
        title = next((t.get_text() for t in fig.texts if t.get_text()), f"Cohort figure {k}")
        yield _img(figure_data_uri(fig), title, esc(title))
        fig.clear()
    yield "</section>\n"


def _patient_sections(dataset: Dataset, *, data: pd.DataFrame, assessment: pd.DataFrame,
                      overview: pd.DataFrame, anchors: dict[str, str],
                      tick: Callable[[str], None], panel: pd.DataFrame | None = None) -> Iterator[str]:
    yield f'<section id="patients"><h2>Patients ({len(overview)})</h2>\n'
    of = [PatientRows(frame) for frame in (data, dataset.therapy, dataset.patients, assessment)]
    for rec in overview.to_dict("records"):
        pid = str(rec[PATIENT_ID])
        rows, therapy, known, assessed = (table_of(pid) for table_of in of)
        fig = patient_trend_figure(rows, patient=pid, therapy=therapy, patients=known, assessment=assessed,
                                   unit_label=dataset.unit)
        uri = figure_data_uri(fig)
        fig.clear()
        informative = rec["informative"] or "none"
        yield (f'<section class="patient" id="{anchors[pid]}"><h3>Patient {esc(pid)}</h3>\n'
               f'<p>Status: <strong>{esc(rec["status"])}</strong>. Informative markers: {esc(informative)}. '
               f'{rec["samples"]} samples. <a class="top-link" href="#cohort">back to the cohort table</a></p>\n'
               + (f'<p class="panel-status">{esc(line)}</p>\n' if (line := panel_line(panel, pid) if panel is not None else "") else "")
               + _img(uri, f"Markers of patient {pid} over days since diagnosis",
                      "Top: each analyte as a multiple of its age-specific upper limit of normal (ULN); "
                      "bottom: values with the ULN as dotted steps. x: days since diagnosis.")
               + patient_assessment_table(assessed, rows)
               + f"<h4>Samples ({rec['samples']})</h4>\n" + samples_table(rows) + "</section>\n")
        tick(f"patient {pid}")
    yield "</section>\n"


def _appendix(dataset: Dataset) -> str:
    issues = dataset.issues
    return ('<section id="issues"><h2>Appendix: rejected rows and warnings</h2>\n'
            f'<p class="note">{len(issues)} issues, errors first; each names the file and the cell, '
            "and says what to do.</p>\n" + issues_table(issues) + "</section>\n")


def html_parts(dataset: Dataset, *, data: pd.DataFrame, assessment: pd.DataFrame, title: str = "markers report",
               reference_set: str = "", inputs_sha256: Mapping[str, str] | None = None,
               progress: Callable[[int, int, str], None] | None = None,
               created: datetime | None = None, patient_status: pd.DataFrame | None = None) -> Iterator[str]:
    """The HTML report as pieces of text, in order (joined, they are the whole file).

    Parameters are those of :func:`markers.report.document.build_report`; ``progress`` is
    called after each patient's section.
    """
    if inputs_sha256 is None:
        files = dataset.files
        inputs_sha256 = dict(zip(files["file"].astype(str), files["sha256"].astype(str), strict=True))
    overview = patient_overview(data, assessment)
    anchors = anchor_ids(overview[PATIENT_ID])
    total, done = len(overview), 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, label)

    yield _head(title)
    yield _cover(dataset, data=data, title=title, reference_set=reference_set, inputs_sha256=inputs_sha256,
                 created=created)
    panel = panel_with_days(report_panel(assessment, status=patient_status), data)
    yield _cohort_section(overview, anchors, panel)
    if len(data):
        yield from _cohort_figures(data, therapy=dataset.therapy, assessment=assessment)
    yield from _patient_sections(dataset, data=data, assessment=assessment, overview=overview, anchors=anchors,
                                 tick=tick, panel=panel)
    yield _appendix(dataset)
    yield f"</main>\n<script>{_asset('report.js')}</script>\n</body>\n</html>\n"


def write_html_report(parts: Iterable[str], path: str | os.PathLike[str], *,
                      inputs: Iterable[str | os.PathLike[str]] = ()) -> int:
    """Write the pieces of :func:`html_parts` to ``path`` atomically (UTF-8); returns the bytes written.

    Raises
    ------
    OutputError
        ``path`` is an input file or its folder is missing.
    """
    size = 0
    with atomic_write(path, mode="wb", inputs=inputs) as handle:
        for part in parts:
            data = part.encode("utf-8")
            handle.write(data)
            size += len(data)
    return size

