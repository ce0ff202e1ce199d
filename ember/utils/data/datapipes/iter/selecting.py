"""torch.utils.data.datapipes.iter.selecting: FilterIterDataPipe (at torch's module path)."""
from .callable import FilterIterDataPipe  # noqa: F401

__all__ = ["FilterIterDataPipe"]
