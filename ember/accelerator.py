"""torch.accelerator: the device-generic API; ember's one accelerator is CUDA (through CuPy)."""
from . import cuda as _cuda

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') when ember can drive a GPU here, else None."""
    from ._device import device
    return device("cuda") if _cuda.is_available() else None


def device_count():
    return _cuda.device_count()


def _require():
    if not _cuda.is_available():
        raise RuntimeError(_NONE)


def _index(device):
    _require()
    return _cuda.device_index(device)


def current_device_index():
    _require()
    return _cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device):
    """Make `device` (int, 'cuda:1', torch.device) the current accelerator."""
    _cuda.set_device(_index(device))


set_device_idx = set_device_index


def synchronize(device=None):
    _cuda.synchronize(_index(device))


def current_stream(device=None):
    return _cuda.current_stream(_index(device))


def set_stream(stream):
    _require()
    _cuda.set_stream(stream)


def empty_cache():
    _require()
    _cuda.empty_cache()


def memory_allocated(device_index=None):
    return _cuda.memory_allocated(_index(device_index))


def max_memory_allocated(device_index=None):
    return _cuda.max_memory_allocated(_index(device_index))


def memory_reserved(device_index=None):
    return _cuda.memory_reserved(_index(device_index))


def max_memory_reserved(device_index=None):
    return _cuda.max_memory_reserved(_index(device_index))


def memory_stats(device_index=None):
    return _cuda.memory_stats(_index(device_index))


def reset_peak_memory_stats(device_index=None):
    _cuda.reset_peak_memory_stats(_index(device_index))


class device_index:
    """Context manager: make accelerator `device` current inside the block (None: no change)."""

    def __init__(self, device):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is None:
            return None
        self.prev_idx = current_device_index()
        if self.prev_idx != self.idx:
            set_device_index(self.idx)
        return None

    def __exit__(self, *exc):
        if self.idx is not None and self.prev_idx != self.idx:
            set_device_index(self.prev_idx)
        return False
