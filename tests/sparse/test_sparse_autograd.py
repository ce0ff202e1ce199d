"""Autograd through sparse COO tensors against PyTorch: the gradient of the values a sparse tensor is built
from, the (sparse, masked) gradient of a sparse leaf, gradcheck in float64, printing with grad_fn; and the
products with sparse operands (torch.mm / matmul / mv / addmm / @ and the legacy smm, hsmm, hspmm, dsmm,
spmm, sspaddmm, saddmm)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host
from tests.sparse._repr import assert_same_repr

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

INDICES = [[0, 1, 1, 0], [2, 0, 2, 2]]  # NOTE: (0, 2) twice: an uncoalesced tensor
VALUES = [3., 4., 5., -1.]
DENSE = [[0.5, -1.], [2., 0.25], [-0.75, 1.5]]
WEIGHT = [[1., 2., 3.], [4., 5., 6.]]

OPS = {
    "to_dense": lambda lib, s, d: s.to_dense() * lib.tensor(WEIGHT, dtype=s.dtype, device=d.device),
    "to_dense unmasked": lambda lib, s, d: s.to_dense(masked_grad=False) * lib.tensor(WEIGHT, device=d.device),
    "add mul": lambda lib, s, d: (s + s) * 2.0,
    "sub": lambda lib, s, d: s - s * 3,
    "div neg": lambda lib, s, d: -(s / 4),
    "mul 0-d": lambda lib, s, d: s * lib.tensor(2.5, device=d.device),
    "coalesce": lambda lib, s, d: s.coalesce() * 3,
    "values": lambda lib, s, d: s.coalesce().values() ** 2,
    "sparse.mm": lambda lib, s, d: lib.sparse.mm(s, d),
    "sparse.addmm": lambda lib, s, d: lib.sparse.addmm(lib.ones(2, 2, device=d.device), s, d, beta=0.5, alpha=2.),
    "mm": lambda lib, s, d: lib.mm(s, d),
    "matmul": lambda lib, s, d: s @ d,
    "mv": lambda lib, s, d: lib.mv(s, d[:, 0]),
    "sum": lambda lib, s, d: lib.sparse.sum(s) * 2,
    "sum dim": lambda lib, s, d: lib.sparse.sum(s, 1),
    "dense + sparse": lambda lib, s, d: lib.ones(2, 3, device=d.device) + s,
    "clone": lambda lib, s, d: s.clone(),
    "double": lambda lib, s, d: s.double(),
    "t": lambda lib, s, d: s.t(),
}


def _inputs(lib, device, leaf, dtype="float32"):
    dt = getattr(lib, dtype)
    values = lib.tensor(VALUES, dtype=dt, device=device, requires_grad=not leaf)
    dense = lib.tensor(DENSE, dtype=dt, device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = lib.sparse_coo_tensor(lib.tensor(INDICES, device=device), values, (2, 3), requires_grad=leaf)
    return values, s, dense


def _dense_np(t):
    t = t.to_dense() if t.is_sparse else t
    return host(t).detach().numpy()


def _backward(lib, out):
    out = out.to_dense() if out.is_sparse else out
    weights = lib.arange(out.numel(), dtype=out.dtype, device=out.device).reshape(out.shape) / 3 - 1
    (out * weights).sum().backward()


@pytest.mark.parametrize("leaf", (False, True), ids=("from values", "sparse leaf"))
@pytest.mark.parametrize("name", list(OPS))
def test_gradients_as_pytorch(name, leaf):
    results = []
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        values, s, dense = _inputs(lib, device, leaf)
        out = OPS[name](lib, s, dense)
        assert out.requires_grad
        _backward(lib, out)
        results.append((out, values, s, dense))
    (t_out, t_values, t_s, t_dense), (e_out, e_values, e_s, e_dense) = results
    assert e_out.is_sparse == t_out.is_sparse and e_out.dtype == getattr(ember, str(t_out.dtype)[6:])
    np.testing.assert_allclose(_dense_np(e_out), _dense_np(t_out), rtol=1e-6)
    if leaf:
        assert e_s.grad.is_sparse == t_s.grad.is_sparse
        if t_s.grad.is_sparse:
            assert e_s.grad._nnz() == t_s.grad._nnz()
        np.testing.assert_allclose(_dense_np(e_s.grad), _dense_np(t_s.grad), rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_allclose(_dense_np(e_values.grad), t_values.grad.numpy(), rtol=1e-6, atol=1e-7)
    if t_dense.grad is None:
        assert e_dense.grad is None
    else:
        np.testing.assert_allclose(_dense_np(e_dense.grad), t_dense.grad.numpy(), rtol=1e-6, atol=1e-7)


GRADCHECKED = ("to_dense", "add mul", "sub", "div neg", "coalesce", "values", "sparse.mm", "sparse.addmm", "mm",
               "sum", "sum dim", "dense + sparse", "t")


@pytest.mark.parametrize("name", GRADCHECKED)
def test_gradcheck_through_the_values(name):
    """Finite differences in float64, through a function of the values (and of the dense operand)."""
    indices = ember.tensor(INDICES, device=DEVICE)

    def f(values, dense):
        s = ember.sparse_coo_tensor(indices, values, (2, 3))
        out = OPS[name](ember, s, dense)
        return out.to_dense() if out.is_sparse else out

    values = ember.tensor(VALUES, dtype=ember.float64, device=DEVICE, requires_grad=True)
    dense = ember.tensor(DENSE, dtype=ember.float64, device=DEVICE, requires_grad=True)
    assert ember.autograd.gradcheck(f, (values, dense))
    assert ember.autograd.gradgradcheck(f, (values, dense))


def test_printing_with_gradients_and_refusals():
    for (lib, device) in ((torch, "cpu"), (ember, DEVICE)):
        values, s, dense = _inputs(lib, device, leaf=True)
        assert s.requires_grad and s.is_leaf and s.grad_fn is None
    t = _inputs(torch, "cpu", True)[1]
    e = _inputs(ember, DEVICE, True)[1]
    for op in (lambda s: s, lambda s: s * 2, lambda s: s.coalesce(), lambda s: s.to_dense(), lambda s: s.t()):
        assert_same_repr(op(e), op(t))
    with pytest.raises(RuntimeError, match="floating point"):
        ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor([1, 2, 3, 4]), requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.sparse_coo_tensor(torch.tensor(INDICES), torch.tensor([1, 2, 3, 4]), requires_grad=True)
    assert not e.detach().requires_grad and not e._values().requires_grad
    with pytest.raises(RuntimeError, match="uncoalesced"):
        e.values()


def _sparse_pair(lib, device):
    s = lib.sparse_coo_tensor(lib.tensor(INDICES, device=device), lib.tensor(VALUES, device=device), (2, 3))
    s2 = lib.sparse_coo_tensor(lib.tensor([[0, 1], [1, 1]], device=device), lib.tensor([1., 2.], device=device),
                               (2, 2))
    return s, s2, lib.tensor(DENSE, device=device)


PRODUCTS = {
    "smm": lambda lib, s, s2, d: lib.smm(s, d),
    "Tensor.smm": lambda lib, s, s2, d: s.smm(d),
    "hsmm": lambda lib, s, s2, d: lib.hsmm(s, d),
    "hspmm": lambda lib, s, s2, d: lib.hspmm(s, d),
    "dsmm": lambda lib, s, s2, d: lib.dsmm(s, d),
    "spmm": lambda lib, s, s2, d: lib.spmm(s, d),
    "sspaddmm": lambda lib, s, s2, d: lib.sspaddmm(s2, s, d, beta=2, alpha=3),
    "saddmm": lambda lib, s, s2, d: lib.saddmm(s2, s, d, beta=2, alpha=3),
    "Tensor.sspaddmm": lambda lib, s, s2, d: s2.sspaddmm(s, d),
    "mm dense sparse": lambda lib, s, s2, d: lib.mm(d.t(), s.t()),
    "dense @ sparse": lambda lib, s, s2, d: d.t() @ s.t(),
    "mm sparse sparse": lambda lib, s, s2, d: lib.mm(s, s.t()),
    "addmm": lambda lib, s, s2, d: lib.addmm(lib.ones(2, 2, device=d.device), s, d, alpha=2),
    "Tensor.mm": lambda lib, s, s2, d: s.mm(d),
    "smm of zeros": lambda lib, s, s2, d: lib.smm(s, d * 0),
}


@pytest.mark.parametrize("name", list(PRODUCTS))
def test_products_with_sparse_operands_as_pytorch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = PRODUCTS[name](torch, *_sparse_pair(torch, "cpu"))
        e = PRODUCTS[name](ember, *_sparse_pair(ember, DEVICE))
    if t.is_sparse:
        assert_same_repr(e, t)
    else:
        assert not e.is_sparse
        np.testing.assert_allclose(_dense_np(e), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ("smm", "hspmm", "sspaddmm"))
def test_legacy_products_refuse_dense_inputs_as_pytorch(name):
    calls = {"smm": lambda lib, s, s2, d: lib.smm(s.to_dense(), d),
             "hspmm": lambda lib, s, s2, d: lib.hspmm(s.to_dense(), d),
             "sspaddmm": lambda lib, s, s2, d: lib.sspaddmm(s2, s.to_dense(), d)}
    with pytest.raises(Exception) as t_err:
        calls[name](torch, *_sparse_pair(torch, "cpu"))
    with pytest.raises(Exception) as e_err:
        calls[name](ember, *_sparse_pair(ember, DEVICE))
    assert e_err.type is t_err.type


def test_dense_add_of_a_sparse_tensor_records_the_graph():
    grads = []
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = lib.tensor([1., 2.], device=device, requires_grad=True)
            s = lib.sparse_coo_tensor(lib.tensor([[0, 1]], device=device), v, (3,))
        w = lib.ones(3, device=device, requires_grad=True)
        d = w * 1
        d.add_(s, alpha=2)
        (d * lib.tensor([1., 2., 3.], device=device)).sum().backward()
        grads.append((v.grad, w.grad))
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            lib.ones(3, device=device, requires_grad=True).add_(s)
    for e, t in zip(grads[1], grads[0]):
        np.testing.assert_allclose(host(e).numpy(), t.numpy())


@pytest.mark.parametrize("op", ("mul_", "div_", "add_", "zero_"))
def test_in_place_ops_refuse_a_sparse_leaf_that_requires_grad(op):
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        s = lib.tensor([[0., 1.5, 0.], [2., 0., -1.]], device=device).to_sparse().requires_grad_()
        args = {"mul_": (2,), "div_": (2,), "add_": (s.detach(),), "zero_": ()}[op]
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(s, op)(*args)
        with lib.no_grad():
            getattr(s, op)(*args)
