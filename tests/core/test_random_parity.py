"""ember's CPU generator gives PyTorch's numbers for the same seed (ember/_mt19937.py, ember/_draws.py).

Exact where PyTorch's CPU kernel is scalar code; float32 normal of >= 16 elements (and float16/bfloat16 ones,
computed through float32) within rounding: PyTorch uses vectorised log/sin/cos approximations there.
"""
import numpy as np
import pytest
import torch

import ember

SEEDS = [0, 1, 42, 2**40 + 3]
SIZES = [1, 7, 15, 16, 17, 100, 1000]
FLOATS = ["float32", "float64", "float16", "bfloat16"]


def _np(t):
    return t.detach().float().numpy() if t.dtype in (torch.bfloat16,) else t.detach().numpy()


def _ep(t):
    a = t.detach().numpy()
    return a.astype(np.float32) if t.dtype is ember.bfloat16 else a


def _same(e, t, rtol=0.0, atol=0.0):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    a, b = _ep(e), _np(t)
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol)


def _seed(s):
    torch.manual_seed(s)
    ember.manual_seed(s)


def _normal_tol(dtype, n):
    """Exact but where PyTorch vectorises (float32 blocks of 16, and the float16/bfloat16 built on them)."""
    if n < 16 or dtype == "float64":
        return {}
    return {"float32": dict(rtol=1e-5, atol=1e-5), "float16": dict(rtol=2e-3, atol=2e-3),
            "bfloat16": dict(rtol=1.6e-2, atol=1.6e-2)}[dtype]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
def test_rand_randn_uniform_normal(seed, n):
    _seed(seed)
    for dt in FLOATS:
        td, ed = getattr(torch, dt), getattr(ember, dt)
        _same(ember.rand(n, dtype=ed), torch.rand(n, dtype=td))
        _same(ember.randn(n, dtype=ed), torch.randn(n, dtype=td), **_normal_tol(dt, n))
        _same(ember.empty(n, dtype=ed).uniform_(-1.5, 3.3), torch.empty(n, dtype=td).uniform_(-1.5, 3.3))
        _same(ember.empty(n, dtype=ed).normal_(0.1, 0.37), torch.empty(n, dtype=td).normal_(0.1, 0.37),
              **_normal_tol(dt, n))
        # NOTE: the words consumed agree too, so the states stay equal after every call.
        assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", SIZES)
def test_integers_and_permutations(seed, n):
    _seed(seed)
    for lo, hi in [(0, 3), (-5, 10**6), (-(2**40), 2**40), (0, 2**32)]:
        _same(ember.randint(lo, hi, (n,)), torch.randint(lo, hi, (n,)))
    for dt in ["int32", "int16", "uint8", "int8", "float32", "float64", "bfloat16"]:
        _same(ember.randint(0, 100, (n,), dtype=getattr(ember, dt)), torch.randint(0, 100, (n,), dtype=getattr(torch, dt)))
    for dt in ["int64", "int32", "int16", "int8", "uint8", "bool", "float32", "float64", "float16", "bfloat16"]:
        _same(ember.empty(n, dtype=getattr(ember, dt)).random_(), torch.empty(n, dtype=getattr(torch, dt)).random_())
    _same(ember.empty(n, dtype=ember.int64).random_(-(2**63), None),
          torch.empty(n, dtype=torch.int64).random_(-(2**63), None))
    _same(ember.empty(n, dtype=ember.int64).random_(7), torch.empty(n, dtype=torch.int64).random_(7))
    _same(ember.randperm(n), torch.randperm(n))
    _same(ember.randperm(n, dtype=ember.float32), torch.randperm(n, dtype=torch.float32))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_interleaved_calls_and_the_cached_normal(seed):
    """normal of < 16 elements leaves PyTorch's cached second sample for the next small normal."""
    _seed(seed)
    for shape in [(3,), (1,), (5, 2), (2,), (17,), (1,), (4, 4), (9,)]:
        _same(ember.randn(*shape, dtype=ember.float64), torch.randn(*shape, dtype=torch.float64))
        _same(ember.rand(*shape), torch.rand(*shape))
        _same(ember.randn(shape[0]), torch.randn(shape[0]), rtol=1e-5, atol=1e-5)
        _same(ember.randint(10, shape), torch.randint(10, shape))
        assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


def test_normal_with_tensor_arguments():
    _seed(5)
    for n in (3, 40):
        m, s = np.linspace(-1, 1, n), np.linspace(0.1, 2, n)
        _same(ember.normal(ember.tensor(m), 0.3), torch.normal(torch.tensor(m), 0.3))
        _same(ember.normal(0.3, ember.tensor(s)), torch.normal(0.3, torch.tensor(s)))
        _same(ember.normal(ember.tensor(m), ember.tensor(s)), torch.normal(torch.tensor(m), torch.tensor(s)))
        _same(ember.normal(0.5, 2.0, (n,), dtype=ember.float64), torch.normal(0.5, 2.0, (n,), dtype=torch.float64))


def test_state_moves_between_torch_and_ember():
    _seed(11)
    torch.randn(3)  # leaves a cached normal sample in the state
    ember.set_rng_state(ember.tensor(torch.get_rng_state().numpy()))
    _same(ember.randn(5, dtype=ember.float64), torch.randn(5, dtype=torch.float64))
    ember.rand(700)  # past one block of 624 words
    torch.set_rng_state(torch.from_numpy(ember.get_rng_state().numpy().copy()))
    _same(ember.rand(9), torch.rand(9))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()
    g, tg = ember.Generator().manual_seed(2**40 + 3), torch.Generator().manual_seed(2**40 + 3)
    assert g.get_state().tolist() == tg.get_state().tolist()
    assert g.initial_seed() == tg.initial_seed()
    _same(ember.randn(20, generator=g, dtype=ember.float64), torch.randn(20, generator=tg, dtype=torch.float64))


def test_negative_and_large_seeds():
    for s in (-1, 2**64 - 1, 2**32 - 1, 2**32):
        _seed(s)
        assert ember.initial_seed() == torch.initial_seed()
        _same(ember.rand(4), torch.rand(4))


def test_fork_rng_restores_the_stream():
    _seed(3)
    with ember.random.fork_rng():
        ember.rand(10)
    with torch.random.fork_rng():
        torch.rand(10)
    _same(ember.rand(4), torch.rand(4))


def _params(module):
    return [p for _, p in sorted(module.named_parameters())]


@pytest.mark.parametrize("make", [
    lambda nn: nn.Linear(20, 30),
    lambda nn: nn.Conv2d(3, 8, 3),
    lambda nn: nn.LSTM(5, 7, 2),
    lambda nn: nn.Embedding(10, 4),
    lambda nn: nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)),
])
def test_module_initial_weights(make):
    _seed(0)
    e, t = make(ember.nn), make(torch.nn)
    for a, b in zip(_params(e), _params(t)):
        _same(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("init", ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                                  "normal_", "uniform_", "trunc_normal_", "orthogonal_"])
def test_init_functions(init):
    _seed(7)
    e, t = ember.empty(6, 9, dtype=ember.float64), torch.empty(6, 9, dtype=torch.float64)
    getattr(ember.nn.init, init)(e)
    getattr(torch.nn.init, init)(t)
    _same(e, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (0.5, 0.6), (-0.1, 0.1), (1.5, 4.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_trunc_normal_both_paths(bounds, dtype):
    """PyTorch redraws normals when most mass is inside [a, b], else accepts uniforms by the pdf ratio."""
    _seed(9)
    e, t = ember.empty(50, 3, dtype=getattr(ember, dtype)), torch.empty(50, 3, dtype=getattr(torch, dtype))
    ember.nn.init.trunc_normal_(e, 0.2, 1.0, *bounds)
    torch.nn.init.trunc_normal_(t, 0.2, 1.0, *bounds)
    _same(e, t, rtol=1e-5, atol=1e-5)
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n", [1, 7, 17, 100, 1000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_samplers(seed, n, dtype):
    _seed(seed)
    ed, td = getattr(ember, dtype), getattr(torch, dtype)
    for call in [lambda x: x.exponential_(1.7), lambda x: x.geometric_(0.3), lambda x: x.cauchy_(0.2, 1.5),
                 lambda x: x.log_normal_(0.2, 0.5), lambda x: x.bernoulli_(0.3), lambda x: x.exponential_()]:
        _same(call(ember.empty(n, dtype=ed)), call(torch.empty(n, dtype=td)))
    p = np.linspace(0, 1, n)
    _same(ember.empty(n, dtype=ed).bernoulli_(ember.tensor(p, dtype=ed)),
          torch.empty(n, dtype=td).bernoulli_(torch.tensor(p, dtype=td)))
    _same(ember.bernoulli(ember.tensor(p, dtype=ed)), torch.bernoulli(torch.tensor(p, dtype=td)))
    _same(ember.bernoulli(ember.tensor(p, dtype=ed), 0.25), torch.bernoulli(torch.tensor(p, dtype=td), 0.25))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_masks(seed):
    _seed(seed)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    for name, args in [("dropout", (0.3,)), ("dropout2d", (0.5,)), ("alpha_dropout", (0.2, True)),
                       ("feature_alpha_dropout", (0.2, True))]:
        e = getattr(ember.nn.functional, name)(ember.tensor(x), *args)
        t = getattr(torch.nn.functional, name)(torch.tensor(x), *args)
        _same(e, t, rtol=1e-6, atol=1e-6)
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape,k,replacement", [((10,), 3, False), ((10,), 1, True), ((3, 8), 5, True),
                                                 ((3, 8), 8, False), ((50,), 20, True), ((2, 6), 1, False)])
def test_multinomial(seed, shape, k, replacement):
    p = np.random.default_rng(seed % 97).random(shape).astype(np.float32)
    p[..., 1] = 0
    _seed(seed)
    _same(ember.multinomial(ember.tensor(p), k, replacement), torch.multinomial(torch.tensor(p), k, replacement))
    _same(ember.multinomial(ember.tensor(p, dtype=ember.float64), k, replacement),
          torch.multinomial(torch.tensor(p, dtype=torch.float64), k, replacement))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


def test_data_loader_shuffle_and_random_split():
    from ember.utils.data import DataLoader as EL, random_split as esplit
    from torch.utils.data import DataLoader as TL, random_split as tsplit
    _seed(123)
    e = [b.tolist() for b in EL(ember.arange(20), batch_size=6, shuffle=True)]
    t = [b.tolist() for b in TL(torch.arange(20), batch_size=6, shuffle=True)]
    assert e == t
    assert [list(s) for s in esplit(range(10), [3, 7])] == [list(s) for s in tsplit(range(10), [3, 7])]
    g, tg = ember.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert [list(s) for s in esplit(range(9), [0.5, 0.5], generator=g)] == \
        [list(s) for s in tsplit(range(9), [0.5, 0.5], generator=tg)]
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


def test_seeding_matches_init_genrand():
    """The engine's C seeding path gives the words of PyTorch's init_genrand recurrence."""
    from ember._mt19937 import Engine, _init_words
    for s in (0, 1, 42, 2**40 + 3, 2**64 - 1):
        e = Engine(s)
        np.testing.assert_array_equal(e.bits.state["state"]["key"], _init_words(s))
        assert e.bits.state["state"]["pos"] == 624


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_poisson(seed, dtype):
    """Both of PyTorch's regimes: products of uniforms below rate 10, transformed rejection from 10 up."""
    r = np.random.default_rng(seed % 101).random(40) * np.array([0.5, 3, 9.9, 10, 25, 300, 1e4, 0] * 5)
    _seed(seed)
    _same(ember.poisson(ember.tensor(r, dtype=getattr(ember, dtype))),
          torch.poisson(torch.tensor(r, dtype=getattr(torch, dtype))))
    _same(ember.distributions.Poisson(ember.tensor(r[:8] + 0.1)).sample((3,)),
          torch.distributions.Poisson(torch.tensor(r[:8] + 0.1)).sample((3,)))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_standard_gamma(seed, dtype):
    """PyTorch's Marsaglia-Tsang sampler, its normals sharing the generator's cached second value."""
    a = np.random.default_rng(seed % 89).random(30) * np.array([0.5, 3, 0.01, 10, 1, 300] * 5)
    _seed(seed)
    ember.randn(1, dtype=ember.float64)
    torch.randn(1, dtype=torch.float64)
    from ember.distributions._gamma import _standard_gamma  # NOTE: ember has no torch._standard_gamma
    _same(_standard_gamma(ember.tensor(a, dtype=getattr(ember, dtype))),
          torch._standard_gamma(torch.tensor(a, dtype=getattr(torch, dtype))))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("name,make", [
    ("Normal", lambda m, d: d.Normal(m.zeros(5) + 0.5, m.ones(5) * 2)),
    ("Uniform", lambda m, d: d.Uniform(m.zeros(5), m.ones(5) * 2)),
    ("Bernoulli", lambda m, d: d.Bernoulli(m.ones(5) * 0.3)),
    ("Categorical", lambda m, d: d.Categorical(m.ones(4, 5))),
    ("Exponential", lambda m, d: d.Exponential(m.ones(5) * 2)),
    ("Gamma", lambda m, d: d.Gamma(m.ones(5) * 2, m.ones(5))),
    ("Beta", lambda m, d: d.Beta(m.ones(5) * 2, m.ones(5))),
    ("Dirichlet", lambda m, d: d.Dirichlet(m.ones(5))),
    ("Poisson", lambda m, d: d.Poisson(m.ones(5) * 3)),
    ("MultivariateNormal", lambda m, d: d.MultivariateNormal(m.zeros(3), m.eye(3))),
    ("Laplace", lambda m, d: d.Laplace(m.zeros(5), m.ones(5))),
    ("Cauchy", lambda m, d: d.Cauchy(m.zeros(5), m.ones(5))),
    ("Geometric", lambda m, d: d.Geometric(m.ones(5) * 0.3)),
    ("LogNormal", lambda m, d: d.LogNormal(m.zeros(5), m.ones(5))),
    ("Gumbel", lambda m, d: d.Gumbel(m.zeros(5), m.ones(5))),
    ("OneHotCategorical", lambda m, d: d.OneHotCategorical(m.ones(5))),
])
def test_distribution_samples(name, make):
    _seed(0)
    e = make(ember, ember.distributions).sample((3,))
    t = make(torch, torch.distributions).sample((3,))
    _same(e, t, rtol=1e-6, atol=1e-6)
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binomial(seed, dtype):
    """Both of PyTorch's regimes (inversion below count * p = 10, BTRS above), p > 1/2 by the failures,
    fractional and huge counts."""
    rng = np.random.default_rng(seed % 61)
    n = np.floor(rng.random(40) * np.array([5, 30, 200, 5000, 1e6, 12.5, 3, 100] * 5)) + np.array([0, 0, 0.5, 0] * 10)
    n[-1] = 1e20
    p = rng.random(40)
    p[::7], p[3::11], p[5::13] = 0.95, 0.0, 1.0
    _seed(seed)
    _same(ember.binomial(ember.tensor(n, dtype=getattr(ember, dtype)), ember.tensor(p, dtype=getattr(ember, dtype))),
          torch.binomial(torch.tensor(n, dtype=getattr(torch, dtype)), torch.tensor(p, dtype=getattr(torch, dtype))))
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


def test_binomial_distribution_samples():
    _seed(0)
    e = ember.distributions.Binomial(10, ember.ones(5) * 0.3).sample((3,))
    t = torch.distributions.Binomial(10, torch.ones(5) * 0.3).sample((3,))
    _same(e, t)
    assert ember.get_rng_state().tolist() == torch.get_rng_state().tolist()


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 100])
def test_complex_randn_is_torchs(dtype, n):
    """randn of a complex dtype draws the real view (n, 2) with std 1/sqrt(2), as PyTorch does."""
    torch.manual_seed(3)
    ember.manual_seed(3)
    expected = torch.randn(n, dtype=getattr(torch, dtype)).numpy()
    got = ember.randn(n, dtype=getattr(ember, dtype)).numpy()
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
