"""The two notebooks run from start to end in the project's own kernel and show what the sample data say.

Each notebook is executed once per test module with nbclient, in the ``python3`` kernel, with the
notebooks folder as working directory (as Jupyter runs it) and ``MARKERS_NOTEBOOK_OUT`` pointing
into a temporary folder. A probe cell appended to the in-memory copy reports the kernel's
interpreter and the notebook's tables as JSON; the stored notebooks are never modified.

Expected values are worked out by hand from the sample data's documentation
(``sample_data/README.md``, ``expected_counts.csv``, ``expected_issues.csv``,
``expected_outcomes.csv``), not copied from a run.
"""

from __future__ import annotations

import base64
import csv
import json
import re
import statistics
import struct
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

import markers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SAMPLE = ROOT / "sample_data"
NOTEBOOK_NAMES = ["quickstart.ipynb", "cohort_analysis.ipynb"]
PROBE_ID = "test-probe"
PATIENTS = ["NB-001", "NB-002", "NB-003", "NB-004", "NB-005", "NB-006", "NB-007", "NB-008", "NB-009",
            "NB-010", "NB-011", "NB-012", "NB-013", "0042"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

QUICKSTART_PROBE = """
import json, sys
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "markers": markers.__file__}))
"""

COHORT_PROBE = """
import json, sys
print(json.dumps({
    "prefix": sys.prefix,
    "markers": markers.__file__,
    "out": str(OUT.resolve()),
    "vma_curve": json.loads(vma_curve.to_json(orient="records")),
    "by_age": json.loads(by_age.reset_index().to_json(orient="records")),
    "by_phase": json.loads(by_phase.stack("analyte", future_stack=True).reset_index().to_json(orient="records")),
}))
"""


def _execute(name: str, out_dir: Path, probe: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(probe.strip(), id=PROBE_ID))
    with pytest.MonkeyPatch.context() as mp:
        # the kernel inherits this environment: the export goes to the temporary folder, and the
        # inline backend (not a backend forced from outside) renders the figures as a user sees them
        mp.setenv("MARKERS_NOTEBOOK_OUT", str(out_dir))
        mp.delenv("MPLBACKEND", raising=False)
        client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return nb


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> nbformat.NotebookNode:
    return _execute("quickstart.ipynb", tmp_path_factory.mktemp("quickstart_out"), QUICKSTART_PROBE)


@pytest.fixture(scope="module")
def cohort_out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cohort_out")


@pytest.fixture(scope="module")
def cohort(cohort_out) -> nbformat.NotebookNode:
    return _execute("cohort_analysis.ipynb", cohort_out, COHORT_PROBE)


def _cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            return cell
    raise LookupError(f"no cell with id {cell_id!r}: the test finds cells by the ids the notebook was written with")


def _text(nb: nbformat.NotebookNode, cell_id: str) -> str:
    """Everything a cell showed as text: printed output and the text form of displayed values."""
    parts = []
    for out in _cell(nb, cell_id).outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out and "text/plain" in out.data:
            parts.append(out.data["text/plain"])
    return "\n".join(parts)


def _probe(nb: nbformat.NotebookNode) -> dict:
    return json.loads(_text(nb, PROBE_ID))


def _images(nb: nbformat.NotebookNode) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "data" in out and "image/png" in out.data:
                found.setdefault(cell.id, []).append(base64.b64decode(out.data["image/png"]))
    return found


def _stderr(nb: nbformat.NotebookNode) -> list[str]:
    return [f"{cell.id}: {out.text}" for cell in nb.cells if cell.cell_type == "code"
            for out in cell.outputs if out.output_type == "stream" and out.name == "stderr"]


def _png_chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of a PNG file by type (first of each)."""
    chunks: dict[bytes, bytes] = {}
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunks.setdefault(kind, data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return chunks


# -- the stored notebooks --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_stored_notebook_is_valid_and_has_no_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == "python3"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code_cells) >= 5
    dirty = [c.id for c in code_cells if c.outputs or c.execution_count is not None]
    assert dirty == [], f"{name}: clear the outputs before committing (cells {dirty})"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_stored_notebook_finds_sample_data_relative_to_its_folder(name):
    setup = _cell(nbformat.read(NOTEBOOKS / name, as_version=4), "setup").source
    assert 'DATA = Path("..") / "sample_data"' in setup
    # both shipped files are read, and they exist where the notebook looks for them
    for file in ("study_workbook.xlsx", "lab_export_eu.csv"):
        assert f'DATA / "{file}"' in setup
        assert (NOTEBOOKS / ".." / "sample_data" / file).is_file()


# -- quickstart ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_quickstart_runs_in_the_projects_own_interpreter(quickstart):
    probe = _probe(quickstart)
    # `make test` runs the virtualenv's python: the kernel must be that interpreter, importing this checkout
    assert Path(probe["prefix"]).resolve() == Path(sys.prefix).resolve()
    assert Path(probe["executable"]).parent.resolve() == Path(sys.executable).parent.resolve()
    assert Path(probe["markers"]).resolve() == Path(markers.__file__).resolve()


def test_quickstart_shows_no_warnings_or_errors(quickstart):
    assert _stderr(quickstart) == []


def test_quickstart_reports_what_was_read(quickstart):
    # Samples kept 145 rows x (VMA + HVA) = 290, minus the QNS result of Samples!C12 = 289,
    # plus 20 kept lines of the lab export, one result each = 309 measurements of 14 patients;
    # Treatment kept 137 rows, one event each (expected_counts.csv)
    assert _text(quickstart, "read").strip() == (
        "309 measurements of 14 patients; 14 patients in the patients sheet; 137 therapy events")


def test_quickstart_counts_table_shows_every_row_accounted_for(quickstart):
    text = _text(quickstart, "counts")
    rows = {m.group(1): tuple(int(g) for g in m.groups()[1:])
            for m in re.finditer(r"^\s*\d+\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", text, re.M)}
    # workbook = Patients 15/14/0/1 + Samples 152/145/2/5 + Treatment 138/137/0/1 (expected_counts.csv)
    #          = read 305, kept 296, rejected 2, skipped 7
    assert rows == {"study_workbook.xlsx": (305, 296, 2, 7), "lab_export_eu.csv": (25, 20, 0, 5)}


def test_quickstart_groups_the_issues_by_code_with_their_cells(quickstart):
    text = _text(quickstart, "issues")
    groups = {m.group(1): (int(m.group(2)), m.group(3).strip())
              for m in re.finditer(r"([a-z0-9-]+-[a-z0-9-]+)\s+(\d+)\s+(Samples!.*)$", text, re.M)}
    # the messy cells of the Samples sheet (sample_data/README.md, expected_issues.csv)
    assert groups == {
        "missing-patient-id": (1, "Samples!A152"),
        "non-numeric-result": (1, "Samples!C12"),
        "sample-before-birth": (1, "Samples!B133"),
        "dilute-urine": (2, "Samples!C22, Samples!D22"),
        "duplicate-result": (2, "Samples!C45, Samples!D45"),
    }


def test_quickstart_flagged_table_has_the_flag_and_timeline_columns(quickstart):
    header = _text(quickstart, "flagged").splitlines()[0].split()
    assert header == ["patient_id", "sample_date", "analyte", "value", "unit", "uln", "x_uln", "grade", "day",
                      "phase"]
    first = _text(quickstart, "flagged").splitlines()[1].split()
    # first row: patient 0042 (born 2020-12-03, 13 months old) HVA, so the 0-2 y HVA limit of 42 mg/g applies
    assert first[1] == "0042" and first[3] == "HVA" and first[7] == "42.0"


def test_quickstart_plots_one_patient_inline(quickstart):
    images = _images(quickstart)
    assert list(images) == ["plot"]
    (png,) = images["plot"]
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", _png_chunks(png)[b"IHDR"][:8])
    # a 10 x 4.5 inch figure: wider than tall, and far larger than an empty placeholder
    assert width > height > 200


def test_quickstart_shows_short_summaries_of_the_dataset_and_the_analysis(quickstart):
    # sample_data/README.md: 309 measurements of 14 patients; 330 rows = 316 kept + 2 rejected + 12 skipped
    dataset = _text(quickstart, "dataset-summary").splitlines()
    assert dataset[:3] == ["<Dataset: 14 patients>", "measurements: 309 in mg/g creatinine",
                           "rows read: 330 = 316 kept + 2 rejected + 12 skipped"]
    analysis = _text(quickstart, "analysis-summary").splitlines()
    assert analysis[0] == "<Analysis: 14 patients>"
    assert "patient status: re-elevated 1, persistent 1, normalized 11, not informative 1" in analysis
    assert len(dataset) < 15 and len(analysis) < 15  # summaries, not the tables
    for cell in ("dataset-summary", "analysis-summary"):
        (output,) = _cell(quickstart, cell).outputs
        assert output.data["text/html"].startswith("<div><strong>")


def _expected_outcomes() -> dict[tuple[str, str], tuple[str, str, str, str]]:
    with open(SAMPLE / "expected_outcomes.csv", newline="", encoding="utf-8") as fh:
        return {(r["patient_id"], r["analyte"]): (r["informative"], r["normalized"], r["persistent"], r["reelevation"])
                for r in csv.DictReader(fh)}


# days since therapy start to the first of two consecutive normal samples (sample_data/README.md):
# classic responders VMA 77 / HVA 49; NB-004 136 (first post-operative sample); NB-007 and NB-011 HVA 49;
# NB-012 56 (late baseline); NB-013 HVA 77 (its day-49 sample is rejected); never normalized: blank
DAYS_TO_NORMALIZATION = {
    **{(p, "VMA"): "77" for p in ("0042", "NB-001", "NB-002", "NB-003", "NB-008", "NB-009", "NB-010", "NB-013")},
    **{(p, "HVA"): "49" for p in ("0042", "NB-001", "NB-002", "NB-003", "NB-005", "NB-007", "NB-008", "NB-009",
                                  "NB-010", "NB-011")},
    ("NB-004", "VMA"): "136", ("NB-004", "HVA"): "136", ("NB-007", "VMA"): "49",
    ("NB-012", "VMA"): "56", ("NB-012", "HVA"): "56", ("NB-013", "HVA"): "77",
    ("NB-005", "VMA"): "<NA>", ("NB-006", "VMA"): "<NA>", ("NB-006", "HVA"): "<NA>", ("NB-011", "VMA"): "<NA>",
}


def test_quickstart_assessment_names_every_patient_with_the_documented_outcome(quickstart):
    last_code = [c for c in quickstart.cells if c.cell_type == "code" and c.id != PROBE_ID][-1]
    assert last_code.id == "assessment"
    text = _text(quickstart, "assessment")
    for patient in PATIENTS:
        assert re.search(rf"\s{re.escape(patient)}\s", text), patient
    shown = {}
    for line in text.splitlines()[1:]:
        _, pid, analyte, informative, normalized, days, persistent, reelevation = line.split()[:8]
        shown[(pid, analyte)] = (informative, normalized, days, persistent, reelevation)
    as_printed = {"true": "True", "false": "False", "": "<NA>"}
    expected = {key: (as_printed[i], as_printed[n], DAYS_TO_NORMALIZATION[key], as_printed[p], as_printed[r])
                for key, (i, n, p, r) in _expected_outcomes().items()}
    assert len(expected) == 28  # 14 patients x (VMA, HVA)
    assert shown == expected


# -- cohort analysis -------------------------------------------------------------------------------


@pytest.mark.slow
def test_cohort_runs_in_the_projects_own_interpreter(cohort):
    probe = _probe(cohort)
    assert Path(probe["prefix"]).resolve() == Path(sys.prefix).resolve()
    assert Path(probe["markers"]).resolve() == Path(markers.__file__).resolve()


def test_cohort_shows_no_warnings_or_errors(cohort):
    assert _stderr(cohort) == []


def test_cohort_draws_every_figure_inline(cohort):
    images = _images(cohort)
    assert sorted(images) == ["export", "km", "spaghetti", "swimmer"]
    assert all(png.startswith(PNG_SIGNATURE) for pngs in images.values() for png in pngs)


def test_cohort_exports_a_300_dpi_two_panel_png_into_the_given_folder(cohort, cohort_out):
    assert Path(_probe(cohort)["out"]) == cohort_out.resolve()
    png = cohort_out / "figure_cohort.png"
    data = png.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    chunks = _png_chunks(data)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    # 7.0 x 3.0 inches at 300 dpi = 2100 x 900 pixels (no tight bounding box, so exactly that)
    assert (width, height) == (2100, 900)
    ppu_x, ppu_y, unit = struct.unpack(">IIB", chunks[b"pHYs"])
    # 300 dots per inch / 0.0254 m per inch = 11811.02 -> 11811 pixels per metre (unit 1 = metre)
    assert (ppu_x, ppu_y, unit) == (11811, 11811, 1)
    assert (cohort_out / "figure_cohort.pdf").read_bytes().startswith(b"%PDF-")
    assert "2100 x 900 pixels" in _text(cohort, "export")


def test_cohort_prints_the_median_time_to_normalization(cohort):
    # VMA: 12 informative (all but NB-006, NB-011). Events: day 49 NB-007 (S = 11/12), day 56 NB-012
    # (S = 11/12 * 10/11 = 10/12), day 77 eight patients (S = 10/12 * 2/10 = 2/12 -> 0.83 >= 0.5): median 77.
    # HVA: 13 informative (all but NB-006); day 49 ten patients -> 10/13 = 0.77 >= 0.5: median 49.
    text = _text(cohort, "km-table")
    assert "VMA: median time to normalization 77 days (12 informative patients)" in text
    assert "HVA: median time to normalization 49 days (13 informative patients)" in text


def test_cohort_vma_curve_matches_the_hand_worked_product_limit(cohort):
    curve = _probe(cohort)["vma_curve"]
    head = [(r["day"], r["at_risk"], r["events"], r["censored"], round(r["proportion_normalized"], 6))
            for r in curve[:5]]
    assert head == [
        (0, 12, 0, 0, 0.0),
        (49, 12, 1, 0, round(1 / 12, 6)),  # 1 - 11/12
        (56, 11, 1, 0, round(2 / 12, 6)),  # 1 - 11/12 * 10/11
        (77, 10, 8, 0, round(10 / 12, 6)),  # 1 - 10/12 * 2/10
        (136, 2, 1, 0, round(11 / 12, 6)),  # NB-004: 1 - 2/12 * 1/2
    ]
    # NB-005's VMA never normalized: censored at its last sample, well after day 136, leaving 11/12
    (last,) = curve[5:]
    assert last["day"] > 136 and (last["at_risk"], last["events"], last["censored"]) == (1, 0, 1)
    assert last["proportion_normalized"] == pytest.approx(11 / 12)


def test_cohort_days_to_normalization_by_age_group(cohort):
    rows = {(r["age_group"], r["analyte"]): (r["informative"], r["normalized"], r["median_days"], r["max_days"])
            for r in _probe(cohort)["by_age"]}
    # Age at diagnosis (sample_data/README.md): 0-2 y NB-001, NB-004, NB-007, NB-008, NB-011, 0042;
    # 3-5 y NB-002, NB-006, NB-010; 6-17 y NB-003, NB-005, NB-009, NB-012, NB-013.
    # 0-2 y VMA (NB-011 not informative): 77, 136, 49, 77, 77 -> median 77, max 136
    # 0-2 y HVA: 49, 136, 49, 49, 49, 49 -> median 49, max 136
    # 3-5 y (NB-006 not informative): VMA 77, 77; HVA 49, 49
    # 6-17 y VMA: 77, never (NB-005), 77, 56, 77 -> 4 of 5 normalized, median 77; HVA 49, 49, 49, 56, 77 -> 49
    assert rows == {
        ("0-2 y", "VMA"): (5, 5, 77, 136), ("0-2 y", "HVA"): (6, 6, 49, 136),
        ("3-5 y", "VMA"): (2, 2, 77, 77), ("3-5 y", "HVA"): (2, 2, 49, 49),
        ("6-17 y", "VMA"): (5, 4, 77, 77), ("6-17 y", "HVA"): (5, 5, 49, 77),
    }
    text = _text(cohort, "by-age")
    assert re.search(r"0-2 y\s+VMA\s+5\s+5\s+77\.0\s+136\.0", text)


def _median_x_uln_by_phase() -> dict[tuple[str, str], tuple[float, int]]:
    """The notebook's phase table recomputed here with plain Python: per patient, then over patients."""
    analysis = markers.analyse([SAMPLE / "study_workbook.xlsx", SAMPLE / "lab_export_eu.csv"])
    # informative is a nullable boolean: NA (not assessable) counts as not informative
    informative = {(r.patient_id, r.analyte) for r in analysis.assessment.itertuples()
                   if r.informative is not pd.NA and bool(r.informative)}
    values: dict[tuple[str, str], dict[str, list[float]]] = {}
    for r in analysis.measurements.itertuples():
        if (r.patient_id, r.analyte) in informative:
            phase = r.phase or "after induction"
            values.setdefault((phase, r.analyte), {}).setdefault(r.patient_id, []).append(float(r.x_uln))
    return {key: (statistics.median(statistics.median(v) for v in per_patient.values()), len(per_patient))
            for key, per_patient in values.items()}


def test_cohort_median_x_uln_by_phase_equals_an_independent_computation(cohort):
    shown = {(r["phase"], r["analyte"]): (r["median_x_uln"], r["patients"]) for r in _probe(cohort)["by_phase"]}
    expected = _median_x_uln_by_phase()
    assert shown.keys() == expected.keys()
    for key, (median, patients) in expected.items():
        assert shown[key][0] == pytest.approx(median), key
        assert shown[key][1] == patients, key
    # by hand: every informative patient but NB-012 (first sample after therapy start) has a
    # pre-treatment sample: VMA 12 - 1 = 11, HVA 13 - 1 = 12; only NB-009 relapsed
    assert shown[("pre-treatment", "VMA")][1] == 11 and shown[("pre-treatment", "HVA")][1] == 12
    assert shown[("relapse", "VMA")][1] == 1 and shown[("relapse", "HVA")][1] == 1
    # at diagnosis VMA is about 5-12 x ULN and HVA 3.5-6 x (README); once normalized, below 1 x
    assert shown[("pre-treatment", "VMA")][0] > 5 and shown[("pre-treatment", "HVA")][0] > 3
    assert shown[("off-therapy", "VMA")][0] < 1 and shown[("off-therapy", "HVA")][0] < 1


# -- outcomes (landmark analysis) --------------------------------------------------------------------

OUTCOMES_PROBE = """
import json
print(json.dumps({"n": int(result.patients["patient_id"].nunique()),
                  "tests": json.loads(result.tests.to_json(orient="records")),
                  "estimates": json.loads(result.estimates.to_json(orient="records"))}))
"""


@pytest.fixture(scope="module")
def outcomes_nb(tmp_path_factory) -> nbformat.NotebookNode:
    return _execute("outcomes.ipynb", tmp_path_factory.mktemp("outcomes_out"), OUTCOMES_PROBE)


def test_outcomes_notebook_is_stored_clean():
    nb = nbformat.read(NOTEBOOKS / "outcomes.ipynb", as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert 'DATA = Path("..") / "sample_data"' in _cell(nb, "setup").source


@pytest.mark.slow
def test_outcomes_notebook_walks_through_the_landmark_analysis(outcomes_nb):
    probe = _probe(outcomes_nb)
    # the generator writes 100 patients (sample_data/README.md)
    assert probe["n"] == 100
    # NB-099 (progressed, alive) and NB-100 (no event) have no last follow-up entered: reported, not censored
    assert "2 missing-follow-up" in _text(outcomes_nb, "outcomes")
    text = _text(outcomes_nb, "patients")
    assert text.startswith("EFS: ") and "landmark not reached" in text
    # the design: positivity at complete remission carries the higher relapse hazard
    est = {(e["endpoint"], e["landmark"], e["group"]): e for e in probe["estimates"]}
    assert est[("EFS", "complete_remission", "positive")]["survival_3y"] < \
        est[("EFS", "complete_remission", "negative")]["survival_3y"]
    assert len(_images(outcomes_nb).get("figure", [])) == 1
    assert _stderr(outcomes_nb) == []
