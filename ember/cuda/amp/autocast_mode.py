"""torch.cuda.amp.autocast: accepted as a context manager and decorator; ember has no autocast."""
import functools
import warnings

from .._lazy import available


class autocast:
    """Mixed precision region. NOTE: ember runs every op in its inputs' dtype: inside the block nothing
    changes (no float16 casts), so results are PyTorch's float32 ones. Without CUDA PyTorch disables it too."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        if enabled and not available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        self.fast_dtype = dtype
        self.device = "cuda"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper


def custom_fwd(fwd=None, *, cast_inputs=None):
    """Decorator for a custom Function's forward: with no autocast in ember, it returns forward unchanged."""
    if fwd is None:
        return functools.partial(custom_fwd, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd):
    """Decorator for a custom Function's backward: returns backward unchanged."""
    return bwd
