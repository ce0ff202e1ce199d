"""The CUDA runtime calls behind torch.cuda, torch.accelerator and torch.backends: devices, memory, streams.

Every function here assumes CuPy is importable and a GPU is present; the facades check first.
"""
from . import cuda as _cuda

# NOTE: CuPy's pool keeps no peaks, so an allocator hook records them (per device) as blocks are handed
# out; used bytes only grow on an allocation, so sampling there gives the true peak.
_peak_allocated = {}
_peak_reserved = {}
_hooked = False


def _xp():
    return _cuda.xp


def _pool():
    return _xp().get_default_memory_pool()


def install_peak_tracking():
    """Route CuPy's allocations through the default pool with a hook that records peaks (once)."""
    global _hooked
    if _hooked or _xp() is None:
        return
    _hooked = True
    pool, cuda = _pool(), _xp().cuda

    def malloc(size):
        mem = pool.malloc(size)
        dev = cuda.runtime.getDevice()
        used, total = pool.used_bytes(), pool.total_bytes()
        if used > _peak_allocated.get(dev, 0):
            _peak_allocated[dev] = used
        if total > _peak_reserved.get(dev, 0):
            _peak_reserved[dev] = total
        return mem
    try:
        cuda.set_allocator(malloc)
    except Exception:  # pragma: no cover - an allocator without hooks: peaks fall back to current values
        pass


# --- devices ------------------------------------------------------------------------------------
def device_count():
    return _cuda.device_count()


def current_device():
    return int(_xp().cuda.runtime.getDevice())


def set_device(index):
    _xp().cuda.Device(index).use()


def device_context(index):
    """A CuPy context manager that makes `index` current and restores the previous device on exit."""
    return _xp().cuda.Device(index)


def properties(index):
    """The device's properties as CuPy reports them (a dict with str keys)."""
    return _xp().cuda.runtime.getDeviceProperties(index)


def device_name(index):
    name = properties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def capability(index):
    props = properties(index)
    return int(props["major"]), int(props["minor"])


def synchronize(index):
    _cuda.synchronize(index)  # NOTE: also raises the device-side checks queued so far (cuda.check)


# --- memory -------------------------------------------------------------------------------------
def with_device(index, fn):
    """fn() run with `index` as CuPy's current device (the pool answers per current device)."""
    with _xp().cuda.Device(index):
        return fn()


def memory_allocated(index):
    return with_device(index, lambda: int(_pool().used_bytes()))


def memory_reserved(index):
    return with_device(index, lambda: int(_pool().total_bytes()))


def max_memory_allocated(index):
    return max(_peak_allocated.get(index, 0), memory_allocated(index))


def max_memory_reserved(index):
    return max(_peak_reserved.get(index, 0), memory_reserved(index))


def reset_peaks(index):
    _peak_allocated[index] = memory_allocated(index)
    _peak_reserved[index] = memory_reserved(index)


def mem_get_info(index):
    free, total = with_device(index, _xp().cuda.runtime.memGetInfo)
    return int(free), int(total)


def empty_cache():
    _pool().free_all_blocks()
    pinned = getattr(_xp(), "get_default_pinned_memory_pool", None)
    if pinned is not None:
        pinned().free_all_blocks()


# --- streams and events ---------------------------------------------------------------------------
def new_stream(index, priority):
    with _xp().cuda.Device(index):
        # NOTE: priority is passed only when asked for: 0 is CuPy's default too
        return _xp().cuda.Stream(priority=priority) if priority else _xp().cuda.Stream()


def current_stream(index):
    with _xp().cuda.Device(index):
        return _xp().cuda.get_current_stream()


def default_stream(index):
    with _xp().cuda.Device(index):
        return _xp().cuda.Stream.null


def stream_from_ptr(ptr, index):
    return _xp().cuda.ExternalStream(ptr, index)


def new_event(enable_timing, blocking, interprocess):
    return _xp().cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)


def elapsed_ms(start, end):
    return float(_xp().cuda.get_elapsed_time(start, end))


def blas_handle():
    return int(_xp().cuda.device.get_cublas_handle())


def cudnn_version():
    """cuDNN's version, or None when CuPy cannot load it."""
    try:
        from cupy.cuda import cudnn
        return int(cudnn.getVersion())
    except Exception:
        return None


def set_memory_fraction(index, fraction):
    with_device(index, lambda: _pool().set_limit(fraction=fraction))
