"""torch.utils.data.datapipes.map.callable: MapperMapDataPipe (at torch's module path)."""
from .pipes import MapperMapDataPipe  # noqa: F401

__all__ = ["MapperMapDataPipe"]
