"""Normal, Bernoulli, Categorical, Uniform, Exponential, Laplace against torch.distributions (float64)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, build, check, moments, same_error

R = np.random.default_rng(1)
X = np.array([[-1.5, 0.25, 2.0], [0.5, -0.3, 1.1]])
U = np.array([[0.1, 0.5, 0.9], [0.3, 0.7, 0.05]])
POS = np.array([[0.5, 1.3, 2.0], [0.8, 1.7, 0.6]])
PROBS = np.array([[0.2, 0.5, 0.9], [0.7, 0.05, 0.4]])
PVEC = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])

# name, params, a value in the support (batch-shaped), probabilities for icdf
CASES = {
    "Normal": ({"loc": X * 0.7, "scale": POS}, X, U),
    "Normal-scalar": ({"loc": 0.3, "scale": 2.0}, X, U),
    "Normal-broadcast": ({"loc": X[0], "scale": POS[:, :1]}, X, U),
    "Bernoulli-probs": ({"probs": PROBS}, np.array([[0., 1., 1.], [1., 0., 0.]]), None),
    "Bernoulli-logits": ({"logits": X}, np.array([[0., 1., 1.], [1., 0., 0.]]), None),
    "Categorical-probs": ({"probs": PVEC}, np.array([[0, 2], [1, 1]]), None),
    "Categorical-logits": ({"logits": X}, np.array([[0, 2], [1, 1]]), None),
    "Uniform": ({"low": X - 1, "high": X + POS}, X, U),
    "Exponential": ({"rate": POS}, POS * 1.5, U),
    "Laplace": ({"loc": X * 0.5, "scale": POS}, X, U),
}


def _name(case):
    return case.split("-")[0]


def _value(m, v):
    return m.tensor(v, dtype=m.int64 if v.dtype.kind == "i" else m.float64)


QUANTITIES = {
    "log_prob": lambda v, u: lambda m, d: d.log_prob(_value(m, v)),
    "prob_of_sample_shape": lambda v, u: lambda m, d: d.log_prob(_value(m, np.stack([v, v]))),
    "entropy": lambda v, u: lambda m, d: d.entropy(),
    "perplexity": lambda v, u: lambda m, d: d.perplexity(),
    "mean": lambda v, u: lambda m, d: d.mean,
    "variance": lambda v, u: lambda m, d: d.variance,
    "stddev": lambda v, u: lambda m, d: d.stddev,
    "mode": lambda v, u: lambda m, d: d.mode,
    "cdf": lambda v, u: lambda m, d: d.cdf(_value(m, v)),
    "icdf": lambda v, u: lambda m, d: d.icdf(_value(m, u)),
}


@pytest.mark.parametrize("quantity", list(QUANTITIES))
@pytest.mark.parametrize("case", list(CASES))
def test_quantity_and_gradient_match_torch(case, quantity):
    params, value, u = CASES[case]
    if u is None and quantity == "icdf":
        u = np.full(value.shape, 0.5)
    check(_name(case), params, QUANTITIES[quantity](value, u))


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_and_expand(case):
    params, _, _ = CASES[case]
    t, _ = build(torch, _name(case), params)
    e, _ = build(ember, _name(case), params)
    assert e.batch_shape == t.batch_shape and e.event_shape == t.event_shape
    assert repr(e) == repr(t)
    assert repr(e.support) == repr(t.support)
    assert e.has_rsample == t.has_rsample and e.has_enumerate_support == t.has_enumerate_support
    for shape in [(), (4,), (2, 3)]:
        assert e.sample(shape).shape == t.sample(shape).shape
        assert not e.sample(shape).requires_grad
        if t.has_rsample:
            assert e.rsample(shape).shape == t.rsample(shape).shape
    big = (5,) + tuple(t.batch_shape)
    te, ee = t.expand(big), e.expand(big)
    assert ee.batch_shape == te.batch_shape and type(ee) is type(e)
    assert ee.sample().shape == te.sample().shape
    assert ee._validate_args == e._validate_args
    if t.has_enumerate_support:
        for expand in (True, False):
            np.testing.assert_array_equal(arr(e.enumerate_support(expand)), arr(t.enumerate_support(expand)))
            assert str(e.enumerate_support(expand).dtype) == str(t.enumerate_support(expand).dtype)


SAMPLED = {
    "Normal": {"loc": np.array([0.5, -2.0]), "scale": np.array([1.0, 3.0])},
    "Bernoulli": {"probs": np.array([0.2, 0.7])},
    "Uniform": {"low": np.array([0.0, -2.0]), "high": np.array([1.0, 5.0])},
    "Exponential": {"rate": np.array([0.5, 3.0])},
    "Laplace": {"loc": np.array([0.5, -2.0]), "scale": np.array([1.0, 3.0])},
}


@pytest.mark.parametrize("name, method", [(n, m) for n in SAMPLED for m in ("sample", "rsample")
                                          if m == "sample" or n != "Bernoulli"])
def test_sample_moments(name, method):
    ember.manual_seed(0)
    d, _ = build(ember, name, SAMPLED[name])
    samples = getattr(d, method)((20000,))
    assert d.support.check(samples).all()
    moments(samples, d.mean, d.variance)


def test_categorical_sample_frequencies():
    ember.manual_seed(0)
    probs = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
    d = ember.distributions.Categorical(probs=ember.tensor(probs))
    s = arr(d.sample((20000,)))
    assert s.dtype == np.int64 and s.shape == (20000, 2)
    freq = np.stack([(s == k).mean(0) for k in range(3)], -1)
    assert np.all(np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / 20000))


@pytest.mark.parametrize("name, params", [
    ("Normal", {"loc": X, "scale": POS}),
    ("Uniform", {"low": X - 1, "high": X + POS}),
    ("Exponential", {"rate": POS}),
    ("Laplace", {"loc": X, "scale": POS}),
])
def test_rsample_gradient_is_the_reparameterisation(name, params):
    """d rsample / d param, checked against the analytic derivative of the same sample."""
    ember.manual_seed(3)
    d, leaves = build(ember, name, params)
    s = d.rsample((4,))
    grads = ember.autograd.grad(s.sum(), list(leaves.values()))
    s = arr(s)
    expected = {
        "Normal": lambda: [np.full(X.shape, 4.0), ((s - X) / POS).sum(0)],
        "Uniform": lambda: [(1 - (s - (X - 1)) / (1 + POS)).sum(0), ((s - (X - 1)) / (1 + POS)).sum(0)],
        "Exponential": lambda: [(-s / POS).sum(0)],
        "Laplace": lambda: [np.full(X.shape, 4.0), ((s - X) / POS).sum(0)],
    }[name]()
    for g, want in zip(grads, expected):
        np.testing.assert_allclose(arr(g), want, rtol=1e-10)


def test_normal_rsample_same_noise_as_torch():
    """Feeding torch the noise ember drew: loc + scale * eps and its gradients agree."""
    ember.manual_seed(5)
    e, el = build(ember, "Normal", {"loc": X, "scale": POS})
    t, tl = build(torch, "Normal", {"loc": X, "scale": POS})
    ember.manual_seed(5)
    eps = arr(ember.randn((3,) + X.shape, dtype=ember.float64))
    ember.manual_seed(5)
    es = e.rsample((3,))
    ts = tl["loc"] + torch.tensor(eps) * tl["scale"]
    np.testing.assert_allclose(arr(es), arr(ts.detach()), rtol=1e-12)
    eg = ember.autograd.grad((es ** 2).sum(), [el["loc"], el["scale"]])
    tg = torch.autograd.grad((ts ** 2).sum(), [tl["loc"], tl["scale"]])
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(arr(a), arr(b), rtol=1e-12)


ERRORS = [
    lambda m: m.distributions.Normal(m.tensor([0.0, 1.0]), m.tensor([1.0, -1.0])),
    lambda m: m.distributions.Normal(m.tensor([0.0, float("nan")]), m.tensor([1.0, 1.0])),
    lambda m: m.distributions.Bernoulli(m.tensor([0.5, 1.5])),
    lambda m: m.distributions.Bernoulli(),
    lambda m: m.distributions.Bernoulli(probs=0.3, logits=0.1),
    lambda m: m.distributions.Categorical(m.tensor(0.5)),
    lambda m: m.distributions.Categorical(logits=m.tensor(0.5)),
    lambda m: m.distributions.Categorical(m.tensor([0.5, -0.5])),
    lambda m: m.distributions.Uniform(m.tensor([0.0, 2.0]), m.tensor([1.0, 1.0])),
    lambda m: m.distributions.Exponential(m.tensor([0.0])),
    lambda m: m.distributions.Laplace(0.0, -1.0),
    lambda m: m.distributions.Normal(0.0, 1.0).log_prob(1.0),
    lambda m: m.distributions.Normal(m.zeros(3), 1.0).log_prob(m.zeros(2)),
    lambda m: m.distributions.Bernoulli(m.tensor([0.3])).log_prob(m.tensor([0.5])),
    lambda m: m.distributions.Categorical(m.tensor([0.5, 0.5])).log_prob(m.tensor(2)),
    lambda m: m.distributions.Uniform(0.0, 1.0).log_prob(m.tensor(1.5)),
    lambda m: m.distributions.Exponential(m.tensor([1.0])).cdf(m.tensor([-1.0])),
    lambda m: m.distributions.Distribution.set_default_validate_args(3),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_validation_errors_match_torch(fn):
    same_error(fn)


def test_validate_args_false_and_default_switch():
    D = ember.distributions
    d = D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)
    assert d.log_prob(ember.tensor([0.0])).isnan().all()
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)
        assert D.Uniform(0.0, 1.0).log_prob(ember.tensor(2.0)).item() == float("-inf")
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)


def test_lazy_probs_and_logits_follow_torch():
    e = ember.distributions.Bernoulli(logits=ember.tensor([0.3], requires_grad=True))
    assert "probs" not in e.__dict__
    e.probs
    assert "probs" in e.__dict__ and e.probs.requires_grad
    t = torch.distributions.Categorical(probs=torch.tensor([0.0, 1.0], dtype=torch.float64))
    c = ember.distributions.Categorical(probs=ember.tensor([0.0, 1.0], dtype=ember.float64))
    np.testing.assert_allclose(arr(c.logits), arr(t.logits))
    np.testing.assert_allclose(arr(c.entropy()), arr(t.entropy()))
