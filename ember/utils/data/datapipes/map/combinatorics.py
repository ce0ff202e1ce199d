"""torch.utils.data.datapipes.map.combinatorics: ShufflerIterDataPipe (at torch's module path)."""
from .pipes import ShufflerIterDataPipe  # noqa: F401

__all__ = ["ShufflerIterDataPipe"]
