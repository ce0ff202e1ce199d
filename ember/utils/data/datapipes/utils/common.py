"""torch.utils.data.datapipes.utils.common: StreamWrapper, the file-like object FileOpener yields."""
from .._common import StreamWrapper  # noqa: F401

__all__ = ["StreamWrapper"]
