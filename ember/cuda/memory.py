"""torch.cuda.memory: the caching allocator's counters (CuPy's default memory pool here)."""
import collections

from ._lazy import available, built, device_index, require


def _index(device):
    return device_index(device)


def empty_cache():
    """Release the pool's unused blocks to the driver."""
    if available():
        require().empty_cache()


def memory_stats(device=None):
    """A dict of allocator counters: ember fills the allocated/reserved bytes (current and peak) only."""
    if not available():
        return collections.OrderedDict()
    rt, idx = require(), _index(device)
    values = {"allocated_bytes.all.current": rt.memory_allocated(idx),
              "allocated_bytes.all.peak": rt.max_memory_allocated(idx),
              "reserved_bytes.all.current": rt.memory_reserved(idx),
              "reserved_bytes.all.peak": rt.max_memory_reserved(idx)}
    return collections.OrderedDict(sorted(values.items()))


def _stat(device, key):
    return memory_stats(device).get(key, 0)


def memory_allocated(device=None):
    """Bytes held by live tensors on `device` (0 before CUDA is used, as in PyTorch)."""
    return _stat(device, "allocated_bytes.all.current")


def max_memory_allocated(device=None):
    return _stat(device, "allocated_bytes.all.peak")


def memory_reserved(device=None):
    """Bytes the pool holds from the driver, used or cached."""
    return _stat(device, "reserved_bytes.all.current")


def max_memory_reserved(device=None):
    return _stat(device, "reserved_bytes.all.peak")


def memory_cached(device=None):
    """Deprecated name of memory_reserved."""
    return memory_reserved(device)


def max_memory_cached(device=None):
    """Deprecated name of max_memory_reserved."""
    return max_memory_reserved(device)


def reset_peak_memory_stats(device=None):
    """Start the peaks again from the current values."""
    if not built():
        # NOTE: PyTorch's CPU-only build has no binding for this and fails with AttributeError.
        raise AttributeError("module 'torch._C' has no attribute '_cuda_resetPeakMemoryStats' "
                             "(Torch not compiled with CUDA enabled)")
    rt = require()
    rt.reset_peaks(_index(device))


def reset_max_memory_allocated(device=None):
    """Deprecated: resets every peak, as PyTorch does."""
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None):
    reset_peak_memory_stats(device)


def mem_get_info(device=None):
    """(free, total) bytes on the device, from the driver."""
    rt = require()
    return rt.mem_get_info(_index(device))


def set_per_process_memory_fraction(fraction, device=None):
    """Cap the pool on `device` at `fraction` of the GPU's memory."""
    rt = require()
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    rt.set_memory_fraction(_index(device), fraction)


def memory_summary(device=None, abbreviated=False):
    """A short table of the allocator's counters (ember keeps fewer than PyTorch)."""
    stats = memory_stats(device)
    lines = [f"{key:<32} {value / 2 ** 20:>12.1f} MiB" for key, value in stats.items()]
    return "\n".join(["ember CUDA memory summary (CuPy pool)"] + lines) + "\n"
