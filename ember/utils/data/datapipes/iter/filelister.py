"""torch.utils.data.datapipes.iter.filelister: FileListerIterDataPipe (at torch's module path)."""
from .fileio import FileListerIterDataPipe  # noqa: F401

__all__ = ["FileListerIterDataPipe"]
