from markers.cli import cli

cli(prog_name="markers")
