"""torch.utils.data.datapipes.iter.streamreader: StreamReaderIterDataPipe (at torch's module path)."""
from .fileio import StreamReaderIterDataPipe  # noqa: F401

__all__ = ["StreamReaderIterDataPipe"]
