"""HalfNormal, HalfCauchy, Pareto, Weibull, InverseGamma against torch.distributions (float64)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import assert_close, build, check, moments, same_error

R = np.random.default_rng(9)
POS = R.uniform(0.5, 2.0, (2, 3))
POS2 = R.uniform(0.5, 2.0, (2, 3))
BIG = R.uniform(2.5, 4.0, (2, 3))
U = R.uniform(0.05, 0.95, (2, 3))

CASES = {
    "HalfNormal": ({"scale": POS}, POS2),
    "HalfCauchy": ({"scale": POS}, POS2),
    "Pareto": ({"scale": POS, "alpha": BIG}, POS + POS2),
    "Pareto-small-alpha": ({"scale": POS, "alpha": POS2}, POS + POS2),
    "Weibull": ({"scale": POS, "concentration": BIG}, POS2),
    "InverseGamma": ({"concentration": BIG, "rate": POS}, POS2),
    "InverseGamma-small": ({"concentration": POS, "rate": POS2}, POS2),
}
QUANTITIES = {
    "log_prob": lambda v: lambda m, d: d.log_prob(m.tensor(v)),
    "entropy": lambda v: lambda m, d: d.entropy(),
    "mean": lambda v: lambda m, d: d.mean,
    "variance": lambda v: lambda m, d: d.variance,
    "mode": lambda v: lambda m, d: d.mode,
    "cdf": lambda v: lambda m, d: d.cdf(m.tensor(v)),
    "icdf": lambda v: lambda m, d: d.icdf(m.tensor(U)),
}


CLAMP_NAN = ("ember's clamp backward multiplies the gradient by the in-range mask, so the inf/NaN of the clamped "
             "(alpha < 1 or < 2) entries leaks into the gradient as NaN; torch selects (where) and gives 0")
XFAIL = {("Pareto-small-alpha", "mean"): CLAMP_NAN, ("Pareto-small-alpha", "variance"): CLAMP_NAN}


def _cases():
    for case in CASES:
        for quantity in QUANTITIES:
            marks = ([pytest.mark.xfail(reason=XFAIL[case, quantity], strict=True)]
                     if (case, quantity) in XFAIL else [])
            yield pytest.param(case, quantity, marks=marks, id=f"{case}-{quantity}")


@pytest.mark.parametrize("case, quantity", list(_cases()))
def test_quantity_and_gradient_match_torch(case, quantity):
    params, value = CASES[case]
    frozen = ("concentration",) if quantity == "cdf" else ()
    check(case.split("-")[0], params, QUANTITIES[quantity](value), rtol=1e-9, atol=1e-11, frozen=frozen)


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_expand(case):
    name = case.split("-")[0]
    t, _ = build(torch, name, CASES[case][0])
    e, _ = build(ember, name, CASES[case][0])
    assert repr(e) == repr(t) and repr(e.support) == repr(t.support)
    assert (e.batch_shape, e.event_shape, e.has_rsample) == (t.batch_shape, t.event_shape, t.has_rsample)
    for shape in [(), (5,)]:
        assert e.rsample(shape).shape == t.rsample(shape).shape
    big = (3,) + tuple(t.batch_shape)
    assert e.expand(big).batch_shape == t.expand(big).batch_shape and type(e.expand(big)) is type(e)
    assert e.expand(big).sample().shape == t.expand(big).sample().shape


SAMPLED = {
    "HalfNormal": {"scale": np.array([0.5, 2.0])},
    "Pareto": {"scale": np.array([1.0, 2.0]), "alpha": np.array([5.0, 6.0])},
    "Weibull": {"scale": np.array([1.0, 2.0]), "concentration": np.array([1.5, 3.0])},
    "InverseGamma": {"concentration": np.array([5.0, 8.0]), "rate": np.array([1.0, 2.0])},
}


@pytest.mark.parametrize("name", list(SAMPLED))
def test_sample_moments(name):
    ember.manual_seed(0)
    d, _ = build(ember, name, SAMPLED[name])
    s = d.rsample((40000,))
    assert d.support.check(s).all()
    moments(s, d.mean, d.variance)


ERRORS = [
    lambda m: m.distributions.HalfNormal(m.tensor([-1.0])),
    lambda m: m.distributions.HalfNormal(m.tensor([1.0])).log_prob(m.tensor([-1.0])),
    lambda m: m.distributions.Pareto(m.tensor([1.0]), m.tensor([0.0])),
    lambda m: m.distributions.Pareto(m.tensor([1.0]), m.tensor([2.0])).log_prob(m.tensor([0.5])),
    lambda m: m.distributions.Weibull(m.tensor([1.0]), m.tensor([-2.0])),
    lambda m: m.distributions.InverseGamma(m.tensor([1.0]), m.tensor([-2.0])),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)


@pytest.mark.parametrize("name, p, q", [
    ("HalfNormal", {"scale": POS}, {"scale": POS2}),
    ("Pareto", {"scale": POS, "alpha": BIG}, {"scale": POS2, "alpha": POS}),
])
def test_kl_matches_torch(name, p, q):
    out = {}
    for m in (torch, ember):
        dp, lp = build(m, name, p)
        dq, lq = build(m, name, q)
        kl = m.distributions.kl_divergence(dp, dq)
        finite = torch.tensor(np.isfinite(kl.detach().numpy())) if m is torch else ember.tensor(
            np.isfinite(kl.detach().numpy()))
        out[m] = [kl, *m.autograd.grad(kl.masked_fill(~finite, 0).sum(), list(lp.values()) + list(lq.values()))]
    for a, b in zip(out[ember], out[torch]):
        assert_close(a, b, rtol=1e-9, atol=1e-11)
