"""Random sampling: shapes, dtypes, ranges and errors against PyTorch; reproducibility within ember.

ember draws from NumPy's PCG64, so a seed reproduces ember's numbers, not PyTorch's: values are
checked for their properties, never against torch's values.
"""
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
    """ember's state layout is its own (56 bytes, not PyTorch's 5056), and set_state never unpickles."""
    state = ember.get_rng_state()
    assert state.shape == (56,) and state.dtype is ember.uint8
    with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size 56 but found the input RNG "
                                           "state size to be 3"):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        ember.set_rng_state(ember.zeros(56))
    g = ember.Generator().manual_seed(123)
    g2 = ember.Generator().set_state(g.get_state())
    assert g2.initial_seed() == 123
    assert ember.rand(3, generator=g).tolist() == ember.rand(3, generator=g2).tolist()
