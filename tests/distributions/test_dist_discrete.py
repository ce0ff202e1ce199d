"""Poisson, Binomial, Multinomial, OneHotCategorical, Geometric against torch.distributions (float64)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close, build, check, moments, same_error

R = np.random.default_rng(5)
RATE = R.uniform(0.3, 5.0, (2, 3))
COUNTS = np.array([[0.0, 3.0, 1.0], [7.0, 2.0, 0.0]])
PROBS = R.uniform(0.05, 0.95, (2, 3))
PVEC = R.dirichlet(np.ones(3), size=2)
ONE_HOT = np.eye(3)[[[0, 2], [1, 1]]]
MULTI = np.array([[[1.0, 2.0, 2.0], [0.0, 0.0, 5.0]], [[3.0, 1.0, 1.0], [2.0, 2.0, 1.0]]])

CASES = {
    "Poisson": ({"rate": RATE}, COUNTS, ()),
    "Poisson-scalar": ({"rate": 2.5}, COUNTS, ()),
    "Binomial-probs": ({"total_count": 7, "probs": PROBS}, COUNTS, ()),
    "Binomial-logits": ({"total_count": 7, "logits": R.standard_normal((2, 3))}, COUNTS, ()),
    "Binomial-tensor-count": ({"total_count": np.full((2, 3), 9.0), "probs": PROBS}, COUNTS, ("total_count",)),
    "Multinomial-probs": ({"total_count": 5, "probs": PVEC}, MULTI, ()),
    "Multinomial-logits": ({"total_count": 5, "logits": R.standard_normal((2, 3))}, MULTI, ()),
    "OneHotCategorical-probs": ({"probs": PVEC}, ONE_HOT, ()),
    "OneHotCategorical-logits": ({"logits": R.standard_normal((2, 3))}, ONE_HOT, ()),
    "Geometric-probs": ({"probs": PROBS}, COUNTS, ()),
    "Geometric-logits": ({"logits": R.standard_normal((2, 3))}, COUNTS, ()),
}
QUANTITIES = {
    "log_prob": lambda v: lambda m, d: d.log_prob(m.tensor(v)),
    "entropy": lambda v: lambda m, d: d.entropy(),
    "mean": lambda v: lambda m, d: d.mean,
    "variance": lambda v: lambda m, d: d.variance,
    "stddev": lambda v: lambda m, d: d.stddev,
    "mode": lambda v: lambda m, d: d.mode,
    "cdf": lambda v: lambda m, d: d.cdf(m.tensor(v)),
}


@pytest.mark.parametrize("quantity", list(QUANTITIES))
@pytest.mark.parametrize("case", list(CASES))
def test_quantity_and_gradient_match_torch(case, quantity):
    params, value, frozen = CASES[case]
    check(case.split("-")[0], params, QUANTITIES[quantity](value), rtol=1e-9, atol=1e-11, frozen=frozen)


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_expand_support(case):
    name = case.split("-")[0]
    params, _, frozen = CASES[case]
    t, _ = build(torch, name, params, frozen)
    e, _ = build(ember, name, params, frozen)
    assert repr(e) == repr(t)
    assert (e.batch_shape, e.event_shape) == (t.batch_shape, t.event_shape)
    assert e.has_enumerate_support == t.has_enumerate_support and e.has_rsample == t.has_rsample
    for shape in [(), (5,), (2, 1)]:
        es, ts = e.sample(shape), t.sample(shape)
        assert es.shape == ts.shape and str(es.dtype) == str(ts.dtype)
    big = (3,) + tuple(t.batch_shape)
    assert e.expand(big).batch_shape == t.expand(big).batch_shape and type(e.expand(big)) is type(e)
    assert e.expand(big).sample().shape == t.expand(big).sample().shape
    if t.has_enumerate_support:
        for expand in (True, False):
            assert_close(e.enumerate_support(expand), t.enumerate_support(expand))


SAMPLED = {
    "Poisson": {"rate": np.array([0.5, 4.0, 30.0])},
    "Binomial": {"total_count": 12, "probs": np.array([0.1, 0.5, 0.8])},
    "Multinomial": {"total_count": 10, "probs": np.array([0.2, 0.3, 0.5])},
    "OneHotCategorical": {"probs": np.array([0.2, 0.3, 0.5])},
    "Geometric": {"probs": np.array([0.2, 0.5, 0.9])},
}


@pytest.mark.parametrize("name", list(SAMPLED))
def test_sample_moments(name):
    ember.manual_seed(0)
    d, _ = build(ember, name, SAMPLED[name])
    s = d.sample((20000,))
    assert d.support.check(s).all()
    moments(s, d.mean, d.variance)


def test_straight_through_rsample_gradient_is_the_probs_gradient():
    for m in (torch, ember):
        p = m.tensor([0.2, 0.3, 0.5], dtype=m.float64, requires_grad=True)
        d = m.distributions.OneHotCategoricalStraightThrough(p)
        s = d.rsample((4,))
        w = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
        g, = m.autograd.grad((s * w).sum(), [p])
        if m is torch:
            want = g
    assert_close(g, want)
    assert ((arr(s) == 0) | (arr(s) == 1)).all() and (arr(s).sum(-1) == 1).all()


ERRORS = [
    lambda m: m.distributions.Poisson(m.tensor([-1.0])),
    lambda m: m.distributions.Binomial(m.tensor([2.5]), m.tensor([0.5])),
    lambda m: m.distributions.Binomial(3, m.tensor([1.5])),
    lambda m: m.distributions.Binomial(3),
    lambda m: m.distributions.Binomial(3, m.tensor([0.5])).log_prob(m.tensor([4.0])),
    lambda m: m.distributions.Binomial(m.tensor([3.0, 4.0]), m.tensor([0.5, 0.5])).entropy(),
    lambda m: m.distributions.Multinomial(m.tensor(3), m.tensor([0.5, 0.5])),
    lambda m: m.distributions.Multinomial(3, m.tensor([0.5, 0.5])).log_prob(m.tensor([3.0, 1.0])),
    lambda m: m.distributions.OneHotCategorical(m.tensor([0.5, 0.5])).log_prob(m.tensor([1.0, 1.0])),
    lambda m: m.distributions.Geometric(m.tensor([0.0, 0.5])),
    lambda m: m.distributions.Geometric(m.tensor([1.5])),
    lambda m: m.distributions.Poisson(m.tensor([1.0])).log_prob(m.tensor([0.5])),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)


KL = {
    "Poisson": ({"rate": RATE}, {"rate": RATE[::-1].copy()}),
    "Binomial": ({"total_count": 6, "probs": PROBS}, {"total_count": 6, "logits": R.standard_normal((2, 3))}),
    "OneHotCategorical": ({"probs": PVEC}, {"logits": R.standard_normal((2, 3))}),
    "Geometric": ({"probs": PROBS}, {"probs": PROBS[::-1].copy()}),
}


@pytest.mark.parametrize("name", list(KL))
def test_kl_matches_torch(name):
    out = {}
    for m in (torch, ember):
        p, lp = build(m, name, KL[name][0])
        q, lq = build(m, name, KL[name][1])
        kl = m.distributions.kl_divergence(p, q)
        out[m] = [kl, *m.autograd.grad(kl.sum(), list(lp.values()) + list(lq.values()))]
    for a, b in zip(out[ember], out[torch]):
        assert_close(a, b, rtol=1e-9, atol=1e-11)


def test_binomial_kl_with_larger_q_count_raises_as_torch():
    same_error(lambda m: m.distributions.kl_divergence(m.distributions.Binomial(2, m.tensor([0.5])),
                                                       m.distributions.Binomial(3, m.tensor([0.5]))))
