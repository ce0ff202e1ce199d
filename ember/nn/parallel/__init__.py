"""torch.nn.parallel: DataParallel and data_parallel as single-device pass-throughs (ember runs one device
per process; see the class docstring)."""
from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]
