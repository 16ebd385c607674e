# Two commands for a newcomer: `make forecast` and `make test`. Each builds .venv on first use.
# `make test-fast` leaves out the tests marked slow; `make docs` builds the site into site/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: forecast test test-fast docs lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: a bare `torch` would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,translate,docs]'
	touch $(STAMP)

forecast: $(STAMP)
	$(PY) -m tsattn.demo

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(VENV)/bin/ruff check tsattn tests benchmarks

clean:
	rm -rf $(VENV) build site *.egg-info
