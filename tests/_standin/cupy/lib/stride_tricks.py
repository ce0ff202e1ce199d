"""cupy.lib.stride_tricks.as_strided: a view of the same allocation; checks nothing (as CuPy)."""
import numpy as _np

from .._core import _w, current, un


def as_strided(x, shape=None, strides=None):
    r = _w(_np.lib.stride_tricks.as_strided(un(x, current()), shape, strides), x._dev)
    r._mem = x.data.mem
    return r
