"""torch.utils: hooks (RemovableHandle); data loading joins later."""
from . import hooks  # noqa: F401
