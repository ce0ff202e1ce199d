"""Complex autograd against PyTorch: products conjugate the other factor; ops whose backward is
written for real inputs refuse complex inputs instead of returning a wrong gradient."""
import numpy as np
import pytest
import torch

import ember

Z1 = np.array([1 + 2j, -0.5 + 1j, 3 - 1j], dtype=np.complex128)
Z2 = np.array([0.5 - 1j, 2 + 0.5j, -1 + 1j], dtype=np.complex128)


def _grads(lib, fn):
    a = lib.from_numpy(Z1.copy()).requires_grad_()
    b = lib.from_numpy(Z2.copy()).requires_grad_()
    fn(lib, a, b).backward()
    return [np.asarray(t.grad.resolve_conj().detach().numpy() if lib is torch else t.grad.numpy()) for t in (a, b)]


@pytest.mark.parametrize("name,fn", [
    ("mul.real", lambda lib, a, b: (a * b).real.sum()),
    ("mul.imag", lambda lib, a, b: (a * b).imag.sum()),
    ("square", lambda lib, a, b: (a * a).real.sum() + (b * 2j).imag.sum()),
    ("div", lambda lib, a, b: (a / b).real.sum()),
    ("rdiv", lambda lib, a, b: (2 / a).imag.sum() + (b * a.conj()).real.sum()),
    ("abs of product", lambda lib, a, b: (a * b).abs().sum()),
])
def test_complex_product_gradients_match_torch(name, fn):
    for e, t in zip(_grads(ember, fn), _grads(torch, fn)):
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["exp", "sin", "sqrt", "sigmoid", "log"])
def test_real_only_backward_refuses_complex(op):
    z = ember.from_numpy(Z1.copy()).requires_grad_()
    out = getattr(z, op)()
    loss = (out.real if out.is_complex() else out).sum()
    with pytest.raises(NotImplementedError, match="complex"):
        loss.backward()


def test_real_inputs_unaffected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * np.array([2.0, 3.0]), rtol=1e-6)
