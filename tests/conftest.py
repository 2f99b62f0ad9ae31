import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def close_figs():
    yield
    plt.close("all")


@pytest.fixture
def rng():
    """A fixed-seed generator: failures reproduce."""
    return np.random.default_rng(20261125)


@pytest.fixture(scope="session")
def sample_analysis():
    """``analyse`` of the two shipped sample files, made once for every module that reads it (do not modify)."""
    from pathlib import Path

    from markers.pipeline import analyse

    sample = Path(__file__).parent.parent / "sample_data"
    return analyse([str(sample / "study_workbook.xlsx"), str(sample / "lab_export_eu.csv")])


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """The bad-input corpus (tests/corpus/make_corpus.py), built once for every test that reads it."""
    from corpus import make_corpus

    directory = tmp_path_factory.mktemp("corpus")
    make_corpus.build_corpus(directory)
    return directory


# Module fixtures that render the whole sample report, execute a notebook or drive a browser cost
# 3-30 s each (measured with `pytest --durations=30`); every test that uses one is slow, so the quick
# loop (`pytest -m "not slow"`) leaves them out and `make test` runs them.
_SLOW_FIXTURES = {
    "test_cli_report": {"report"},
    "test_html_browser": {"browser"},
    "test_html_report": {"report", "page"},
    "test_notebooks": {"quickstart", "cohort", "cohort_out", "outcomes_nb"},
    "test_report": {"tiny_pdf", "sample_outputs"},
    "test_typed_outputs": {"written"},
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _SLOW_FIXTURES.get(item.path.stem, set()) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
