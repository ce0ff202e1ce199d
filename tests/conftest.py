"""The device the device-parametrised tests run on.

EMBER_TEST_DEVICE=cuda runs them with ember's tensors on cuda: on the CuPy stand-in (tests/_standin:
NumPy arrays that refuse implicit conversion to NumPy as CuPy's do, on their own devices, counting
host transfers) unless EMBER_TEST_GPU=1, which uses the real CuPy and PyTorch CUDA as the oracle
(`make test-gpu`). `make test` runs the cpu suite and then the cuda one on the stand-in.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = os.environ.get("EMBER_TEST_DEVICE", "cpu")
REAL_GPU = bool(os.environ.get("EMBER_TEST_GPU"))
if DEVICE == "cuda" and not REAL_GPU:
    sys.path.insert(0, os.path.join(_HERE, "_standin"))  # NOTE: before ember first imports cupy


def pytest_report_header(config):
    if DEVICE == "cuda":
        return f"ember device tests on cuda ({'real GPU' if REAL_GPU else 'CuPy stand-in'})"
    return None
