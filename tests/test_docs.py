"""Docs stay honest: every command and every issue code is documented."""

from pathlib import Path

import pytest

from markers.cli import cli
from markers.ingest.issues import ISSUE_TYPES

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_and_is_in_readme(name):
    command = cli.commands[name]
    assert command.help and command.help.strip()
    assert f"markers {name}" in README


@pytest.mark.parametrize("code", sorted(ISSUE_TYPES))
def test_issue_code_is_in_readme(code):
    assert f"| `{code}` |" in README


def test_readme_quickstart_has_exactly_two_commands():
    block = README.split("## Quickstart", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["make demo", "make test"]


def test_readme_validate_output_is_the_real_output():
    """The README shows what `markers validate` really prints on the sample data."""
    from click.testing import CliRunner

    root = Path(__file__).parent.parent
    files = ["sample_data/study_workbook.xlsx", "sample_data/lab_export_eu.csv"]
    block = README.split("$ markers validate " + " ".join(files) + "\n", 1)[1].split("$ echo $?", 1)[0]
    result = CliRunner().invoke(cli, ["validate", *[str(root / f) for f in files]])
    assert result.exit_code == 1
    assert result.output == block
