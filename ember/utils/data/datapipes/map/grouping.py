"""torch.utils.data.datapipes.map.grouping: BatcherMapDataPipe (at torch's module path)."""
from .pipes import BatcherMapDataPipe  # noqa: F401

__all__ = ["BatcherMapDataPipe"]
