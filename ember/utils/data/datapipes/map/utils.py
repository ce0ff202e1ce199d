"""torch.utils.data.datapipes.map.utils: SequenceWrapperMapDataPipe (at torch's module path)."""
from .pipes import SequenceWrapperMapDataPipe  # noqa: F401

__all__ = ["SequenceWrapperMapDataPipe"]
