"""The stand-in's core: the device array over a NumPy array, its memory, transfers and the current device."""
import operator
import threading
import weakref

import numpy as np

_tls = threading.local()
COUNTS = {"to_device": 0, "to_host": 0, "peer": 0}
FORBID = [0]
POOL = {"used": 0, "limit": 0}
_SCALARS = (int, float, complex, bool, np.generic)


def current():
    """The current device id of this thread."""
    return getattr(_tls, "device", 0)


def set_current(i):
    _tls.device = i


def to_host(what):
    """Count one device->host transfer (refused inside forbid_host_transfers)."""
    if FORBID[0]:
        raise AssertionError(f"device->host transfer inside forbid_host_transfers: {what}")
    COUNTS["to_host"] += 1


def to_device():
    COUNTS["to_device"] += 1


def _mismatch(dev, cur):
    return ValueError(f"Array device must be same as the current device: array device = {dev} while current = {cur}")


def _host_refused(x):
    return TypeError(f"Unsupported type {type(x)}")


# --- memory -------------------------------------------------------------------------------------
class Memory:
    """One allocation: the root NumPy buffer, its address and size (shared by all views of it)."""
    __slots__ = ("ptr", "size", "root", "device_id", "__weakref__")

    def __init__(self, root, device_id):
        self.root = root
        self.ptr = root.__array_interface__["data"][0]
        self.size = root.nbytes
        self.device_id = device_id


_mems = weakref.WeakValueDictionary()


def root_of(a):
    while True:
        b = a.base
        if not isinstance(b, np.ndarray):
            # NOTE: as_strided's results hang off a DummyArray that holds the real base
            b = getattr(b, "base", None)
            if not isinstance(b, np.ndarray):
                return a
        a = b


def memory_of(a, dev):
    root = root_of(a)
    m = _mems.get(id(root))
    if m is None or m.root is not root:
        m = _mems[id(root)] = Memory(root, dev)
    return m


class MemoryPointer:
    """A pointer into a Memory: `.mem`, `.ptr` (address), offset."""
    __slots__ = ("mem", "ptr", "device_id")

    def __init__(self, mem, offset):
        self.mem, self.ptr, self.device_id = mem, mem.ptr + offset, mem.device_id

    def __add__(self, offset):
        return MemoryPointer(self.mem, self.ptr - self.mem.ptr + offset)


# --- wrapping -----------------------------------------------------------------------------------
def _w(a, dev, own=True):
    if not a.flags.writeable:  # NOTE: CuPy has no read-only arrays (broadcast_to's result is writeable)
        a = _writeable(a)
    x = object.__new__(ndarray)
    x._a, x._dev, x._mem = a, dev, None
    if own and a.base is None:
        x._owned = a.nbytes
        POOL["used"] += x._owned
    else:
        x._owned = 0
    return x


def _writeable(a):
    view = a.view()
    try:
        view.flags.writeable = True
        return view
    except ValueError:
        return np.lib.stride_tricks.as_strided(a, writeable=True) if a.base is not None else a


def wrap(r, dev):
    """NumPy results as device arrays (scalars as 0-d arrays, tuples elementwise)."""
    t = type(r)
    if t is np.ndarray:
        return _w(r, dev)
    if isinstance(r, np.generic):
        return _w(np.asarray(r), dev)
    if isinstance(r, tuple):
        items = [wrap(x, dev) for x in r]
        return t(items) if t is tuple else t(*items)
    if t is list:
        return [wrap(x, dev) for x in r]
    if isinstance(r, np.ndarray):
        return _w(r.view(np.ndarray), dev)
    return r


def un(x, dev):
    """A function argument unwrapped: device arrays checked for device, host arrays refused."""
    t = type(x)
    if t is ndarray:
        if x._dev != dev:
            raise _mismatch(x._dev, dev)
        return x._a
    if t is tuple or t is list:
        return t([un(y, dev) for y in x])
    if isinstance(x, np.ndarray):
        raise _host_refused(x)
    return x


def un_kw(kw, dev):
    return {k: un(v, dev) for k, v in kw.items()} if kw else kw


def un_operand(x, dev):
    """A ufunc/operator operand: a device array or a scalar, nothing else (as CuPy's kernels)."""
    if type(x) is ndarray:
        if x._dev != dev:
            raise _mismatch(x._dev, dev)
        return x._a
    if isinstance(x, _SCALARS):
        return x
    raise _host_refused(x)


def un_key(k, dev):
    """An index key: device arrays, or host arrays/lists copied to the device as CuPy does."""
    t = type(k)
    if t is ndarray:
        if k._dev != dev:
            raise _mismatch(k._dev, dev)
        return k._a
    if t is tuple:
        return tuple(un_key(y, dev) for y in k)
    if t is list or t is np.ndarray:
        to_device()
        return np.array(un(k, dev) if t is list else k)
    return k


def _ret(r, out, dev):
    if out is not None and type(out) is ndarray and r is out._a:
        return out
    return wrap(r, dev)


# --- the array ----------------------------------------------------------------------------------
class Flags:
    """CuPy's flags: c_contiguous, f_contiguous, owndata (no writeable)."""
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c, f, o):
        self.c_contiguous, self.f_contiguous, self.owndata = c, f, o

    def __getitem__(self, name):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[name])

    def __repr__(self):
        return f"  C_CONTIGUOUS : {self.c_contiguous}\n  F_CONTIGUOUS : {self.f_contiguous}\n  OWNDATA : {self.owndata}"


class ndarray:
    """A device array: a NumPy array that refuses to be one, on its own device."""
    __slots__ = ("_a", "_dev", "_mem", "_owned", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        dev = current()
        dtype = np.dtype(dtype)
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        if memptr is None:
            a = np.empty(shape, dtype, order=order)
            if strides is not None:
                a = np.lib.stride_tricks.as_strided(a, shape, strides)
            self._a, self._dev, self._mem, self._owned = a, dev, None, a.nbytes
            POOL["used"] += a.nbytes
            return
        self._a = _over(memptr, shape, dtype, strides, order)
        self._dev, self._mem, self._owned = memptr.mem.device_id, memptr.mem, 0

    def __del__(self):
        POOL["used"] -= getattr(self, "_owned", 0)  # NOTE: a constructor that raised set none

    def __array__(self, *args, **kwargs):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    # attributes
    shape = property(lambda s: s._a.shape)
    dtype = property(lambda s: s._a.dtype)
    ndim = property(lambda s: s._a.ndim)
    size = property(lambda s: s._a.size)
    itemsize = property(lambda s: s._a.itemsize)
    nbytes = property(lambda s: s._a.nbytes)
    strides = property(lambda s: s._a.strides)
    T = property(lambda s: wrap(s._a.T, s._dev))
    mT = property(lambda s: wrap(np.swapaxes(s._a, -1, -2), s._dev))
    device = property(lambda s: _device(s._dev))

    @property
    def real(self):
        return wrap(self._a.real, self._dev)

    @real.setter
    def real(self, v):
        self._a.real = un_operand(v, self._dev)

    @property
    def imag(self):
        return wrap(self._a.imag, self._dev)

    @imag.setter
    def imag(self, v):
        self._a.imag = un_operand(v, self._dev)

    @property
    def flags(self):
        f = self._a.flags
        return Flags(f.c_contiguous, f.f_contiguous, self._a.base is None)

    @property
    def base(self):
        if self._a.base is None:
            return None
        return _w(self.data.mem.root, self._dev, own=False)

    @property
    def data(self):
        mem = self._mem
        if mem is None:
            mem = self._mem = memory_of(self._a, self._dev)
        return MemoryPointer(mem, self._a.__array_interface__["data"][0] - mem.ptr)

    @property
    def __cuda_array_interface__(self):
        a = self._a
        return {"shape": a.shape, "typestr": a.dtype.str, "descr": a.dtype.descr, "stream": 1, "version": 3,
                "strides": None if a.flags.c_contiguous else a.strides, "data": (self.data.ptr, False)}

    # host transfers
    def get(self, stream=None, order="C", out=None, blocking=True):
        """A NumPy copy on the host (counted)."""
        to_host("get")
        if out is not None:
            np.copyto(out, self._a)
            return out
        return np.array(self._a, order=order)

    def set(self, arr, stream=None):
        """Copy host data into this array (counted)."""
        if type(arr) is ndarray:
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        to_device()
        self._a[...] = arr

    def item(self, *args):
        to_host("item")
        return self._a.item(*args)

    def tolist(self):
        to_host("tolist")
        return self._a.tolist()

    def tobytes(self, order="C"):
        to_host("tobytes")
        return self._a.tobytes(order)

    def __bool__(self):
        to_host("__bool__")
        return bool(self._a)

    def __int__(self):
        to_host("__int__")
        return int(self._a)

    def __float__(self):
        to_host("__float__")
        return float(self._a)

    def __complex__(self):
        to_host("__complex__")
        return complex(self._a)

    def __index__(self):
        to_host("__index__")
        return operator.index(self._a)

    def __repr__(self):
        to_host("__repr__")
        return repr(self._a).replace("array(", "array(", 1)

    def __str__(self):
        to_host("__str__")
        return str(self._a)

    def __format__(self, spec):
        to_host("__format__")
        return format(self._a if self._a.ndim else self._a[()], spec)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    # cross-device copies are allowed here, as in CuPy
    def copy(self, order="C"):
        dev = current()
        if self._dev != dev:
            COUNTS["peer"] += 1
        return _w(self._a.copy(order), dev)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        if casting is not None or subok is not None:
            pass
        dev = self._check()
        r = self._a.astype(dtype, order=order, copy=copy)
        return self if r is self._a else _w(r, dev)

    def view(self, dtype=None, array_class=None):
        self._check()
        return _w(self._a.view() if dtype is None else self._a.view(dtype), self._dev)

    def _check(self):
        dev = current()
        if self._dev != dev:
            raise _mismatch(self._dev, dev)
        return dev

    def __getitem__(self, key):
        dev = self._check()
        return wrap(self._a[un_key(key, dev)], dev)

    def __setitem__(self, key, value):
        dev = self._check()
        self._a[un_key(key, dev)] = un(value, dev)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import _dispatch
        return _dispatch.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from . import _dispatch
        return _dispatch.array_function(func, types, args, kwargs)

    def __reduce__(self):
        to_host("pickle")
        from . import _rebuild
        return _rebuild, (self._a.copy(),)


def _over(memptr, shape, dtype, strides, order):
    """A NumPy view of memptr's allocation; ValueError if any element lies outside it."""
    mem = memptr.mem
    start = memptr.ptr - mem.ptr
    if strides is None:
        strides = np.empty(0, dtype).strides if not shape else _contiguous(shape, dtype.itemsize, order)
    if all(shape):
        low = start + sum((s - 1) * st for s, st in zip(shape, strides) if st < 0)
        high = start + sum((s - 1) * st for s, st in zip(shape, strides) if st > 0) + dtype.itemsize
        if low < 0 or high > mem.size:
            raise ValueError("the memory pointer's allocation is too small for the array")
        base = _bytes_of(mem)
        return np.lib.stride_tricks.as_strided(base[start:].view(np.uint8), shape, strides).view(dtype) \
            if dtype.itemsize == 1 else _typed(base, start, shape, strides, dtype)
    return np.empty(shape, dtype)


class _Bytes:
    """The allocation's bytes as an array interface; `base` keeps (and leads root_of to) the root.
    NOTE: never root.reshape(-1): a root laid out in a permuted order would be copied, not viewed."""

    def __init__(self, mem):
        self.__array_interface__ = {"version": 3, "shape": (mem.size,), "typestr": "|u1",
                                    "data": (mem.ptr, False)}
        self.base = mem.root


def _bytes_of(mem):
    return np.asarray(_Bytes(mem))


def _typed(base, start, shape, strides, dtype):
    first = base[start:start + dtype.itemsize].view(dtype)
    return np.lib.stride_tricks.as_strided(first, shape, strides)


def _contiguous(shape, itemsize, order):
    st, acc = [], itemsize
    dims = reversed(shape) if order == "C" else shape
    for s in dims:
        st.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(st)) if order == "C" else tuple(st)


def _device(i):
    from .cuda import Device
    return Device(i)
