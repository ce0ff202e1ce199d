"""vmap's randomness= modes against PyTorch's semantics: which examples share draws ('same'), which draw their
own ('different'), and the errors. Values are not compared: under vmap ember draws example by example where
PyTorch draws one batched tensor, so the same generator gives other numbers."""
import pytest
import torch

import ember

SAMPLERS = {
    "dropout": lambda t, x: t.nn.functional.dropout(x, 0.5),
    "feature_dropout": lambda t, x: t.nn.functional.dropout1d(x.reshape(40, 1), 0.5),
    "rand": lambda t, x: t.rand(5) + x.sum() * 0,
    "randn": lambda t, x: t.randn(2, 3),
    "rand_like": lambda t, x: t.rand_like(x),
    "randn_like": lambda t, x: t.randn_like(x),
    "randint_like": lambda t, x: t.randint_like(x, 1000),
    "randint": lambda t, x: t.randint(0, 1000, (4,)),
    "randperm": lambda t, x: t.randperm(12),
    "normal_numbers": lambda t, x: t.normal(0.0, 1.0, (4,)),
    "normal_tensor": lambda t, x: t.normal(x, 1.0),
    "normal_unbatched_tensor": lambda t, x: t.normal(t.zeros(40), 1.0),
    "bernoulli": lambda t, x: t.bernoulli(x * 0 + 0.5),
    "bernoulli_unbatched": lambda t, x: t.bernoulli(t.full((40,), 0.5)),
    "bernoulli_p": lambda t, x: t.bernoulli(x, 0.5),
    "poisson": lambda t, x: t.poisson(x * 0 + 3.0),
    "multinomial": lambda t, x: t.multinomial(x * 0 + 1.0, 6),
    "normal_": lambda t, x: x.clone().normal_(),
    "uniform_": lambda t, x: x.clone().uniform_(),
    "bernoulli_": lambda t, x: x.clone().bernoulli_(0.5),
    "exponential_": lambda t, x: x.clone().exponential_(),
    "random_": lambda t, x: x.clone().random_(0, 1000),
    "unbatched_normal_": lambda t, x: t.zeros(3).normal_(),
}


def _outcome(lib, name, mode):
    x = lib.ones(6, 40, dtype=lib.float64)
    try:
        out = lib.func.vmap(lambda a: SAMPLERS[name](lib, a), randomness=mode)(x)
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e).__name__, str(e)
    return tuple(out.shape), [bool(lib.equal(out[0], out[i])) for i in range(1, out.shape[0])]


@pytest.mark.parametrize("mode", ["same", "different", "error"])
@pytest.mark.parametrize("name", list(SAMPLERS))
def test_which_examples_share_draws_as_pytorch(name, mode):
    assert _outcome(ember, name, mode) == _outcome(torch, name, mode)


@pytest.mark.parametrize("outer", ["same", "different"])
@pytest.mark.parametrize("inner", ["same", "different"])
@pytest.mark.parametrize("name", ["rand", "dropout", "normal_", "bernoulli_unbatched"])
def test_nested_levels_each_follow_their_mode(name, outer, inner):
    def pattern(lib):
        x = lib.ones(3, 4, 40, dtype=lib.float64)
        f = lib.func.vmap(lib.func.vmap(lambda a: SAMPLERS[name](lib, a), randomness=inner), randomness=outer)
        try:
            r = f(x)
        except RuntimeError as e:
            return str(e)
        return bool(lib.equal(r[0], r[1])), bool(lib.equal(r[:, 0], r[:, 1]))
    assert pattern(ember) == pattern(torch)


def test_different_draws_are_independent_samples():
    ember.manual_seed(0)
    u = ember.func.vmap(lambda a: ember.rand(()) + a * 0, randomness="different")(ember.zeros(4000))
    assert abs(float(u.mean()) - 0.5) < 0.03 and abs(float(u.var()) - 1 / 12) < 0.01
    keep = ember.func.vmap(lambda a: ember.nn.functional.dropout(a, 0.25), randomness="different")(ember.ones(400, 50, dtype=ember.float64))
    assert set(keep.unique().tolist()) <= {0.0, 1 / 0.75}
    assert abs(float((keep == 0).double().mean()) - 0.25) < 0.02
    rows = ember.func.vmap(lambda a: ember.randperm(5) + a * 0, randomness="different")(ember.zeros(50, 5))
    assert all(sorted(r) == [0, 1, 2, 3, 4] for r in rows.long().tolist())
    assert len({tuple(r) for r in rows.long().tolist()}) > 10


def test_same_broadcasts_one_draw_into_a_batched_in_place_sampler():
    x = ember.arange(12.0).reshape(3, 4)
    out = ember.func.vmap(lambda a: a.normal_(), randomness="same")(x)
    assert out is not None and bool((x == x[0]).all()) and not bool((x[0] == ember.arange(4.0)).all())


def test_per_example_gradients_with_dropout():
    """vmap(grad) with dropout in 'different' mode: each example's gradient uses its own mask."""
    w = ember.ones(8, dtype=ember.float64)
    x = ember.ones(16, 8, dtype=ember.float64)

    def loss(w, x):
        return (ember.nn.functional.dropout(x, 0.5) * w).sum()

    ember.manual_seed(3)
    g = ember.func.vmap(ember.func.grad(loss), (None, 0), randomness="different")(w, x)
    assert g.shape == (16, 8)
    assert set(g.unique().tolist()) <= {0.0, 2.0}
    assert len({tuple(r) for r in g.tolist()}) > 1
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ember.func.vmap(ember.func.grad(loss), (None, 0))(w, x)
