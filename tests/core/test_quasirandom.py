"""torch.quasirandom.SobolEngine: unscrambled draws equal PyTorch's bit for bit (every dimension of ember's table);
scrambled draws keep the sequence's stratification and uniformity (statistical checks) and its API."""
import numpy as np
import pytest
import torch

import ember
from ember.quasirandom import SobolEngine


def both(dimension, **kwargs):
    return SobolEngine(dimension, **kwargs), torch.quasirandom.SobolEngine(dimension, **kwargs)


def test_direction_numbers_equal_torchs_for_every_dimension():
    mine, theirs = both(SobolEngine.MAXDIM)
    assert np.array_equal(mine.sobolstate.numpy(), theirs.sobolstate.numpy())
    assert mine.sobolstate.dtype == ember.int64 and mine.MAXBIT == theirs.MAXBIT == 30


@pytest.mark.parametrize("dimension", [1, 2, 3, 10, 57, 304, SobolEngine.MAXDIM])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_draws_equal_torchs(dimension, dtype):
    mine, theirs = both(dimension)
    for n in (1, 1, 2, 7, 64, 300):
        got, expected = mine.draw(n, dtype=getattr(ember, dtype)), theirs.draw(n, dtype=getattr(torch, dtype))
        assert got.dtype == getattr(ember, dtype) and tuple(got.shape) == tuple(expected.shape)
        assert np.array_equal(got.numpy(), expected.numpy())
    assert mine.num_generated == theirs.num_generated
    assert np.array_equal(mine.quasi.numpy(), theirs.quasi.numpy())


@pytest.mark.parametrize("first", [0, 1, 5])
def test_fast_forward_reset_and_base2(first):
    mine, theirs = both(6)
    mine.draw(first) if first else None
    theirs.draw(first) if first else None
    mine.fast_forward(13)
    theirs.fast_forward(13)
    assert np.array_equal(mine.draw(4).numpy(), theirs.draw(4).numpy())
    mine.reset()
    theirs.reset()
    assert np.array_equal(mine.draw_base2(3).numpy(), theirs.draw_base2(3).numpy())
    assert np.array_equal(mine.draw_base2(3).numpy(), theirs.draw_base2(3).numpy())
    for engine in (mine, theirs):
        with pytest.raises(ValueError, match="The balance properties of Sobol' points require n to be a power of 2. "
                                             "16 points have been previously generated, then: n=16\\+2\\*\\*1=18."):
            engine.draw_base2(1)


def test_default_dtype_out_and_repr():
    mine, theirs = both(3)
    assert mine.draw(2).dtype == ember.get_default_dtype()
    out = ember.empty(0)
    assert mine.draw(3, out=out) is out and tuple(out.shape) == (3, 3)
    assert np.array_equal(out.numpy(), (theirs.draw(2), theirs.draw(3))[1].numpy())
    assert repr(SobolEngine(3)) == repr(torch.quasirandom.SobolEngine(3)) == "SobolEngine(dimension=3)"
    assert repr(SobolEngine(3, scramble=True, seed=5)) == "SobolEngine(dimension=3, scramble=True, seed=5)"


@pytest.mark.parametrize("dimension", [0, SobolEngine.MAXDIM + 1])
def test_dimension_out_of_range(dimension):
    with pytest.raises(ValueError, match=f"Supported range of dimensionality for SobolEngine is \\[1, "
                                         f"{SobolEngine.MAXDIM}\\]"):
        SobolEngine(dimension)


def test_scrambled_draws_are_stratified_uniform_and_seeded():
    engine = SobolEngine(5, scramble=True, seed=123)
    points = engine.draw_base2(10, dtype=ember.float64).numpy()
    assert points.shape == (1024, 5) and points.min() >= 0 and points.max() < 1
    # NOTE: a scrambled Sobol' net keeps the (0, m, 1) property in each dimension: every one of 1024 equal
    # intervals holds exactly one point
    for d in range(5):
        assert np.array_equal(np.sort(np.floor(points[:, d] * 1024)), np.arange(1024))
    # and the 2-D projections of the first dims stay balanced over 32 x 32 cells (one point each)
    cells = np.floor(points[:, :2] * 32).astype(int)
    assert len({tuple(c) for c in cells}) == 1024
    assert abs(points.mean() - 0.5) < 0.01
    again = SobolEngine(5, scramble=True, seed=123).draw_base2(10, dtype=ember.float64).numpy()
    other = SobolEngine(5, scramble=True, seed=124).draw_base2(10, dtype=ember.float64).numpy()
    assert np.array_equal(points, again) and not np.array_equal(points, other)
    unscrambled = SobolEngine(5).draw_base2(10, dtype=ember.float64).numpy()
    assert not np.array_equal(np.sort(points, axis=0)[:1], unscrambled[:1])


def test_scrambled_first_point_is_the_shift():
    engine = SobolEngine(4, scramble=True, seed=7)
    first = engine.draw(1, dtype=ember.float64)
    assert np.array_equal(first.numpy()[0], (engine.shift.numpy() / 2 ** 30).astype(np.float32))
