"""constraints.check, biject_to / transform_to and the structural transforms against torch."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close

R = np.random.default_rng(10)
A = R.standard_normal((2, 3, 3))
SPD = A @ np.swapaxes(A, -1, -2) + np.eye(3)
DIAG = np.einsum("bii->bi", SPD)

CONSTRAINTS = {
    "real": lambda C: C.real, "positive": lambda C: C.positive, "nonnegative": lambda C: C.nonnegative,
    "unit_interval": lambda C: C.unit_interval, "greater_than": lambda C: C.greater_than(1.5),
    "greater_than_eq": lambda C: C.greater_than_eq(-1.0), "less_than": lambda C: C.less_than(2.0),
    "interval": lambda C: C.interval(-1.0, 3.0), "half_open_interval": lambda C: C.half_open_interval(0.0, 2.0),
    "simplex": lambda C: C.simplex, "real_vector": lambda C: C.real_vector, "boolean": lambda C: C.boolean,
    "nonnegative_integer": lambda C: C.nonnegative_integer, "positive_integer": lambda C: C.positive_integer,
    "integer_interval": lambda C: C.integer_interval(0, 3), "one_hot": lambda C: C.one_hot,
    "lower_cholesky": lambda C: C.lower_cholesky, "lower_triangular": lambda C: C.lower_triangular,
    "positive_definite": lambda C: C.positive_definite, "positive_semidefinite": lambda C: C.positive_semidefinite,
    "symmetric": lambda C: C.symmetric, "square": lambda C: C.square, "corr_cholesky": lambda C: C.corr_cholesky,
    "multinomial": lambda C: C.multinomial(4), "independent": lambda C: C.independent(C.positive, 1),
    "cat": lambda C: C.cat([C.positive, C.real], dim=-1, lengths=[2, 1]),
    "stack": lambda C: C.stack([C.positive, C.real, C.unit_interval], dim=-1),
}
VALUES = [
    np.array([[0.5, -1.0, 2.0], [0.0, 1.0, float("nan")]]),
    np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]]),
    np.array([[1.0, 2.0, 1.0], [0.0, 4.0, 3.0]]),
    np.tril(SPD) * np.array([1.0, -1.0])[:, None, None],
    SPD,
    np.linalg.cholesky(SPD / np.sqrt(DIAG)[:, :, None] / np.sqrt(DIAG)[:, None, :]),   # a correlation's factor
]


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_check_repr_and_attributes_match_torch(name):
    t, e = CONSTRAINTS[name](torch.distributions.constraints), CONSTRAINTS[name](ember.distributions.constraints)
    assert repr(e) == repr(t)
    assert (e.is_discrete, e.event_dim) == (t.is_discrete, t.event_dim)
    for v in VALUES:
        if v.ndim - 1 < t.event_dim or (t.event_dim == 2 and v.shape[-1] != v.shape[-2]):
            continue
        try:
            want = t.check(torch.tensor(v))
        except Exception as err:
            with pytest.raises(type(err)):
                e.check(ember.tensor(v))
            continue
        got = e.check(ember.tensor(v))
        np.testing.assert_array_equal(arr(got), arr(want))


def test_dependent_constraint():
    C = ember.distributions.constraints
    assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        C.dependent.check(ember.zeros(1))
    with pytest.raises(NotImplementedError, match=".event_dim cannot be determined statically"):
        C.dependent.event_dim
    d = C.dependent(is_discrete=True, event_dim=1)
    assert d.is_discrete and d.event_dim == 1
    assert C.is_dependent(ember.distributions.Uniform.support)


REGISTRY = ["real", "positive", "nonnegative", "unit_interval", "greater_than", "greater_than_eq", "less_than",
            "interval", "half_open_interval", "simplex", "real_vector", "lower_cholesky", "positive_definite",
            "corr_cholesky", "independent", "cat", "stack"]


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", REGISTRY)
def test_biject_to_and_transform_to_match_torch(registry, name):
    """The same transform (by repr), mapping the same unconstrained input to the same point and log|det J|."""
    tr = getattr(torch.distributions, registry)
    er = getattr(ember.distributions, registry)
    tc, ec = CONSTRAINTS[name](torch.distributions.constraints), CONSTRAINTS[name](ember.distributions.constraints)
    try:
        tt = tr(tc)
    except NotImplementedError as err:
        with pytest.raises(NotImplementedError, match=str(err)):
            er(ec)
        return
    et = er(ec)
    assert repr(et) == repr(tt)
    shape = {"lower_cholesky": (2, 3, 3), "positive_definite": (2, 3, 3), "corr_cholesky": (2, 3),
             "simplex": (2, 3) if registry == "biject_to" else (2, 4)}.get(name, (2, 3))
    x = R.standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    yt, ye = tt(xt), et(xe)
    assert_close(ye, yt.detach(), rtol=1e-10)
    assert bool(ec.check(ye).all())
    assert_close(et.inv(ye), tt.inv(yt).detach(), rtol=1e-8, atol=1e-10)
    try:
        lt = tt.log_abs_det_jacobian(xt, yt)
    except NotImplementedError:
        return
    le = et.log_abs_det_jacobian(xe, ye)
    assert_close(le, lt.detach(), rtol=1e-10)
    gt, = torch.autograd.grad((yt.sum() + lt.sum()), [xt])
    ge, = ember.autograd.grad((ye.sum() + le.sum()), [xe])
    assert_close(ge, gt, rtol=1e-9, atol=1e-12)


def test_register_a_new_constraint():
    D = ember.distributions

    class _Odd(D.constraints.Constraint):
        def check(self, value):
            return value % 2 == 1

    registry = D.constraint_registry.ConstraintRegistry()
    registry.register(_Odd, lambda c: D.transforms.ExpTransform())
    assert isinstance(registry(_Odd()), D.transforms.ExpTransform)
    with pytest.raises(NotImplementedError, match="Cannot transform _Real constraints"):
        registry(D.constraints.real)
    with pytest.raises(TypeError):
        registry.register(3, lambda c: None)


def test_reshape_and_cumulative_distribution_transforms():
    for m in (torch, ember):
        T = m.distributions.transforms
        r = T.ReshapeTransform((2, 3), (6,))
        x = m.arange(12.0).reshape(2, 2, 3)
        y = r(x)
        assert tuple(y.shape) == (2, 6) and tuple(r.inv(y).shape) == (2, 2, 3)
        assert tuple(r.forward_shape((5, 2, 3))) == (5, 6) and tuple(r.log_abs_det_jacobian(x, y).shape) == (2,)
        with pytest.raises(ValueError, match="in_shape, out_shape have different numbers of elements"):
            T.ReshapeTransform((2, 3), (5,))
    results = {}
    for m in (torch, ember):
        c = m.distributions.transforms.CumulativeDistributionTransform(m.distributions.Normal(0.0, 2.0))
        x = m.tensor([-1.0, 0.5, 2.0], dtype=m.float64)
        y = c(x)
        results[m] = (y, c.inv(y), c.log_abs_det_jacobian(x, y))
    for a, b in zip(results[ember], results[torch]):
        assert_close(a, b, rtol=1e-6)
