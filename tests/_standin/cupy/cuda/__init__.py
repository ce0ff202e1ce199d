"""cupy.cuda: devices, streams, events and the memory pool of the stand-in."""
import contextlib
import time

from .. import _core
from .._core import MemoryPointer, Memory
from . import runtime

memory = None


def is_available():
    return runtime.getDeviceCount() > 0


class Device:
    """A device by id; a context manager that makes it current (thread-local)."""

    def __init__(self, device=None):
        self.id = _core.current() if device is None else int(device)
        self._prev = []

    def __enter__(self):
        if not 0 <= self.id < runtime.getDeviceCount():
            raise runtime.CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self._prev.append(_core.current())
        _core.set_current(self.id)
        return self

    def __exit__(self, *exc):
        _core.set_current(self._prev.pop())

    def use(self):
        runtime.setDevice(self.id)

    def synchronize(self):
        pass

    compute_capability = property(lambda self: "90")
    mem_info = property(lambda self: runtime.memGetInfo())

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """A stream that does nothing (work is synchronous)."""
    null = None

    def __init__(self, null=False, non_blocking=False, ptr=0):
        self.ptr = 0 if null else id(self)
        self._prev = []

    def synchronize(self):
        pass

    def use(self):
        _core._tls.stream = self
        return self

    def __enter__(self):
        self._prev.append(get_current_stream())
        return self.use()

    def __exit__(self, *exc):
        self._prev.pop().use()

    def record(self, event=None):
        return (event or Event()).record(self)

    def wait_event(self, event):
        pass


Stream.null = Stream(null=True)
ExternalStream = Stream


def get_current_stream(device_id=None):
    return getattr(_core._tls, "stream", Stream.null)


class Event:
    """An event holding the wall-clock time it was recorded."""

    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.t = None

    def record(self, stream=None):
        self.t = time.perf_counter()
        return self

    def synchronize(self):
        pass

    done = property(lambda self: True)


def get_elapsed_time(start, end):
    """Milliseconds between two recorded events."""
    return (end.t - start.t) * 1000.0


class MemoryPool:
    """The default pool: bytes of live stand-in arrays (approximate)."""

    def used_bytes(self):
        return max(_core.POOL["used"], 0)

    def total_bytes(self):
        return self.used_bytes()

    def free_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def set_limit(self, size=None, fraction=None):
        _core.POOL["limit"] = size or 0

    def get_limit(self):
        return _core.POOL["limit"]


memory_pool = MemoryPool()
pinned_memory_pool = MemoryPool()


@contextlib.contextmanager
def using_allocator(allocator=None):
    yield


def synchronize():
    pass
