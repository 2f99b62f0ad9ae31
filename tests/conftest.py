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
def corpus(tmp_path_factory):
    """The bad-input corpus (tests/corpus/make_corpus.py), built once for every test that reads it."""
    from corpus import make_corpus

    directory = tmp_path_factory.mktemp("corpus")
    make_corpus.build_corpus(directory)
    return directory
