# Two entry points for newcomers: `make demo` and `make test`.
# Both create the virtual environment in .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := sample_data/study_workbook.xlsx sample_data/lab_export_eu.csv

.PHONY: demo test quick venv clean bench bench-full

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

# The quick loop: every test but the slow ones, on two processes (a file's tests stay on one, so
# its module fixtures are made once).
quick: venv
	$(BIN)/python -m pytest -m "not slow" -n 2 --dist loadfile -q

bench: venv
	$(BIN)/python benchmarks/run.py --quick

bench-full: venv
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) report.pdf
