"""RelaxedBernoulli, RelaxedOneHotCategorical (and their logit/exp bases), LowRankMultivariateNormal and the
(low-rank) multivariate normal KL pairs, against torch.distributions (float64)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close, build, check, moments, same_error

R = np.random.default_rng(7)
PROBS = R.uniform(0.1, 0.9, (2, 3))
PVEC = R.dirichlet(np.ones(3), size=2)
LOGITS = R.standard_normal((2, 3))
TEMP = np.array(0.7)
UNIT = R.uniform(0.05, 0.95, (2, 3))
SIMPLEX = R.dirichlet(np.ones(3), size=(4, 2))
LOC = R.standard_normal((2, 4))
W = R.standard_normal((4, 2))
DIAG = R.uniform(0.5, 2.0, (2, 4))
VALUE = R.standard_normal((3, 2, 4))

CASES = {
    "RelaxedBernoulli-probs": ({"temperature": TEMP, "probs": PROBS}, UNIT),
    "RelaxedBernoulli-logits": ({"temperature": TEMP, "logits": LOGITS}, UNIT),
    "relaxed_bernoulli.LogitRelaxedBernoulli": ({"temperature": TEMP, "logits": LOGITS}, LOGITS * 2),
    "RelaxedOneHotCategorical-probs": ({"temperature": TEMP, "probs": PVEC}, SIMPLEX),
    "RelaxedOneHotCategorical-logits": ({"temperature": TEMP, "logits": LOGITS}, SIMPLEX),
    "relaxed_categorical.ExpRelaxedCategorical": ({"temperature": TEMP, "logits": LOGITS}, np.log(SIMPLEX)),
    "LowRankMultivariateNormal": ({"loc": LOC, "cov_factor": W, "cov_diag": DIAG}, VALUE),
}
QUANTITIES = {
    "log_prob": lambda v: lambda m, d: d.log_prob(m.tensor(v)),
    "entropy": lambda v: lambda m, d: d.entropy(),
    "mean": lambda v: lambda m, d: d.mean,
    "variance": lambda v: lambda m, d: d.variance,
    "mode": lambda v: lambda m, d: d.mode,
    "covariance_matrix": lambda v: lambda m, d: d.covariance_matrix,
    "precision_matrix": lambda v: lambda m, d: d.precision_matrix,
    "scale_tril": lambda v: lambda m, d: d.scale_tril,
}


def _applies(case, quantity):
    return case.startswith("LowRank") or quantity in ("log_prob", "entropy", "mean", "variance", "mode")


@pytest.mark.parametrize("case, quantity", [(c, q) for c in CASES for q in QUANTITIES if _applies(c, q)])
def test_quantity_and_gradient_match_torch(case, quantity):
    params, value = CASES[case]
    check(case.split("-")[0], params, QUANTITIES[quantity](value), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_expand(case):
    name = case.split("-")[0]
    t, _ = build(torch, name, CASES[case][0])
    e, _ = build(ember, name, CASES[case][0])
    if "Relaxed" not in name:
        assert repr(e) == repr(t)
    assert (e.batch_shape, e.event_shape, e.has_rsample) == (t.batch_shape, t.event_shape, t.has_rsample)
    assert repr(e.support) == repr(t.support)
    for shape in [(), (5,), (2, 1)]:
        assert e.rsample(shape).shape == t.rsample(shape).shape
        assert e.sample(shape).shape == t.sample(shape).shape
    big = (3,) + tuple(t.batch_shape)
    assert e.expand(big).batch_shape == t.expand(big).batch_shape and type(e.expand(big)) is type(e)
    assert e.expand(big).rsample().shape == t.expand(big).rsample().shape


def test_relaxed_samples_approach_the_discrete_distribution():
    """At a low temperature, relaxed samples are nearly one-hot with the category frequencies of probs."""
    ember.manual_seed(0)
    D = ember.distributions
    p = np.array([0.2, 0.3, 0.5])
    s = arr(D.RelaxedOneHotCategorical(ember.tensor(0.05), ember.tensor(p)).rsample((20000,)))
    assert np.allclose(s.sum(-1), 1)
    freq = np.bincount(s.argmax(-1), minlength=3) / 20000
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / 20000))
    b = arr(D.RelaxedBernoulli(ember.tensor(0.05), ember.tensor([0.3, 0.8])).rsample((20000,)))
    assert np.all(np.abs((b > 0.5).mean(0) - [0.3, 0.8]) < 0.02)


def test_relaxed_rsample_gradient_flows_to_logits():
    """The Gumbel-softmax rsample, checked against the same formula in torch fed ember's uniforms."""
    ember.manual_seed(3)
    logits = ember.tensor(LOGITS, requires_grad=True)
    s = ember.distributions.RelaxedOneHotCategorical(ember.tensor(0.7, dtype=ember.float64),
                                                     logits=logits).rsample((4,))
    ember.manual_seed(3)
    u = arr(ember.rand((4, 2, 3), dtype=ember.float64))
    tl = torch.tensor(LOGITS, requires_grad=True)
    eps = torch.finfo(torch.float64).eps
    g = -(-(torch.tensor(u).clamp(eps, 1 - eps).log())).log()
    ts = torch.softmax((tl - tl.logsumexp(-1, keepdim=True) + g) / 0.7, -1)
    assert_close(s, ts.detach(), rtol=1e-10)
    w = R.standard_normal((4, 2, 3))
    eg, = ember.autograd.grad((s * ember.tensor(w)).sum(), [logits])
    tg, = torch.autograd.grad((ts * torch.tensor(w)).sum(), [tl])
    assert_close(eg, tg, rtol=1e-9)


def test_lowrank_rsample_moments():
    ember.manual_seed(0)
    d, _ = build(ember, "LowRankMultivariateNormal", {"loc": LOC[0], "cov_factor": W, "cov_diag": DIAG[0]})
    s = d.rsample((40000,))
    moments(s, LOC[0], d.variance)
    np.testing.assert_allclose(np.cov(arr(s).T), arr(d.covariance_matrix), atol=0.15)


A = R.standard_normal((4, 4))
COV = A @ A.T + np.eye(4)
KL = {
    "lowrank-lowrank": (("LowRankMultivariateNormal", {"loc": LOC, "cov_factor": W, "cov_diag": DIAG}),
                        ("LowRankMultivariateNormal",
                         {"loc": LOC[0], "cov_factor": W[:, :1] * 2, "cov_diag": DIAG[1]})),
    "mvn-lowrank": (("MultivariateNormal", {"loc": LOC, "covariance_matrix": COV}),
                    ("LowRankMultivariateNormal", {"loc": LOC[0], "cov_factor": W, "cov_diag": DIAG})),
    # NOTE: torch's own lowrank-mvn KL fails when only p's cov_diag is batched, so p's diag is unbatched here.
    "lowrank-mvn": (("LowRankMultivariateNormal", {"loc": LOC, "cov_factor": W, "cov_diag": DIAG[0]}),
                    ("MultivariateNormal", {"loc": LOC[1], "scale_tril": np.linalg.cholesky(COV)})),
}


@pytest.mark.parametrize("case", list(KL))
def test_kl_matches_torch(case):
    (pn, pp), (qn, qp) = KL[case]
    out = {}
    for m in (torch, ember):
        p, lp = build(m, pn, pp)
        q, lq = build(m, qn, qp)
        kl = m.distributions.kl_divergence(p, q)
        out[m] = [kl, *m.autograd.grad(kl.sum(), list(lp.values()) + list(lq.values()))]
    for a, b in zip(out[ember], out[torch]):
        assert_close(a, b, rtol=1e-8, atol=1e-10)


ERRORS = [
    lambda m: m.distributions.RelaxedBernoulli(m.tensor(0.5)),
    lambda m: m.distributions.RelaxedBernoulli(m.tensor(0.5), m.tensor([1.5])),
    lambda m: m.distributions.RelaxedOneHotCategorical(m.tensor(0.5), m.tensor([0.5, -0.5])),
    lambda m: m.distributions.RelaxedBernoulli(m.tensor(0.5), m.tensor([0.5])).log_prob(m.tensor([1.5])),
    lambda m: m.distributions.LowRankMultivariateNormal(m.tensor(0.0), m.ones(1, 1), m.ones(1)),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(2), m.ones(2)),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(3, 1), m.ones(2)),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(2, 1), m.ones(3)),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(2), m.ones(2, 1) / 10, m.tensor([-10.0, 1.0])),
    lambda m: m.distributions.LowRankMultivariateNormal(m.zeros(3, 2), m.ones(2, 2, 1), m.ones(2)),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)
