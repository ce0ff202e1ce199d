"""torch.sparse.softmax / log_softmax (values, gradients, gradcheck), torch.sparse.spdiags, and the sparse
resizes (sparse_resize_, sparse_resize_and_clear_, resize_as_sparse_), against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host
from tests.sparse._repr import assert_same_repr

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def _both(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcomes = []
        for lib, device in ((torch, "cpu"), (ember, DEVICE)):
            try:
                outcomes.append(build(lib, device))
            except (RuntimeError, NotImplementedError) as e:
                outcomes.append(type(e))
        return outcomes


def _same(build):
    t, e = _both(build)
    if isinstance(t, type):
        assert e is t
    elif isinstance(t, torch.Tensor) and t.layout != torch.strided:
        assert_same_repr(e, t)
    else:
        np.testing.assert_allclose(host(e).detach().numpy(), t.detach().numpy(), rtol=1e-6)


def _coo(lib, device, dtype="float32", values=(3., 4., 5., -1.)):
    return lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0], [2, 0, 2, 2]], device=device),
                                 lib.tensor(values, dtype=getattr(lib, dtype), device=device), (2, 3))


def _hybrid(lib, device):
    return lib.sparse_coo_tensor(lib.tensor([[0, 1, 1]], device=device),
                                 lib.tensor([[1., 2.], [3., 4.], [0., 1.]], device=device), (3, 2))


def _three(lib, device):
    return lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0, 2], [2, 0, 2, 1, 1], [0, 1, 1, 0, 1]], device=device),
                                 lib.tensor([1., -2., 0.5, 3., 2.], device=device), (3, 3, 2))


@pytest.mark.parametrize("log", (False, True))
@pytest.mark.parametrize("case", ("dim 1", "dim 0", "dim -1", "float64", "hybrid 0", "hybrid 1", "3-d 0", "3-d 2",
                                  "dense input", "int input"))
def test_softmax_as_pytorch(case, log):
    def build(lib, d):
        fn = lib.sparse.log_softmax if log else lib.sparse.softmax
        return {"dim 1": lambda: fn(_coo(lib, d), 1), "dim 0": lambda: fn(_coo(lib, d), 0),
                "dim -1": lambda: fn(_coo(lib, d).coalesce(), -1),
                "float64": lambda: fn(_coo(lib, d), 1, dtype=lib.float64),
                "hybrid 0": lambda: fn(_hybrid(lib, d), 0), "hybrid 1": lambda: fn(_hybrid(lib, d), 1),
                "3-d 0": lambda: fn(_three(lib, d), 0), "3-d 2": lambda: fn(_three(lib, d), 2),
                "dense input": lambda: fn(lib.ones(2, 2, device=d), 1),
                "int input": lambda: fn(_coo(lib, d, "int64", (1, 2, 3, 4)), 1)}[case]()
    _same(build)


@pytest.mark.parametrize("log", (False, True))
@pytest.mark.parametrize("dim", (0, 1))
def test_softmax_gradients_as_pytorch(dim, log):
    grads = []
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        values = lib.tensor([3., 4., 5., -1.], device=device, requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0], [2, 0, 2, 2]], device=device), values, (2, 3))
        out = (lib.sparse.log_softmax if log else lib.sparse.softmax)(s, dim)
        (out.to_dense() * lib.arange(6., device=device).reshape(2, 3)).sum().backward()
        grads.append(values.grad)
    np.testing.assert_allclose(host(grads[1]).numpy(), grads[0].numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("log", (False, True))
@pytest.mark.parametrize("dim", (0, 1, 2))
def test_softmax_gradcheck(dim, log):
    indices = ember.tensor([[0, 1, 1, 0, 2], [2, 0, 2, 1, 1], [0, 1, 1, 0, 1]], device=DEVICE)

    def f(values):
        s = ember.sparse_coo_tensor(indices, values, (3, 3, 2))
        return (ember.sparse.log_softmax if log else ember.sparse.softmax)(s, dim).to_dense()

    values = ember.tensor([1., -2., 0.5, 3., 2.], dtype=ember.float64, device=DEVICE, requires_grad=True)
    assert ember.autograd.gradcheck(f, (values,))
    assert ember.autograd.gradgradcheck(f, (values,))


SPDIAGS = {
    "two": ([[1., 2, 3], [4, 5, 6]], [0, -1], (3, 3)),
    "vector": ([1., 2, 3], [1], (3, 3)),
    "wide": ([[1., 2, 3, 4]], [2], (3, 3)),
    "below": ([[1., 2, 3, 4]], [-2], (3, 3)),
    "rectangular": ([[0., 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], [0, 1, -2], (3, 5)),
    "tall": ([[0., 1, 2], [4, 5, 6]], [0, -3], (5, 3)),
    "duplicate offsets": ([[1., 2, 3], [4, 5, 6]], [0, 0], (3, 3)),
}


@pytest.mark.parametrize("case", list(SPDIAGS))
def test_spdiags_as_pytorch(case):
    diagonals, offsets, shape = SPDIAGS[case]
    _same(lambda lib, d: lib.sparse.spdiags(lib.tensor(diagonals, device=d), lib.tensor(offsets, device=d), shape))
    if case != "duplicate offsets":
        t, e = _both(lambda lib, d: lib.sparse.spdiags(lib.tensor(diagonals, device=d), lib.tensor(offsets, device=d),
                                                       shape).is_coalesced())
        assert e == t


def _resized(call):
    def build(lib, d):
        s = _coo(lib, d)
        out = call(lib, s, d)
        return s if out is None else out
    return build


RESIZES = {
    "grow": lambda lib, s, d: s.sparse_resize_((4, 5), 2, 0),
    "shrink": lambda lib, s, d: s.sparse_resize_((1, 5), 2, 0),
    "more dense dims": lambda lib, s, d: s.sparse_resize_((4, 5, 2), 2, 1),
    "fewer sparse dims": lambda lib, s, d: s.sparse_resize_((6,), 1, 0),
    "and clear": lambda lib, s, d: s.sparse_resize_and_clear_((4, 5, 2), 2, 1),
    "cleared then resized": lambda lib, s, d: s.sparse_resize_and_clear_((1,), 1, 0).sparse_resize_((3, 2), 1, 1),
    "as sparse": lambda lib, s, d: s.resize_as_sparse_(
        lib.sparse_coo_tensor(lib.tensor([[0, 3], [1, 4]], device=d), lib.tensor([1., 2.], device=d), (4, 6))),
    "as sparse of other dims": lambda lib, s, d: s.resize_as_sparse_(
        lib.sparse_coo_tensor(lib.zeros(1, 0, dtype=lib.long, device=d), lib.zeros(0, 2, device=d), (7, 2))),
    "torch.resize_as_sparse_": lambda lib, s, d: lib.resize_as_sparse_(s.sparse_resize_and_clear_((1,), 1, 0),
                                                                       lib.ones(3, 2, device=d).to_sparse(1)),
    "as a dense tensor": lambda lib, s, d: s.resize_as_sparse_(lib.ones(2, device=d)),
    "dense self": lambda lib, s, d: lib.ones(2, device=d).sparse_resize_((3,), 1, 0),
    "leaf requiring grad": lambda lib, s, d: s.requires_grad_().sparse_resize_((4, 5), 2, 0),
}


@pytest.mark.parametrize("case", list(RESIZES))
def test_sparse_resizes_as_pytorch(case):
    _same(_resized(RESIZES[case]))


def _csr_input(lib, d):
    return lib.tensor([[0., 1.5, 0.], [2., 0., -1.]], device=d).to_sparse_csr()


SAMPLED = {
    "plain": lambda lib, d: lib.sparse.sampled_addmm(_csr_input(lib, d), lib.arange(8., device=d).reshape(2, 4),
                                                     lib.arange(12., device=d).reshape(4, 3) / 4),
    "beta alpha": lambda lib, d: lib.sparse.sampled_addmm(_csr_input(lib, d), lib.arange(8., device=d).reshape(2, 4),
                                                          lib.arange(12., device=d).reshape(4, 3) / 4, beta=0.5,
                                                          alpha=2),
    "coo input": lambda lib, d: lib.sparse.sampled_addmm(_csr_input(lib, d).to_sparse(), lib.ones(2, 4, device=d),
                                                         lib.ones(4, 3, device=d)),
    "dense input": lambda lib, d: lib.sparse.sampled_addmm(_csr_input(lib, d).to_dense(), lib.ones(2, 4, device=d),
                                                           lib.ones(4, 3, device=d)),
    "shapes": lambda lib, d: lib.sparse.sampled_addmm(_csr_input(lib, d), lib.ones(2, 4, device=d),
                                                      lib.ones(3, 4, device=d)),
    "dtypes": lambda lib, d: lib.sparse.sampled_addmm(_csr_input(lib, d), lib.ones(2, 4, dtype=lib.float64, device=d),
                                                      lib.ones(4, 3, device=d)),
}


@pytest.mark.parametrize("case", list(SAMPLED))
def test_sampled_addmm_as_pytorch(case):
    _same(SAMPLED[case])


def test_sampled_addmm_gradients_as_pytorch():
    grads = []
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = lib.tensor([1.5, 2., -1.], device=device, requires_grad=True)
            mat1 = (lib.arange(8., device=device).reshape(2, 4) / 3).requires_grad_()
            mat2 = (lib.arange(12., device=device).reshape(4, 3) / 4).requires_grad_()
            s = lib.sparse_csr_tensor(lib.tensor([0, 1, 3], device=device), lib.tensor([1, 0, 2], device=device),
                                      values, (2, 3))
            out = lib.sparse.sampled_addmm(s, mat1, mat2, beta=0.5, alpha=2)
            assert type(out.grad_fn).__name__ == "SparseSampledAddmmBackward0"
            (out.to_dense() * lib.arange(6., device=device).reshape(2, 3)).sum().backward()
        grads.append([host(g).numpy() if isinstance(g, ember.Tensor) else g.numpy()
                      for g in (values.grad, mat1.grad, mat2.grad)])
    for e, t in zip(grads[1], grads[0]):
        np.testing.assert_allclose(e, t, rtol=1e-6)


CHECKED = {
    "to_dense": lambda lib: lambda x: x.to_dense(),
    "sparse.sum": lambda lib: lambda x: lib.sparse.sum(x),
    "times 2": lambda lib: lambda x: x * 2,
    "softmax": lambda lib: lambda x: lib.sparse.softmax(x, 1),
}


@pytest.mark.parametrize("case", list(CHECKED))
@pytest.mark.parametrize("masked", (True, False))
def test_as_sparse_gradcheck(case, masked):
    gradcheck = ember.sparse.as_sparse_gradcheck(ember.autograd.gradcheck)
    assert gradcheck.__name__ == torch.sparse.as_sparse_gradcheck(torch.autograd.gradcheck).__name__
    dense = ember.tensor([[0., 1.5, 0.], [2., 0., -1.]], dtype=ember.float64, device=DEVICE)
    assert gradcheck(CHECKED[case](ember), (dense.to_sparse().requires_grad_(),), masked=masked)
    if case not in ("softmax", "sparse.sum"):  # NOTE: COO only, in PyTorch too
        assert gradcheck(CHECKED[case](ember), dense.to_sparse_csr().requires_grad_(), masked=masked)
    assert gradcheck(lambda x, d: ember.mm(x, d), (dense.to_sparse_csr().requires_grad_(),
                                                   ember.ones(3, 2, dtype=ember.float64, device=DEVICE)))


def test_spsolve_solves_through_the_dense_matrix():
    """PyTorch's CPU build has no spsolve kernel (NotImplementedError): ember's result is checked against
    torch.linalg.solve on the same matrix, its refusals against PyTorch's."""
    a = [[4., 1, 0], [1, 3, 0], [0, 0, 2]]
    b = [1., 2, 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NotImplementedError):
            torch.sparse.spsolve(torch.tensor(a).to_sparse_csr(), torch.tensor(b))
    matrix = ember.tensor(a, dtype=ember.float64, device=DEVICE, requires_grad=True)
    out = ember.sparse.spsolve(matrix.to_sparse_csr(), ember.tensor(b, dtype=ember.float64, device=DEVICE))
    expected = torch.linalg.solve(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64))
    np.testing.assert_allclose(host(out).detach().numpy(), expected.numpy(), rtol=1e-12)
    out.sum().backward()
    assert matrix.grad is not None
    for call in (lambda lib: lib.sparse.spsolve(lib.tensor(a).to_sparse(), lib.tensor(b)),):
        with pytest.raises(NotImplementedError):
            call(torch)
        with pytest.raises(NotImplementedError):
            call(ember)
    with pytest.raises(RuntimeError, match="left=True"):
        ember.sparse.spsolve(ember.tensor(a).to_sparse_csr(), ember.tensor(b), left=False)
