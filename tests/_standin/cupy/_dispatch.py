"""ufunc objects, the per-name function wrappers, and NumPy's __array_ufunc__/__array_function__ hooks."""
import os

import numpy as np

from ._core import ndarray, current, un, un_kw, un_operand, wrap

_AT = {"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"}
_HERE = os.path.dirname(__file__)


def _table(name):
    with open(os.path.join(_HERE, name)) as f:
        return [ln.rstrip("\n") for ln in f if ln.strip() and not ln.startswith("#")]


NAMES = dict((ln.split(" ") + [""])[:2] for ln in _table("_names.txt"))
PARAMS = {k: set(v.split()) for k, v in (ln.split(":", 1) for ln in _table("_signatures.txt"))}


def _out(r, out):
    if type(out) is ndarray and r is out._a:
        return out
    return r


class ufunc:
    """A CuPy ufunc: NumPy's on device arrays, with CuPy's call keywords and method support."""

    def __init__(self, npu):
        self._u = npu
        self.__name__ = self.name = npu.__name__
        self.nin, self.nout, self.nargs, self.types = npu.nin, npu.nout, npu.nargs, npu.types

    def __repr__(self):
        return f"<ufunc '{self.name}'>"

    def __call__(self, *args, out=None, dtype=None, casting="same_kind", **kwargs):
        if kwargs:
            raise TypeError(f"Wrong arguments {kwargs}")
        dev = current()
        ins = [un_operand(x, dev) for x in args]
        kw = {"dtype": dtype, "casting": casting}
        if out is not None:
            kw["out"] = tuple(un_operand(o, dev) for o in out) if isinstance(out, tuple) else un_operand(out, dev)
        r = self._u(*ins, **kw)
        if out is not None:
            return wrap(r, dev) if isinstance(out, tuple) else _out(r, out)
        if len(ins) > self.nin:
            outs = args[self.nin:]
            return outs[0] if len(outs) == 1 else outs
        return wrap(r, dev)

    def at(self, a, indices, b=None):
        if self.name not in _AT:
            raise NotImplementedError(f"`{self.name}.at` is not supported yet")
        dev = current()
        self._u.at(un_operand(a, dev), un(indices, dev), *(() if b is None else (un_operand(b, dev),)))

    def _restricted(self, method, allowed, *args, **kwargs):
        if self.name not in allowed:
            raise NotImplementedError(f"`{self.name}.{method}` is not supported yet")
        dev = current()
        a = args[0]
        if type(a) is not ndarray:
            raise AttributeError(f"'{type(a).__name__}' object has no attribute '{method}'")
        out = kwargs.get("out")
        r = getattr(self._u, method)(*un(args, dev), **un_kw(kwargs, dev))
        return _out(r, out) if out is not None else wrap(r, dev)

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        return self._restricted("reduce", ("add", "multiply"), array, axis=axis, dtype=dtype, out=out,
                                keepdims=keepdims)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        return self._restricted("accumulate", ("add", "multiply"), array, axis=axis, dtype=dtype, out=out)

    def reduceat(self, array, indices, axis=0, dtype=None, out=None):
        return self._restricted("reduceat", ("add",), array, indices, axis=axis, dtype=dtype, out=out)

    def outer(self, A, B, **kwargs):
        dev = current()
        return wrap(self._u.outer(un_operand(A, dev), un_operand(B, dev), **un_kw(kwargs, dev)), dev)


def function(name, fn):
    """CuPy's `name`: NumPy's `fn` on unwrapped arguments, refusing keywords CuPy's signature lacks."""
    params = PARAMS.get(name)
    if params is not None and "**" in params:
        params = None

    def f(*args, **kwargs):
        if params is not None:
            for k in kwargs:
                if k not in params:
                    raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
        dev = current()
        r = fn(*un(args, dev), **un_kw(kwargs, dev))
        out = kwargs.get("out")
        return _out(r, out) if out is not None and type(out) is ndarray and r is out._a else wrap(r, dev)
    f.__name__ = f.__qualname__ = name.rsplit(".", 1)[-1]
    f.__module__ = "cupy"
    return f


def array_ufunc(npu, method, inputs, kwargs):
    import cupy
    fn = getattr(cupy, npu.__name__, None)
    if fn is None:
        import cupyx.scipy.special as sp
        fn = getattr(sp, npu.__name__, None)
    if fn is None:
        return NotImplemented
    if "out" in kwargs:
        out = kwargs["out"]
        if len(out) != 1:
            raise ValueError("The 'out' parameter must have exactly one array value")
        kwargs["out"] = out[0]
    for x in inputs + ((kwargs["out"],) if "out" in kwargs else ()):
        if not isinstance(x, (ndarray, np.ndarray, int, float, complex, np.generic)):
            return NotImplemented
    if method != "__call__":
        fn = getattr(fn, method, None)
        if fn is None:
            return NotImplemented
    return fn(*inputs, **kwargs)


def array_function(func, types, args, kwargs):
    import cupy
    mod = cupy
    try:
        for part in func.__module__.split(".")[1:]:
            if part in ("_core", "core", "lib", "_function_base_impl") or part.startswith("_"):
                continue
            mod = getattr(mod, part)
        fn = getattr(mod, func.__name__)
    except AttributeError:
        return NotImplemented
    if fn is func or not all(issubclass(t, (ndarray, np.ndarray)) for t in types):
        return NotImplemented
    return fn(*args, **kwargs)
