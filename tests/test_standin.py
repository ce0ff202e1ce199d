"""The CuPy stand-in (tests/_standin): CuPy's refusals, devices, memory views and transfer accounting."""
import os
import subprocess
import sys

import numpy as np
import pytest

_HERE = os.path.join(os.path.dirname(__file__), "_standin")
sys.path.insert(0, _HERE)
import cupy  # noqa: E402
import cupyx  # noqa: E402


def test_implicit_conversion_raises():
    x = cupy.arange(3)
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        np.asarray(x)
    assert not isinstance(x, np.ndarray)


def test_host_arrays_refused():
    x = cupy.ones(3)
    for bad in (lambda: x + np.ones(3), lambda: cupy.add(x, np.ones(3)), lambda: cupy.concatenate([x, np.ones(3)])):
        with pytest.raises(TypeError):
            bad()
    with pytest.raises(TypeError):
        x[:] = np.zeros(3)
    assert (x + np.float32(2)).tolist() == [3.0, 3.0, 3.0]


def test_numpy_dispatch():
    x = cupy.arange(4.0)
    y = np.exp(x)
    assert type(y) is cupy.ndarray and np.allclose(y.get(), np.exp(np.arange(4.0)))
    assert type(np.sum(x)) is cupy.ndarray
    with pytest.raises(TypeError):
        np.spacing(x)  # NOTE: CuPy has no spacing: NotImplemented, so NumPy raises


def test_namespace():
    for name in ("errstate", "seterr", "geterr"):
        with pytest.raises(AttributeError):
            getattr(cupy, name)
    assert cupy.dtype is np.dtype and cupy.float32 is np.float32
    with pytest.raises(TypeError, match="unexpected keyword"):
        cupy.indices((2, 3), sparse=True)
    with pytest.raises(AttributeError):
        cupy.lexsort((cupy.arange(3), cupy.arange(3)))


def test_ufunc_methods():
    a = cupy.zeros(3)
    cupy.add.at(a, cupy.asarray([0, 0, 2]), 1.0)
    assert a.tolist() == [2.0, 0.0, 1.0]
    with pytest.raises(NotImplementedError, match="`multiply.at` is not supported yet"):
        cupy.multiply.at(a, cupy.asarray([0]), 2.0)
    with pytest.raises(NotImplementedError):
        cupy.maximum.accumulate(a)
    assert cupy.add.accumulate(a).tolist() == [2.0, 2.0, 3.0]
    assert cupy.subtract.outer(a, a).shape == (3, 3)
    with pytest.raises(TypeError):
        cupy.add(a, a, where=a > 0)


def test_zero_d_results():
    x = cupy.arange(6).reshape(2, 3)
    assert type(x.sum()) is cupy.ndarray and x.sum().shape == ()
    assert type(x[0, 1]) is cupy.ndarray and x[0, 1].shape == ()
    assert all(type(r) is cupy.ndarray for r in x[0])


def test_devices():
    with cupy.cuda.Device(1):
        y = cupy.ones(2)
    assert y.device.id == 1
    x = cupy.ones(2)
    with pytest.raises(ValueError, match="array device = 1 while current = 0"):
        x + y
    with cupy.cuda.Device(1):
        assert (y + 1).device.id == 1
    assert y.copy().device.id == 0


def test_memptr_views_and_bounds():
    x = cupy.arange(12, dtype=cupy.float32)
    mem = x.data.mem
    assert x[3:].data.mem is mem and x[3:].data.ptr == x.data.ptr + 12
    v = cupy.ndarray((2, 2), cupy.float32, memptr=cupy.cuda.MemoryPointer(mem, 8), strides=(16, 4))
    assert v.get().tolist() == [[2, 3], [6, 7]] and v.data.mem is mem
    v[0, 0] = 100
    assert x[2].item() == 100
    with pytest.raises(ValueError):
        cupy.ndarray((4,), cupy.float32, memptr=cupy.cuda.MemoryPointer(mem, 40))
    assert cupy.lib.stride_tricks.as_strided(x, (2,), (8,)).data.mem is mem


def test_counters_and_forbid():
    cupy._standin.reset()
    x = cupy.asarray([1.0, 2.0])
    y = (x * 2).sum()
    assert cupy._standin.counts()["to_device"] == 1 and cupy._standin.counts()["to_host"] == 0
    with cupy._standin.forbid_host_transfers():
        z = x + y
        with pytest.raises(AssertionError, match="device->host transfer inside forbid_host_transfers"):
            float(z[0])
        with pytest.raises(AssertionError):
            repr(z)
    assert cupy.asnumpy(z).tolist() == [7.0, 8.0]
    assert cupy._standin.counts()["to_host"] == 1


def test_cupyx_and_special():
    a = cupy.zeros(3)
    cupyx.scatter_add(a, cupy.asarray([1, 1]), 1.0)
    assert a.tolist() == [0.0, 2.0, 0.0]
    import cupyx.scipy.special as sp
    assert abs(sp.erf(cupy.asarray(0.5)).item() - 0.5204998778130465) < 1e-12


def test_random_and_linalg():
    cupy.random.seed(0)
    r = cupy.random.randn(3, 3)
    assert type(r) is cupy.ndarray
    assert type(cupy.linalg.inv(r + 3 * cupy.eye(3))) is cupy.ndarray


def test_ember_creates_on_standin():
    env = dict(os.environ, PYTHONPATH=_HERE)
    code = "import ember; x = ember.randn(3, 4, device='cuda'); print(x.device)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "cuda:0", out.stderr
