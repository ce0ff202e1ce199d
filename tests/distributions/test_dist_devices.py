"""The distributions on the test device (EMBER_TEST_DEVICE=cuda: the CuPy stand-in or a real GPU): samples,
log-densities, KL and reparameterised gradients stay on the parameters' device and agree with torch."""
import numpy as np
import pytest
import torch

import ember
from _device import DEVICE, TORCH_DEVICE, host

R = np.random.default_rng(8)
P = R.uniform(0.2, 0.8, 3)
POS = R.uniform(0.5, 2.0, 3)
X = R.standard_normal(3)

FACTORIES = {
    "Normal": lambda m, d: m.distributions.Normal(m.tensor(X, device=d), m.tensor(POS, device=d)),
    "Bernoulli": lambda m, d: m.distributions.Bernoulli(m.tensor(P, device=d)),
    "Categorical": lambda m, d: m.distributions.Categorical(m.tensor(P, device=d)),
    "Gamma": lambda m, d: m.distributions.Gamma(m.tensor(POS, device=d), m.tensor(P, device=d)),
    "Dirichlet": lambda m, d: m.distributions.Dirichlet(m.tensor(POS, device=d)),
    "Beta": lambda m, d: m.distributions.Beta(m.tensor(POS, device=d), m.tensor(P, device=d)),
    "Binomial": lambda m, d: m.distributions.Binomial(5, m.tensor(P, device=d)),
    "Poisson": lambda m, d: m.distributions.Poisson(m.tensor(POS, device=d)),
    "MultivariateNormal": lambda m, d: m.distributions.MultivariateNormal(
        m.tensor(X, device=d), scale_tril=m.tensor(np.diag(POS), device=d)),
    "LowRankMultivariateNormal": lambda m, d: m.distributions.LowRankMultivariateNormal(
        m.tensor(X, device=d), m.tensor(X[:, None], device=d), m.tensor(POS, device=d)),
    "StudentT": lambda m, d: m.distributions.StudentT(m.tensor(POS + 2, device=d)),
    "Gumbel": lambda m, d: m.distributions.Gumbel(m.tensor(X, device=d), m.tensor(POS, device=d)),
    "RelaxedOneHotCategorical": lambda m, d: m.distributions.RelaxedOneHotCategorical(
        m.tensor(0.5, dtype=m.float64, device=d), m.tensor(P, device=d)),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_sample_and_log_prob_on_device(name):
    ember.manual_seed(0)
    e = FACTORIES[name](ember, DEVICE)
    t = FACTORIES[name](torch, TORCH_DEVICE)
    s = e.sample((4,))
    assert s.device.type == DEVICE and s.shape == t.sample((4,)).shape
    lp = e.log_prob(s)
    assert lp.device.type == DEVICE
    want = t.log_prob(torch.tensor(np.asarray(host(s).numpy()), device=TORCH_DEVICE))
    np.testing.assert_allclose(host(lp).numpy(), host(want).numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Dirichlet", "MultivariateNormal", "StudentT"])
def test_rsample_gradient_stays_on_device(name):
    ember.manual_seed(0)
    leaf = ember.tensor(POS + 1, device=DEVICE, requires_grad=True)
    dist = {"Normal": lambda: ember.distributions.Normal(leaf, 1.0),
            "Gamma": lambda: ember.distributions.Gamma(leaf, 1.0),
            "Dirichlet": lambda: ember.distributions.Dirichlet(leaf),
            "MultivariateNormal": lambda: ember.distributions.MultivariateNormal(
                leaf, scale_tril=ember.eye(3, dtype=ember.float64, device=DEVICE)),
            "StudentT": lambda: ember.distributions.StudentT(leaf)}[name]()
    g, = ember.autograd.grad(dist.rsample((5,)).sum(), [leaf])
    assert g.device.type == DEVICE and np.isfinite(host(g).numpy()).all()


def test_kl_on_device():
    D = ember.distributions
    p = D.Normal(ember.tensor(X, device=DEVICE), ember.tensor(POS, device=DEVICE))
    q = D.Normal(ember.tensor(POS, device=DEVICE), ember.tensor(POS * 2, device=DEVICE))
    kl = D.kl_divergence(p, q)
    T = torch.distributions
    want = T.kl_divergence(T.Normal(torch.tensor(X), torch.tensor(POS)), T.Normal(torch.tensor(POS),
                                                                                  torch.tensor(POS * 2)))
    assert kl.device.type == DEVICE
    np.testing.assert_allclose(host(kl).numpy(), want.numpy(), rtol=1e-12)
