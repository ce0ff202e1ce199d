"""torch.nn.parallel: DistributedDataParallel (one process per replica, over ember.distributed); DataParallel and
data_parallel as single-device pass-throughs (ember runs one device per process; see the class docstring)."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
