"""torch.cuda: devices, memory, streams, seeds. Tensors reach the GPU through CuPy (ember/_backends/cuda.py).

Without CuPy ember acts as PyTorch's CPU-only build (the same values and exceptions); with CuPy and no GPU,
as a CUDA build on a machine without a driver.
"""
import builtins

from ..autograd.function import OutOfMemoryError  # noqa: F401 -- torch.cuda.OutOfMemoryError is torch.OutOfMemoryError
from . import amp, memory, random, streams  # noqa: F401
from ._lazy import NOT_COMPILED, available, built, device_index, require
from ._legacy import (BFloat16Tensor, BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,  # noqa: F401
                      HalfTensor, IntTensor, LongTensor, ShortTensor)
from .memory import (empty_cache, max_memory_allocated, max_memory_cached, max_memory_reserved, memory_summary,  # noqa: F401
                     set_per_process_memory_fraction,
                     mem_get_info, memory_allocated, memory_cached, memory_reserved, memory_stats,
                     reset_max_memory_allocated, reset_max_memory_cached, reset_peak_memory_stats)
from .random import (get_rng_state, get_rng_state_all, initial_seed, manual_seed, manual_seed_all,  # noqa: F401
                     seed, seed_all, set_rng_state, set_rng_state_all)
from .streams import Event, Stream, StreamContext, current_stream, default_stream, set_stream, stream  # noqa: F401


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return available()


def device_count():
    return available() and require().device_count() or 0


def is_initialized():
    """True once CUDA can be used (ember initialises on import of CuPy, not on first use as PyTorch)."""
    return available()


def init():
    """Initialise CUDA now (PyTorch's errors when it cannot)."""
    require()


def current_device():
    """The index of the current GPU."""
    from .. import _state
    require()
    return _state.current_cuda_index()


def set_device(device):
    """Make `device` the current GPU (a negative index does nothing)."""
    index = device_index(device) if device is not None else -1
    if index < 0:
        return
    if not built():
        # NOTE: PyTorch's CPU-only build has no binding for this and fails with AttributeError.
        raise AttributeError(f"module 'torch._C' has no attribute '_cuda_setDevice' ({NOT_COMPILED})")
    _select(require(), index)


def _select(rt, index):
    """Make `index` current for ember (where new cuda tensors go) and for CuPy."""
    from .. import _state
    count = rt.device_count()
    if index >= count:
        raise RuntimeError(f"CUDA error: invalid device ordinal (device {index} of {count})")
    rt.set_device(index)
    _state.cuda_index = index


class device:
    """Context manager: make `device` (int, 'cuda:1', torch.device) the current GPU inside the block."""

    def __init__(self, device):
        self.idx = device_index(device, optional=True) if device is not None else -1
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        if not built():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        rt = require()
        self.prev_idx = current_device()
        if self.prev_idx != self.idx:
            _select(rt, self.idx)

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            _select(require(), self.prev_idx)
        return False


class device_of(device):
    """Context manager: make the GPU that holds tensor `obj` current (a CPU tensor: no change)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def _index_or_current(device):
    rt = require()
    return rt, device_index(device)


def get_device_name(device=None):
    rt, index = _index_or_current(device)
    return rt.device_name(index)


def get_device_capability(device=None):
    """(major, minor) compute capability."""
    rt, index = _index_or_current(device)
    return rt.capability(index)


class _CudaDeviceProperties:
    """What torch.cuda.get_device_properties returns: name, total_memory, major, minor, multi_processor_count."""

    def __init__(self, props):
        name = props.get("name", "")
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.total_memory = builtins.int(props.get("totalGlobalMem", 0))
        self.major, self.minor = builtins.int(props.get("major", 0)), builtins.int(props.get("minor", 0))
        self.multi_processor_count = builtins.int(props.get("multiProcessorCount", 0))
        self.is_integrated = builtins.int(props.get("integrated", 0))
        self.is_multi_gpu_board = builtins.int(props.get("isMultiGpuBoard", 0))
        self.L2_cache_size = builtins.int(props.get("l2CacheSize", 0))
        self.max_threads_per_multi_processor = builtins.int(props.get("maxThreadsPerMultiProcessor", 0))
        self.warp_size = builtins.int(props.get("warpSize", 32))

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count}, L2_cache_size={self.L2_cache_size // (1024 * 1024)}MB)")


def get_device_properties(device=None):
    rt, index = _index_or_current(device)
    count = rt.device_count()
    if not 0 <= index < count:
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(rt.properties(index))


def synchronize(device=None):
    """Wait for every kernel queued on `device` (default: the current GPU) to finish."""
    rt, index = _index_or_current(device)
    rt.synchronize(index)


def get_arch_list():
    """The architectures code is built for: CuPy compiles for the GPUs present (sm_XY for each)."""
    if not available():
        return []
    rt = require()
    return sorted({"sm_%d%d" % rt.capability(i) for i in range(rt.device_count())})


def get_gencode_flags():
    return " ".join(f"-gencode compute={a.replace('sm', 'compute')},code={a}" for a in get_arch_list())


def is_bf16_supported(including_emulation=True):
    """True on a GPU of compute capability 8.0 or later."""
    if not available():
        return False
    return get_device_capability()[0] >= 8


def ipc_collect():
    require()


def current_blas_handle():
    rt = require()
    return rt.blas_handle()


def is_current_stream_capturing():
    """False: ember does not capture CUDA graphs."""
    if not built():
        raise RuntimeError("Tried to instantiate dummy base class _cuda_isCurrentStreamCapturing")
    return False
