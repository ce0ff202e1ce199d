"""What torch.cuda's calls check first: is CUDA built (CuPy importable), is a GPU there, which device."""
import builtins
import importlib

from .. import _backends

NOT_COMPILED = "Torch not compiled with CUDA enabled"


def backend():
    return _backends.get("cuda")


def built():
    """True when CuPy imports: ember then acts as PyTorch's CUDA build, else as its CPU-only build."""
    return backend().xp is not None


def available():
    return backend().is_available()


def runtime():
    """ember/_backends/cuda_runtime.py, every CuPy call the facades make (imported on first use)."""
    rt = importlib.import_module("ember._backends.cuda_runtime")
    rt.install_peak_tracking()
    return rt


def require():
    """PyTorch's lazy init: AssertionError on a CPU-only build, RuntimeError without a driver; the runtime."""
    from .._device import _require_cuda
    _require_cuda("cuda")
    return runtime()


def device_index(device, optional=True):
    """PyTorch's _get_device_index: an int, 'cuda:1', device('cuda', 1) or None -> an int (-1 stays -1)."""
    from .._device import device as _device
    if isinstance(device, str):
        device = _device(device)
    if isinstance(device, _device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        device = device.index
    if device is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        return require().current_device()
    if isinstance(device, builtins.bool) or not hasattr(device, "__index__"):
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    return builtins.int(device.__index__())
