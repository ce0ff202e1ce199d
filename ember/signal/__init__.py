"""torch.signal: signal-processing helpers (windows)."""
from . import windows  # noqa: F401
