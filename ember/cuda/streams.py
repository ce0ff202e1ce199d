"""torch.cuda.Stream, Event and the stream context: CuPy's streams and events behind PyTorch's names."""
from ._lazy import built, device_index, require


def _require(missing):
    if not built():
        raise RuntimeError(missing)
    return require()


class Stream:
    """A CUDA stream on `device` (default: the current device). priority: 0 or negative (higher)."""

    def __init__(self, device=None, priority=0):
        rt = _require("torch.cuda.Stream requires CUDA support")
        self._index = device_index(device)
        self._cu = rt.new_stream(self._index, priority)

    @classmethod
    def _of(cls, cu, index):
        self = object.__new__(cls)
        self._cu, self._index = cu, index
        return self

    @property
    def device(self):
        from .._device import device
        return device("cuda", self._index)

    @property
    def cuda_stream(self):
        return int(self._cu.ptr)

    @property
    def priority(self):
        return int(getattr(self._cu, "priority", 0))

    def query(self):
        """True when every queued kernel has finished."""
        return bool(self._cu.done)

    def synchronize(self):
        self._cu.synchronize()

    def wait_event(self, event):
        """Queue a wait for `event` on this stream (the host does not block)."""
        self._cu.wait_event(event._cu)

    def wait_stream(self, stream):
        """Work queued on this stream after this call waits for what `stream` has queued so far."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record `event` (a new one if None) on this stream; returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self.cuda_stream == other.cuda_stream and self._index == other._index

    def __hash__(self):
        return hash((self.cuda_stream, self._index))

    def __enter__(self):
        self._context = StreamContext(self)
        return self._context.__enter__()

    def __exit__(self, *exc):
        self._context.__exit__(*exc)

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={hex(self.cuda_stream)}>"


class Event:
    """A CUDA event: mark a point in a stream, wait for it, time between two of them."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        rt = _require("Tried to instantiate dummy base class Event")
        self._cu = rt.new_event(bool(enable_timing), bool(blocking), bool(interprocess))
        self._timing = bool(enable_timing)

    def record(self, stream=None):
        """Record on `stream` (default: the current stream)."""
        stream = current_stream() if stream is None else stream
        self._cu.record(stream._cu)

    def wait(self, stream=None):
        """Make `stream` (default: the current stream) wait for this event."""
        stream = current_stream() if stream is None else stream
        stream.wait_event(self)

    def query(self):
        """True when the work recorded before this event has finished."""
        return bool(self._cu.done)

    def synchronize(self):
        self._cu.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and `end_event` (both recorded, both with enable_timing)."""
        if not (self._timing and end_event._timing):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        return require().elapsed_ms(self._cu, end_event._cu)

    @property
    def cuda_event(self):
        return int(getattr(self._cu, "ptr", 0))

    def __repr__(self):
        return f"<torch.cuda.Event {hex(self.cuda_event)}>" if self.cuda_event else "<torch.cuda.Event uninitialized>"


class StreamContext:
    """Make `stream` current (and its device) inside the block; None does nothing."""

    def __init__(self, stream):
        self.stream = stream
        self._entered = []

    def __enter__(self):
        if self.stream is None:
            return None
        ctx = self.stream._cu
        ctx.__enter__()
        self._entered.append(ctx)
        return self.stream

    def __exit__(self, *exc):
        if self._entered:
            self._entered.pop().__exit__(*exc)


def stream(stream):
    """Context manager: run the block's GPU work on `stream`."""
    return StreamContext(stream)


def set_stream(stream):
    """Make `stream` the current stream (None: no change)."""
    if stream is not None:
        stream._cu.use()


def current_stream(device=None):
    """The stream GPU work is queued on now, on `device` (default: the current device)."""
    rt = require()
    index = device_index(device)
    return Stream._of(rt.current_stream(index), index)


def default_stream(device=None):
    """The device's null stream."""
    rt = require()
    index = device_index(device)
    return Stream._of(rt.default_stream(index), index)
