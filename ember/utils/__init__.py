"""torch.utils: hooks (RemovableHandle), data (Dataset, DataLoader, samplers, default_collate), safetensors,
checkpoint (activation checkpointing)."""
from . import checkpoint, data, hooks, model_zoo, safetensors  # noqa: F401
