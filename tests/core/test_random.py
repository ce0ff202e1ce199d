"""Random sampling: shapes, dtypes, ranges and errors against PyTorch; reproducibility within ember.

Values here are checked for their properties; tests/core/test_random_parity.py checks that a seed gives
PyTorch's exact numbers."""
import numpy as np
import pytest
import torch

import ember
from _core_helpers import same, to_numpy


def meta(x):
    """What must agree with PyTorch for a random tensor: type, shape, dtype, requires_grad."""
    return (type(x).__name__, tuple(x.shape), x.dtype, x.requires_grad, x.stride()) if hasattr(x, "shape") else x


@pytest.fixture(autouse=True)
def _reseed():
    yield
    ember.manual_seed(0)


@pytest.mark.parametrize("case", [
    lambda t: t.rand(2, 3), lambda t: t.rand((2, 3)), lambda t: t.rand([]), lambda t: t.rand(0), lambda t: t.rand(()),
    lambda t: t.rand(2, dtype=t.float64), lambda t: t.rand(2, dtype=t.float16), lambda t: t.rand(2, dtype=t.bfloat16),
    lambda t: t.rand(size=(2, 2)), lambda t: t.rand(2, requires_grad=True), lambda t: t.rand(t.Size([4, 1])),
    lambda t: t.randn(3, 4), lambda t: t.randn(()), lambda t: t.randn(2, dtype=t.float64), lambda t: t.randn(size=(1,)),
    lambda t: t.randint(5, (2,)), lambda t: t.randint(2, 5, (3,)), lambda t: t.randint(high=5, size=(2,)),
    lambda t: t.randint(5, size=(2,)), lambda t: t.randint(5, ()), lambda t: t.randint(5, []),
    lambda t: t.randint(5, (2,), dtype=t.float32), lambda t: t.randint(0, 100, (2, 2), dtype=t.uint8),
    lambda t: t.randint(-3, 3, (4,), dtype=t.int8),
    lambda t: t.randperm(5), lambda t: t.randperm(0), lambda t: t.randperm(5, dtype=t.float32),
    lambda t: t.randperm(3, dtype=t.int8),
    lambda t: t.normal(0.0, 1.0, size=(2, 3)), lambda t: t.normal(0, 1, (2,)),
    lambda t: t.normal(t.zeros(3), t.ones(3)), lambda t: t.normal(t.zeros(3), 1.0),
    lambda t: t.normal(2.0, t.ones(3)), lambda t: t.normal(t.zeros(2, 1), t.ones(3)),
    lambda t: t.normal(t.zeros(3, dtype=t.float64), 1.0), lambda t: t.normal(0.0, 1.0, size=(2,), dtype=t.float64),
    lambda t: t.rand_like(t.ones(2, 3, dtype=t.float64)), lambda t: t.randn_like(t.ones(2, 3)),
    lambda t: t.randint_like(t.ones(2, 3), 10), lambda t: t.randint_like(t.ones(2), 3, 5),
    lambda t: t.randint_like(t.ones(2, dtype=t.int32), 3),
    lambda t: t.bernoulli(t.full((3,), 0.5)), lambda t: t.bernoulli(t.full((3,), 0.5, dtype=t.float64)),
    lambda t: t.zeros(3).uniform_(2, 3), lambda t: t.zeros(3).normal_(), lambda t: t.zeros(3).normal_(2, 0.5),
    lambda t: t.zeros(3, dtype=t.int64).random_(0, 10), lambda t: t.zeros(3).random_(5),
    lambda t: t.ones(3).exponential_(), lambda t: t.zeros(3).bernoulli_(0.5),
    lambda t: t.rand(2, out=t.empty(0)), lambda t: t.randn(2, 3, out=t.empty(2, 3, dtype=t.float64)),
    lambda t: t.rand(2, 3, generator=t.Generator().manual_seed(0)),
    lambda t: t.rand(2, 3, generator=t.default_generator),
], ids=lambda c: "")
def test_sample_metadata(case):
    theirs, ours = same(lambda t: meta(case(t)))


@pytest.mark.parametrize("case", [
    lambda t: t.randint(5, 5, (2,)),
    lambda t: t.randint(6, 5, (2,)),
    lambda t: t.randint(5, 3),
    lambda t: t.randint(5, (2,), requires_grad=True),
    lambda t: t.randint(5.0, (2,)),
    lambda t: t.randint(0, 300, (2,), dtype=t.uint8),
    lambda t: t.randint(-5, 5, (2,), dtype=t.uint8),
    lambda t: t.randint(3, (2,), dtype=t.bool),
    lambda t: t.randperm(-1),
    lambda t: t.rand(-1),
    lambda t: t.rand(2, -3),
    lambda t: t.rand(2.5),
    lambda t: t.randn(2, "a"),
    lambda t: t.rand(2, dtype=t.int64),
    lambda t: t.randn(2, dtype=t.int64),
    lambda t: t.rand_like(t.ones(2, dtype=t.int64)),
    lambda t: t.randn_like(t.ones(2, dtype=t.int64)),
    lambda t: t.normal(0.0, -1.0, size=(2,)),
    lambda t: t.normal(t.zeros(3), -1.0),
    lambda t: t.normal(t.zeros(3), t.tensor([-1.0, 1, 1])),
    lambda t: t.normal(t.zeros(3, dtype=t.int64), 1.0),
    lambda t: t.zeros(3, dtype=t.int64).uniform_(),
    lambda t: t.zeros(3, dtype=t.int64).normal_(),
    lambda t: t.empty(3).uniform_(3, 2),
    lambda t: t.bernoulli(t.ones(3) * 2),
    lambda t: t.manual_seed(2 ** 64),
    lambda t: t.set_rng_state(t.zeros(5056)),
], ids=lambda c: "")
def test_sample_errors(case):
    same(lambda t: meta(case(t)))


def test_normal_without_size_is_a_type_error():
    same(lambda t: t.normal(0.0, 1.0), messages="normal() received an invalid combination of arguments")


def test_ranges():
    ember.manual_seed(1)
    u = to_numpy(ember.rand(10000))
    assert u.min() >= 0 and u.max() < 1 and 0.45 < u.mean() < 0.55
    n = to_numpy(ember.randn(10000))
    assert abs(n.mean()) < 0.05 and 0.95 < n.std() < 1.05
    r = to_numpy(ember.randint(-3, 4, (10000,)))
    assert set(np.unique(r)) == set(range(-3, 4))
    p = to_numpy(ember.randperm(50))
    assert sorted(p.tolist()) == list(range(50))
    m = to_numpy(ember.normal(ember.full((10000,), 5.0), 2.0))
    assert abs(m.mean() - 5) < 0.1 and 1.9 < m.std() < 2.1
    b = to_numpy(ember.bernoulli(ember.full((10000,), 0.25)))
    assert set(np.unique(b)) <= {0.0, 1.0} and 0.2 < b.mean() < 0.3
    v = to_numpy(ember.empty(10000).uniform_(2, 3))
    assert v.min() >= 2 and v.max() < 3
    i = to_numpy(ember.zeros(10000, dtype=ember.int64).random_(0, 10))
    assert i.min() == 0 and i.max() == 9
    h = to_numpy(ember.rand(1000, dtype=ember.float16))
    assert h.min() >= 0 and h.max() < 1  # float16 rounding must not reach 1.0
    bf = to_numpy(ember.rand(1000, dtype=ember.bfloat16))
    assert bf.min() >= 0 and bf.max() < 1


def test_manual_seed_reproduces():
    ember.manual_seed(42)
    a = [ember.rand(3), ember.randn(2, 2), ember.randint(0, 100, (5,)), ember.randperm(6), ember.normal(0.0, 1.0, (3,))]
    ember.manual_seed(42)
    b = [ember.rand(3), ember.randn(2, 2), ember.randint(0, 100, (5,)), ember.randperm(6), ember.normal(0.0, 1.0, (3,))]
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    ember.manual_seed(43)
    assert ember.rand(3).tolist() != a[0].tolist()


def test_manual_seed_returns_generator_and_sets_initial_seed():
    g = ember.manual_seed(3)
    assert g is ember.default_generator and isinstance(g, ember.Generator)
    same(lambda t: (t.manual_seed(3).initial_seed(), t.initial_seed()))
    same(lambda t: t.manual_seed(-1).initial_seed())
    same(lambda t: t.manual_seed(np.int64(7)).initial_seed())
    same(lambda t: t.Generator().initial_seed())
    same(lambda t: t.Generator().manual_seed(5).initial_seed())
    same(lambda t: t.Generator(device="cpu").device)


def test_generator_objects_are_independent():
    g1 = ember.Generator().manual_seed(0)
    g2 = ember.Generator().manual_seed(0)
    ember.manual_seed(99)
    ember.rand(5)  # the default generator's draws do not disturb g1/g2
    a = ember.rand(4, generator=g1)
    b = ember.rand(4, generator=g2)
    assert a.tolist() == b.tolist()
    assert ember.randn(3, generator=g1).tolist() == ember.randn(3, generator=g2).tolist()
    assert ember.randint(0, 9, (3,), generator=g1).tolist() == ember.randint(0, 9, (3,), generator=g2).tolist()
    assert ember.randperm(7, generator=g1).tolist() == ember.randperm(7, generator=g2).tolist()
    ember.manual_seed(99)
    fresh = ember.rand(5)
    ember.manual_seed(99)
    ember.rand(4, generator=ember.Generator().manual_seed(1))
    assert ember.rand(5).tolist() == fresh.tolist()


def test_rng_state_round_trip():
    for lib in (torch, ember):
        lib.manual_seed(5)
        state = lib.get_rng_state()
        assert state.dtype == lib.uint8 and state.dim() == 1
        a = lib.rand(4)
        lib.set_rng_state(state)
        b = lib.rand(4)
        assert a.tolist() == b.tolist()
        g = lib.Generator().manual_seed(1)
        gs = g.get_state()
        x = lib.randn(3, generator=g)
        g.set_state(gs)
        assert lib.randn(3, generator=g).tolist() == x.tolist()
        # the state is a copy: drawing more does not change what was saved
        lib.set_rng_state(state)
        assert lib.rand(4).tolist() == a.tolist()


def test_fork_rng_restores_state():
    ember.manual_seed(0)
    with ember._fork_rng():
        ember.rand(10)
    after = ember.rand(3)
    ember.manual_seed(0)
    assert ember.rand(3).tolist() == after.tolist()


def test_inplace_samplers_bump_version_and_keep_identity():
    x = ember.zeros(3)
    v = x._version
    assert x.uniform_() is x and x._version > v
    assert x.normal_() is x
    y = ember.zeros(4, 4)
    y[0].normal_()
    assert y[1:].abs().sum().item() == 0 and y[0].abs().sum().item() > 0


def test_rng_state_is_plain_bytes_of_fixed_size():
    """The state is PyTorch's CPU layout (5056 bytes), and set_state never unpickles."""
    state = ember.get_rng_state()
    assert state.shape == (5056,) and state.dtype is ember.uint8
    with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size 5056 but found the input RNG "
                                           "state size to be 3"):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ember.set_rng_state(ember.zeros(5056))
    g = ember.Generator().manual_seed(123)
    g2 = ember.Generator().set_state(g.get_state())
    assert g2.initial_seed() == 123
    assert ember.rand(3, generator=g).tolist() == ember.rand(3, generator=g2).tolist()


# --- multinomial, poisson and the other in-place samplers --------------------------------------------
GEN = "generator"


def _gen(t):
    return t.Generator().manual_seed(0)


@pytest.mark.parametrize("case", [
    lambda t: t.multinomial(t.tensor([0.2, 0.3, 0.5]), 2), lambda t: t.multinomial(t.tensor([0.2, 0.3, 0.5]), 5, True),
    lambda t: t.multinomial(t.ones(2, 4), 3), lambda t: t.multinomial(t.ones(2, 4, dtype=t.float64), 6, replacement=True),
    lambda t: t.ones(3).multinomial(1), lambda t: t.multinomial(t.tensor([0.0, 1.0, 0.0]), 2),
    lambda t: t.multinomial(t.ones(3, dtype=t.float16), 2), lambda t: t.multinomial(t.ones(3), 2, generator=_gen(t)),
    lambda t: t.multinomial(t.ones(3), 2, out=t.empty(0, dtype=t.int64)),
    lambda t: t.poisson(t.tensor([1.0, 2.0])), lambda t: t.poisson(t.ones(2, 2, dtype=t.float64)),
    lambda t: t.poisson(t.ones(3), generator=_gen(t)), lambda t: t.poisson(t.ones(2, requires_grad=True)),
    lambda t: t.zeros(3).geometric_(0.5), lambda t: t.zeros(3, dtype=t.int64).geometric_(0.5),
    lambda t: t.zeros(3).log_normal_(), lambda t: t.zeros(3, dtype=t.float64).log_normal_(0, 0.5),
    lambda t: t.zeros(3).cauchy_(), lambda t: t.zeros(2, 2).cauchy_(1, 2), lambda t: t.zeros(3).exponential_(3),
    lambda t: t.zeros(3).bernoulli_(t.tensor([0.0, 1.0, 1.0])), lambda t: t.zeros(3, dtype=t.int64).bernoulli_(0.5),
    lambda t: t.zeros(2, 3).bernoulli_(t.full((3,), 0.5)), lambda t: t.zeros(3, dtype=t.bool).bernoulli_(),
    lambda t: t.bernoulli(t.tensor([0.5, 0.5]), p=0.9), lambda t: t.bernoulli(t.tensor([1, 0]), 0.5),
    lambda t: t.zeros(3).random_(), lambda t: t.zeros(3, dtype=t.int8).random_(), lambda t: t.zeros(3).random_(to=3),
    lambda t: t.zeros(4, dtype=t.int8).random_(100, None), lambda t: t.zeros(4).random_(-3, None),
    lambda t: t.zeros(3, dtype=t.bool).random_(), lambda t: t.zeros(3, dtype=t.float16).random_(0, 10),
    lambda t: t.zeros(3, dtype=t.uint8).random_(256),
    lambda t: t.zeros(3).uniform_(generator=_gen(t)), lambda t: t.zeros(3).normal_(generator=_gen(t)),
    lambda t: t.zeros(3).random_(generator=_gen(t)), lambda t: t.zeros(3).bernoulli_(generator=_gen(t)),
    lambda t: t.zeros(3).exponential_(generator=_gen(t)), lambda t: t.zeros(3).geometric_(0.2, generator=_gen(t)),
    lambda t: t.zeros(3).log_normal_(generator=_gen(t)), lambda t: t.zeros(3).cauchy_(generator=_gen(t)),
    lambda t: t.randn(2, generator=_gen(t)), lambda t: t.randint(3, (2,), generator=_gen(t)),
    lambda t: t.randperm(3, generator=_gen(t)), lambda t: t.normal(0.0, 1.0, (2,), generator=_gen(t)),
    lambda t: t.normal(t.zeros(2), t.ones(2), generator=_gen(t)), lambda t: t.bernoulli(t.ones(2) / 2, generator=_gen(t)),
    lambda t: t.rand_like(t.ones(2), generator=_gen(t)), lambda t: t.randint_like(t.ones(2), 4, generator=_gen(t)),
    lambda t: t.normal(t.zeros(2), 1.0, out=t.empty(2)), lambda t: t.normal(2.0, t.ones(2, dtype=t.float64)),
    lambda t: t.normal(t.zeros(2, 1), t.ones(3)), lambda t: t.normal(t.zeros(2), t.ones(2, dtype=t.float64)),
    lambda t: t.rand(()), lambda t: t.rand_like(t.ones(())),
], ids=lambda c: "")
def test_more_sample_metadata(case):
    same(lambda t: meta(case(t)))


@pytest.mark.parametrize("case", [
    lambda t: t.multinomial(t.tensor([0.2, 0.3, 0.5]), 5), lambda t: t.multinomial(t.tensor([1, 2]), 1),
    lambda t: t.multinomial(t.tensor([-1.0, 2]), 1), lambda t: t.multinomial(t.tensor([0.0, 0]), 1),
    lambda t: t.multinomial(t.zeros(2, 2, 2), 1), lambda t: t.multinomial(t.ones(3), 0),
    lambda t: t.multinomial(t.ones(3), -1), lambda t: t.multinomial(t.tensor([float("inf"), 1.0]), 1),
    lambda t: t.multinomial(t.tensor([float("nan"), 1.0]), 1), lambda t: t.multinomial(t.tensor([]), 1),
    lambda t: t.multinomial(t.tensor(1.0), 1), lambda t: t.multinomial(t.tensor([[1.0, 1], [0, 0]]), 1, True),
    lambda t: t.poisson(t.tensor([-1.0])), lambda t: t.poisson(t.tensor([1, 2])),
    lambda t: t.zeros(3).geometric_(0), lambda t: t.zeros(3).geometric_(1), lambda t: t.zeros(3).geometric_(1.5),
    lambda t: t.zeros(3).log_normal_(1, 0), lambda t: t.zeros(3).log_normal_(1, -1),
    lambda t: t.zeros(3, dtype=t.int64).log_normal_(),
    lambda t: t.zeros(3).cauchy_(0, 0), lambda t: t.zeros(3, dtype=t.int64).cauchy_(),
    lambda t: t.zeros(3).exponential_(0), lambda t: t.zeros(3).exponential_(-1),
    lambda t: t.zeros(3, dtype=t.int64).exponential_(),
    lambda t: t.zeros(3).bernoulli_(t.tensor([2.0, 1, 1])), lambda t: t.zeros(3).bernoulli_(t.tensor([0.0, 1.0])),
    lambda t: t.zeros(3).bernoulli_(1.5), lambda t: t.bernoulli(t.tensor([1, 0])),
    lambda t: t.zeros(3).random_(0),
    lambda t: t.zeros(4, dtype=t.uint8).random_(-1, 5), lambda t: t.zeros(4, dtype=t.int8).random_(0, 200),
    lambda t: t.zeros(3, dtype=t.complex64).random_(), lambda t: t.zeros(3).random_(5, 2),
    lambda t: t.zeros(3).uniform_(1, 0), lambda t: t.zeros(3).normal_(0, -1),
    lambda t: t.zeros(3, dtype=t.int64).normal_(), lambda t: t.zeros(3, requires_grad=True).normal_(),
    lambda t: t.zeros(3, requires_grad=True).uniform_(), lambda t: t.zeros(3, requires_grad=True)[:2].cauchy_(),
    lambda t: t.normal(t.zeros(2), t.ones(3)), lambda t: t.normal(t.zeros(4), t.ones(2, 2)),
    lambda t: t.normal(t.zeros(2), -t.ones(2)), lambda t: t.zeros(3).uniform_(0, float("inf")),
    lambda t: t.empty(), lambda t: t.ones(),
], ids=lambda c: "")
def test_more_sample_errors(case):
    same(lambda t: meta(case(t)))


@pytest.mark.parametrize("case", [
    lambda t: t.rand(2, generator=3), lambda t: t.zeros(3).random_(from_=1, to=3), lambda t: t.zeros(3).uniform_(a=1),
    lambda t: t.zeros(3).random_(1.5, 3.5),
    lambda t: t.rand(), lambda t: t.randn(),
], ids=lambda c: "")
def test_sample_type_errors(case):
    same(lambda t: meta(case(t)), messages=False)


def test_samplers_have_zero_gradients():
    def grads(t):
        m = t.zeros(3, requires_grad=True)
        s = t.ones(3, requires_grad=True)
        p = t.full((3,), 0.5, requires_grad=True)
        r = t.ones(3, requires_grad=True)
        x = t.zeros(3, requires_grad=True)
        y = x * 2
        y.normal_()
        total = t.normal(m, s) + t.normal(m, 1.0) + t.bernoulli(p) + t.poisson(r) + y
        total.sum().backward()
        return m.grad, s.grad, p.grad, r.grad, x.grad, t.bernoulli(p, 0.3).requires_grad
    same(grads)


def test_bernoulli_with_p_has_no_derivative():
    same(lambda t: t.bernoulli(t.full((3,), 0.5, requires_grad=True), 0.3).sum().backward())


def test_samplers_respect_no_grad():
    with ember.no_grad():
        x = ember.zeros(3, requires_grad=True)
        x.normal_()
        x.uniform_().cauchy_().random_(3)
    assert x.requires_grad and x.grad_fn is None


# --- statistics, deterministic under a fixed seed ------------------------------------------------------
N = 20000


def _close(value, expected, std_error, k=5):
    assert abs(value - expected) < k * std_error, f"{value} is not within {k} standard errors of {expected}"


def _sample(fn, dtype=None):
    ember.manual_seed(1234)
    x = ember.zeros(N, dtype=dtype or ember.float64)
    return to_numpy(fn(x)).astype(np.float64)


def test_exponential_statistics():
    v = _sample(lambda x: x.exponential_(2.0))
    _close(v.mean(), 0.5, 0.5 / np.sqrt(N))
    _close(v.var(), 0.25, np.sqrt(8 / 16 / N))  # the fourth central moment of Exp(2) is 9/16
    assert v.min() >= 0


def test_geometric_statistics():
    p = 0.3
    v = _sample(lambda x: x.geometric_(p), ember.int64)
    _close(v.mean(), 1 / p, np.sqrt((1 - p) / p ** 2 / N))
    assert v.min() == 1 and set(np.unique(v)) >= {1, 2, 3}


def test_log_normal_statistics():
    v = np.log(_sample(lambda x: x.log_normal_(0.5, 0.25)))
    _close(v.mean(), 0.5, 0.25 / np.sqrt(N))
    _close(v.std(), 0.25, 0.25 / np.sqrt(2 * N))


def test_cauchy_statistics():
    v = _sample(lambda x: x.cauchy_(1.0, 2.0))
    _close(np.median(v), 1.0, 2.0 * np.pi / 2 / np.sqrt(N))
    q1, q3 = np.percentile(v, [25, 75])
    _close(q3 - q1, 4.0, 0.1)  # the interquartile range of Cauchy(m, s) is 2s


def test_poisson_statistics():
    ember.manual_seed(7)
    v = to_numpy(ember.poisson(ember.full((N,), 4.0))).astype(np.float64)
    _close(v.mean(), 4.0, 2.0 / np.sqrt(N))
    _close(v.var(), 4.0, np.sqrt((4 + 2 * 16) / N))
    assert np.all(v == np.round(v))


def test_normal_overloads_statistics():
    ember.manual_seed(3)
    for v, mean, std in ((ember.normal(ember.full((N,), 2.0), ember.full((N,), 0.5)), 2.0, 0.5),
                         (ember.normal(ember.full((N,), -1.0), 3.0), -1.0, 3.0),
                         (ember.normal(4.0, ember.full((N,), 0.1)), 4.0, 0.1),
                         (ember.normal(0.5, 2.0, (N,)), 0.5, 2.0),
                         (ember.zeros(N).normal_(1.0, 0.25), 1.0, 0.25)):
        a = to_numpy(v).astype(np.float64)
        _close(a.mean(), mean, std / np.sqrt(N))
        _close(a.std(), std, std / np.sqrt(2 * N))


def test_bernoulli_statistics():
    ember.manual_seed(5)
    probs = ember.tensor([0.1, 0.5, 0.9]).expand(N, 3).contiguous()
    b = to_numpy(ember.zeros(N, 3).bernoulli_(ember.tensor([0.1, 0.5, 0.9])))
    for j, p in enumerate((0.1, 0.5, 0.9)):
        _close(b[:, j].mean(), p, np.sqrt(p * (1 - p) / N))
    c = to_numpy(ember.bernoulli(probs))
    _close(c.mean(), 0.5, np.sqrt(0.25 / N / 3) * 2)
    d = to_numpy(ember.zeros(N, dtype=ember.int64).bernoulli_(0.2)).astype(np.float64)
    _close(d.mean(), 0.2, np.sqrt(0.16 / N))


def test_multinomial_statistics():
    ember.manual_seed(11)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    with_replacement = to_numpy(ember.multinomial(ember.tensor(p * 5), N, replacement=True))
    counts = np.bincount(with_replacement, minlength=4) / N
    for k in range(4):
        _close(counts[k], p[k], np.sqrt(p[k] * (1 - p[k]) / N))
    rows = to_numpy(ember.multinomial(ember.tensor(p).expand(N, 4).contiguous(), 4))
    assert all(sorted(r) == [0, 1, 2, 3] for r in rows[:200])  # without replacement: each category once
    first = np.bincount(rows[:, 0], minlength=4) / N
    for k in range(4):
        _close(first[k], p[k], np.sqrt(p[k] * (1 - p[k]) / N))
    zero = to_numpy(ember.multinomial(ember.tensor([0.0, 1.0, 0.0, 2.0]), 2))
    assert set(zero.tolist()) == {1, 3}  # zero-probability categories come only after the others


def test_random_forms_cover_their_ranges():
    ember.manual_seed(2)
    assert set(np.unique(to_numpy(ember.zeros(N, dtype=ember.int8).random_(-3, 3)))) == set(range(-3, 3))
    assert set(np.unique(to_numpy(ember.zeros(N, dtype=ember.uint8).random_()))) == set(range(256))
    assert set(np.unique(to_numpy(ember.zeros(N, dtype=ember.bool).random_()))) == {False, True}
    v = to_numpy(ember.zeros(N).random_()).astype(np.float64)
    assert v.min() >= 0 and v.max() <= 2 ** 24 and v.max() > 2 ** 23 and np.all(v == np.round(v))
    w = to_numpy(ember.zeros(N, dtype=ember.int8).random_(100, None))
    assert w.min() == 100 and w.max() == 127
    h = to_numpy(ember.zeros(N, dtype=ember.float16).random_()).astype(np.float64)
    assert h.max() <= 2 ** 11 and np.all(h == np.round(h))


def test_random_to_beyond_float_precision_warns():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="to - 1 is out of bounds"):
            lib.zeros(3).random_(0, 2 ** 25)


# --- determinism, generators, torch.random -----------------------------------------------------------
SAMPLERS = [
    lambda t, g: t.multinomial(t.ones(5), 3, generator=g), lambda t, g: t.poisson(t.ones(4) * 3, generator=g),
    lambda t, g: t.zeros(4).geometric_(0.3, generator=g), lambda t, g: t.zeros(4).log_normal_(generator=g),
    lambda t, g: t.zeros(4).cauchy_(generator=g), lambda t, g: t.zeros(4).exponential_(generator=g),
    lambda t, g: t.zeros(4).random_(generator=g), lambda t, g: t.zeros(4).bernoulli_(0.5, generator=g),
    lambda t, g: t.zeros(4).uniform_(generator=g), lambda t, g: t.zeros(4).normal_(generator=g),
    lambda t, g: t.normal(t.zeros(4), 1.0, generator=g), lambda t, g: t.bernoulli(t.ones(4) / 2, generator=g),
    lambda t, g: t.randint_like(t.ones(4), 9, generator=g), lambda t, g: t.randn_like(t.ones(4), generator=g),
]


@pytest.mark.parametrize("draw", SAMPLERS, ids=lambda c: "")
def test_samplers_are_deterministic_under_a_seed(draw):
    ember.manual_seed(8)
    a = draw(ember, None)
    ember.manual_seed(8)
    assert draw(ember, None).tolist() == a.tolist()
    b = draw(ember, ember.Generator().manual_seed(8))
    assert draw(ember, ember.Generator().manual_seed(8)).tolist() == b.tolist()


def test_torch_random_namespace():
    import ember.random
    assert ember.random.default_generator is ember.default_generator
    for name in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng", "Generator"):
        assert hasattr(torch.random, name) and hasattr(ember.random, name)
    same(lambda t: (t.random.manual_seed(9).initial_seed(), t.random.initial_seed(), t.initial_seed()))
    same(lambda t: (t.random.get_rng_state().dtype, t.random.get_rng_state().dim()))
    for lib in (torch, ember):
        s = lib.seed()
        assert isinstance(s, int) and lib.initial_seed() == s and 0 <= s < 2 ** 64
        assert isinstance(lib.random.seed(), int)


def test_fork_rng_forms():
    for lib in (torch, ember):
        lib.manual_seed(0)
        with lib.random.fork_rng():
            inside = lib.rand(3)
        assert lib.rand(3).tolist() == inside.tolist()
        lib.manual_seed(0)
        with lib.random.fork_rng(devices=[]):
            lib.rand(3)
        assert lib.rand(3).tolist() == inside.tolist()
        lib.manual_seed(0)
        with lib.random.fork_rng(enabled=False):
            lib.rand(3)
        assert lib.rand(3).tolist() != inside.tolist()
        lib.manual_seed(0)
        with pytest.raises(ValueError):
            with lib.random.fork_rng():
                lib.rand(5)
                raise ValueError
        assert lib.rand(3).tolist() == inside.tolist()


def test_generator_methods():
    same(lambda t: type(t.Generator().manual_seed(3)).__name__)
    for lib in (torch, ember):
        g = lib.Generator()
        assert g.manual_seed(3) is g and g.initial_seed() == 3
        s = g.seed()
        assert isinstance(s, int) and g.initial_seed() == s
        c = g.clone_state()
        assert c is not g and lib.rand(3, generator=c).tolist() == lib.rand(3, generator=g).tolist()
        state = g.get_state()
        assert state.dtype == lib.uint8
        x = lib.rand(2, generator=g)
        assert g.set_state(state) is g and lib.rand(2, generator=g).tolist() == x.tolist()
