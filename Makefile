# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test bench coverage clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[test]"
	touch $@

$(VENV)/.demo-installed: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[demo]"
	touch $@

demo: $(VENV)/.demo-installed
	$(PY) -m ember.demo

test: $(VENV)/.test-installed
	$(PY) -m pytest tests

bench: $(VENV)/.test-installed
	$(PY) bench/run.py

coverage: $(VENV)/.test-installed
	$(PY) tools/coverage.py

clean:
	rm -rf $(VENV) build *.egg-info
