"""cupyx: scatter_add/max/min on stand-in arrays."""
import numpy as _np

from cupy._core import current, un, un_operand


def _scatter(npu, a, slices, value):
    dev = current()
    npu.at(un_operand(a, dev), un(slices, dev), un_operand(value, dev))


def scatter_add(a, slices, value):
    _scatter(_np.add, a, slices, value)


def scatter_max(a, slices, value):
    _scatter(_np.maximum, a, slices, value)


def scatter_min(a, slices, value):
    _scatter(_np.minimum, a, slices, value)


def empty_pinned(shape, dtype=float, order="C"):
    """A host (NumPy) array; CuPy's is page-locked, which the stand-in cannot tell apart."""
    return _np.empty(shape, dtype=dtype, order=order)
