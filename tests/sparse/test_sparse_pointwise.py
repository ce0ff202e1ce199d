"""Elementwise ops on sparse tensors against PyTorch: the zero-preserving unary ops (methods and torch.*),
pow, sum, products with numbers, dense and sparse tensors; their gradients and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host
from tests.sparse._repr import assert_same_repr

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state")

UNARY = ("abs", "sqrt", "relu", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh", "atanh", "expm1", "log1p",
         "sign", "sgn", "trunc", "floor", "ceil", "round", "erf", "erfinv", "deg2rad", "rad2deg", "frac", "signbit",
         "isnan", "isinf", "isposinf", "isneginf", "square")
DENSE = [[0., 0.5, 0.], [0.25, 0., -0.75], [0., 0., 0.5]]


def _coo(lib, d, values=(0.5, 0.25, -0.5, -0.25)):
    """Uncoalesced: (0, 1) is stored twice."""
    return lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0], [1, 0, 2, 1]], device=d), lib.tensor(values, device=d),
                                 (3, 3))


def _csr(lib, d):
    return lib.tensor(DENSE, device=d).to_sparse_csr()


def _outcome(build):
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, device in ((torch, "cpu"), (ember, DEVICE)):
            try:
                results.append(build(lib, device))
            except (RuntimeError, NotImplementedError) as e:
                results.append(type(e))
    return results


def _same(build):
    t, e = _outcome(build)
    if isinstance(t, type):
        assert e is t
    elif t.layout == torch.strided:
        assert not isinstance(e, type) and e.layout == ember.strided and str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(host(e).detach().numpy(), t.detach().numpy(), rtol=1e-6)
    else:
        assert not isinstance(e, type), e
        assert_same_repr(e, t)


@pytest.mark.parametrize("layout", ("coo", "csr"))
@pytest.mark.parametrize("name", UNARY)
def test_zero_preserving_unary_ops_as_pytorch(name, layout):
    make = _coo if layout == "coo" else _csr
    _same(lambda lib, d: getattr(lib, name)(make(lib, d)))
    _same(lambda lib, d: getattr(make(lib, d), name)())


CASES = {
    "pow 2": lambda lib, d: _coo(lib, d) ** 2,
    "pow 0.5": lambda lib, d: _coo(lib, d).abs().pow(0.5),
    "pow -1": lambda lib, d: _coo(lib, d) ** -1,
    "pow 0": lambda lib, d: _coo(lib, d) ** 0,
    "torch.pow": lambda lib, d: lib.pow(_coo(lib, d), 3),
    "csr pow": lambda lib, d: _csr(lib, d) ** 2,
    "sum": lambda lib, d: _coo(lib, d).sum(),
    "sum dim 0": lambda lib, d: _coo(lib, d).sum(0),
    "sum dims": lambda lib, d: lib.sum(_coo(lib, d), (0, 1)),
    "torch.sum": lambda lib, d: lib.sum(_coo(lib, d)),
    "csr sum": lambda lib, d: _csr(lib, d).sum(),
    "csr sum dim": lambda lib, d: _csr(lib, d).sum(0),
    "coo * dense": lambda lib, d: _coo(lib, d) * lib.tensor(DENSE, device=d),
    # NOTE: PyTorch multiplies an uncoalesced sparse tensor by a sparse one into other stored entries (the
    # same dense values): compared through to_dense()
    "coo * coo": lambda lib, d: (_coo(lib, d) * _coo(lib, d)).to_dense(),
    "coo * coalesced coo": lambda lib, d: _coo(lib, d).coalesce() * _coo(lib, d).coalesce(),
    "coo * other coo": lambda lib, d: (_coo(lib, d) * lib.tensor(DENSE, device=d).to_sparse()).to_dense(),
    "torch.mul coo dense": lambda lib, d: lib.mul(_coo(lib, d), lib.tensor(DENSE, device=d)),
    "coo * 0-d": lambda lib, d: _coo(lib, d) * lib.tensor(3., device=d),
    "coo * float64 dense": lambda lib, d: _coo(lib, d) * lib.tensor(DENSE, dtype=lib.float64, device=d),
    "csr * csr": lambda lib, d: _csr(lib, d) * _csr(lib, d),
    "csr * dense": lambda lib, d: _csr(lib, d) * lib.tensor(DENSE, device=d),
    "dense * coo": lambda lib, d: lib.tensor(DENSE, device=d) * _coo(lib, d).coalesce(),
    "torch.mul dense coo": lambda lib, d: lib.mul(lib.tensor(DENSE, device=d), _coo(lib, d).coalesce()),
    "Tensor.mul dense coo": lambda lib, d: lib.tensor(DENSE, device=d).mul(_coo(lib, d).coalesce()),
    "dense - coo": lambda lib, d: lib.tensor(DENSE, device=d) - _coo(lib, d),
    "dense - csr": lambda lib, d: lib.tensor(DENSE, device=d) - _csr(lib, d),
    "coo - dense": lambda lib, d: _coo(lib, d) - lib.tensor(DENSE, device=d),
    "coo * wrong shape": lambda lib, d: _coo(lib, d) * lib.ones(2, 3, device=d),
    "coo.is_contiguous": lambda lib, d: lib.tensor(_coo(lib, d).is_contiguous()),
    "csr.is_contiguous": lambda lib, d: lib.tensor(_csr(lib, d).is_contiguous()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pow_sum_mul_as_pytorch(case):
    _same(CASES[case])


GRADS = {
    "abs": lambda lib, s, w: s.abs(),
    # NOTE: PyTorch has no sparse kernels for most unary ops' backward (sin, tanh: NotImplementedError);
    # ember's are gradchecked below
    "pow": lambda lib, s, w: s ** 3,
    "sum": lambda lib, s, w: s.sum() * lib.ones(3, 3, device=w.device),
    "mul dense": lambda lib, s, w: s * w,
    "mul sparse": lambda lib, s, w: s * (w * 2).to_sparse(),
}


@pytest.mark.parametrize("leaf", (False, True), ids=("from values", "sparse leaf"))
@pytest.mark.parametrize("case", list(GRADS))
def test_gradients_as_pytorch(case, leaf):
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, device in ((torch, "cpu"), (ember, DEVICE)):
            values = lib.tensor([0.5, 0.25, -0.5, -0.25], device=device, requires_grad=not leaf)
            s = lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0], [1, 0, 2, 1]], device=device), values, (3, 3),
                                      requires_grad=leaf)
            w = lib.tensor(DENSE, device=device, requires_grad=True)
            out = GRADS[case](lib, s, w)
            out = out.to_dense() if out.layout != lib.strided else out
            (out * (lib.arange(out.numel(), dtype=out.dtype, device=device).reshape(out.shape) - 2)).sum().backward()
            grad = s.grad if leaf else values.grad
            results.append(tuple(g if g is None or g.layout == lib.strided else g.to_dense() for g in (grad, w.grad)))
    for e, t in zip(results[1], results[0]):
        if t is None:
            assert e is None
        else:
            np.testing.assert_allclose(host(e).numpy(), t.numpy(), rtol=1e-5, atol=1e-7)


def test_unary_gradcheck_through_the_values():
    indices = ember.tensor([[0, 1, 1, 0], [1, 0, 2, 1]], device=DEVICE)

    def f(values, w):
        s = ember.sparse_coo_tensor(indices, values, (3, 3))
        return (ember.tanh(s) * w + s.abs().sqrt() + s ** 2).to_dense()

    values = ember.tensor([0.5, 0.25, -0.7, -0.25], dtype=ember.float64, device=DEVICE, requires_grad=True)
    w = ember.tensor(DENSE, dtype=ember.float64, device=DEVICE, requires_grad=True)
    assert ember.autograd.gradcheck(f, (values, w))
