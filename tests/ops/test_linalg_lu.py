"""LU factorisation against real PyTorch where the generic test does not reach: refusals and their
messages, singular matrices (info, raising or not), pivots on ties, empty and batched shapes, pivot=False,
the deprecated torch.lu/lu_solve forms and the gradients of tall and wide factors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.ops._errors import same_error


SINGULAR = [[1.0, 2.0], [2.0, 4.0]]
ERRORS = {
    "factor_singular": lambda m: m.linalg.lu_factor(m.tensor(SINGULAR)),
    "factor_singular_batch": lambda m: m.linalg.lu_factor(m.stack([m.eye(2), m.tensor(SINGULAR)])),
    "factor_ex_check": lambda m: m.linalg.lu_factor_ex(m.tensor(SINGULAR), check_errors=True),
    "factor_wide_singular": lambda m: m.linalg.lu_factor(m.zeros(2, 3)),
    "factor_int": lambda m: m.linalg.lu_factor(m.ones(2, 2, dtype=m.int64)),
    "factor_1d": lambda m: m.linalg.lu_factor(m.ones(2)),
    "lu_1d": lambda m: m.linalg.lu(m.ones(2)),
    "unpack_int64_pivots": lambda m: m.lu_unpack(m.eye(3), m.tensor([2, 2, 3])),
    "unpack_pivot_range": lambda m: m.lu_unpack(m.eye(3), m.tensor([4, 2, 3], dtype=m.int32)),
    "solve_shapes": lambda m: m.linalg.lu_solve(*m.linalg.lu_factor(m.eye(3)), m.ones(2, 3)),
    "solve_vector": lambda m: m.linalg.lu_solve(*m.linalg.lu_factor(m.eye(3)), m.ones(3)),
    "solve_not_square": lambda m: m.linalg.lu_solve(m.ones(3, 2), m.tensor([1, 2], dtype=m.int32), m.ones(3, 1)),
    "solve_dtypes": lambda m: m.linalg.lu_solve(*m.linalg.lu_factor(m.eye(3, dtype=m.float64)), m.ones(3, 1)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_lu_refusals(case):
    same_error(ERRORS[case])


def test_singular_matrices_without_raising():
    t = torch.linalg.lu_factor_ex(torch.tensor(SINGULAR))
    e = ember.linalg.lu_factor_ex(ember.tensor(SINGULAR))
    assert e.LU.tolist() == t.LU.tolist() and e.pivots.tolist() == t.pivots.tolist()
    assert e.info.tolist() == t.info.tolist() and e.info.dtype == ember.int32
    for mod in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LU, piv = mod.lu(mod.tensor(SINGULAR))   # NOTE: torch.lu never raises on a singular matrix
            got = mod.lu(mod.tensor(SINGULAR), get_infos=True)
        assert type(got).__name__ == "_lu_with_info" and got.info.item() == 2
        P, L, U = mod.linalg.lu(mod.tensor(SINGULAR))
        assert (P @ L @ U).tolist() == SINGULAR


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (2, 3, 3), (0, 3, 3), (2, 0), (0, 0), (1, 1)])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_factors_match_pytorch(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape)
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal(shape)
    t = torch.linalg.lu_factor_ex(torch.tensor(a))
    e = ember.linalg.lu_factor_ex(ember.tensor(a))
    np.testing.assert_allclose(e.LU.numpy(), t.LU.numpy(), rtol=1e-10, atol=1e-12)
    assert e.pivots.tolist() == t.pivots.tolist() and e.info.tolist() == t.info.tolist()
    for x, y in zip(ember.linalg.lu(ember.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


def test_ties_pick_the_first_row_as_lapack():
    a = [[1.0, 2.0, 0.0], [-1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
    t, e = torch.linalg.lu_factor(torch.tensor(a)), ember.linalg.lu_factor(ember.tensor(a))
    assert e.pivots.tolist() == t.pivots.tolist()
    assert np.allclose(e.LU.numpy(), t.LU.numpy())


def test_unpack_parts_not_asked_for_are_empty():
    LU, piv = torch.linalg.lu_factor(torch.tensor([[1.0, 2], [3, 4]]))
    eLU, epiv = ember.linalg.lu_factor(ember.tensor([[1.0, 2], [3, 4]]))
    for kw in ({"unpack_data": False}, {"unpack_pivots": False}):
        t, e = torch.lu_unpack(LU, piv, **kw), ember.lu_unpack(eLU, epiv, **kw)
        assert [tuple(x.shape) for x in e] == [tuple(x.shape) for x in t]
        assert type(e).__name__ == "lu_unpack"


def test_pivot_false_reconstructs():
    # NOTE: PyTorch factors without pivoting only on CUDA ("not implemented on the CPU"); ember does it anywhere
    a = ember.tensor([[4.0, 3.0], [6.0, 3.0]])
    LU, piv = ember.linalg.lu_factor(a, pivot=False)
    assert piv.tolist() == [1, 2]
    P, L, U = ember.linalg.lu(a, pivot=False)
    assert P.tolist() == [[1.0, 0.0], [0.0, 1.0]] and np.allclose((L @ U).numpy(), a.numpy())


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 2, 3)])
def test_factor_gradients_match_pytorch(shape):
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shape)
    w = rng.standard_normal(shape)
    ta, ea = torch.tensor(a, requires_grad=True), ember.tensor(a, requires_grad=True)
    (torch.linalg.lu_factor_ex(ta).LU * torch.tensor(w)).sum().backward()
    (ember.linalg.lu_factor_ex(ea).LU * ember.tensor(w)).sum().backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
    ta.grad, ea.grad = None, None
    (torch.linalg.lu(ta).L.sum() + torch.linalg.lu(ta).U.pow(2).sum()).backward()
    (ember.linalg.lu(ea).L.sum() + ember.linalg.lu(ea).U.pow(2).sum()).backward()
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_lu_solve_batched_broadcast_and_deprecated_forms():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 2))
    t = torch.linalg.lu_solve(*torch.linalg.lu_factor(torch.tensor(a)), torch.tensor(b))
    e = ember.linalg.lu_solve(*ember.linalg.lu_factor(ember.tensor(a)), ember.tensor(b))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10)
    with pytest.warns(UserWarning, match="torch.lu_solve is deprecated"):
        e2 = ember.lu_solve(ember.tensor(b), *ember.lu(ember.tensor(a)))
    np.testing.assert_allclose(e2.numpy(), t.numpy(), rtol=1e-10)
    LU, piv = ember.tensor(a[0]).lu()
    np.testing.assert_allclose(ember.tensor(b).lu_solve(LU, piv).numpy(), np.linalg.solve(a[0], b), rtol=1e-10)
