"""Complex autograd against PyTorch: products conjugate the other factor, holomorphic functions
give grad * conj(f'(z)); ops whose backward is written for real inputs only refuse complex inputs
instead of returning a wrong gradient."""
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
    ("pow", lambda lib, a, b: (a ** b).real.sum() + (2 ** a).imag.sum() + (a ** 1.5).real.sum()),
])
def test_complex_product_gradients_match_torch(name, fn):
    for e, t in zip(_grads(ember, fn), _grads(torch, fn)):
        np.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


HOLOMORPHIC = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "sin",
               "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sinc",
               "sigmoid", "neg", "square", "prod", "abs"]


@pytest.mark.parametrize("op", HOLOMORPHIC)
def test_pointwise_complex_gradients_match_torch(op):
    z = (np.array([0.3, 0.9, 1.2, 0.5]) + 1j * np.array([0.4, -0.7, 0.2, -0.1])).astype(np.complex128)
    grads = []
    for lib in (torch, ember):
        x = lib.from_numpy(z.copy()).requires_grad_()
        out = getattr(lib, op)(x)
        loss = (out.real.sum() + 0.3 * out.imag.sum()) if out.is_complex() else out.sum()
        loss.backward()
        grads.append(x.grad.resolve_conj().detach().numpy() if lib is torch else x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


def test_complex_second_derivative_matches_torch():
    z = np.array([0.3 + 0.4j, 1.2 - 0.7j], dtype=np.complex128)
    grads = []
    for lib in (torch, ember):
        x = lib.from_numpy(z.copy()).requires_grad_()
        (g,) = lib.autograd.grad(x.exp().sin().real.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g.conj()).real.sum(), x)
        grads.append(gg.resolve_conj().detach().numpy() if lib is torch else gg.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10)


@pytest.mark.parametrize("op", ["sgn", "cumprod"])
def test_real_only_backward_refuses_complex(op):
    z = ember.from_numpy(Z1.copy()).requires_grad_()
    out = z.cumprod(0) if op == "cumprod" else getattr(z, op)()
    loss = (out.real if out.is_complex() else out).sum()
    with pytest.raises(NotImplementedError, match="complex"):
        loss.backward()


def test_real_inputs_unaffected():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * np.array([2.0, 3.0]), rtol=1e-6)
