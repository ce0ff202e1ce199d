"""torch.cpu.amp: deprecated forms of torch.amp.autocast("cpu") and torch.amp.GradScaler("cpu")."""
import sys
import warnings

from .. import _dtype
from ..amp import autocast_mode as _mode, grad_scaler as _scaler

__all__ = ["autocast", "GradScaler"]


class autocast(_mode.autocast):
    """Deprecated: torch.amp.autocast("cpu", ...)."""

    def __init__(self, enabled=True, dtype=_dtype.bfloat16, cache_enabled=True):
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_scaler.GradScaler):
    """Deprecated: torch.amp.GradScaler("cpu", ...)."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warnings.warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cpu", init_scale=init_scale, growth_factor=growth_factor, backoff_factor=backoff_factor,
                         growth_interval=growth_interval, enabled=enabled)


# NOTE: torch.cpu.amp.autocast_mode / grad_scaler are modules holding the same classes
autocast_mode = grad_scaler = sys.modules[__name__]
