"""Every KL pair torch registers among the implemented families: values (inf where torch has inf) and
gradients against torch, including the generic dispatch for subclasses (HalfNormal, Chi2...)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close

R = np.random.default_rng(11)
N = 4
POS = R.uniform(0.5, 2.5, N)
POS2 = R.uniform(0.5, 2.5, N)
BIG = R.uniform(2.5, 4.0, N)
X = R.standard_normal(N)
UNIT = R.uniform(0.1, 0.9, N)

# Each family as (factory(module, leaves), its parameter arrays); parameters are float64 leaves.
FAMILIES = {
    "Bernoulli": (lambda m, p: m.distributions.Bernoulli(p["a"]), {"a": UNIT}),
    "Beta": (lambda m, p: m.distributions.Beta(p["a"], p["b"]), {"a": POS, "b": POS2}),
    "Binomial": (lambda m, p: m.distributions.Binomial(3, p["a"]), {"a": UNIT}),
    "ContinuousBernoulli": (lambda m, p: m.distributions.ContinuousBernoulli(p["a"]), {"a": np.r_[UNIT[:3], 0.5]}),
    "Exponential": (lambda m, p: m.distributions.Exponential(p["a"]), {"a": POS}),
    "Gamma": (lambda m, p: m.distributions.Gamma(p["a"], p["b"]), {"a": POS, "b": POS2}),
    "Gumbel": (lambda m, p: m.distributions.Gumbel(p["a"], p["b"]), {"a": X, "b": POS}),
    "Laplace": (lambda m, p: m.distributions.Laplace(p["a"], p["b"]), {"a": X, "b": POS}),
    "Normal": (lambda m, p: m.distributions.Normal(p["a"], p["b"]), {"a": X, "b": POS}),
    "Pareto": (lambda m, p: m.distributions.Pareto(p["a"], p["b"]), {"a": POS, "b": np.r_[BIG[:2], POS2[2:] * 0.6]}),
    "Poisson": (lambda m, p: m.distributions.Poisson(p["a"]), {"a": POS}),
    # NOTE: Uniform inside [0, 1] for the pairs against Beta, and partly outside for the infinite cases.
    "Uniform": (lambda m, p: m.distributions.Uniform(p["a"], p["a"] + p["b"]),
                {"a": np.r_[UNIT[:2] * 0.5, -UNIT[2:]], "b": np.r_[UNIT[:2] * 0.4, POS[2:]]}),
}


def _pairs():
    for type_p, type_q in torch.distributions.kl._KL_REGISTRY:
        p, q = type_p.__name__, type_q.__name__
        if p in FAMILIES and q in FAMILIES and (p != q or p == "ContinuousBernoulli"):
            yield p, q


def _kl(m, p_name, q_name):
    leaves = {}
    dists = []
    for side, name in (("p", p_name), ("q", q_name)):
        factory, params = FAMILIES[name]
        mine = {k: m.tensor(v * (1.1 if side == "q" else 1.0), dtype=m.float64, requires_grad=True)
                for k, v in params.items()}
        leaves.update({f"{side}.{k}": v for k, v in mine.items()})
        dists.append(factory(m, mine))
    return m.distributions.kl_divergence(*dists), leaves


@pytest.mark.parametrize("p, q", sorted(set(_pairs())))
def test_cross_kl_matches_torch(p, q):
    want, tl = _kl(torch, p, q)
    got, el = _kl(ember, p, q)
    assert_close(got, want, rtol=1e-9, atol=1e-12)
    finite = np.isfinite(arr(want))
    if not finite.any() or not want.requires_grad:
        return
    w = R.standard_normal(want.shape) * finite
    tg = torch.autograd.grad((want.masked_fill(torch.tensor(~finite), 0) * torch.tensor(w)).sum(),
                             list(tl.values()), allow_unused=True)
    eg = ember.autograd.grad((got.masked_fill(ember.tensor(~finite), 0) * ember.tensor(w)).sum(),
                             list(el.values()), allow_unused=True)
    for key, a, b in zip(tl, eg, tg):
        if b is None:
            assert a is None or not np.any(arr(a)), key
        else:
            # NOTE: atol 1e-8: ember's trigamma (the digamma's gradient) agrees with torch's to ~1e-8 absolute.
            assert_close(a, b, rtol=1e-8, atol=1e-8)


def test_the_pairs_cover_torch_registry():
    """Every pair torch registers among ember's families is registered here too."""
    names = set(dir(ember.distributions))
    torch_pairs = {(a.__name__, b.__name__) for a, b in torch.distributions.kl._KL_REGISTRY
                   if a.__name__ in names and b.__name__ in names}
    ours = {(a.__name__, b.__name__) for a, b in ember.distributions.kl._KL_REGISTRY}
    assert torch_pairs <= ours


@pytest.mark.parametrize("make", [
    lambda m: (m.distributions.HalfNormal(m.tensor([1.0, 2.0])), m.distributions.HalfNormal(m.tensor([2.0, 0.5]))),
    lambda m: (m.distributions.Chi2(m.tensor([3.0])), m.distributions.Gamma(m.tensor([2.0]), m.tensor([0.7]))),
    lambda m: (m.distributions.Chi2(m.tensor([3.0])), m.distributions.Exponential(m.tensor([0.7]))),
])
def test_subclass_dispatch_matches_torch(make):
    assert_close(ember.distributions.kl_divergence(*make(ember)), torch.distributions.kl_divergence(*make(torch)),
                 rtol=1e-6)

