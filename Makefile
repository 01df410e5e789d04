# `make test` and `make demo` set up .venv themselves on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo docs lint clean mutants

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,demo,safetensors,docs]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

docs: $(STAMP)
	$(PY) -m mkdocs serve

demo: $(STAMP)
	$(PY) -m demos.mnist

# Optional, not part of `make test`: re-runs the suite against deliberately wrong backward rules (about a minute).
mutants: $(STAMP)
	$(PY) -m autograd.testing.mutants --package autograd --package nn tests

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info demo-output
