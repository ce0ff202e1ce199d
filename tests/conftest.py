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


def pytest_configure(config):
    config.addinivalue_line("markers", "host_only(reason): compares with torch something that names or needs the CPU "
                            "(a message, a repr, host memory); skipped where ember runs on cuda and the oracle on the CPU")


def pytest_collection_modifyitems(config, items):
    if DEVICE != "cuda" or REAL_GPU:
        return
    import pytest
    for item in items:
        mark = item.get_closest_marker("host_only")
        if mark is not None:
            reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "names the device")
            item.add_marker(pytest.mark.skip(reason=f"cuda on the stand-in, oracle on the CPU: {reason}"))


def pytest_report_header(config):
    if DEVICE == "cuda":
        return f"ember device tests on cuda ({'real GPU' if REAL_GPU else 'CuPy stand-in'})"
    return None


if DEVICE == "cuda":
    import pytest

    @pytest.fixture(autouse=True)
    def _cuda_by_default(request, monkeypatch):
        """The cpu suites, rerun on cuda: factories default to cuda (torch.set_default_device), and the
        tests' own host reads (`.numpy()` to compare with torch) copy off the device.
        NOTE: these shims are the test harness's, not ember's: PyTorch's refusal of numpy() on a cuda
        tensor is tested in tests/devices."""
        import ember
        if "devices" in request.node.path.parts:  # NOTE: tests/devices places its tensors itself
            yield
            _forget_pending_checks()
            return
        numpy = ember.Tensor.numpy
        from_numpy = ember.from_numpy

        def host_numpy(self, *, force=False):
            return numpy(self.cpu() if self.device.type != "cpu" else self, force=force)

        monkeypatch.setattr(ember.Tensor, "numpy", host_numpy)
        monkeypatch.setattr(ember, "from_numpy", lambda a: from_numpy(a).to("cuda"))
        ember.set_default_device("cuda")
        yield
        ember.set_default_device(None)
        _forget_pending_checks()

    def _forget_pending_checks():
        """NOTE: a device-side check a test queued and never surfaced must not fail the next test."""
        from ember import _backends
        _backends.get("cuda")._pending.clear()
