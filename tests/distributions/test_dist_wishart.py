"""Wishart against torch.distributions (float64)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close, build, check, same_error

R = np.random.default_rng(12)
A = R.standard_normal((2, 3, 3))
COV = A @ np.swapaxes(A, -1, -2) + np.eye(3)
B = R.standard_normal((4, 2, 3, 3))
VALUE = B @ np.swapaxes(B, -1, -2) + np.eye(3)

CASES = {
    "covariance": {"df": np.array([4.0, 6.5]), "covariance_matrix": COV},
    "precision": {"df": np.array([4.0, 6.5]), "precision_matrix": np.linalg.inv(COV)},
    "scale_tril": {"df": np.array([3.5, 9.0]), "scale_tril": np.linalg.cholesky(COV)},
}
QUANTITIES = {
    "log_prob": lambda m, d: d.log_prob(m.tensor(VALUE)),
    "entropy": lambda m, d: d.entropy(),
    "mean": lambda m, d: d.mean,
    "variance": lambda m, d: d.variance,
    "mode": lambda m, d: d.mode,
    "covariance_matrix": lambda m, d: d.covariance_matrix,
    "precision_matrix": lambda m, d: d.precision_matrix,
}


# NOTE: (scale_tril, log_prob) is compared in the next test: torch's gradient has upper-triangle entries.
@pytest.mark.parametrize("case, quantity", [(c, q) for c in CASES for q in QUANTITIES
                                            if (c, q) != ("scale_tril", "log_prob")])
def test_quantity_and_gradient_match_torch(case, quantity):
    check("Wishart", CASES[case], QUANTITIES[quantity], rtol=1e-8, atol=1e-10)


def test_log_prob_scale_tril_gradient_matches_torch_on_the_lower_triangle():
    """NOTE: torch's cholesky_solve backward does not mask the upper triangle it never reads, so its gradient
    w.r.t. scale_tril has upper entries; the true derivative there is 0 (ember's). The lower triangles agree."""
    out = {}
    for m in (torch, ember):
        d, leaves = build(m, "Wishart", CASES["scale_tril"])
        lp = d.log_prob(m.tensor(VALUE))
        out[m] = lp, m.autograd.grad(lp.sum(), [leaves["scale_tril"], leaves["df"]])
    assert_close(out[ember][0], out[torch][0].detach(), rtol=1e-9)
    (g_tril, g_df), (t_tril, t_df) = out[ember][1], out[torch][1]
    assert_close(g_df, t_df, rtol=1e-8)
    np.testing.assert_allclose(np.tril(arr(g_tril)), np.tril(arr(t_tril)), rtol=1e-8, atol=1e-10)
    assert not np.triu(arr(g_tril), 1).any()


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_expand_and_moments(case):
    t, _ = build(torch, "Wishart", CASES[case])
    e, _ = build(ember, "Wishart", CASES[case])
    assert repr(e) == repr(t)
    assert (e.batch_shape, e.event_shape) == (t.batch_shape, t.event_shape)
    assert e.expand((5, 2)).batch_shape == t.expand((5, 2)).batch_shape
    ember.manual_seed(0)
    s = arr(e.rsample((20000,)))
    assert s.shape == (20000, 2, 3, 3)
    mean, var = arr(e.mean), arr(e.variance)
    assert np.all(np.abs(s.mean(0) - mean) < 5 * np.sqrt(var / 20000) + 1e-9)


def test_rsample_gradient_is_unbiased_for_the_mean():
    """E[W] = df * cov, so the pathwise gradient of the mean sample w.r.t. df is cov on average."""
    ember.manual_seed(1)
    df = ember.tensor(5.0, dtype=ember.float64, requires_grad=True)
    cov = ember.tensor(COV[0])
    s = ember.distributions.Wishart(df, cov).rsample((40000,))
    g, = ember.autograd.grad(s.mean(0)[0, 0], [df])
    assert g.item() == pytest.approx(COV[0, 0, 0], rel=0.05)


ERRORS = [
    lambda m: m.distributions.Wishart(m.tensor(1.0), m.eye(3)),
    lambda m: m.distributions.Wishart(m.tensor(4.0), m.eye(3), scale_tril=m.eye(3)),
    lambda m: m.distributions.Wishart(m.tensor(4.0), m.ones(3)),
    lambda m: m.distributions.Wishart(m.tensor(4.0), m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda m: m.distributions.Wishart(m.tensor(4.0), m.eye(2)).log_prob(m.tensor([[1.0, 2.0], [2.0, 1.0]])),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)


def test_low_df_warns_as_torch():
    for m in (torch, ember):
        with pytest.warns(UserWarning, match="Low df values detected"):
            m.distributions.Wishart(m.tensor(2.5), m.eye(3))
