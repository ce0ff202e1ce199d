"""MultivariateNormal against torch.distributions (float64): every parameterisation, batch broadcasting."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, build, check, moments, same_error

R = np.random.default_rng(2)
A = R.standard_normal((3, 3))
COV = A @ A.T + np.eye(3)
BATCH_COV = np.stack([COV, COV * 0.5 + np.eye(3)])
TRIL = np.linalg.cholesky(COV)
LOC = R.standard_normal((2, 3))
VALUE = R.standard_normal((4, 2, 3))

CASES = {
    "covariance": {"loc": LOC, "covariance_matrix": COV},
    "batched-covariance": {"loc": LOC[0], "covariance_matrix": BATCH_COV},
    "precision": {"loc": LOC, "precision_matrix": np.linalg.inv(COV)},
    "scale_tril": {"loc": LOC, "scale_tril": TRIL},
}
QUANTITIES = {
    "log_prob": lambda m, d: d.log_prob(m.tensor(VALUE)),
    "entropy": lambda m, d: d.entropy(),
    "mean": lambda m, d: d.mean,
    "mode": lambda m, d: d.mode,
    "variance": lambda m, d: d.variance,
    "stddev": lambda m, d: d.stddev,
    "covariance_matrix": lambda m, d: d.covariance_matrix,
    "precision_matrix": lambda m, d: d.precision_matrix,
    "scale_tril": lambda m, d: d.scale_tril,
}


@pytest.mark.parametrize("quantity", list(QUANTITIES))
@pytest.mark.parametrize("case", list(CASES))
def test_quantity_and_gradient_match_torch(case, quantity):
    check("MultivariateNormal", CASES[case], QUANTITIES[quantity], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_expand(case):
    t, _ = build(torch, "MultivariateNormal", CASES[case])
    e, _ = build(ember, "MultivariateNormal", CASES[case])
    assert repr(e) == repr(t)
    assert (e.batch_shape, e.event_shape) == (t.batch_shape, t.event_shape)
    for shape in [(), (5,), (2, 1)]:
        assert e.sample(shape).shape == t.sample(shape).shape
        assert e.rsample(shape).shape == t.rsample(shape).shape
    te, ee = t.expand((4, 2)), e.expand((4, 2))
    assert ee.batch_shape == te.batch_shape and repr(ee) == repr(te)
    np.testing.assert_allclose(arr(ee.log_prob(ember.tensor(VALUE))), arr(te.log_prob(torch.tensor(VALUE))))


def test_rsample_moments_and_gradient():
    ember.manual_seed(0)
    d, leaves = build(ember, "MultivariateNormal", {"loc": LOC[0], "scale_tril": TRIL})
    s = d.rsample((40000,))
    moments(s, LOC[0], np.diag(COV))
    np.testing.assert_allclose(np.cov(arr(s).T), COV, atol=0.15)
    # d/dL of sum(L @ eps) is sum over samples of outer(1, eps), restricted to the lower triangle
    ember.manual_seed(0)
    eps = arr(ember.randn((3, 3), dtype=ember.float64))
    ember.manual_seed(0)
    s = d.rsample((3,))
    g_loc, g_tril = ember.autograd.grad(s.sum(), [leaves["loc"], leaves["scale_tril"]])
    np.testing.assert_allclose(arr(g_loc), np.full(3, 3.0))
    np.testing.assert_allclose(arr(g_tril), np.ones((3, 1)) * eps.sum(0)[None, :], rtol=1e-12)


ERRORS = [
    lambda m: m.distributions.MultivariateNormal(m.tensor(0.0), m.eye(1)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.eye(2), scale_tril=m.eye(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.ones(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.ones(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), precision_matrix=m.ones(2)),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1.0, 0.5], [0.0, 1.0]])),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.tensor([[1.0, 0.5], [0.0, 1.0]])),
    lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.eye(2)).log_prob(m.zeros(3)),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)
