"""ndarray's computing methods and operators, attached in one loop: NumPy's on the unwrapped array."""
import operator

import numpy as np

from ._core import ndarray, un, un_kw, un_operand, wrap, _mismatch, current

_METHODS = ("reshape ravel flatten transpose swapaxes squeeze repeat take fill sum prod mean var std max min "
            "argmax argmin all any cumsum cumprod clip round sort argsort nonzero conj conjugate dot diagonal "
            "trace partition argpartition put choose compress dump searchsorted").split()
_BINARY = "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split()
_COMPARE = "lt le gt ge eq ne".split()
_UNARY = "neg pos abs invert".split()


def _method(name):
    def m(self, *args, **kwargs):
        dev = current()
        if self._dev != dev:
            raise _mismatch(self._dev, dev)
        r = getattr(self._a, name)(*un(args, dev), **un_kw(kwargs, dev))
        out = kwargs.get("out")
        if out is not None and type(out) is ndarray and r is out._a:
            return out
        return wrap(r, dev)
    m.__name__ = name
    return m


def _binary(name):
    fwd = ref = getattr(operator, name + "_" if name in ("and", "or") else name)
    inp = getattr(operator, "i" + name)

    def f(self, other):
        if not isinstance(other, (ndarray, int, float, complex, np.generic, np.ndarray)):
            return NotImplemented
        dev = self._check()
        return wrap(fwd(self._a, un_operand(other, dev)), dev)

    def r(self, other):
        if not isinstance(other, (int, float, complex, np.generic, np.ndarray)):
            return NotImplemented
        dev = self._check()
        return wrap(ref(un_operand(other, dev), self._a), dev)

    def i(self, other):
        if not isinstance(other, (ndarray, int, float, complex, np.generic, np.ndarray)):
            return NotImplemented
        dev = self._check()
        inp(self._a, un_operand(other, dev))
        return self
    return f, r, i


def _compare(name):
    op = getattr(operator, name)

    def f(self, other):
        if not isinstance(other, (ndarray, int, float, complex, np.generic, np.ndarray)):
            return NotImplemented
        dev = self._check()
        return wrap(op(self._a, un_operand(other, dev)), dev)
    return f


def _unary(name):
    op = getattr(operator, name)

    def f(self):
        dev = self._check()
        return wrap(op(self._a), dev)
    return f


def attach():
    for name in _METHODS:
        setattr(ndarray, name, _method(name))
    for name in _BINARY:
        f, r, i = _binary(name)
        setattr(ndarray, f"__{name}__", f)
        setattr(ndarray, f"__r{name}__", r)
        setattr(ndarray, f"__i{name}__", i)
    for name in _COMPARE:
        setattr(ndarray, f"__{name}__", _compare(name))
    for name in _UNARY:
        setattr(ndarray, f"__{name}__", _unary(name))
    ndarray.__divmod__ = lambda s, o: (s // o, s % o)
    ndarray.__rdivmod__ = lambda s, o: (o // s, o % s)
