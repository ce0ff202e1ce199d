"""torch.signal.windows against PyTorch: values (float32 and float64), sym, dtype, requires_grad, errors."""
import numpy as np
import pytest
import torch
from torch.signal import windows as tw

import ember
from ember.signal import windows as ew

WINDOWS = {
    "bartlett": {}, "blackman": {}, "cosine": {}, "hamming": {}, "hann": {}, "nuttall": {},
    "exponential": {}, "exponential_tau": {"tau": 2.5}, "gaussian": {}, "gaussian_std": {"std": 0.4},
    "kaiser": {}, "kaiser_beta": {"beta": 3.5}, "general_hamming": {"alpha": 0.6},
    "general_cosine": {"a": [0.46, 0.23, 0.31]}, "general_cosine_tuple": {"a": (1.0,)},
}


def _split(key):
    name = key
    for suffix in ("_tau", "_std", "_beta", "_tuple"):
        name = name.removesuffix(suffix)
    return name, WINDOWS[key]


def _device():
    return ember.get_default_device()


@pytest.mark.parametrize("key", list(WINDOWS))
@pytest.mark.parametrize("M", [0, 1, 2, 3, 8, 17, 100])
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_torch(key, M, sym, dtype):
    name, kwargs = _split(key)
    t = getattr(tw, name)(M, sym=sym, dtype=getattr(torch, dtype), **kwargs)
    e = getattr(ew, name)(M, sym=sym, dtype=getattr(ember, dtype), **kwargs)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    assert e.device == _device()
    # NOTE: a few ulps apart, not bit-equal: exp/cos/i0 come from NumPy's libm (not PyTorch's SLEEF), and
    # ember's linspace rounds some float points differently from PyTorch's two-sided one
    tol = 2e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=tol, atol=tol)


def test_exponential_center_on_periodic_window():
    for M in (1, 5, 12):
        t = tw.exponential(M, center=1.5, tau=0.7, sym=False)
        e = ew.exponential(M, center=1.5, tau=0.7, sym=False)
        np.testing.assert_allclose(e.cpu().numpy(), t.numpy(), rtol=2e-7)


@pytest.mark.parametrize("key", list(WINDOWS))
def test_default_dtype_and_requires_grad(key):
    name, kwargs = _split(key)
    previous = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        t = getattr(tw, name)(6, requires_grad=True, **kwargs)
        e = getattr(ew, name)(6, requires_grad=True, **kwargs)
    finally:
        ember.set_default_dtype(previous)
        torch.set_default_dtype(torch.float32)
    assert str(e.dtype) == str(t.dtype) == "torch.float64"
    assert e.requires_grad and t.requires_grad
    np.testing.assert_allclose(e.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-13, atol=1e-13)


ERRORS = [
    ("hann", (-1,), {}), ("bartlett", (-2,), {}), ("blackman", (-1,), {}), ("cosine", (-1,), {}),
    ("hann", (3,), {"dtype": "float16"}), ("kaiser", (3,), {"dtype": "int64"}),
    ("gaussian", (3,), {"dtype": "bfloat16"}),
    ("hamming", (3,), {"layout": "sparse_coo"}), ("exponential", (3,), {"tau": 0}),
    ("exponential", (3,), {"center": 1.0}), ("gaussian", (3,), {"std": -1.0}), ("kaiser", (3,), {"beta": -1}),
    ("general_cosine", (3,), {"a": None}), ("general_cosine", (3,), {"a": 3}), ("general_cosine", (3,), {"a": []}),
]


@pytest.mark.parametrize("name,args,kwargs", ERRORS)
def test_errors_match_torch(name, args, kwargs):
    def call(lib, mod):
        kw = {k: getattr(lib, v) if k in ("dtype", "layout") else v for k, v in kwargs.items()}
        return getattr(mod, name)(*args, **kw)
    with pytest.raises(Exception) as t_err:
        call(torch, tw)
    with pytest.raises(type(t_err.value), match=None) as e_err:
        call(ember, ew)
    assert str(e_err.value) == str(t_err.value)


def test_namespace():
    assert ember.signal.windows.__all__ == tw.__all__
