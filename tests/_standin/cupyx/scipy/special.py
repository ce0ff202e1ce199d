"""cupyx.scipy.special on the stand-in: ember's NumPy special functions on the unwrapped arrays."""
import numpy as _np

from cupy._core import current, un_operand, wrap
from ember._backends._special_math import Special

_sp = Special(_np)


def _unary(name):
    def f(x):
        dev = current()
        return wrap(getattr(_sp, name)(un_operand(x, dev)), dev)
    f.__name__ = name
    return f


erf, erfc, erfinv, digamma = (_unary(n) for n in ("erf", "erfc", "erfinv", "digamma"))
gammaln = _unary("lgamma")


def polygamma(n, x):
    dev = current()
    return wrap(_sp.polygamma(un_operand(n, dev), un_operand(x, dev)), dev)
