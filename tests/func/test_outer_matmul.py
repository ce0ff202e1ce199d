"""matmul with an inner dim of 1 (the per-example outer products of vmap(grad) through Linear): computed as a
broadcast multiply (ember/_ops/linalg/matmul.py), it must give PyTorch's values, dtypes, shapes and gradients."""
import numpy as np
import pytest
import torch

import ember

SHAPES = [((5, 3, 1), (5, 1, 4)), ((3, 1), (2, 1, 4)), ((2, 1, 3, 1), (4, 1, 2)), ((7, 1), (1, 6)),
          ((2, 3, 1), (1, 4)), ((1, 1), (3, 1, 1)), ((0, 3, 1), (0, 1, 2)), ((4, 2, 1), (4, 1, 0))]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex128"])
@pytest.mark.parametrize("sa, sb", SHAPES)
def test_inner_dim_one_matches_torch(sa, sb, dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa) * 3, rng.standard_normal(sb) * 3
    if dtype == "complex128":
        a, b = a + 1j * rng.standard_normal(sa), b - 2j * rng.standard_normal(sb)
    a, b = a.astype(dtype), b.astype(dtype)
    got = ember.matmul(ember.tensor(a), ember.tensor(b))
    want = torch.matmul(torch.tensor(a), torch.tensor(b))
    assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("sa, sb", SHAPES[:6])
def test_inner_dim_one_gradients(sa, sb):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    grads = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = lib.matmul(x, y)
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-12)
    x, y = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    assert ember.autograd.gradcheck(ember.matmul, (x, y))
