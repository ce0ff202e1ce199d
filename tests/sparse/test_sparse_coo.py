"""Sparse COO tensors against PyTorch: construction, attributes, coalescing, printing, conversion,
arithmetic, torch.sparse.mm/addmm/sum, nn.Embedding(sparse=True)'s gradients and the optimizers that step
on them (SGD, Adagrad, SparseAdam), trajectories compared step for step."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host
from tests.sparse._repr import assert_same_repr

pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def _both(build):
    """build(lib, device) for torch (cpu) and ember (DEVICE)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build(torch, "cpu"), build(ember, DEVICE)


def _np(t):
    t = host(t) if not t.is_sparse else t
    return t.detach().numpy()


def _same_sparse(e, t, structure=True):
    """Same shape, dtype and values; with `structure`, the same number of entries and coalesced flag too
    (an uncoalesced result may hold its entries differently from PyTorch's: the values are what count)."""
    assert e.is_sparse and t.is_sparse
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    assert (e.sparse_dim(), e.dense_dim()) == (t.sparse_dim(), t.dense_dim())
    if structure:
        assert (e._nnz(), e.is_coalesced()) == (t._nnz(), t.is_coalesced())
    np.testing.assert_allclose(_np(e.to_dense()), t.to_dense().numpy(), rtol=1e-6, atol=1e-7)


def _coo(lib, device, dtype="float32"):
    return lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0], [2, 0, 2, 2]], device=device),
                                 lib.tensor([3., 4., 5., -1.], dtype=getattr(lib, dtype), device=device), (2, 3))


def test_construction_attributes_and_coalescing():
    t, e = _both(_coo)
    _same_sparse(e, t)
    assert e.layout == ember.sparse_coo and str(e.layout) == str(t.layout) and e.is_sparse
    assert not ember.ones(2).is_sparse and ember.ones(2).layout == ember.strided
    tc, ec = t.coalesce(), e.coalesce()
    _same_sparse(ec, tc)
    np.testing.assert_array_equal(_np(ec.indices()), tc.indices().numpy())
    np.testing.assert_array_equal(_np(ec.values()), tc.values().numpy())
    assert ec.coalesce() is ec
    with pytest.raises(RuntimeError, match="uncoalesced"):
        e.indices()


def test_printing_as_pytorch():
    builds = [
        _coo,
        lambda lib, d: lib.sparse_coo_tensor(lib.tensor([[0, 0]], device=d), lib.tensor([[1., 2.], [3., 4.]], device=d),
                                             (3, 2)),
        lambda lib, d: lib.sparse_coo_tensor(lib.zeros(1, 0, dtype=lib.long, device=d), lib.zeros(0, device=d), (3,)),
        lambda lib, d: _coo(lib, d, "float64"),
        lambda lib, d: lib.tensor([[1., 0], [0, 2]], device=d).to_sparse(),
        lambda lib, d: lib.tensor([[1., 0], [0, 2]], device=d).to_sparse(1),
    ]
    for build in builds:
        t, e = _both(build)
        assert_same_repr(e, t)
        assert_same_repr(e.coalesce(), t.coalesce())


def test_construction_errors_as_pytorch():
    # NOTE: ember always checks that indices fit the size; PyTorch does with check_invariants=True
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        ember.sparse_coo_tensor(ember.tensor([[0, 5]]), ember.tensor([1., 2.]), (3,))
    with pytest.raises(RuntimeError):
        torch.sparse_coo_tensor(torch.tensor([[0, 5]]), torch.tensor([1., 2.]), (3,), check_invariants=True)
    cases = [
        lambda lib: lib.sparse_coo_tensor(lib.tensor([[0, 1]]), lib.tensor([1., 2., 3.]), (3,)),
        lambda lib: lib.sparse_coo_tensor(lib.tensor([0, 1]), lib.tensor([1., 2.]), (3,)),
        lambda lib: _coo(lib, "cpu") + _coo(lib, "cpu").to_dense(),
    ]
    for case in cases:
        with pytest.raises(RuntimeError):
            case(torch)
        with pytest.raises(RuntimeError):
            case(ember)


def test_arithmetic_and_conversion():
    t, e = _both(_coo)
    for op in (lambda s: s + s, lambda s: s * 2.5, lambda s: s / 2, lambda s: -s, lambda s: s.coalesce() + s.coalesce(),
               lambda s: s.clone(), lambda s: s.detach()):
        _same_sparse(op(e), op(t))
    _same_sparse(e - e.coalesce(), t - t.coalesce(), structure=False)
    np.testing.assert_allclose(_np(ember.ones(2, 3, device=DEVICE) + e), (torch.ones(2, 3) + t).numpy())
    np.testing.assert_allclose(_np(ember.ones(2, 3, device=DEVICE).add_(e, alpha=-2)),
                               torch.ones(2, 3).add_(t, alpha=-2).numpy())
    dense_t = torch.tensor([[0., 1.5, 0.], [2., 0., -1.]])
    dense_e = ember.tensor(dense_t.numpy(), device=DEVICE)
    _same_sparse(dense_e.to_sparse(), dense_t.to_sparse())
    _same_sparse(dense_e.sparse_mask(e.coalesce()), dense_t.sparse_mask(t.coalesce()))
    assert ember.equal(dense_e.to_sparse().to_dense(), dense_e)
    with pytest.raises(NotImplementedError):
        e.exp()  # NOTE: a dense op on a sparse tensor refuses, as PyTorch's sparse backend does for one it lacks


def test_sparse_mm_addmm_sum_and_the_dense_operand_gradient():
    t, e = _both(_coo)
    rng = np.random.default_rng(0)
    d = rng.standard_normal((3, 4)).astype(np.float32)
    td, ed = torch.tensor(d, requires_grad=True), ember.tensor(d, device=DEVICE, requires_grad=True)
    to, eo = torch.sparse.mm(t, td), ember.sparse.mm(e, ed)
    np.testing.assert_allclose(_np(eo), to.detach().numpy(), rtol=1e-6)
    w = rng.standard_normal((2, 4)).astype(np.float32)
    (to * torch.tensor(w)).sum().backward()
    (eo * ember.tensor(w, device=DEVICE)).sum().backward()
    np.testing.assert_allclose(_np(ed.grad), td.grad.numpy(), rtol=1e-6)
    m = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(
        _np(ember.sparse.addmm(ember.tensor(m, device=DEVICE), e, ed, beta=0.5, alpha=2.0)),
        torch.sparse.addmm(torch.tensor(m), t, td, beta=0.5, alpha=2.0).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(e @ ed), (t @ td).detach().numpy(), rtol=1e-6)
    assert ember.sparse.sum(e).item() == pytest.approx(torch.sparse.sum(t).item())
    _same_sparse(ember.sparse.sum(e, dim=1), torch.sparse.sum(t, dim=1))
    # NOTE: summing a dense dim keeps every sparse dim
    t3, e3 = _both(lambda lib, d: lib.sparse_coo_tensor(lib.tensor([[0, 1, 1], [2, 0, 2]], device=d),
                                                        lib.tensor([[3., 1.], [4., 2.], [5., 3.]], device=d), (2, 3, 2)))
    _same_sparse(ember.sparse.sum(e3, 2), torch.sparse.sum(t3, 2), structure=False)
    np.testing.assert_allclose(_np(ember.sparse.sum(e3, (0, 1))), torch.sparse.sum(t3, (0, 1)).numpy())


def _embedding_pair(padding_idx=None):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((10, 4)).astype(np.float32)
    pair = []
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        emb = lib.nn.Embedding(10, 4, sparse=True, padding_idx=padding_idx, device=device)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(weight, device=device))
        pair.append(emb)
    return pair


@pytest.mark.parametrize("padding_idx", (None, 2))
def test_embedding_sparse_gradients_accumulate_as_pytorch(padding_idx):
    t_emb, e_emb = _embedding_pair(padding_idx)
    for idx in ([[1, 2, 1], [0, 2, 7]], [[9, 1, 1]]):
        (t_emb(torch.tensor(idx)) ** 2).sum().backward()
        (e_emb(ember.tensor(idx, device=DEVICE)) ** 2).sum().backward()
        _same_sparse(e_emb.weight.grad, t_emb.weight.grad)
        np.testing.assert_array_equal(_np(e_emb.weight.grad._indices()), t_emb.weight.grad._indices().numpy())
        np.testing.assert_array_equal(_np(e_emb.weight.grad._values()), t_emb.weight.grad._values().numpy())
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
        emb = ember.nn.Embedding(4, 2, sparse=True, scale_grad_by_freq=True, device=DEVICE)
        emb(ember.tensor([1], device=DEVICE)).sum().backward()


OPTIMIZERS = {
    "SparseAdam": lambda lib, p: lib.optim.SparseAdam(p, lr=0.01),
    "SparseAdam maximize": lambda lib, p: lib.optim.SparseAdam(p, lr=0.01, betas=(0.8, 0.9), maximize=True),
    "SGD": lambda lib, p: lib.optim.SGD(p, lr=0.1),
    "SGD momentum": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
    "SGD nesterov foreach": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, foreach=True),
    "Adagrad": lambda lib, p: lib.optim.Adagrad(p, lr=0.1),
    "Adagrad lr_decay": lambda lib, p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_step_on_sparse_gradients_as_pytorch(name):
    """Six steps of an embedding model whose gradients are sparse: parameters after each step as PyTorch's."""
    t_emb, e_emb = _embedding_pair(padding_idx=3)
    t_opt, e_opt = OPTIMIZERS[name](torch, list(t_emb.parameters())), OPTIMIZERS[name](ember, list(e_emb.parameters()))
    rng = np.random.default_rng(1)
    target = rng.standard_normal(4).astype(np.float32)
    for _ in range(6):
        idx = rng.integers(0, 10, (5, 3))
        for lib, emb, opt, device in ((torch, t_emb, t_opt, "cpu"), (ember, e_emb, e_opt, DEVICE)):
            opt.zero_grad()
            ((emb(lib.tensor(idx, device=device)) - lib.tensor(target, device=device)) ** 2).mean().backward()
            opt.step()
        np.testing.assert_allclose(_np(e_emb.weight), t_emb.weight.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_refusals_as_pytorch():
    for lib, device in ((torch, "cpu"), (ember, DEVICE)):
        emb = lib.nn.Embedding(5, 2, sparse=True, device=device)
        emb(lib.tensor([1, 2], device=device)).sum().backward()
        with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse gradients"):
            lib.optim.Adagrad(emb.parameters(), weight_decay=0.1).step()
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
            lib.optim.SGD(emb.parameters(), lr=0.1, weight_decay=0.1).step()
        with pytest.raises(NotImplementedError):  # NOTE: PyTorch's vector_norm has no sparse kernel either
            lib.nn.utils.clip_grad_norm_(emb.parameters(), 1.0)
        dense = lib.nn.Linear(2, 1, device=device)
        dense(lib.ones(1, 2, device=device)).sum().backward()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
            lib.optim.SparseAdam(dense.parameters()).step()
