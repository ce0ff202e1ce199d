"""torch.utils: hooks (RemovableHandle) and data (Dataset, DataLoader, samplers, default_collate)."""
from . import data, hooks  # noqa: F401
