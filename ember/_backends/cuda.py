"""The CUDA backend: CuPy, imported on first use so that ember works without it. The contract it
fulfils is written down in base.py."""
import contextlib
import weakref

name = "cuda"

try:  # NOTE: the import is the availability probe; any failure means "no cuda here".
    import cupy as xp
except Exception:  # pragma: no cover - depends on the machine
    xp = None

array_type = xp.ndarray if xp is not None else type(None)


def is_available():
    if xp is None:
        return False
    try:
        return xp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_count():
    return xp.cuda.runtime.getDeviceCount() if is_available() else 0


def nccl():
    """cupy.cuda.nccl, NCCL's bindings (for ember.distributed's NCCL engine), or None where it is missing."""
    if xp is None:
        return None
    try:
        from cupy.cuda import nccl as module
    except Exception:  # NOTE: CuPy built or installed without NCCL
        return None
    return module if getattr(module, "available", True) else None


def _require():
    if not is_available():
        raise RuntimeError("Found no NVIDIA driver on your system (ember needs cupy and a GPU for cuda tensors).")


def asarray(data, dtype=None, index=None, copy=False):
    _require()
    with activate(index):
        return xp.array(data, dtype=dtype) if copy else xp.asarray(data, dtype=dtype)


def to_host(array):
    if _pending:
        _raise_pending()
    return xp.asnumpy(array)


cheap_reads = False
_pending = []  # NOTE: (bad flag on the device, error factory): checks not yet read back
_PENDING_LIMIT = 256


def check(bad, error):
    """Queue a check: error() is raised at the next host transfer or synchronize if `bad` (a 0-d boolean
    device array) is true, as a device-side assert surfaces in PyTorch. Nothing waits for the device now."""
    _pending.append((bad, error))
    if len(_pending) >= _PENDING_LIMIT:
        _raise_pending()


def _raise_pending():
    checks = _pending[:]
    _pending.clear()
    flags = xp.asnumpy(xp.stack([xp.asarray(bad).reshape(()) for bad, _ in checks]))
    for hit, (_, error) in zip(flags, checks):
        if hit:
            raise error()


def device_index(array):
    return array.device.id


_DEVICES = {}


def activate(index):
    """The context in which device `index` is current (CuPy allocates and launches there)."""
    dev = _DEVICES.get(index)
    if dev is None:
        dev = _DEVICES[index] = xp.cuda.Device(index or 0)
    return dev


def synchronize(index=None):
    xp.cuda.Device(index or 0).synchronize()
    if _pending:
        _raise_pending()


def indices(shape):
    """Open index grids (CuPy's indices has no sparse=): one arange per dim, shaped to broadcast."""
    grids = []
    for d, n in enumerate(shape):
        view = [1] * len(shape)
        view[d] = n
        grids.append(xp.arange(n).reshape(view))
    return tuple(grids)


def accumulate(name, x, axis):
    """The running `name` of x along axis. CuPy accumulates only add and multiply (cumsum, cumprod);
    the others scan in log2(n) whole-array steps (each element combined with the one 2^k before it)."""
    if name == "add":
        return xp.cumsum(x, axis=axis)
    if name == "multiply":
        return xp.cumprod(x, axis=axis)
    op = getattr(xp, name)
    out = x.copy()
    n = x.shape[axis]
    shift = 1
    while shift < n:
        later = [slice(None)] * x.ndim
        earlier = [slice(None)] * x.ndim
        later[axis], earlier[axis] = slice(shift, None), slice(None, n - shift)
        out[tuple(later)] = op(out[tuple(later)], out[tuple(earlier)])
        shift *= 2
    return out


def ufunc_at(name, out, key, values):
    """out[key] = name(out[key], values) once per index, also where indices repeat."""
    import cupyx
    scatter = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max, "minimum": cupyx.scatter_min}.get(name)
    if scatter is not None:
        scatter(out, key, values)
    else:
        _in_rounds(getattr(xp, name), out, key, values)


def _in_rounds(op, out, key, values):
    """NOTE: CuPy has no multiply.at. Indices are ranked within their repeats; round r applies the r-th
    occurrence of every index at once (no repeats inside a round). The round count is read on the host."""
    key = key if isinstance(key, tuple) else (key,)
    arrays = xp.broadcast_arrays(*key, values)
    flat = xp.ravel_multi_index(tuple(a.ravel() for a in arrays[:-1]), out.shape, mode="wrap")
    vals = arrays[-1].ravel()
    order = xp.argsort(flat, kind="stable")
    flat, vals = flat[order], vals[order]
    pos = xp.arange(flat.size)
    starts = xp.concatenate([xp.ones(min(flat.size, 1), dtype=bool), flat[1:] != flat[:-1]])
    rank = pos - accumulate("maximum", xp.where(starts, pos, 0), 0)
    target = out.reshape(-1) if out.flags.c_contiguous else None
    rounds = int(rank.max()) + 1 if rank.size else 0
    for r in range(rounds):
        pick = rank == r
        idx, v = flat[pick], vals[pick]
        if target is not None:
            target[idx] = op(target[idx], v)
        else:
            where = xp.unravel_index(idx, out.shape)
            out[where] = op(out[where], v)


_PINNED = weakref.WeakValueDictionary()  # NOTE: id of a pinned host array -> the array


def pin(host):
    """A copy of the host array `host` in page-locked memory (faster, asynchronous copies to the GPU)."""
    import cupyx
    out = cupyx.empty_pinned(host.shape, dtype=host.dtype)
    out[...] = host
    _PINNED[id(out)] = out
    return out


def is_pinned(host):
    return _PINNED.get(id(host)) is host


def allow_tf32(allowed):
    """float32 matmuls may round their inputs to TF32 (torch.backends.cuda.matmul.allow_tf32), through CuPy's
    cuBLAS compute type. NOTE: CuPy's constants: 7 = COMPUTE_TYPE_TF32, 1 = COMPUTE_TYPE_DEFAULT; GPUs older
    than Ampere fall back to the default with CuPy's warning."""
    try:
        from cupy._core import _routines_linalg as linalg
    except ImportError:
        return
    linalg.set_compute_type(xp.float32, 7 if allowed else 1)


def errstate():
    """CuPy never warns about floating-point errors: nothing to silence."""
    return contextlib.nullcontext()


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
    ufunc_at("add", out, key, values)


class _CupySpecial:
    """Special functions on the GPU: cupyx.scipy.special, imported on first use."""

    def __getattr__(self, name):
        import cupyx.scipy.special as sp
        fns = {"erf": sp.erf, "erfc": sp.erfc, "erfinv": sp.erfinv, "lgamma": sp.gammaln, "digamma": sp.digamma,
               "polygamma": lambda n, x: sp.polygamma(n, x).astype(x.dtype, copy=False)}
        if name not in fns:  # NOTE: the other kernels are ember's own, written on `xp` (_special_*.py)
            from ._special_math import Special
            return getattr(Special(xp), name)
        return fns[name]


special = _CupySpecial()


def _apply_saved_flags():
    """A TF32 switch set before this backend loaded takes effect now."""
    import sys
    flags = sys.modules.get("ember.backends._flags")
    if xp is not None and flags is not None and flags.flags["cuda.matmul.allow_tf32"]:
        allow_tf32(True)


_apply_saved_flags()
