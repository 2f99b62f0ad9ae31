# Two entry points for newcomers: `make demo` and `make test`.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := sample_data/study_workbook.xlsx sample_data/lab_export_eu.csv

.PHONY: demo test venv clean bench bench-full

$(BIN)/markers: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group test
	touch $@

venv: $(BIN)/markers

demo: venv
	$(BIN)/markers report $(SAMPLE) -o report.pdf

test: venv
	@./.ci/install-system-deps
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python benchmarks/run.py --quick

bench-full: venv
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) report.pdf
