"""A test-only stand-in for CuPy: NumPy arrays that refuse to be NumPy arrays, on their own devices."""
import builtins as _builtins

import numpy as _np

from . import _core, _methods, _dispatch
from ._core import ndarray, current as _current, to_host as _to_host, to_device as _to_device
from ._dispatch import ufunc, NAMES as _NAMES

_methods.attach()
__version__ = "14.2.0+standin"

from . import cuda, fft, random, linalg, lib, _standin  # noqa: E402


def is_available():
    return cuda.is_available()


def _from_host(obj, dtype, copy, order, ndmin=0):
    dev = _current()
    if type(obj) is ndarray:
        if obj._dev != dev:
            _core.COUNTS["peer"] += 1
            return _core._w(_np.array(obj._a, dtype=dtype, order=order, ndmin=ndmin), dev)
        r = _np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return obj if r is obj._a else _core._w(r, dev)
    _to_device()
    return _core._w(_np.array(_core.un_key(obj, dev) if isinstance(obj, (list, tuple)) and _has_dev(obj) else obj,
                              dtype=dtype, order=order, ndmin=ndmin, copy=True), dev)


def _has_dev(obj):
    return _builtins.any(type(x) is ndarray or (isinstance(x, (list, tuple)) and _has_dev(x)) for x in obj)


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    """A device array from host or device data (host data counts one transfer)."""
    return _from_host(obj, dtype, copy, order, ndmin)


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    return _from_host(a, dtype, copy, order or "K")  # NOTE: copy=None: only when needed


def asanyarray(a, dtype=None, order=None, *, blocking=False):
    return _from_host(a, dtype, None, order or "K")


def ascontiguousarray(a, dtype=None):
    r = _from_host(a, dtype, None, "C")
    return r if r._a.flags.c_contiguous else _core._w(_np.ascontiguousarray(r._a), r._dev)


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    """A host copy of `a` (counted when `a` is a device array)."""
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out)
    r = _np.asarray(a, order=order)
    if out is not None:
        out[...] = r
        return out
    return r


def get_array_module(*args):
    return __import__("cupy") if _builtins.any(type(a) is ndarray for a in args) else _np


def fuse(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda f: f


class ElementwiseKernel:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("the CuPy stand-in compiles no kernels")


RawKernel = ReductionKernel = RawModule = ElementwiseKernel


def get_default_memory_pool():
    return cuda.memory_pool


def get_default_pinned_memory_pool():
    return cuda.pinned_memory_pool


def lexsort(keys):
    """CuPy's lexsort takes one (k, N) device array, not a sequence of keys."""
    if type(keys) is not ndarray:
        raise AttributeError(f"'{type(keys).__name__}' object has no attribute 'ndim'")
    return _core.wrap(_np.lexsort(keys._check() is not None and keys._a), keys._dev)


def __getattr__(name):
    src = _NAMES.get(name)
    if src is None:
        raise AttributeError(f"module 'cupy' has no attribute '{name}'")
    if src.startswith("numpy:"):
        obj = getattr(_np, src[6:])
    else:
        np_obj = getattr(_np, name, None)
        if isinstance(np_obj, _np.ufunc):
            obj = ufunc(np_obj)
        elif callable(np_obj) and not isinstance(np_obj, type):
            obj = _dispatch.function(name, np_obj)
        elif np_obj is not None:
            obj = np_obj
        else:
            raise AttributeError(f"the CuPy stand-in does not provide cupy.{name}")
    # NOTE: cached as a module global, so cupy.any/all/sum/max/min/round/abs shadow the builtins in this
    # module from then on: code here calls those through _builtins.
    globals()[name] = obj
    return obj
