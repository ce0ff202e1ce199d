"""torch.cuda: device queries. Tensors reach the GPU through CuPy (ember/_backends/cuda.py)."""
from .. import _backends
from ..autograd.function import OutOfMemoryError  # noqa: F401 -- torch.cuda.OutOfMemoryError is torch.OutOfMemoryError


def is_available():
    """True when CuPy is installed and sees a GPU."""
    return _backends.get("cuda").is_available()


def device_count():
    return _backends.get("cuda").device_count()


def current_device():
    from .. import _state
    return _state.cuda_index


def synchronize(device=None):
    if is_available():
        _backends.get("cuda").xp.cuda.Device().synchronize()


def manual_seed(seed):
    """Seed the GPU generator (ember shares the default generator)."""


def manual_seed_all(seed):
    """Seed every GPU's generator (ember shares the default generator)."""
