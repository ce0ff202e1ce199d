"""What records events while a profiler runs. The recorder sits in `_state.op_log`, the slot every
`Primitive.apply` already tests (ember/autograd/function.py), so a program that profiles nothing pays no
more than that one test. Each op call becomes a FunctionEvent named as PyTorch's dispatcher names it
("aten::addmm"); record_function blocks and the autograd engine's nodes open ranges around them."""
import os
import re
import threading
import time
import traceback

from .. import _state
from .._tensor import Tensor
from ._events import FunctionEvent

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NAMES = {}  # op class -> "aten::<name>"


# NOTE: nodes named for the view or stub PyTorch's graph shows, not for the op (Matmul's node is an
# UnsafeViewBackward0): those ops are named from their class
_NOT_OPS = {"UnsafeView", "View", "NotImplemented", "AsStrided", "Alias"}


def op_name(cls):
    """PyTorch's name for the op a primitive class computes: "aten::" + its public name, else the name of its
    backward node without "Backward<n>" (Linear's node is AddmmBackward0: "aten::addmm"), else its class
    name, in snake case."""
    name = _NAMES.get(cls)
    if name is None:
        base = getattr(cls, "_public_name", None)
        if base is None:
            camel = _node_op(cls)
            if camel is None:  # NOTE: a subclass for another layout (LinearBatched) computes its base's op
                bases = [b for b in cls.__mro__[1:] if b.__dict__.get("_primitive") is None]
                camel = next((c for c in map(_node_op, bases) if c), None) or cls.__name__
            camel = re.sub(r"(\d)D", r"\1d", camel)  # NOTE: MaxPool2D... is max_pool2d_...
            base = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", camel).lower()
        name = _NAMES[cls] = "aten::" + base
    return name


def _node_op(cls):
    """The op named by the backward node `cls` itself declares, or None."""
    node = re.sub(r"Backwards?\d*$", "", cls.__dict__.get("node_name") or "")
    return node if node and node not in _NOT_OPS else None


def _now_us():
    return time.perf_counter_ns() / 1000.0


def _shape(a):
    if isinstance(a, Tensor):
        return list(a.shape)
    if isinstance(a, (list, tuple)) and a and all(isinstance(x, Tensor) for x in a):
        return [list(x.shape) for x in a]
    return []


def _allocated(out):
    """Bytes of the arrays an op's outputs own (views share their input's memory: 0)."""
    total = 0
    for o in out if isinstance(out, (tuple, list)) else (out,):
        if isinstance(o, Tensor) and getattr(o._data, "base", None) is None:
            total += o._data.nbytes
    return total


def _flops(name, args):
    """The floating-point operations PyTorch's profiler counts for an op (products: 2*M*K*N; add and mul: one
    per output element); 0 for others. NOTE: ember's matmul is one op, counted as the products it runs
    (PyTorch counts them on the aten::mm inside its aten::matmul)."""
    shapes = [a.shape for a in args if isinstance(a, Tensor)]
    if name in ("aten::mm", "aten::bmm", "aten::matmul", "aten::addmm") and len(shapes) >= 2:
        x, w = shapes[0], shapes[1]
        if len(x) >= 1 and len(w) >= 2:
            rows = 1
            for d in x[:-1]:
                rows *= d
            return 2 * rows * x[-1] * w[-1]
    if name in ("aten::add", "aten::mul", "aten::sub", "aten::div") and shapes:
        from .._tensor import broadcast_shapes
        n = 1
        for d in broadcast_shapes(*shapes):
            n *= d
        return n
    return 0


def _user_stack():
    return [f"{f.filename}({f.lineno}): {f.name}" for f in reversed(traceback.extract_stack())
            if not f.filename.startswith(_PACKAGE)]


class Recorder:
    """The events of one profiling session (start() to stop()), nested per thread."""

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False, use_device=None,
                 with_flops=False):
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.use_device = use_device
        self.events = []
        self._open = threading.local()
        self._prev = None
        self._next_id = 0

    # --- the session ---------------------------------------------------------------------------------------
    def start(self):
        self._prev = _state.op_log
        _state.op_log = self

    def stop(self):
        if _state.op_log is self:
            _state.op_log = self._prev
        self._prev = None

    @property
    def active(self):
        return _state.op_log is self

    # --- ranges --------------------------------------------------------------------------------------------
    def begin(self, name, input_shapes=None, user=False):
        """Open a range named `name` (nested in the range open on this thread); returns its event."""
        local = self._open
        stack = getattr(local, "stack", None)
        if stack is None:
            stack = local.stack = []
            local.thread = threading.get_native_id()
        self._next_id += 1
        trace_name = name
        if user and name.startswith("ProfilerStep#"):
            name = "ProfilerStep*"  # NOTE: PyTorch's events (and their averages) merge the steps; traces keep each
        e = FunctionEvent.started(self._next_id, name, local.thread, time.perf_counter_ns() / 1000.0, trace_name,
                                  (input_shapes or []) if self.record_shapes else None,
                                  _user_stack() if self.with_stack and not user else [], self.use_device, user)
        if stack:
            parent = stack[-1]
            e.set_cpu_parent(parent)
            parent.append_cpu_child(e)
        stack.append(e)
        self.events.append(e)
        return e

    def end(self, e):
        """Close `e` (and any range left open inside it)."""
        e.time_range.end = _now_us()
        stack = getattr(self._open, "stack", None)
        if not stack or not any(x is e for x in stack):  # NOTE: ended on another thread (a future's callback)
            return
        while stack:
            top = stack.pop()
            if top is e:
                break
            top.time_range.end = e.time_range.end

    def finish(self):
        """Close the ranges still open (a profile stopped inside a record_function block)."""
        now = _now_us()
        for e in self.events:
            if e.time_range.end is None:
                e.time_range.end = now
        stack = getattr(self._open, "stack", None)
        if stack:
            stack.clear()

    # --- the hooks -----------------------------------------------------------------------------------------
    def run_op(self, cls, args, apply):
        """Run one primitive call (`apply(cls, args)`) as an event. NOTE: the recorder leaves the slot while
        the op runs, so the boundary's own work (casts, forward-mode AD, vmap) is inside the op's event and
        not listed again, as PyTorch lists one dispatcher call per op."""
        e = self.begin(op_name(cls), [_shape(a) for a in args] if self.record_shapes else None)
        if self.with_flops:
            e.flops = _flops(e.name, args)
        _state.op_log = self._prev
        try:
            out = apply(cls, args)
        finally:
            _state.op_log = self
            self.end(e)
        if self.profile_memory:
            nbytes = _allocated(out)
            device = self.use_device is not None and isinstance(out, Tensor) and out.device.type != "cpu"
            while e is not None:  # NOTE: a range's memory includes what the ranges inside it allocated
                if device:
                    e.device_memory_usage += nbytes
                else:
                    e.cpu_memory_usage += nbytes
                e = e.cpu_parent
        return out

    def run_node(self, run, node, grads, retain_graph):
        """Run one autograd node's backward (`run(node, grads, retain_graph)`) inside PyTorch's two ranges:
        "autograd::engine::evaluate_function: <node>" around "<node>"."""
        name = node.name()
        outer = self.begin("autograd::engine::evaluate_function: " + name)
        inner = self.begin(name, [_shape(g) for g in grads] if self.record_shapes else None)
        try:
            return run(node, grads, retain_graph)
        finally:
            self.end(inner)
            self.end(outer)


def current():
    """The recorder of the running profiler, or None."""
    log = _state.op_log
    return log if isinstance(log, Recorder) else None
