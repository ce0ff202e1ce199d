"""torch.utils: hooks (RemovableHandle), data (Dataset, DataLoader, samplers, default_collate), safetensors."""
from . import data, hooks, safetensors  # noqa: F401
