"""Pseudonymized outputs carry no patient ID and no date: every byte of every table kind is searched."""

import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from markers.cli import cli
from markers.pipeline import analyse
from markers.privacy.pseudonym import load_key, pseudonym

SAMPLE = Path(__file__).parent.parent / "sample_data"
FILES = [str(SAMPLE / "study_workbook.xlsx"), str(SAMPLE / "lab_export_eu.csv")]


@pytest.fixture(scope="module")
def originals(sample_analysis):
    """Every patient ID and every date of the un-pseudonymized analysis, in the forms a file could hold."""
    analysis = sample_analysis
    ids = set(analysis.dataset.patients["patient_id"]) | set(analysis.measurements["patient_id"])
    dates = set()
    for frame in (analysis.measurements, analysis.dataset.patients, analysis.dataset.therapy, analysis.assessment):
        for column in frame.columns:
            if str(frame[column].dtype).startswith("datetime64"):
                dates |= {d.date() for d in frame[column].dropna()}
    forms = set()
    for d in dates:
        forms |= {d.isoformat(), d.strftime("%d.%m.%Y"), d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y")}
    return ids, forms


# A FHIR resource id is a UUID5, a hash of the (pseudonymized) patient and cell: a four-hex-digit group of
# one can read "0042" by chance (1 in 65,536 per UUID, under a new random key each run): no ID and no date.
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def leaks(text: str, ids, date_forms) -> list[str]:
    text = _UUID.sub("<uuid>", text)
    found = [d for d in date_forms if d in text]
    for patient in ids:
        # an ID stands alone: "0042" inside "10.0042" is a number, not the patient
        if re.search(rf"(?<![\w.]){re.escape(patient)}(?![\w])", text):
            found.append(patient)
    return found


def decoded_values(path: Path) -> str:
    """A typed file's every value, label and metadata entry as text, read by the format's own tool
    (its bytes may be compressed, and a date is a number in them: the raw bytes alone prove nothing)."""
    import pyarrow.feather as feather
    import pyarrow.parquet as pq
    import pyreadstat

    if path.suffix in (".parquet", ".feather"):
        table = pq.read_table(path) if path.suffix == ".parquet" else feather.read_table(path)
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        return "\n".join([*meta.values(), *(str(v) for c in table.columns for v in c.to_pylist())])
    read = {".dta": pyreadstat.read_dta, ".xpt": pyreadstat.read_xport, ".sav": pyreadstat.read_sav}[path.suffix]
    frame, meta = read(path)
    labels = [str(meta.file_label), *map(str, meta.column_labels)]
    return "\n".join([*labels, *(str(v) for column in frame.columns for v in frame[column])])


def all_text(path: Path) -> str:
    """The bytes of a file as text; for an XLSX, every part of the archive uncompressed; for a typed
    file, also every value as its reader gives it."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    text = path.read_bytes().decode("utf-8", "replace")
    if path.suffix in (".parquet", ".feather", ".dta", ".xpt", ".sav"):
        text += "\n" + decoded_values(path)
    return text


@pytest.mark.slow
@pytest.mark.parametrize("command", ["normalize", "assess"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".json", ".tsv"])
def test_pseudonymized_tables_hold_no_id_and_no_date(tmp_path, originals, command, suffix):
    ids, date_forms = originals
    key_file = tmp_path / "secret.key"
    out = tmp_path / f"shared{suffix}"
    result = CliRunner().invoke(cli, [command, *FILES, "-o", str(out), "--pseudonymize", str(key_file)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    written = [p for p in tmp_path.iterdir() if p.name != "secret.key"]
    assert out in written
    for path in written:  # the table and, for CSV/TSV, its provenance sidecar
        assert leaks(all_text(path), ids, date_forms) == [], path.name
    # the pseudonyms are there instead, stable for the key
    key = load_key(key_file)
    assert pseudonym("NB-001", key=key) in all_text(out)


@pytest.mark.slow
def test_pseudonyms_are_stable_for_the_same_key(tmp_path):
    key_file = tmp_path / "k"
    runner = CliRunner()
    for name in ("a.csv", "b.csv"):
        runner.invoke(cli, ["assess", *FILES, "-o", str(tmp_path / name), "--pseudonymize", str(key_file)],
                      catch_exceptions=False)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.slow
def test_pseudonymized_days_are_days_since_diagnosis(tmp_path):
    key_file = tmp_path / "k"
    out = tmp_path / "t.json"
    CliRunner().invoke(cli, ["normalize", *FILES, "-o", str(out), "--pseudonymize", str(key_file)],
                       catch_exceptions=False)
    import json

    records = json.loads(out.read_text())["records"]
    full = analyse(FILES)
    diagnosis = full.dataset.patients.set_index("patient_id")["diagnosis_date"]
    key = load_key(key_file)
    first = full.measurements.iloc[0]
    expected = (first["sample_date"] - diagnosis[first["patient_id"]]).days
    match = [r for r in records if r["patient_id"] == pseudonym(first["patient_id"], key=key)
             and r["source_cell"] == first["source_cell"]]
    assert [r["sample_day"] for r in match] == [expected]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".parquet", ".xpt"])
def test_leak_check_sees_inside_typed_files(tmp_path, originals, suffix):
    """The check above would catch a date stored as a number and an ID inside compressed pages."""
    ids, date_forms = originals
    out = tmp_path / f"plain{suffix}"
    CliRunner().invoke(cli, ["normalize", *FILES, "-o", str(out)], catch_exceptions=False)
    found = leaks(all_text(out), ids, date_forms)
    assert "2022-01-25" in found and "0042" in found


TYPED = [".parquet", ".feather", ".dta", ".xpt", ".sav"]
NEW_FORMATS = [
    *(("measurements", suffix, "tidy") for suffix in TYPED),
    *(("assessment", suffix, "tidy") for suffix in TYPED),
    *(("measurements", suffix, "adam") for suffix in (".csv", ".xpt", ".parquet")),
    ("measurements", ".fhir.json", "tidy"),
    ("measurements", ".ndjson", "tidy"),
]


@pytest.fixture(scope="module")
def pseudonymized_outputs(tmp_path_factory):
    """Every typed, CDISC-shaped and FHIR output of one pseudonymized analysis, written as the CLI writes them."""
    import warnings

    from markers.pipeline import prepare
    from markers.write.export import export_table
    from markers.write.output import provenance_record

    folder = tmp_path_factory.mktemp("pseudonymized")
    key_file = folder / "secret.key"
    analysis = prepare(FILES, pseudonymize=key_file)
    provenance = provenance_record(inputs=FILES, options={"pseudonymized": True}, reference_set=analysis.reference_set)
    outputs = {}
    for table, suffix, shape in NEW_FORMATS:
        out = folder / table / shape / f"shared{suffix}"
        out.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # SAS transport cuts long issue texts, with a warning
            export_table(getattr(analysis, table), out, table=table, shape=shape, inputs=FILES, provenance=provenance)
        outputs[(table, suffix, shape)] = out
    return outputs, load_key(key_file)


@pytest.mark.slow
@pytest.mark.parametrize(("table", "suffix", "shape"), NEW_FORMATS)
def test_pseudonymized_typed_cdisc_and_fhir_outputs_hold_no_id_and_no_date(
        pseudonymized_outputs, originals, table, suffix, shape):
    ids, date_forms = originals
    outputs, key = pseudonymized_outputs
    out = outputs[(table, suffix, shape)]
    for path in out.parent.iterdir():  # the file and its provenance sidecar, if any
        if path.name.startswith(out.name):
            assert leaks(all_text(path), ids, date_forms) == [], path.name
    assert pseudonym("NB-001", key=key) in all_text(out)


@pytest.mark.slow
def test_cli_pseudonymized_parquet_holds_no_id_and_no_date(tmp_path, originals):
    """The CLI path of the typed formats, once."""
    ids, date_forms = originals
    out = tmp_path / "shared.parquet"
    result = CliRunner().invoke(cli, ["normalize", *FILES, "-o", str(out), "--pseudonymize", str(tmp_path / "k.key")],
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert leaks(all_text(out), ids, date_forms) == []


@pytest.mark.slow
def test_pseudonymized_html_report_holds_no_id_and_no_date(tmp_path, originals):
    """Every byte of the HTML report, and of its inline PNGs (their metadata), holds no patient ID and no date."""
    import base64

    ids, date_forms = originals
    key_file = tmp_path / "secret.key"
    out = tmp_path / "shared.html"
    result = CliRunner().invoke(cli, ["report", *FILES, "-o", str(out), "--quiet", "--pseudonymize", str(key_file)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    text = all_text(out)
    assert leaks(text, ids, date_forms) == []
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(images) >= 14  # one figure per patient at least
    for data in images:
        assert leaks(base64.b64decode(data).decode("latin-1"), ids, date_forms) == []
    key = load_key(key_file)
    assert f'data-patient="{pseudonym("NB-009", key=key)}"' in text
    assert [p.name for p in tmp_path.iterdir() if p.name != "secret.key"] == ["shared.html"]


def test_the_leak_check_ignores_uuids_but_not_an_id_beside_one():
    uuid_by_chance = "urn:uuid:3f2a9c1e-0042-5d1b-8e2f-9a0b1c2d3e4f"
    assert leaks(uuid_by_chance, ["0042"], []) == []
    assert leaks(uuid_by_chance + ' "patient": "0042"', ["0042"], []) == ["0042"]
