"""torch.amp.autocast_mode: the autocast context manager and decorator, custom_fwd / custom_bwd."""
import functools
import warnings

from .. import _dtype, _runtime


__all__ = ["autocast_decorator", "autocast", "is_autocast_available", "custom_fwd", "custom_bwd"]

# NOTE: the device types whose autocast key exists in PyTorch's dispatcher
_AVAILABLE = frozenset(("cpu", "cuda", "xpu", "ipu", "hpu", "xla", "mps", "mtia", "maia", "privateuseone"))

def is_autocast_available(device_type):
    """Whether autocast exists for the device type (a string such as 'cpu' or 'cuda')."""
    _runtime._autocast_entry(device_type, "_is_autocast_available")
    return device_type.split(":")[0] in _AVAILABLE

def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")

def autocast_decorator(autocast_instance, func):
    """func run inside `autocast_instance`."""
    @functools.wraps(func)
    def decorate_autocast(*args, **kwargs):
        with autocast_instance:
            return func(*args, **kwargs)
    return decorate_autocast

class autocast:
    """Mixed precision region: ops on PyTorch's autocast lists run in `dtype` (bfloat16 on cpu, float16 on cuda
    by default) or float32 (ember/amp/_policy.py). Context manager or decorator."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = _runtime.get_autocast_dtype(device_type) if dtype is None else dtype
        if not is_autocast_available(self.device):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{self.device}'")
        self._cache_enabled = _runtime.is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if self.device == "cuda":
                from ..cuda import is_available
                if not is_available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                                  stacklevel=2)
                    enabled = False
            elif self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
                name = self.device.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                              stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = _runtime.is_autocast_cache_enabled()
        self.prev = _runtime.is_autocast_enabled(self.device)
        self.prev_fastdtype = _runtime.get_autocast_dtype(self.device)
        _runtime.set_autocast_enabled(self.device, self._enabled)  # NOTE: a non-bool raises PyTorch's TypeError
        _runtime.set_autocast_dtype(self.device, self.fast_dtype)
        _runtime.autocast_increment_nesting()
        _runtime.set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if _runtime.autocast_decrement_nesting() == 0:
            _runtime.clear_autocast_cache()
        _runtime.set_autocast_enabled(self.device, self.prev)
        _runtime.set_autocast_dtype(self.device, self.prev_fastdtype)
        _runtime.set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        return autocast_decorator(self, func)

def _cast(value, device_type, dtype):
    """value with its eligible tensors (floating, not float64, on device_type) cast to dtype, through
    containers."""
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == device_type and value.dtype is not _dtype.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes)) or type(value).__module__ == "numpy":
        return value
    if isinstance(value, dict):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    return value

def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's forward: with cast_inputs, inside an enabled autocast the floating
    inputs are cast to it and forward runs with autocast off; otherwise forward runs in the current state."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = _runtime.get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = _runtime.is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        on = _runtime.is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if on:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd

def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's backward: runs it in the autocast state its forward ran in."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd


def _enter_autocast(*vals):
    """autocast(*vals) entered; give it to _exit_autocast (the form traced programs call)."""
    mode = autocast(*vals)
    mode.__enter__()
    return mode


def _exit_autocast(mode):
    """Leave a region _enter_autocast entered."""
    mode.__exit__(None, None, None)
