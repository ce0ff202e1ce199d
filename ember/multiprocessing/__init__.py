"""torch.multiprocessing: the standard library's multiprocessing (all of it, re-exported), whose pickler sends
tensors in shared memory (see Tensor.share_memory_) as handles to that memory, plus spawn/start_processes and
the sharing strategies. See ember/multiprocessing/reductions.py for what crosses by value instead."""
import multiprocessing
import sys
from multiprocessing import *  # noqa: F401,F403 (torch.multiprocessing re-exports all of multiprocessing)

from . import _alias  # noqa: F401 (spawned children of `python -m ember.run` keep its torch alias)
from .reductions import init_reductions
from .spawn import (ProcessContext, ProcessException, ProcessExitedException, ProcessRaisedException, SpawnContext,
                    spawn, start_processes)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]
__all__ += multiprocessing.__all__

# NOTE: the strategy is per process, as PyTorch's; a spawned child starts again from the default.
if sys.platform in ("darwin", "win32"):
    _sharing_strategy = "file_system"
    _all_sharing_strategies = {"file_system"}
else:
    _sharing_strategy = "file_descriptor"
    _all_sharing_strategies = {"file_descriptor", "file_system"}


def set_sharing_strategy(new_strategy):
    """Set how CPU tensors moved to shared memory from now on are shared: one of get_all_sharing_strategies()."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy():
    """The current strategy for sharing CPU tensors ('file_descriptor' by default on Linux)."""
    return _sharing_strategy


def get_all_sharing_strategies():
    """The set of sharing strategies this system supports."""
    return _all_sharing_strategies


init_reductions()
