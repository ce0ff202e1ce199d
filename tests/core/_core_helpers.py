"""Run the same snippet against real PyTorch and against ember, and compare the outcomes.

`same(fn)` calls `fn(torch)` and `fn(ember)`; both must return equal results (tensors: values,
dtype, shape and, with strides=True, strides) or raise the same exception type with the same
message. Nested tuples/lists/dicts of results are compared element by element.
"""
import math
import warnings

import numpy as np
import torch

import ember

DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")


class Raised:
    """What a snippet raised, in a comparable form."""

    def __init__(self, exc):
        self.type = type(exc)
        self.message = str(exc)
        self.exc = exc

    def __repr__(self):
        return f"Raised({self.type.__name__}: {self.message!r})"


def outcome(fn, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(lib)
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            return Raised(exc)


def to_numpy(t):
    """A NumPy copy of a torch or ember tensor (bfloat16 as float32 so both sides compare)."""
    t = t.detach()
    if str(t.dtype) == "torch.bfloat16":
        t = t.float()
    return np.array(t.cpu().numpy(), copy=True)


def is_tensor(x):
    return isinstance(x, (torch.Tensor, ember.Tensor))


def assert_tensor_same(theirs, ours, *, strides=False, exact=True, rtol=1e-6, atol=1e-6, path="result"):
    assert isinstance(ours, ember.Tensor), f"{path}: torch gave a Tensor, ember gave {type(ours).__name__}"
    assert str(ours.dtype) == str(theirs.dtype), f"{path}: dtype {ours.dtype} != torch {theirs.dtype}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape {tuple(ours.shape)} != torch {tuple(theirs.shape)}"
    if strides:
        assert tuple(ours.stride()) == tuple(theirs.stride()), \
            f"{path}: stride {ours.stride()} != torch {theirs.stride()}"
    assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad {ours.requires_grad}"
    a, b = to_numpy(ours), to_numpy(theirs)
    if exact or a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif str(theirs.dtype) in ("torch.float16", "torch.bfloat16"):
        # NOTE: half-precision kernels may round differently by an ulp (PyTorch divides by multiplying
        # with the reciprocal, for one); compare to the type's precision.
        np.testing.assert_allclose(a, b, rtol=1e-2 if "bfloat" in str(theirs.dtype) else 2e-3, atol=1e-3,
                                   equal_nan=True, err_msg=path)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=path)


def assert_same(theirs, ours, *, strides=False, exact=True, messages=True, path="result"):
    """Compare two outcomes (values or Raised) recursively."""
    if isinstance(theirs, Raised) or isinstance(ours, Raised):
        assert isinstance(theirs, Raised), f"{path}: ember raised {ours!r}; torch returned {theirs!r}"
        assert isinstance(ours, Raised), f"{path}: torch raised {theirs!r}; ember returned {ours!r}"
        assert ours.type.__name__ == theirs.type.__name__ or issubclass(ours.type, theirs.type), \
            f"{path}: exception type {ours!r} != torch {theirs!r}"
        if messages is True:
            assert ours.message == theirs.message, f"{path}: message\n  ember: {ours.message}\n  torch: {theirs.message}"
        elif messages:  # a substring both must contain
            assert messages in theirs.message, f"{path}: torch message changed: {theirs.message}"
            assert messages in ours.message, f"{path}: message {ours.message!r} lacks {messages!r}"
        return
    if is_tensor(theirs):
        assert_tensor_same(theirs, ours, strides=strides, exact=exact, path=path)
    elif isinstance(theirs, torch.Size):
        assert isinstance(ours, ember.Size), f"{path}: {type(ours).__name__} is not a torch.Size"
        assert tuple(ours) == tuple(theirs), f"{path}: {ours} != {theirs}"
    elif isinstance(theirs, torch.dtype):
        assert isinstance(ours, ember.dtype), f"{path}: {ours!r} is not a dtype"
        assert repr(ours) == repr(theirs), f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, torch.device):
        assert isinstance(ours, ember.device), f"{path}: {ours!r} is not a device"
        assert repr(ours) == repr(theirs) and str(ours) == str(theirs), f"{path}: {ours!r} != {theirs!r}"
    elif isinstance(theirs, (tuple, list)):
        assert type(ours).__name__ == type(theirs).__name__ or (
            type(theirs) in (tuple, list) and type(ours) is type(theirs)), \
            f"{path}: type {type(ours).__name__} != torch {type(theirs).__name__}"
        assert len(ours) == len(theirs), f"{path}: length {len(ours)} != torch {len(theirs)}"
        for i, (t, o) in enumerate(zip(theirs, ours)):
            assert_same(t, o, strides=strides, exact=exact, messages=messages, path=f"{path}[{i}]")
    elif isinstance(theirs, dict):
        assert set(ours) == set(theirs), f"{path}: keys {set(ours)} != {set(theirs)}"
        for k in theirs:
            assert_same(theirs[k], ours[k], strides=strides, exact=exact, messages=messages, path=f"{path}[{k!r}]")
    elif isinstance(theirs, float) and math.isnan(theirs):
        assert isinstance(ours, float) and math.isnan(ours), f"{path}: {ours!r} != nan"
    else:
        assert type(ours) is type(theirs), f"{path}: type {type(ours).__name__} != torch {type(theirs).__name__}"
        assert ours == theirs, f"{path}: {ours!r} != torch {theirs!r}"


def same(fn, *, strides=False, exact=True, messages=True):
    """fn(torch) and fn(ember) give the same outcome; returns (torch's, ember's)."""
    theirs = outcome(fn, torch)
    ours = outcome(fn, ember)
    assert_same(theirs, ours, strides=strides, exact=exact, messages=messages)
    return theirs, ours


def dtype_of(lib, name):
    return getattr(lib, name)
