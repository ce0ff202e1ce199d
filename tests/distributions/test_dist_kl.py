"""kl_divergence against torch: values and gradients for every registered pair; dispatch and its errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close, build, same_error

R = np.random.default_rng(3)
POS = R.uniform(0.5, 2.0, (2, 3))
POS2 = R.uniform(0.5, 2.0, (2, 3))
X = R.standard_normal((2, 3))
A = R.standard_normal((3, 3))
COV = A @ A.T + np.eye(3)
B = R.standard_normal((2, 3, 3))
COV2 = B @ np.swapaxes(B, -1, -2) + np.eye(3)

PAIRS = {
    "Normal": ({"loc": X, "scale": POS}, {"loc": X * 0.3, "scale": POS2}),
    "Bernoulli": ({"probs": R.uniform(0.05, 0.95, (2, 3))}, {"logits": X}),
    "Bernoulli-edges": ({"probs": np.array([0.0, 1.0, 0.5, 0.3])}, {"probs": np.array([0.2, 0.5, 0.0, 1.0])}),
    "Categorical": ({"probs": R.uniform(0.1, 1, (2, 4))}, {"logits": R.standard_normal((2, 4))}),
    "Categorical-zeros": ({"probs": np.array([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])},
                          {"probs": np.array([[0.2, 0.3, 0.5], [0.5, 0.0, 0.5]])}),
    "Uniform": ({"low": X - 1, "high": X + 1}, {"low": X - 1.5, "high": X + POS}),
    "Exponential": ({"rate": POS}, {"rate": POS2}),
    "Laplace": ({"loc": X, "scale": POS}, {"loc": X * 0.3, "scale": POS2}),
    "MultivariateNormal": ({"loc": X, "covariance_matrix": COV}, {"loc": X[0], "covariance_matrix": COV2}),
    "MultivariateNormal-tril": ({"loc": X, "scale_tril": np.linalg.cholesky(COV)},
                                {"loc": X * 2, "precision_matrix": np.linalg.inv(COV2)}),
}


def _kl_pair(module, name, p, q):
    dp, lp = build(module, name, p)
    dq, lq = build(module, name, q)
    leaves = {**{"p." + k: v for k, v in lp.items()}, **{"q." + k: v for k, v in lq.items()}}
    return module.distributions.kl_divergence(dp, dq), leaves


@pytest.mark.parametrize("case", list(PAIRS))
def test_kl_value_and_gradient_match_torch(case):
    name = case.split("-")[0]
    p, q = PAIRS[case]
    want, tl = _kl_pair(torch, name, p, q)
    got, el = _kl_pair(ember, name, p, q)
    assert_close(got, want, rtol=1e-9)
    finite = np.isfinite(arr(want))
    w = R.standard_normal(want.shape) * finite
    tg = torch.autograd.grad((want.masked_fill(torch.tensor(~finite), 0) * torch.tensor(w)).sum(),
                             list(tl.values()), allow_unused=True)
    eg = ember.autograd.grad((got.masked_fill(ember.tensor(~finite), 0) * ember.tensor(w)).sum(),
                             list(el.values()), allow_unused=True)
    for key, a, b in zip(tl, eg, tg):
        if b is None:
            assert a is None or not np.any(arr(a)), key
        else:
            assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name, params", [
    ("Normal", {"loc": X, "scale": POS}), ("Bernoulli", {"probs": R.uniform(0.1, 0.9, (2, 3))}),
    ("Exponential", {"rate": POS})])
def test_exponential_family_bregman_entropy_and_kl(name, params):
    """The generic ExponentialFamily entropy and KL (autograd of the log normaliser) agree with torch's."""
    D = {m: m.distributions for m in (torch, ember)}
    out = {}
    for m in (torch, ember):
        d, _ = build(m, name, params)
        q, q_leaves = build(m, name, {k: v * 0.7 if k != "probs" else v * 0.5 for k, v in params.items()})
        h = D[m].ExponentialFamily.entropy(d)
        kl = D[m].kl._kl_expfamily_expfamily(d, q)
        # NOTE: both detach p's natural parameters, so only the q side of the KL carries a gradient.
        grads = m.autograd.grad(kl.sum(), list(q_leaves.values()))
        out[m] = [h, kl, *grads]
    for a, b in zip(out[ember], out[torch]):
        assert_close(a, b, rtol=1e-9)


def test_unregistered_pair_raises_as_torch():
    for m in (torch, ember):
        with pytest.raises(NotImplementedError) as e:
            m.distributions.kl_divergence(m.distributions.Categorical(m.ones(2)), m.distributions.Normal(0.0, 1.0))
        assert str(e.value) == "No KL(p || q) is implemented for p type Categorical and q type Normal"
    same_error(lambda m: m.distributions.kl_divergence(m.distributions.Bernoulli(m.tensor([0.3])),
                                                       m.distributions.Normal(0.0, 1.0)))


def test_register_kl_dispatches_to_the_most_specific_pair():
    D = ember.distributions

    class MyNormal(D.Normal):
        pass

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)

    @D.register_kl(MyNormal, D.Normal)
    def _mine(p, q):
        return ember.tensor(-1.0)

    try:
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == -1.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == pytest.approx(0.5)

        class MyNormal2(D.Normal):
            pass

        @D.register_kl(D.Normal, MyNormal2)
        def _theirs(p, q):
            return ember.tensor(-2.0)

        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            D.kl_divergence(MyNormal(0.0, 1.0), MyNormal2(0.0, 1.0))
        assert any("Ambiguous kl_divergence(MyNormal, MyNormal2)" in str(x.message) for x in w)
    finally:
        D.kl._KL_REGISTRY.pop((MyNormal, D.Normal), None)
        D.kl._KL_REGISTRY.pop((D.Normal, MyNormal2), None)
        D.kl._KL_MEMOIZE.clear()
