"""Sparse compressed tensors (CSR, CSC, BSR, BSC) against PyTorch: construction, conversion between every
layout, printing, structure methods, arithmetic, products with dense matrices, errors, and gradients (of the
values they are built from, and of a compressed leaf), gradcheck in float64."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host
from tests.sparse._repr import assert_same_repr

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state")

DENSE = [[0., 1.5, 0., 2.], [2., 0., -1., 0.], [0., 0., 0., 0.], [1., 0., 0., 3.]]


def _outcome(build):
    """build(lib, device) for torch and ember: a result (repr / values) or the exception type."""
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, device in ((torch, "cpu"), (ember, DEVICE)):
            try:
                results.append(build(lib, device))
            except (RuntimeError, NotImplementedError, TypeError) as e:
                results.append(type(e))
    return results


def _same(build):
    t, e = _outcome(build)
    if isinstance(t, type):
        assert e is t, e
    elif isinstance(t, torch.Tensor) and t.layout != torch.strided:
        assert str(e.layout) == str(t.layout)
        assert_same_repr(e, t)
    elif isinstance(t, torch.Tensor):
        assert not isinstance(e, type) and e.layout == ember.strided and str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(host(e).detach().numpy(), t.detach().numpy(), rtol=1e-6)
    else:
        assert e == t


def _d(lib, device, dtype="float32"):
    return lib.tensor(DENSE, dtype=getattr(lib, dtype), device=device)


CONVERSIONS = {
    "csr": lambda lib, d: _d(lib, d).to_sparse_csr(),
    "csc": lambda lib, d: _d(lib, d).to_sparse_csc(),
    "bsr": lambda lib, d: _d(lib, d).to_sparse_bsr((2, 2)),
    "bsc": lambda lib, d: _d(lib, d).to_sparse_bsc((2, 2)),
    "bsr 2x1": lambda lib, d: _d(lib, d).to_sparse_bsr((2, 1)),
    "bsc 1x2": lambda lib, d: _d(lib, d).to_sparse_bsc((1, 2)),
    "float64 csr": lambda lib, d: _d(lib, d, "float64").to_sparse_csr(),
    "int64 csc": lambda lib, d: _d(lib, d, "int64").to_sparse_csc(),
    "to_sparse(layout=csr)": lambda lib, d: _d(lib, d).to_sparse(layout=lib.sparse_csr),
    "to_sparse(layout=bsr)": lambda lib, d: _d(lib, d).to_sparse(layout=lib.sparse_bsr, blocksize=(2, 2)),
    "to_sparse(layout=bsr) without blocksize": lambda lib, d: _d(lib, d).to_sparse(layout=lib.sparse_bsr),
    "to_sparse_bsr() without blocksize": lambda lib, d: _d(lib, d).to_sparse_bsr(),
    "bsr indivisible": lambda lib, d: _d(lib, d).to_sparse_bsr((3, 3)),
    "csr with a dense dim": lambda lib, d: lib.ones(2, 2, 2, device=d).to_sparse_csr(dense_dim=1),
    "empty csr": lambda lib, d: lib.zeros(2, 3, device=d).to_sparse_csr(),
    "wide csr": lambda lib, d: lib.arange(30., device=d).reshape(3, 10).to_sparse_csr(),
    "coo to csr": lambda lib, d: _d(lib, d).to_sparse().to_sparse_csr(),
    "coo to csc": lambda lib, d: _d(lib, d).to_sparse().to_sparse_csc(),
    "coo to bsr": lambda lib, d: _d(lib, d).to_sparse().to_sparse_bsr((2, 2)),
    "csr to csc": lambda lib, d: _d(lib, d).to_sparse_csr().to_sparse_csc(),
    "csr to csr": lambda lib, d: _d(lib, d).to_sparse_csr().to_sparse_csr(),
    "csr to bsr": lambda lib, d: _d(lib, d).to_sparse_csr().to_sparse_bsr((2, 2)),
    "bsr to csr": lambda lib, d: _d(lib, d).to_sparse_bsr((2, 2)).to_sparse_csr(),
    "csr to coo": lambda lib, d: _d(lib, d).to_sparse_csr().to_sparse(),
    "csc to coo": lambda lib, d: _d(lib, d).to_sparse_csc().to_sparse_coo(),
    "bsr to coo": lambda lib, d: _d(lib, d).to_sparse_bsr((2, 2)).to_sparse(),
    "bsc to coo": lambda lib, d: _d(lib, d).to_sparse_bsc((2, 2)).to_sparse(),
    "csr to dense": lambda lib, d: _d(lib, d).to_sparse_csr().to_dense(),
    "csc to dense": lambda lib, d: _d(lib, d).to_sparse_csc().to_dense(),
    "bsr to dense": lambda lib, d: _d(lib, d).to_sparse_bsr((2, 2)).to_dense(),
    "bsc to dense": lambda lib, d: _d(lib, d).to_sparse_bsc((1, 2)).to_dense(),
    "csr to dense float64": lambda lib, d: _d(lib, d).to_sparse_csr().to_dense(lib.float64),
    "csr with requires_grad": lambda lib, d: _d(lib, d).to_sparse_csr().requires_grad_(),
    "csr grad_fn": lambda lib, d: _d(lib, d).requires_grad_().to_sparse_csr() * 2,
    "spdiags csr": lambda lib, d: lib.sparse.spdiags(lib.tensor([[1., 2, 3], [4, 5, 6]], device=d),
                                                     lib.tensor([0, 1], device=d), (3, 4), layout=lib.sparse_csr),
    "spdiags csc": lambda lib, d: lib.sparse.spdiags(lib.tensor([[1., 2, 3, 4]], device=d), lib.tensor([-2], device=d),
                                                     (3, 3), layout=lib.sparse_csc),
}


@pytest.mark.parametrize("case", list(CONVERSIONS))
def test_conversions_and_printing_as_pytorch(case):
    _same(CONVERSIONS[case])


def _csr(lib, d, values=(1., 2., 3.), **kwargs):
    return lib.sparse_csr_tensor(lib.tensor([0, 2, 3], device=d), lib.tensor([0, 2, 1], device=d),
                                 lib.tensor(values, device=d), (2, 3), **kwargs)


CONSTRUCTORS = {
    "csr": _csr,
    "csr without size": lambda lib, d: lib.sparse_csr_tensor(lib.tensor([0, 2, 3], device=d),
                                                             lib.tensor([0, 2, 1], device=d),
                                                             lib.tensor([1., 2., 3.], device=d)),
    "csr float64": lambda lib, d: _csr(lib, d, dtype=lib.float64),
    "csr int32 indices": lambda lib, d: lib.sparse_csr_tensor(lib.tensor([0, 2, 3], dtype=lib.int32, device=d),
                                                              lib.tensor([0, 2, 1], dtype=lib.int32, device=d),
                                                              lib.tensor([1., 2., 3.], device=d), (2, 3)),
    "csc": lambda lib, d: lib.sparse_csc_tensor(lib.tensor([0, 2, 3], device=d), lib.tensor([0, 2, 1], device=d),
                                                lib.tensor([1., 2., 3.], device=d), (3, 2)),
    "bsr": lambda lib, d: lib.sparse_bsr_tensor(lib.tensor([0, 1, 2], device=d), lib.tensor([1, 0], device=d),
                                                lib.arange(8., device=d).reshape(2, 2, 2), (4, 4)),
    "bsc without size": lambda lib, d: lib.sparse_bsc_tensor(lib.tensor([0, 1, 2], device=d),
                                                             lib.tensor([1, 0], device=d),
                                                             lib.arange(12., device=d).reshape(2, 3, 2)),
    "compressed csc": lambda lib, d: lib.sparse_compressed_tensor(lib.tensor([0, 2, 3], device=d),
                                                                  lib.tensor([0, 2, 1], device=d),
                                                                  lib.tensor([1., 2., 3.], device=d), (3, 2),
                                                                  layout=lib.sparse_csc),
    "compressed without layout": lambda lib, d: lib.sparse_compressed_tensor(lib.tensor([0, 2, 3], device=d),
                                                                             lib.tensor([0, 2, 1], device=d),
                                                                             lib.tensor([1., 2., 3.], device=d),
                                                                             (3, 2)),
    # NOTE: ember always checks the structure, PyTorch with check_invariants=True
    "float indices": lambda lib, d: lib.sparse_csr_tensor(lib.tensor([0., 2, 3], device=d),
                                                          lib.tensor([0, 2, 1], device=d),
                                                          lib.tensor([1., 2., 3.], device=d), (2, 3),
                                                          check_invariants=True),
    "values and indices of different lengths": lambda lib, d: lib.sparse_csr_tensor(
        lib.tensor([0, 2, 3], device=d), lib.tensor([0, 2, 1], device=d), lib.tensor([1., 2.], device=d), (2, 3),
        check_invariants=True),
    "crow_indices too short": lambda lib, d: lib.sparse_csr_tensor(
        lib.tensor([0, 3], device=d), lib.tensor([0, 2, 1], device=d), lib.tensor([1., 2., 3.], device=d), (2, 3),
        check_invariants=True),
    "ccol_indices too long": lambda lib, d: lib.sparse_csc_tensor(
        lib.tensor([0, 1, 2, 3], device=d), lib.tensor([0, 2, 1], device=d), lib.tensor([1., 2., 3.], device=d),
        (3, 2), check_invariants=True),
    "requires_grad": lambda lib, d: _csr(lib, d, requires_grad=True),
}


@pytest.mark.parametrize("case", list(CONSTRUCTORS))
def test_constructors_as_pytorch(case):
    _same(CONSTRUCTORS[case])


METHODS = ("crow_indices", "col_indices", "ccol_indices", "row_indices", "values", "indices", "coalesce",
           "_nnz", "sparse_dim", "dense_dim", "is_sparse", "is_sparse_csr")


@pytest.mark.parametrize("layout", ("csr", "csc", "bsr"))
@pytest.mark.parametrize("name", METHODS)
def test_structure_methods_as_pytorch(name, layout):
    def build(lib, d):
        x = CONVERSIONS[layout](lib, d)
        value = getattr(x, name)
        return value() if callable(value) else value
    _same(build)


@pytest.mark.parametrize("name", ("values_copy", "crow_indices_copy", "col_indices_copy", "ccol_indices_copy",
                                  "indices_copy"))
def test_copy_functions_as_pytorch(name):
    _same(lambda lib, d: getattr(lib, name)(CONVERSIONS["csr"](lib, d)))
    _same(lambda lib, d: getattr(lib, name)(CONVERSIONS["csc"](lib, d)))


OPS = {
    "csr + csr": lambda lib, c, d: c + c,
    "csr + other csr": lambda lib, c, d: c + lib.eye(4, device=d).to_sparse_csr(),
    "csr add alpha": lambda lib, c, d: c.add(lib.eye(4, device=d).to_sparse_csr(), alpha=2),
    "csr * 2": lambda lib, c, d: c * 2,
    "2 * csr": lambda lib, c, d: 2 * c,
    "csr * 0-d": lambda lib, c, d: c * lib.tensor(2., device=d),
    "-csr": lambda lib, c, d: -c,
    "csr / 2": lambda lib, c, d: c / 2,
    "csr - csr": lambda lib, c, d: c - c,
    "csc + csc": lambda lib, c, d: c.to_sparse_csc() + c.to_sparse_csc(),
    "bsr * 2": lambda lib, c, d: c.to_sparse_bsr((2, 2)) * 2,
    "csr + dense": lambda lib, c, d: c + _d(lib, d),
    "dense + csr": lambda lib, c, d: _d(lib, d) + c,
    "sum": lambda lib, c, d: c.sum(),
    "torch.sparse.sum": lambda lib, c, d: lib.sparse.sum(c),
    "t": lambda lib, c, d: c.t(),
    "t t": lambda lib, c, d: c.t().t(),
    "bsr t": lambda lib, c, d: c.to_sparse_bsr((2, 2)).t(),
    "clone": lambda lib, c, d: c.clone(),
    "detach": lambda lib, c, d: c.detach(),
    "to float64": lambda lib, c, d: c.to(lib.float64),
    "double": lambda lib, c, d: c.double(),
    "csr @ dense": lambda lib, c, d: c @ lib.ones(4, 2, device=d),
    "mm": lambda lib, c, d: lib.mm(c, lib.arange(8., device=d).reshape(4, 2)),
    "sparse.mm": lambda lib, c, d: lib.sparse.mm(c, lib.arange(8., device=d).reshape(4, 2)),
    "addmm": lambda lib, c, d: lib.addmm(lib.ones(4, 2, device=d), c, lib.ones(4, 2, device=d), alpha=2),
    "sparse.addmm": lambda lib, c, d: lib.sparse.addmm(lib.ones(4, 2, device=d), c, lib.ones(4, 2, device=d)),
    "mv": lambda lib, c, d: lib.mv(c, lib.arange(4., device=d)),
    "matmul vector": lambda lib, c, d: lib.matmul(c, lib.arange(4., device=d)),
    "dense @ csr": lambda lib, c, d: lib.arange(8., device=d).reshape(2, 4) @ c,
    "csc @ dense": lambda lib, c, d: c.to_sparse_csc() @ lib.arange(8., device=d).reshape(4, 2),
    "bsr @ dense": lambda lib, c, d: c.to_sparse_bsr((2, 2)) @ lib.arange(8., device=d).reshape(4, 2),
    "exp": lambda lib, c, d: c.exp(),
}


@pytest.mark.parametrize("case", list(OPS))
def test_operations_as_pytorch(case):
    _same(lambda lib, d: OPS[case](lib, CONVERSIONS["csr"](lib, d), d))


GRAD_OPS = {
    "to_dense": lambda lib, c, d: c.to_dense(),
    "mm": lambda lib, c, d: lib.mm(c, d),
    "matmul": lambda lib, c, d: c @ d,
    "sparse.mm": lambda lib, c, d: lib.sparse.mm(c, d),
    "sparse.addmm": lambda lib, c, d: lib.sparse.addmm(lib.ones(2, 2, device=d.device), c, d),
    "addmm": lambda lib, c, d: lib.addmm(lib.ones(2, 2, device=d.device), c, d),
    "mul": lambda lib, c, d: c * 2,
    "neg": lambda lib, c, d: -c,
    "add": lambda lib, c, d: c + c,
    "values": lambda lib, c, d: c.values(),
    "to_sparse": lambda lib, c, d: c.to_sparse(),
    "clone": lambda lib, c, d: c.clone(),
    "double": lambda lib, c, d: c.double(),
    "dense + csr": lambda lib, c, d: lib.ones(2, 3, device=d.device) + c,
    "sum": lambda lib, c, d: c.sum() * lib.ones(2, device=d.device),
    "t": lambda lib, c, d: c.t(),
    "to csc": lambda lib, c, d: c.to_sparse_csc(),
}


def _grad_np(g):
    g = g.to_dense() if g.layout != (ember.strided if isinstance(g, ember.Tensor) else torch.strided) else g
    return host(g).detach().numpy()


@pytest.mark.parametrize("leaf", (False, True), ids=("from values", "csr leaf"))
@pytest.mark.parametrize("case", list(GRAD_OPS))
def test_gradients_as_pytorch(case, leaf):
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, device in ((torch, "cpu"), (ember, DEVICE)):
            values = lib.tensor([1., 2., 3.], device=device, requires_grad=not leaf)
            dense = lib.tensor([[1., 2.], [3., 4.], [5., 6.]], device=device, requires_grad=True)
            c = _csr(lib, device, values, requires_grad=leaf) if leaf else lib.sparse_csr_tensor(
                lib.tensor([0, 2, 3], device=device), lib.tensor([0, 2, 1], device=device), values, (2, 3))
            out = GRAD_OPS[case](lib, c, dense)
            out_dense = out.to_dense() if out.layout != lib.strided else out
            weights = lib.arange(out_dense.numel(), dtype=out_dense.dtype, device=device).reshape(out_dense.shape)
            (out_dense * (weights - 1.5)).sum().backward()
            results.append((out, c.grad if leaf else values.grad, dense.grad))
    (t_out, t_grad, t_dgrad), (e_out, e_grad, e_dgrad) = results
    assert str(e_out.layout) == str(t_out.layout)
    assert str(e_grad.layout) == str(t_grad.layout)
    np.testing.assert_allclose(_grad_np(e_grad), _grad_np(t_grad), rtol=1e-6)
    if t_dgrad is None:
        assert e_dgrad is None
    else:
        np.testing.assert_allclose(_grad_np(e_dgrad), _grad_np(t_dgrad), rtol=1e-6)


@pytest.mark.parametrize("layout", ("csr", "csc", "bsr", "bsc"))
@pytest.mark.parametrize("op", ("to_dense", "mm", "sparse.mm", "add", "t"))
def test_gradcheck_through_compressed_values(layout, op):
    """Finite differences in float64 through values -> a compressed tensor -> op -> dense."""
    template = CONVERSIONS[layout](ember, DEVICE)
    dense = ember.tensor(np.arange(8.).reshape(4, 2) - 3, dtype=ember.float64, device=DEVICE, requires_grad=True)

    def f(values, dense):
        c = ember.sparse_compressed_tensor(template._cidx, template._pidx, values, template.shape,
                                           layout=template.layout)
        out = {"to_dense": lambda: c.to_dense(), "mm": lambda: ember.mm(c, dense),
               "sparse.mm": lambda: ember.sparse.mm(c, dense), "add": lambda: (c * 2 + dense @ dense.t()),
               "t": lambda: c.t().to_dense()}[op]()
        return out.to_dense() if out.layout != ember.strided else out

    values = template.values().double().detach().requires_grad_()
    assert ember.autograd.gradcheck(f, (values, dense))


def test_gradients_accumulate_across_backward_calls_as_pytorch():
    """A CSR leaf's .grad: CSR + CSR stays CSR; a COO leaf's sparse .grad plus a dense gradient turns dense."""
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, device in ((torch, "cpu"), (ember, DEVICE)):
            base = lib.tensor([[0., 1.5, 0.], [2., 0., -1.]], device=device)
            c = base.to_sparse_csr().requires_grad_()
            s = base.to_sparse().requires_grad_()
            d = lib.ones(3, 2, device=device)
            lib.sparse.mm(c, d).sum().backward()
            lib.sparse.mm(c, d * 2).sum().backward()
            (c.to_dense() * 3).sum().backward()
            lib.sparse.mm(s, d).sum().backward()
            lib.mm(s, d).sum().backward()
            results.append((c.grad, s.grad))
    for e, t in zip(results[1], results[0]):
        assert str(e.layout) == str(t.layout)
        np.testing.assert_allclose(_grad_np(e), _grad_np(t), rtol=1e-6)


@pytest.mark.xfail(strict=True, raises=NotImplementedError,
                   reason="ember's compressed tensors are 2-D matrices: PyTorch's batched CSR (leading batch dims "
                          "of a 3-D or larger tensor) is not built")
def test_batched_csr_as_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.ones(2, 2, 3).to_sparse_csr()
    e = ember.ones(2, 2, 3, device=DEVICE).to_sparse_csr()
    assert_same_repr(e, t)
