"""Side-by-side helpers for the autograd tests: run one program on real PyTorch and on ember, compare.

A test writes its computation once as `fn(torch)` and calls `same(fn)`; the helper runs it with the
`torch` module and with the `ember` module and compares whatever comes back, recursively: tensors by
values, shape, dtype, requires_grad, is_leaf and grad_fn name; numbers, strings, None, tuples, lists
and dicts by equality. `same_error(fn)` checks that both raise the same exception type and message.
"""
import math
import re
import warnings

import numpy as np
import torch

import ember


def array_of(t):
    """The values of a torch or ember tensor as a NumPy array (without touching its graph)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = t.detach()
    if isinstance(t, torch.Tensor):
        return d.cpu().numpy()
    return np.asarray(d.numpy())


def grad_fn_name(t):
    fn = t.grad_fn
    return None if fn is None else type(fn).__name__


def compare(expected, actual, path="result", rtol=1e-5, atol=1e-6, grad_fn=True):
    """Assert that `actual` (from ember) matches `expected` (from torch).

    grad_fn=False skips grad_fn names (those of double-backward graphs are PyTorch internals)."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, ember.Tensor), f"{path}: expected a Tensor, got {type(actual).__name__}"
        assert tuple(actual.shape) == tuple(expected.shape), f"{path}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
        assert str(actual.dtype) == str(expected.dtype), f"{path}: dtype {actual.dtype} != {expected.dtype}"
        assert actual.requires_grad == expected.requires_grad, (
            f"{path}: requires_grad {actual.requires_grad} != {expected.requires_grad}")
        assert actual.is_leaf == expected.is_leaf, f"{path}: is_leaf {actual.is_leaf} != {expected.is_leaf}"
        assert not grad_fn or grad_fn_name(actual) == grad_fn_name(expected), (
            f"{path}: grad_fn {grad_fn_name(actual)} != {grad_fn_name(expected)}")
        e, a = array_of(expected), array_of(actual)
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=path)
        else:
            np.testing.assert_array_equal(a, e, err_msg=path)
    elif isinstance(expected, torch.dtype):
        assert str(actual) == str(expected), f"{path}: {actual} != {expected}"
    elif isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)), f"{path}: expected a sequence, got {type(actual).__name__}"
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{path}[{i}]", rtol, atol, grad_fn)
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for k in expected:
            compare(expected[k], actual[k], f"{path}[{k!r}]", rtol, atol, grad_fn)
    elif isinstance(expected, float):
        assert isinstance(actual, (int, float)), f"{path}: expected a float, got {type(actual).__name__}"
        assert math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol) or (
            math.isnan(actual) and math.isnan(expected)), f"{path}: {actual} != {expected}"
    else:
        assert type(actual) is type(expected), f"{path}: type {type(actual).__name__} != {type(expected).__name__}"
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def same(fn, rtol=1e-5, atol=1e-6, grad_fn=True):
    """Run fn(torch) and fn(ember); assert the results match. Returns both results."""
    expected = fn(torch)
    actual = fn(ember)
    compare(expected, actual, rtol=rtol, atol=atol, grad_fn=grad_fn)
    return expected, actual


def outcome(fn, lib):
    try:
        fn(lib)
    except Exception as exc:  # noqa: BLE001 - we compare whatever was raised
        return type(exc), str(exc)
    return None, None


def same_error(fn, exact=True):
    """Assert fn(torch) and fn(ember) raise the same exception type with the same message.

    exact=False compares only the first line of the message (PyTorch sometimes appends detail)."""
    t_type, t_msg = outcome(fn, torch)
    assert t_type is not None, "torch raised nothing: the test itself is wrong"
    e_type, e_msg = outcome(fn, ember)
    assert e_type is not None, f"ember raised nothing; torch raised {t_type.__name__}: {t_msg}"
    assert _public_type(e_type) == _public_type(t_type), f"{e_type.__name__}({e_msg}) != {t_type.__name__}({t_msg})"
    if not exact:
        t_msg, e_msg = t_msg.splitlines()[0], e_msg.splitlines()[0]
    assert e_msg == t_msg, f"message differs:\n ember: {e_msg}\n torch: {t_msg}"
    return t_msg


def _public_type(cls):
    """The builtin exception class a PyTorch exception is (torch.AcceleratorError etc. subclass them)."""
    for base in cls.__mro__:
        if base.__module__ == "builtins":
            return base
    return cls


def warnings_of(fn, lib):
    """The messages of the warnings fn(lib) emits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(lib)
    return [_TRIGGERED.sub("", str(w.message)) for w in caught if not issubclass(w.category, DeprecationWarning)]


# PyTorch's C++ warnings end with where they were raised in its build tree; not part of the message.
_TRIGGERED = re.compile(r" \(Triggered internally at [^)]*\)$")
