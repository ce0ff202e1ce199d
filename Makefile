# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test test-gpu bench coverage stubs clean

# The device-parametrised tests: run again with ember's tensors on cuda (tests/conftest.py).
CUDA_TESTS := tests/devices tests/ops/test_against_torch.py tests/nn tests/optim tests/utils

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
	EMBER_TEST_DEVICE=cuda $(PY) -m pytest $(CUDA_TESTS)

# On a machine with an NVIDIA GPU, CuPy and PyTorch CUDA installed (no venv: the machine's own python).
test-gpu:
	EMBER_TEST_DEVICE=cuda EMBER_TEST_GPU=1 $(PYTHON) -m pytest -p xdist -n 8 $(CUDA_TESTS)

bench: $(VENV)/.test-installed
	$(PY) bench/run.py

coverage: $(VENV)/.test-installed
	$(PY) tools/coverage.py

# ember/_tensor.pyi: Tensor's methods (bound at import by ember/_ops) for readers and IDEs; after changing
# which methods Tensor has or where they are defined (tests/test_stubs.py says when).
stubs: $(VENV)/.test-installed
	$(PY) tools/stubs.py

clean:
	rm -rf $(VENV) build *.egg-info
