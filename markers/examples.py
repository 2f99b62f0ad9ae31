"""The synthetic example data shipped inside the package, so that examples run after ``pip install``.

The files are copies of ``sample_data/study_workbook.xlsx`` and ``sample_data/lab_export_eu.csv``
(14 synthetic patients; no real patient is in them): a test keeps the copies identical.
"""

from __future__ import annotations

import pathlib
from importlib import resources

#: The example files, in the order the README's quickstart reads them.
EXAMPLES = ("study_workbook.xlsx", "lab_export_eu.csv")


def example_path(name: str = "study_workbook.xlsx") -> pathlib.Path:
    """The path of one shipped example file.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`EXAMPLES`.

    Examples
    --------
    >>> example_path().name
    'study_workbook.xlsx'
    """
    if name not in EXAMPLES:
        raise ValueError(f"no example named {name!r}; the examples are: {', '.join(EXAMPLES)}")
    return pathlib.Path(str(resources.files("markers") / "data" / "examples" / name))


def example_files() -> list[pathlib.Path]:
    """Every shipped example file: a workbook kept by hand and a lab's CSV export.

    Examples
    --------
    >>> [path.name for path in example_files()]
    ['study_workbook.xlsx', 'lab_export_eu.csv']
    """
    return [example_path(name) for name in EXAMPLES]
