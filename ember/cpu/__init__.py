"""torch.cpu: the CPU device module (always available, one device; streams and events are no-ops)."""
from . import amp

__all__ = ["is_available", "synchronize", "current_device", "current_stream", "stream", "set_device",
           "device_count", "Stream", "StreamContext", "Event"]


def is_available():
    """True: the CPU is always there."""
    return True


def is_initialized():
    """True: the CPU needs no initialisation."""
    return True


def synchronize(device=None):
    """Nothing to wait for: CPU work is done when the call returns."""


def current_device():
    """'cpu'."""
    return "cpu"


def device_count():
    """1."""
    return 1


def set_device(device):
    """Accepted; there is one CPU device."""


class Stream:
    """A CPU stream (no-op; work runs in order on the calling thread)."""

    def __init__(self, priority=-1):
        pass

    def wait_stream(self, stream):
        pass

    def wait_event(self, event):
        pass

    def record_event(self, event=None):
        pass


class Event:
    """A CPU event (always complete)."""

    def query(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass


_default_cpu_stream = Stream()
_current_stream = _default_cpu_stream


def current_stream(device=None):
    """The current CPU stream."""
    return _current_stream


class StreamContext:
    """Context manager making `stream` the current CPU stream."""

    def __init__(self, stream):
        self.stream = stream
        self.prev_stream = _default_cpu_stream

    def __enter__(self):
        global _current_stream
        if self.stream is None:
            return None
        self.prev_stream = _current_stream
        _current_stream = self.stream
        return None

    def __exit__(self, *exc):
        global _current_stream
        if self.stream is not None:
            _current_stream = self.prev_stream
        return False


def stream(stream):
    """StreamContext(stream)."""
    return StreamContext(stream)
