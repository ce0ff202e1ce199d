"""Helpers for the distribution tests: build the same distribution in torch and in ember from the same float64
parameters, and compare a quantity's values and its gradients with respect to every tensor parameter.

`check(name, params, fn)`: `params` maps argument names to arrays (tensors requiring grad in both libraries)
or to other values (passed as they are); `fn(module, dist)` computes the quantity from either library
(`module` is torch or ember). Values must agree to 1e-10 relative (NaN where torch has NaN, inf where torch
has inf) and so must the gradients of a random weighting of the finite outputs.
"""
import numpy as np
import pytest
import torch

import ember


def arr(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    if isinstance(t, ember.Tensor):
        return np.asarray(t.detach().numpy())
    return np.asarray(t)


def build(module, name, params, frozen=(), **kw):
    """The distribution `name` of `module.distributions`, with array params as float64 leaves requiring grad
    (except those named in `frozen`)."""
    leaves = {}
    args = {}
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            wants_grad = value.dtype.kind == "f" and key not in frozen
            leaf = module.tensor(value, dtype=module.float64, requires_grad=wants_grad)
            leaves[key] = leaf
            args[key] = leaf
        else:
            args[key] = value
    cls = module.distributions
    for part in name.split("."):   # "relaxed_bernoulli.LogitRelaxedBernoulli": a class not at package level
        cls = getattr(cls, part)
    return cls(**args, **kw), leaves


def assert_close(got, want, rtol=1e-10, atol=1e-12):
    got, want = arr(got), arr(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def check(name, params, fn, rtol=1e-10, atol=1e-12, grad=True, frozen=(), **kw):
    """Compare fn(torch, torch_dist) with fn(ember, ember_dist): values, dtype, and gradients.
    float32 results (from Python-number parameters) are compared to float32 precision."""
    t_dist, t_leaves = build(torch, name, params, frozen, **kw)
    e_dist, e_leaves = build(ember, name, params, frozen, **kw)
    t_leaves = {k: v for k, v in t_leaves.items() if v.requires_grad}
    e_leaves = {k: v for k, v in e_leaves.items() if v.requires_grad}
    try:
        want = fn(torch, t_dist)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            fn(ember, e_dist)
        return
    got = fn(ember, e_dist)
    if want.dtype == torch.float32:
        rtol, atol = max(rtol, 2e-6), max(atol, 1e-7)
    assert_close(got, want, rtol, atol)
    assert str(got.dtype) == str(want.dtype)
    if not grad or not want.requires_grad:
        assert not got.requires_grad or not grad
        return
    assert got.requires_grad
    finite = np.isfinite(arr(want))
    weights = np.random.default_rng(0).standard_normal(want.shape) * finite
    names = list(t_leaves)
    t_out = (want.masked_fill(torch.tensor(~finite), 0) * torch.tensor(weights)).sum()
    e_out = (got.masked_fill(ember.tensor(~finite), 0) * ember.tensor(weights)).sum()
    t_grads = torch.autograd.grad(t_out, [t_leaves[n] for n in names], allow_unused=True)
    e_grads = ember.autograd.grad(e_out, [e_leaves[n] for n in names], allow_unused=True)
    for n, tg, eg in zip(names, t_grads, e_grads):
        if tg is None:
            assert eg is None or not np.any(arr(eg)), n
        else:
            assert eg is not None, f"no gradient for {n}"
            assert_close(eg, tg, rtol=max(rtol, 1e-9), atol=max(atol, 1e-10))


def same_error(fn):
    """fn(module) raises the same exception type and message in torch and ember."""
    with pytest.raises(Exception) as want:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ember)
    assert type(got.value).__name__ == type(want.value).__name__
    assert str(got.value) == str(want.value)


def moments(samples, mean, var, axis=0, sigmas=5):
    """The sample mean lies within `sigmas` standard errors of `mean` and the sample variance is near `var`."""
    samples = arr(samples).astype(np.float64)
    mean, var = np.broadcast_to(arr(mean), samples.shape[1:]), np.broadcast_to(arr(var), samples.shape[1:])
    n = samples.shape[axis]
    err = np.sqrt(var / n)
    assert np.all(np.abs(samples.mean(axis) - mean) <= sigmas * err + 1e-12), (samples.mean(axis), mean)
    # NOTE: a loose check on the variance (its standard error depends on the fourth moment).
    np.testing.assert_allclose(samples.var(axis), var, rtol=0.1, atol=1e-3)
