"""Every Python example in the README and the docs runs as printed, so none can rot unseen."""

from __future__ import annotations

import os
import pathlib
import re

import matplotlib.pyplot as plt
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks():
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        for number, match in enumerate(BLOCK.finditer(text), start=1):
            line = text[: match.start()].count("\n") + 1
            yield pytest.param(match.group(1), id=f"{doc.relative_to(ROOT)}:{line}#{number}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_python_example_runs(code, tmp_path, monkeypatch):
    # the examples name the shipped sample data relative to the project's top folder; anything they
    # write lands in tmp_path through the symlinked folders
    for name in ("sample_data", "notebooks", "docs"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(code, "<example>", "exec"), namespace)
    plt.close("all")


def test_examples_are_found():
    assert len(list(_blocks())) >= 1


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
