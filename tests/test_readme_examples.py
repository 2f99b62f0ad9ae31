"""Every Python example in the README and the docs runs as printed, so none can rot unseen."""

from __future__ import annotations

import os
import pathlib
import re
import warnings

import matplotlib.pyplot as plt
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(doc: pathlib.Path):
    """``(line, code)`` of each Python block of ``doc``, in order."""
    text = doc.read_text(encoding="utf-8")
    for match in BLOCK.finditer(text):
        yield text[: match.start()].count("\n") + 1, match.group(1)


@pytest.mark.slow
@pytest.mark.parametrize("doc", [d for d in DOCUMENTS if list(_blocks(d))], ids=lambda d: str(d.relative_to(ROOT)))
def test_python_examples_run(doc, tmp_path, monkeypatch):
    # the blocks of one document run in order in one namespace, as a reader types them; they name
    # the shipped sample data relative to the project's top folder, and write into tmp_path
    for name in ("sample_data", "notebooks", "docs"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        # the data notices an example prints for its reader (e.g. "2 missing-follow-up") are output
        warnings.simplefilter("default", UserWarning)
        for line, code in _blocks(doc):
            exec(compile(code, f"{doc.name}, block at line {line}", "exec"), namespace)
    plt.close("all")


def test_examples_are_found():
    assert len(list(_blocks(ROOT / "README.md"))) >= 2


def test_public_functions_are_not_shadowed_by_modules():
    import importlib

    import markers

    # importing every module of the package must leave the public names as they are documented
    for path in sorted((ROOT / "markers").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name.endswith("__main__"):
            continue
        importlib.import_module(name)
    for name in ("read", "flag", "add_timeline", "assess", "analyse"):
        assert callable(getattr(markers, name)), name
        assert not isinstance(getattr(markers, name), type(os)), f"markers.{name} is a module"
