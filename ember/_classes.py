"""Top-level classes of the torch namespace that ember has as plain-Python stand-ins: the generic Stream and
Event, the symbolic-shape number types, operator Tags, qscheme, DisableTorchFunction(Subclass) and two error
types. Each exists so that isinstance checks, annotations and `except` clauses in PyTorch programs work."""
import enum

from ._device import device as _device

__all__ = ["AcceleratorError", "FatalError", "SymInt", "SymFloat", "SymBool", "Tag", "qscheme", "Stream", "Event",
           "DisableTorchFunction", "DisableTorchFunctionSubclass"]


class AcceleratorError(RuntimeError):
    """An error reported by an accelerator's runtime."""


class FatalError(Exception):
    """An unrecoverable error."""


class _Symbolic:
    """NOTE: ember traces no symbolic shapes, so no value is ever one of these; they exist for isinstance checks."""

    def __init__(self, node):
        self.node = node


class SymInt(_Symbolic):
    """A symbolic int (a stand-in: ember has no symbolic shapes)."""


class SymFloat(_Symbolic):
    """A symbolic float (a stand-in: ember has no symbolic shapes)."""


class SymBool(_Symbolic):
    """A symbolic bool (a stand-in: ember has no symbolic shapes)."""


class Tag(enum.Enum):
    """Operator tags, as PyTorch's native_functions.yaml names them (ember's ops carry none)."""
    core = 0
    cudagraph_unsafe = 1
    data_dependent_output = 2
    dynamic_output_shape = 3
    flexible_layout = 4
    generated = 5
    inplace = 6
    inplace_view = 7
    maybe_aliasing_or_mutating = 8
    needs_contiguous_strides = 9
    needs_exact_strides = 10
    needs_fixed_stride_order = 11
    nondeterministic_bitwise = 12
    nondeterministic_seeded = 13
    out = 14
    out_variant = 15
    pointwise = 16
    pt2_compliant_tag = 17
    reduction = 18
    view_copy = 19


class qscheme:
    """A quantization scheme (ember has no quantized tensors; the five schemes exist as names)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return _qscheme_by_name, (self.name,)


QSCHEMES = {n: qscheme(n) for n in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                                    "per_channel_symmetric", "per_channel_affine_float_qparams")}


def _qscheme_by_name(name):
    return QSCHEMES[name]


class _NoDispatch:
    """NOTE: ember does not dispatch through __torch_function__, so there is nothing to disable."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


class DisableTorchFunction(_NoDispatch):
    """Context manager disabling __torch_function__ (a no-op: ember does not dispatch through it)."""


class DisableTorchFunctionSubclass(_NoDispatch):
    """Context manager disabling subclasses' __torch_function__ (a no-op: ember does not dispatch through it)."""


_DEVICE_TYPE_CODES = {"cpu": 0, "cuda": 1, "meta": 9}


class Stream:
    """A device-agnostic stream: on cuda it is an ember.cuda.Stream underneath; on the CPU work is in order."""

    def __init__(self, device=None, *, priority=0, **kwargs):
        import ember
        dev = _device(device) if device is not None else ember.accelerator.current_accelerator() or _device("cpu")
        self.device = dev
        self._cuda = ember.cuda.Stream(device=dev, priority=priority) if dev.type == "cuda" else None

    @property
    def device_type(self):
        return _DEVICE_TYPE_CODES.get(self.device.type, -1)  # NOTE: PyTorch's c10 DeviceType number

    @property
    def device_index(self):
        return -1 if self.device.index is None else self.device.index

    @property
    def stream_id(self):
        return 0 if self._cuda is None else self._cuda.stream_id

    def query(self):
        return True if self._cuda is None else self._cuda.query()

    def synchronize(self):
        if self._cuda is not None:
            self._cuda.synchronize()

    def wait_event(self, event):
        if self._cuda is not None and event._cuda is not None:
            self._cuda.wait_event(event._cuda)

    def wait_stream(self, stream):
        if self._cuda is not None and stream._cuda is not None:
            self._cuda.wait_stream(stream._cuda)

    def record_event(self, event=None):
        event = event if event is not None else Event(self.device)
        event.record(self)
        return event

    def __enter__(self):
        if self._cuda is not None:
            self._cuda.__enter__()
        return self

    def __exit__(self, *exc):
        if self._cuda is not None:
            return self._cuda.__exit__(*exc)
        return None

    def __repr__(self):
        return f"torch.Stream device_type={self.device.type}, device_index={self.device_index}, " \
               f"stream_id={self.stream_id}"


class Event:
    """A device-agnostic event: on cuda it is an ember.cuda.Event underneath; on the CPU it is always complete."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        import ember
        dev = _device(device) if device is not None else ember.accelerator.current_accelerator() or _device("cpu")
        self.device = dev
        self._cuda = (ember.cuda.Event(enable_timing=enable_timing, blocking=blocking, interprocess=interprocess)
                      if dev.type == "cuda" else None)

    @property
    def device_index(self):
        return -1 if self.device.index is None else self.device.index

    def record(self, stream=None):
        if self._cuda is not None:
            self._cuda.record(None if stream is None else stream._cuda)

    def wait(self, stream=None):
        if self._cuda is not None:
            self._cuda.wait(None if stream is None else stream._cuda)

    def query(self):
        return True if self._cuda is None else self._cuda.query()

    def synchronize(self):
        if self._cuda is not None:
            self._cuda.synchronize()

    def elapsed_time(self, end_event):
        if self._cuda is None:
            raise RuntimeError("elapsed_time is not supported by events on the CPU")
        return self._cuda.elapsed_time(end_event._cuda)

    def __repr__(self):
        return f"torch.Event device_type={self.device.type}, device_index={self.device_index}"
