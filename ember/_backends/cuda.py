"""The CUDA backend: CuPy, imported on first use so that ember works without it."""
name = "cuda"

try:  # NOTE: the import is the availability probe; any failure means "no cuda here".
    import cupy as xp
except Exception:  # pragma: no cover - depends on the machine
    xp = None


def is_available():
    if xp is None:
        return False
    try:
        return xp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_count():
    return xp.cuda.runtime.getDeviceCount() if is_available() else 0


def _require():
    if not is_available():
        raise RuntimeError("Found no NVIDIA driver on your system (ember needs cupy and a GPU for cuda tensors).")


def asarray(data, dtype=None, index=None):
    _require()
    with xp.cuda.Device(index or 0):
        return xp.asarray(data, dtype=dtype)


def to_numpy(array):
    return xp.asnumpy(array)


def reshape_view(array, shape):
    """`array` seen with `shape` without copying, or None when its strides do not allow it."""
    out = array.reshape(shape)
    if out.size and out.data.ptr != array.data.ptr or (array.size > 1 and not _shares(out, array)):
        return None
    return out


def _shares(a, b):
    return a.data.mem is b.data.mem if hasattr(a.data, "mem") else True


# --- strided views ------------------------------------------------------------------------------
# NOTE: CuPy's as_strided checks nothing and keeps no base. A CuPy array's storage is the allocation
# its MemoryPointer holds (which CuPy's pool may round up), found from any view of it.
def data_ptr(array):
    return array.data.ptr


def storage(array):
    """(low, nbytes, owner): the allocation `array` lives in."""
    mem = array.data.mem
    return mem.ptr, mem.size, mem


def strided_view(array, shape, strides, offset=0, dtype=None, writeable=None):
    """A view of `array`'s allocation: `shape`, byte `strides`, starting `offset` bytes after array's
    first element, as `dtype`. ValueError if any element lies outside the allocation."""
    dtype = array.dtype if dtype is None else xp.dtype(dtype)
    # NOTE: a stride past int64 (only on a dim of size 0 or 1, never stepped) becomes 0
    strides = tuple(st if -2 ** 63 <= st < 2 ** 63 else 0 for st in strides)
    lo, nbytes, mem = storage(array)
    start = array.data.ptr + offset - lo
    if all(shape):
        low = start + sum((s - 1) * st for s, st in zip(shape, strides) if st < 0)
        high = start + sum((s - 1) * st for s, st in zip(shape, strides) if st > 0) + dtype.itemsize
        if low < 0 or high > nbytes:
            raise ValueError("strided view outside its storage")
    elif not 0 <= start <= nbytes:
        start = 0
    return xp.ndarray(tuple(shape), dtype, memptr=xp.cuda.MemoryPointer(mem, start), strides=tuple(strides))


def share(array):
    """A new array over `array`'s memory (from_numpy's counterpart; CuPy arrays keep their allocation)."""
    return array.view()


def add_at(out, key, values):
    """out[key] += values, adding repeatedly where indices repeat."""
    import cupyx
    cupyx.scatter_add(out, key, values)


class _CupySpecial:
    """Special functions on the GPU: cupyx.scipy.special, imported on first use."""

    def __getattr__(self, name):
        import cupyx.scipy.special as sp
        fns = {"erf": sp.erf, "erfc": sp.erfc, "erfinv": sp.erfinv, "lgamma": sp.gammaln, "digamma": sp.digamma,
               "polygamma": lambda n, x: sp.polygamma(n, x).astype(x.dtype, copy=False)}
        if name not in fns:
            raise AttributeError(name)
        return fns[name]


special = _CupySpecial()
