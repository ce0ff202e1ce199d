"""The CPU backend: NumPy."""
import numpy as xp

name = "cpu"

# NOTE: PyTorch computes IEEE results (1/0 = inf, log(0) = -inf, 0/0 = nan) without warnings;
# NumPy warns for each. ember follows PyTorch, so NumPy's floating-point warnings are off.
xp.seterr(all="ignore")


def is_available():
    return True


def device_count():
    return 1


def asarray(data, dtype=None, index=None):
    return xp.asarray(data, dtype=dtype)


def to_numpy(array):
    return array


def reshape_view(array, shape):
    """`array` seen with `shape` without copying, or None when its strides do not allow it."""
    out = array.view()
    try:
        out.shape = shape
    except AttributeError:
        return None
    return out


def add_at(out, key, values):
    """out[key] += values, adding repeatedly where indices repeat."""
    xp.add.at(out, key, values)


# NOTE: NumPy has no erf or gamma functions (and scipy is not a dependency): ember's own, in float64.
from ._special_math import Special as _Special  # noqa: E402

special = _Special(xp)
