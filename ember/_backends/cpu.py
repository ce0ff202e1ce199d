"""The CPU backend: NumPy. The contract it fulfils is written down in base.py."""
import numpy as xp

name = "cpu"
array_type = xp.ndarray
activate = None  # NOTE: one device: nothing to make current

# NOTE: PyTorch computes IEEE results (1/0 = inf, log(0) = -inf, 0/0 = nan) without warnings;
# NumPy warns for each. ember follows PyTorch, so NumPy's floating-point warnings are off.
xp.seterr(all="ignore")


def is_available():
    return True


def device_count():
    return 1


def asarray(data, dtype=None, index=None, copy=False):
    return xp.array(data, dtype=dtype) if copy else xp.asarray(data, dtype=dtype)


def to_host(array):
    return array


def device_index(array):
    return None


def synchronize(index=None):
    """NumPy computes eagerly: nothing is queued."""


cheap_reads = True


def check(bad, error):
    """Raise error() if the 0-d boolean array `bad` is true (at once: reading it costs nothing)."""
    if bad:
        raise error()


def indices(shape):
    """Open index grids: one array per dim, broadcastable against each other."""
    return xp.indices(shape, sparse=True)


def accumulate(name, x, axis):
    """The running `name` (a ufunc's name) of x along axis."""
    return getattr(xp, name).accumulate(x, axis=axis)


def ufunc_at(name, out, key, values):
    """out[key] = name(out[key], values), applied once per index even where indices repeat."""
    getattr(xp, name).at(out, key, values)


def errstate():
    """NOTE: warnings are off for good (seterr above); this is the explicit form for one block."""
    return xp.errstate(all="ignore")


def reshape_view(array, shape):
    """`array` seen with `shape` without copying, or None when its strides do not allow it."""
    out = array.view()
    try:
        out.shape = shape
    except AttributeError:
        return None
    return out


# --- strided views ------------------------------------------------------------------------------
# NOTE: NumPy's as_strided checks nothing: a view built with it can reach memory outside its buffer.
# Every view ember builds with explicit geometry goes through strided_view, which refuses that.
class _Window:
    """Hangs an __array_interface__ on memory. With base None it ends a chain of bases: a storage
    boundary (what from_numpy shares); `owner` keeps the memory alive."""

    def __init__(self, interface, base=None, owner=None):
        self.__array_interface__ = interface
        self.base = base
        self._owner = owner


def _bounds(interface):
    """(low, high): the byte range an __array_interface__ covers (low == high when it is empty)."""
    ptr = interface["data"][0]
    shape = interface["shape"]
    itemsize = xp.dtype(interface["typestr"]).itemsize
    strides = interface.get("strides")
    if strides is None:
        n = itemsize
        for s in shape:
            n *= s
        return ptr, ptr + n
    lo = hi = 0
    for size, st in zip(shape, strides):
        if size == 0:
            return ptr, ptr
        if st < 0:
            lo += (size - 1) * st
        else:
            hi += (size - 1) * st
    return ptr + lo, ptr + hi + itemsize


def data_ptr(array):
    return array.__array_interface__["data"][0]


def storage(array):
    """(low, nbytes, owner): the memory `array` lives in (its storage): the span of the object that ends
    its chain of bases."""
    root = array
    while True:
        base = getattr(root, "base", None)
        if base is None or not hasattr(base, "__array_interface__"):
            break
        root = base
    lo, hi = _bounds(root.__array_interface__)
    return lo, hi - lo, root


def _extent(shape, strides, itemsize):
    """(low, high) byte offsets, from the first element, of the memory a geometry covers; None if empty."""
    lo = hi = 0
    for size, st in zip(shape, strides):
        if size == 0:
            return None
        if st < 0:
            lo += (size - 1) * st
        else:
            hi += (size - 1) * st
    return lo, hi + itemsize


def _representable(strides):
    """Byte strides that fit NumPy's int64. NOTE: only a dim of size 0 or 1 gets here with a larger one
    (its stride is never stepped; bigger views fail the storage check first): it becomes 0."""
    if all(-2 ** 63 <= st < 2 ** 63 for st in strides):
        return strides
    return tuple(st if -2 ** 63 <= st < 2 ** 63 else 0 for st in strides)


def strided_view(array, shape, strides, offset=0, dtype=None, writeable=None):
    """A view of `array`'s storage: `shape`, byte `strides`, starting `offset` bytes after array's
    first element, as `dtype` (default array's). ValueError if any element lies outside the storage."""
    dtype = array.dtype if dtype is None else xp.dtype(dtype)
    strides = _representable(strides)
    if writeable is None:
        writeable = array.flags.writeable
    if array.flags.c_contiguous and (array.flags.writeable or not writeable):
        # NOTE: the fast path: a view inside a contiguous array's own buffer, which NumPy's constructor
        # bounds-checks itself; anything else is checked against the whole storage below.
        try:
            out = xp.ndarray(shape, dtype, array, offset, strides)
        except (ValueError, TypeError):
            out = None
        if out is not None:
            if not writeable:
                out.flags.writeable = False
            return out
    extent = _extent(shape, strides, dtype.itemsize)
    ptr = data_ptr(array) + offset
    lo, nbytes, root = storage(array)
    if extent is not None:
        if ptr + extent[0] < lo or ptr + extent[1] > lo + nbytes:
            raise ValueError("strided view outside its storage")
    elif not lo <= ptr <= lo + 2 ** 62:  # NOTE: an empty view's address is never read; keep it representable
        ptr = lo
    writeable = writeable and not root.__array_interface__["data"][1]
    iface = {"version": 3, "shape": tuple(shape), "strides": tuple(strides), "typestr": dtype.str,
             "data": (ptr, not writeable)}
    out = xp.asarray(_Window(iface, base=root))
    if out.dtype != dtype:
        out.dtype = dtype  # NOTE: the interface drops extension dtypes (bfloat16): set it back
    return out


def share(array):
    """A new array over `array`'s memory whose storage is exactly that memory (from_numpy)."""
    iface = array.__array_interface__
    lo, hi = _bounds(iface)
    window = _Window({"version": 3, "shape": (hi - lo,), "strides": None, "typestr": "|u1",
                      "data": (lo, not array.flags.writeable)}, owner=array)
    view = xp.asarray(window)
    return strided_view(view, array.shape, array.strides, iface["data"][0] - lo, array.dtype)


def add_at(out, key, values):
    """out[key] += values, adding repeatedly where indices repeat."""
    ufunc_at("add", out, key, values)


# NOTE: NumPy has no erf or gamma functions (and scipy is not a dependency): ember's own, in float64.
from ._special_math import Special as _Special  # noqa: E402

special = _Special(xp)
