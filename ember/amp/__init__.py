"""torch.amp: automatic mixed precision (autocast, GradScaler, custom_fwd / custom_bwd)."""
from . import _policy, autocast_mode, grad_scaler  # noqa: F401
from .autocast_mode import (_enter_autocast, _exit_autocast, autocast, custom_bwd, custom_fwd,  # noqa: F401
                            is_autocast_available)
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]
