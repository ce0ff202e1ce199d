"""Cauchy, LogNormal, Gumbel, StudentT, Independent, MixtureSameFamily, TransformedDistribution and the transforms,
against torch.distributions (float64)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr, assert_close, build, check, moments, same_error

R = np.random.default_rng(6)
X = R.standard_normal((2, 3))
POS = R.uniform(0.5, 2.0, (2, 3))
U = R.uniform(0.05, 0.95, (2, 3))
DF = np.array([[0.8, 1.5, 3.0], [5.0, 2.5, 10.0]])

CASES = {
    "Cauchy": ({"loc": X, "scale": POS}, X),
    "LogNormal": ({"loc": X, "scale": POS}, POS),
    "Gumbel": ({"loc": X, "scale": POS}, X),
    "Gumbel-scalar": ({"loc": 0.5, "scale": 2.0}, X),
    "StudentT": ({"df": DF, "loc": X, "scale": POS}, X),
}
QUANTITIES = {
    "log_prob": lambda v: lambda m, d: d.log_prob(m.tensor(v)),
    "entropy": lambda v: lambda m, d: d.entropy(),
    "mean": lambda v: lambda m, d: d.mean,
    "variance": lambda v: lambda m, d: d.variance,
    "stddev": lambda v: lambda m, d: d.stddev,
    "mode": lambda v: lambda m, d: d.mode,
    "cdf": lambda v: lambda m, d: d.cdf(m.tensor(v)),
    "icdf": lambda v: lambda m, d: d.icdf(m.tensor(U)),
}


@pytest.mark.parametrize("quantity", list(QUANTITIES))
@pytest.mark.parametrize("case", list(CASES))
def test_quantity_and_gradient_match_torch(case, quantity):
    params, value = CASES[case]
    check(case.split("-")[0], params, QUANTITIES[quantity](value), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_repr_expand(case):
    name = case.split("-")[0]
    t, _ = build(torch, name, CASES[case][0])
    e, _ = build(ember, name, CASES[case][0])
    assert repr(e) == repr(t)
    assert (e.batch_shape, e.event_shape, e.has_rsample) == (t.batch_shape, t.event_shape, t.has_rsample)
    for shape in [(), (5,), (2, 1)]:
        assert e.sample(shape).shape == t.sample(shape).shape
        if t.has_rsample:
            assert e.rsample(shape).shape == t.rsample(shape).shape
    big = (4,) + tuple(t.batch_shape)
    assert e.expand(big).batch_shape == t.expand(big).batch_shape and type(e.expand(big)) is type(e)
    assert e.expand(big).sample().shape == t.expand(big).sample().shape


SAMPLED = {
    "LogNormal": {"loc": np.array([0.0, 1.0]), "scale": np.array([0.3, 0.5])},
    "Gumbel": {"loc": np.array([0.0, 1.0]), "scale": np.array([0.3, 2.0])},
    "StudentT": {"df": np.array([5.0, 30.0]), "loc": np.array([0.0, 1.0]), "scale": np.array([1.0, 2.0])},
}


@pytest.mark.parametrize("name", list(SAMPLED))
def test_sample_moments(name):
    ember.manual_seed(0)
    d, _ = build(ember, name, SAMPLED[name])
    moments(d.rsample((40000,)) if d.has_rsample else d.sample((40000,)), d.mean, d.variance)


def test_cauchy_samples_by_quantiles():
    ember.manual_seed(0)
    d = ember.distributions.Cauchy(ember.tensor([0.0, 2.0]), ember.tensor([1.0, 0.5]))
    s = arr(d.rsample((40000,)))
    for q in (0.25, 0.5, 0.75):
        np.testing.assert_allclose(np.quantile(s, q, axis=0), arr(d.icdf(ember.tensor(q))), atol=0.05)


def test_lognormal_rsample_gradient_is_exp_of_normal():
    ember.manual_seed(1)
    loc = ember.tensor([0.3], dtype=ember.float64, requires_grad=True)
    scale = ember.tensor([0.7], dtype=ember.float64, requires_grad=True)
    s = ember.distributions.LogNormal(loc, scale).rsample((5,))
    gl, gs = ember.autograd.grad(s.sum(), [loc, scale])
    y = arr(s)
    np.testing.assert_allclose(arr(gl), y.sum(0), rtol=1e-12)
    np.testing.assert_allclose(arr(gs), (y * (np.log(y) - 0.3) / 0.7).sum(0), rtol=1e-10)


# Independent and MixtureSameFamily: built from a function of the module and the leaves
def _independent(m, p):
    return m.distributions.Independent(m.distributions.Normal(p["loc"], p["scale"]), 1)


def _mixture(m, p):
    mix = m.distributions.Categorical(logits=p["logits"])
    comp = m.distributions.Normal(p["loc"], p["scale"])
    return m.distributions.MixtureSameFamily(mix, comp)


def _mixture_mvn(m, p):
    mix = m.distributions.Categorical(logits=p["logits"])
    comp = m.distributions.Independent(m.distributions.Normal(p["loc3"], p["scale3"]), 1)
    return m.distributions.MixtureSameFamily(mix, comp)


def _transformed(m, p):
    T = m.distributions.transforms
    base = m.distributions.Normal(p["loc"], p["scale"])
    return m.distributions.TransformedDistribution(
        base, [T.AffineTransform(p["shift"], 2.0), T.TanhTransform(), T.AffineTransform(1.0, -3.0)])


def _transformed_vector(m, p):
    T = m.distributions.transforms
    base = m.distributions.Independent(m.distributions.Normal(p["loc"], p["scale"]), 1)
    return m.distributions.TransformedDistribution(base, [T.StickBreakingTransform()])


def _transformed_power(m, p):
    T = m.distributions.transforms
    base = m.distributions.Gamma(p["scale"], 1.5)
    return m.distributions.TransformedDistribution(
        base, T.ComposeTransform([T.PowerTransform(p["shift"].abs() + 0.5), T.SigmoidTransform().inv,
                                  T.ExpTransform(), T.SoftplusTransform()]))


PARAMS = {"loc": X, "scale": POS, "logits": R.standard_normal((2, 3)), "shift": X[0],
          "loc3": R.standard_normal((2, 3, 4)), "scale3": R.uniform(0.5, 2, (2, 3, 4))}
BUILT = {
    "Independent": (_independent, X),
    "MixtureSameFamily": (_mixture, R.standard_normal((4, 2))),
    "MixtureSameFamily-event": (_mixture_mvn, R.standard_normal((5, 2, 4))),
    "Transformed-affine-tanh": (_transformed, R.uniform(-1.9, 3.9, (2, 3))),
    "Transformed-stickbreaking": (_transformed_vector, R.dirichlet(np.ones(4), size=2)),
    "Transformed-power": (_transformed_power, R.uniform(0.8, 3.0, (2, 3))),
}
BUILT_QUANTITIES = ["log_prob", "entropy", "mean", "variance", "mode", "cdf", "icdf"]


def _built_pair(case):
    fn, _ = BUILT[case]
    out = {}
    for m in (torch, ember):
        leaves = {k: m.tensor(v, dtype=m.float64, requires_grad=True) for k, v in PARAMS.items()}
        out[m] = fn(m, leaves), leaves
    return out


def _quantity(m, d, q, value):
    if q in ("log_prob", "cdf"):
        return getattr(d, q)(m.tensor(value))
    if q == "icdf":
        return d.icdf(m.tensor(U))
    return d.entropy() if q == "entropy" else getattr(d, q)


@pytest.mark.parametrize("quantity", BUILT_QUANTITIES)
@pytest.mark.parametrize("case", list(BUILT))
def test_composites_match_torch(case, quantity):
    pair = _built_pair(case)
    (td, tl), (ed, el) = pair[torch], pair[ember]
    value = BUILT[case][1]
    try:
        want = _quantity(torch, td, quantity, value)
    except (NotImplementedError, ValueError) as err:
        with pytest.raises(type(err)):
            _quantity(ember, ed, quantity, value)
        return
    got = _quantity(ember, ed, quantity, value)
    assert_close(got, want, rtol=1e-9, atol=1e-11)
    if want.requires_grad:
        finite = np.isfinite(arr(want))
        w = R.standard_normal(want.shape) * finite
        names = list(tl)
        try:
            tg = torch.autograd.grad((want.masked_fill(torch.tensor(~finite), 0) * torch.tensor(w)).sum(),
                                     [tl[n] for n in names], allow_unused=True)
        except NotImplementedError as err:   # the gamma cdf in its concentration, in both
            with pytest.raises(NotImplementedError, match=str(err)):
                ember.autograd.grad((got * ember.tensor(w)).sum(), [el[n] for n in names], allow_unused=True)
            return
        eg = ember.autograd.grad((got.masked_fill(ember.tensor(~finite), 0) * ember.tensor(w)).sum(),
                                 [el[n] for n in names], allow_unused=True)
        for n, a, b in zip(names, eg, tg):
            if b is None:
                assert a is None or not np.any(arr(a)), n
            else:
                assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("case", list(BUILT))
def test_composite_shapes_and_repr(case):
    pair = _built_pair(case)
    td, ed = pair[torch][0], pair[ember][0]
    assert (ed.batch_shape, ed.event_shape, ed.has_rsample) == (td.batch_shape, td.event_shape, td.has_rsample)
    assert repr(ed.support) == repr(td.support)
    if not case.startswith("Transformed"):
        assert repr(ed) == repr(td)
    for shape in [(), (3,)]:
        assert ed.sample(shape).shape == td.sample(shape).shape
    big = (2,) + tuple(td.batch_shape)
    assert ed.expand(big).batch_shape == td.expand(big).batch_shape


def test_mixture_sample_moments():
    ember.manual_seed(0)
    D = ember.distributions
    d = D.MixtureSameFamily(D.Categorical(ember.tensor([0.3, 0.7])),
                            D.Normal(ember.tensor([-2.0, 3.0]), ember.tensor([0.5, 1.0])))
    moments(d.sample((40000,)), d.mean, d.variance)


TRANSFORMS = {
    "Exp": (lambda T, p: T.ExpTransform(), X),
    "Power": (lambda T, p: T.PowerTransform(p["scale"]), POS),
    "Sigmoid": (lambda T, p: T.SigmoidTransform(), X),
    "Softplus": (lambda T, p: T.SoftplusTransform(), X),
    "Tanh": (lambda T, p: T.TanhTransform(), X),
    "Abs": (lambda T, p: T.AbsTransform(), X),
    "Affine": (lambda T, p: T.AffineTransform(p["loc"], p["scale"]), X),
    "Affine-event": (lambda T, p: T.AffineTransform(p["loc"], p["scale"], event_dim=1), X),
    "Affine-number": (lambda T, p: T.AffineTransform(1.0, -2.0), X),
    "Softmax": (lambda T, p: T.SoftmaxTransform(), X),
    "StickBreaking": (lambda T, p: T.StickBreakingTransform(), X),
    "Compose": (lambda T, p: T.ComposeTransform([T.AffineTransform(p["loc"], p["scale"]), T.ExpTransform(),
                                                 T.PowerTransform(2.0)]), X),
    "Inverse": (lambda T, p: T.SigmoidTransform().inv, U),
    "Independent": (lambda T, p: T.IndependentTransform(T.ExpTransform(), 1), X),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_forward_inverse_jacobian_match_torch(name):
    fn, x = TRANSFORMS[name]
    out = {}
    for m in (torch, ember):
        leaves = {"loc": m.tensor(X[0], dtype=m.float64, requires_grad=True),
                  "scale": m.tensor(POS, dtype=m.float64, requires_grad=True)}
        t = fn(m.distributions.transforms, leaves)
        xt = m.tensor(x, dtype=m.float64, requires_grad=True)
        y = t(xt)
        res = {"y": y, "x_back": t.inv(y), "repr": repr(t), "bijective": t.bijective,
               "shape": tuple(t.forward_shape((2, 3))), "inv_shape": tuple(t.inverse_shape((2, 3)))}
        try:
            res["ladj"] = t.log_abs_det_jacobian(xt, y)
        except NotImplementedError:
            res["ladj"] = None
        try:
            res["sign"] = t.sign if isinstance(t.sign, int) else arr(t.sign).tolist()
        except NotImplementedError:
            res["sign"] = "none"
        res["domain"], res["codomain"] = repr(t.domain), repr(t.codomain)
        res["event_dim"] = t.domain.event_dim, t.codomain.event_dim
        total = y.sum() + (res["ladj"].sum() if res["ladj"] is not None else 0)
        res["grads"] = m.autograd.grad(total, [xt, *leaves.values()], allow_unused=True)
        out[m] = res
    e, t = out[ember], out[torch]
    for key in ("repr", "bijective", "shape", "inv_shape", "sign", "domain", "codomain", "event_dim"):
        assert e[key] == t[key], key
    for key in ("y", "x_back", "ladj"):
        if t[key] is None:
            assert e[key] is None
        else:
            assert_close(e[key], t[key], rtol=1e-10)
    for a, b in zip(e["grads"], t["grads"]):
        assert (a is None) == (b is None)
        if b is not None:
            assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_transform_cache_and_equality():
    T = ember.distributions.transforms
    t = T.ExpTransform(cache_size=1)
    x = ember.tensor([0.5])
    y = t(x)
    assert t.inv(y) is x and t(x) is y
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform().inv == T.ExpTransform().inv
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ExpTransform().inv.inv.__class__ is T.ExpTransform
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


ERRORS = [
    lambda m: m.distributions.Cauchy(0.0, -1.0),
    lambda m: m.distributions.LogNormal(0.0, 1.0).log_prob(m.tensor(-1.0)),
    lambda m: m.distributions.StudentT(m.tensor([-1.0])),
    lambda m: m.distributions.Independent(m.distributions.Normal(m.zeros(2), 1.0), 2),
    lambda m: m.distributions.MixtureSameFamily(m.distributions.Normal(0.0, 1.0), m.distributions.Normal(0.0, 1.0)),
    lambda m: m.distributions.MixtureSameFamily(m.distributions.Categorical(m.ones(3)),
                                                m.distributions.Normal(m.zeros(2), 1.0)),
    lambda m: m.distributions.TransformedDistribution(m.distributions.Normal(0.0, 1.0), 3),
    lambda m: m.distributions.TransformedDistribution(m.distributions.Normal(0.0, 1.0), [3]),
    lambda m: m.distributions.Independent(m.distributions.Bernoulli(m.ones(2, 2) / 2), 1).enumerate_support(),
]


@pytest.mark.parametrize("fn", ERRORS)
def test_errors_match_torch(fn):
    same_error(fn)


KL = {
    "Cauchy": lambda m, a, b: (m.distributions.Cauchy(a, b), m.distributions.Cauchy(b, a * a + 0.5)),
    "Gumbel": lambda m, a, b: (m.distributions.Gumbel(a, b), m.distributions.Gumbel(b, a * a + 0.5)),
    "LogNormal": lambda m, a, b: (m.distributions.LogNormal(a, b), m.distributions.LogNormal(b, a * a + 0.5)),
    "Independent": lambda m, a, b: (m.distributions.Independent(m.distributions.Laplace(a, b), 1),
                                    m.distributions.Independent(m.distributions.Laplace(b, b * 2), 1)),
}


@pytest.mark.parametrize("name", list(KL))
def test_kl_matches_torch(name):
    out = {}
    for m in (torch, ember):
        a = m.tensor(X, dtype=m.float64, requires_grad=True)
        b = m.tensor(POS, dtype=m.float64, requires_grad=True)
        p, q = KL[name](m, a, b)
        kl = m.distributions.kl_divergence(p, q)
        out[m] = [kl, *m.autograd.grad(kl.sum(), [a, b])]
    for x, y in zip(out[ember], out[torch]):
        assert_close(x, y, rtol=1e-9, atol=1e-11)
