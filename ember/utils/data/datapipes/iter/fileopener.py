"""torch.utils.data.datapipes.iter.fileopener: FileOpenerIterDataPipe (at torch's module path)."""
from .fileio import FileOpenerIterDataPipe  # noqa: F401

__all__ = ["FileOpenerIterDataPipe"]
