"""The example data inside the package are the shipped sample files, and the pipeline reads them."""

import pathlib

import pytest

import markers
from markers.examples import EXAMPLES, example_files, example_path

SAMPLE_DIR = pathlib.Path(__file__).resolve().parents[1] / "sample_data"


@pytest.mark.parametrize("name", EXAMPLES)
def test_packaged_example_is_the_sample_file(name):
    assert example_path(name).read_bytes() == (SAMPLE_DIR / name).read_bytes()


def test_unknown_example_names_the_known_ones():
    with pytest.raises(ValueError, match="no example named 'x.csv'; the examples are: study_workbook.xlsx, lab_export_eu.csv"):
        example_path("x.csv")


def test_examples_read_as_the_sample_data():
    # the counts of sample_data/README.md: 305 + 25 rows read, 14 patients
    data = markers.read(example_files())
    assert data.counts()["read"].tolist()[:2] == [305, 25]
    assert data.measurements["patient_id"].nunique() == 14
