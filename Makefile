# Two entry points for a fresh machine: `make run` (set up, then the service on its embedded defaults:
# SQLite under var/, CPU, the shipped models) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

# Also rebuilt when a compiled module's source changes.
$(STAMP): pyproject.toml inference/_ctc.pyx hotich/_ink_band.pyx
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[train,dev]'
	touch $(STAMP)

.PHONY: setup run test lint
setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hotich serve

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check .
