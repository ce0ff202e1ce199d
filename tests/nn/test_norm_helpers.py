"""Helpers shared by the normalisation tests (no tests here): paired torch/ember inputs (bfloat16 too)."""
import numpy as np
import torch

import ember
from tests.nn._nn_helpers import to_ember


def to_ember_any(t):
    """to_ember that also carries bfloat16 (NumPy has no bfloat16: through float32)."""
    if t.dtype is torch.bfloat16:
        return to_ember(t.float(), False).to(ember.bfloat16).requires_grad_(t.requires_grad)
    return to_ember(t)


def close_any(e, t, tol):
    """Same dtype and shape, values within tol (compared in float32 for half types)."""
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.float().detach().numpy(), t.float().detach().numpy(), rtol=tol, atol=tol)


def pair(shape, dtype=torch.float32, seed=0, requires_grad=True, scale=2.0, shift=0.5):
    g = torch.Generator().manual_seed(seed)
    t = (torch.randn(shape, generator=g, dtype=torch.float64) * scale + shift).to(dtype)
    t.requires_grad_(requires_grad)
    return t, to_ember_any(t)


def backward_both(ty, ey, seed=1):
    g = torch.randn(ty.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(ty.dtype)
    ty.backward(g)
    ey.backward(to_ember_any(g))


def randomize_affine(tm):
    """Non-trivial weight/bias on a torch module (the defaults 1/0 hide mistakes)."""
    with torch.no_grad():
        if getattr(tm, "weight", None) is not None:
            tm.weight.uniform_(0.5, 1.5)
        if getattr(tm, "bias", None) is not None:
            tm.bias.uniform_(-1, 1)
