"""The house keeps its order: stages import only the stages below them, never another module's privates.

The order (low to high) is the data flow written down in docs/design.md:
errors/schema/_compat -> readers -> ingest -> analysis -> plot -> write -> report, privacy -> pipeline -> cli.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "markers"

# rank of each room; a module may import a lower rank, or its own room
RANKS = {
    "markers": 0,  # the package root: only __version__ is imported from it
    "markers.errors": 0,
    "markers.schema": 0,
    "markers._compat": 0,
    "markers.examples": 0,
    "markers.readers": 1,
    "markers.ingest": 2,
    "markers.analysis": 3,
    "markers.plot": 4,
    "markers.write": 5,
    "markers.report": 6,
    "markers.privacy": 6,
    "markers.pipeline": 8,
    "markers.cli": 9,
    "markers.__main__": 10,
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str:
    """The room a module lives in: the longest key of RANKS that is a prefix of its dotted name."""
    best = ""
    for room in RANKS:
        if (module == room or module.startswith(room + ".")) and len(room) > len(best):
            best = room
    if not best:
        raise AssertionError(f"{module} lives in no room of the layer table: add it to RANKS")
    return best


def _imports(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.lineno, node.module, alias.name


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_point_down(path):
    here = _module_name(path)
    room = _room(here)
    wrong = []
    for line, target, name in _imports(path):
        if not (target == "markers" or target.startswith("markers.")):
            continue
        full = f"{target}.{name}" if target == "markers" and name and name != "__version__" else target
        there = _room(full)
        if there != room and RANKS[there] >= RANKS[room]:
            wrong.append(f"line {line}: {room} (rank {RANKS[room]}) imports {full} (rank {RANKS[there]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_private_names_from_other_modules(path):
    here = _module_name(path)
    wrong = [
        f"line {line}: from {target} import {name}"
        for line, target, name in _imports(path)
        # markers._compat is the one seam for library internals: a private module, imported by design
        if name and name.startswith("_") and not name.startswith("__") and name != "_compat" and target != here
        and (target == "markers" or target.startswith("markers."))
    ]
    assert not wrong, "\n".join(wrong)


def test_the_table_knows_every_room():
    rooms = {_room(_module_name(p)) for p in MODULES}
    assert rooms <= set(RANKS)


def test_design_document_lists_every_module():
    """docs/design.md names every module of the house, so a newcomer's map matches the code."""
    design = (PACKAGE.parent / "docs" / "design.md").read_text(encoding="utf-8")
    missing = [
        str(path.relative_to(PACKAGE.parent))
        for path in MODULES
        if path.name not in ("__init__.py", "__main__.py") and f"| `{path.stem}` |" not in design
    ]
    assert not missing, "add these modules to docs/design.md: " + ", ".join(missing)
