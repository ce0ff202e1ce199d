"""torch.utils.data.datapipes.map.combining: ConcaterMapDataPipe, ZipperMapDataPipe (at torch's module path)."""
from .pipes import ConcaterMapDataPipe, ZipperMapDataPipe  # noqa: F401

__all__ = ["ConcaterMapDataPipe", "ZipperMapDataPipe"]
