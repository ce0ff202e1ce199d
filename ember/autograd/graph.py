"""Nodes of the backward graph: what `tensor.grad_fn` is (stands in for torch.autograd.graph.Node)."""
import contextlib
import re
import threading
import weakref
from collections import OrderedDict

from .. import _state

ERR_BACKWARD_TWICE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward.")

ERR_INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use "
    "it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


class Node:
    """One step of the backward graph. For an op it is also the op's `ctx`.

    next_functions: one `(node, output_nr)` edge per differentiable input, `(None, 0)` where the
    input needs no gradient. `_in_meta` holds each input's (shape, dtype, device) so that the
    engine can check and fix what backward returns; `_out_meta` lets it make zero gradients for
    outputs nobody used.
    """

    __slots__ = ("next_functions", "needs_input_grad", "_in_meta", "_out_meta", "xp", "device",
                 "__dict__", "__weakref__")

    _fn = None  # the Function class whose backward this node runs
    # NOTE: what most nodes never change is a class-level default, set on the instance only when used:
    # making a node (every op call makes one, tracked or not) then costs no per-field work.
    _saved = None
    _freed = False
    _tensor_pre_hooks = None
    _retains_grad_hooks = None
    _pre_hooks = None
    _post_hooks = None
    materialize_grads = True
    _non_differentiable = None
    _dirty = None
    to_save = None
    low = None  # for an `upcast` Primitive: the float16/bfloat16 dtype its operands were widened from
    # NOTE: set by the engine for the duration of a backward: True when the node frees what it saved
    # right after it (retain_graph=False), so an op's backward may reuse its saved arrays as scratch
    # space (the GRU layer writes its gate gradients over its saved gate activations).
    last_use_of_saved = False

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # --- saved tensors -----------------------------------------------------------------------
    def save_for_backward(self, *items):
        """Keep tensors (or, inside an ember op's forward, arrays) for backward."""
        self.to_save = items

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(ERR_BACKWARD_TWICE)
        saved = self._saved
        if saved is None:
            return ()
        out = []
        for entry in saved:
            t = entry[0]
            # NOTE: the common case inline (backward reads saved tensors on every node): a tensor saved as it
            # is and unchanged since; the others (outputs, hooks, a version error) in unpack_entry
            if t is None or (type(t) is not SavedOutput and type(t) is not SavedWithHooks and t._vc[0] == entry[1]):
                out.append(t)
            else:
                out.append(unpack_entry(entry, self))
        return tuple(out)

    def _release(self):
        if self._saved is not None:
            self._saved = None
            self._freed = True
        # NOTE: arrays an op keeps beside save_for_backward (whole-layer primitives) go with them
        self.__dict__.pop("saved_arrays", None)

    # --- ctx API of torch.autograd.Function -----------------------------------------------------
    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = value

    # --- hooks -------------------------------------------------------------------------------
    # NOTE: in one backward step of a node the engine runs, in PyTorch's order: the hooks of its output
    # tensors (Tensor.register_hook), then the retain_grad hooks (so .grad sees what the tensor hooks
    # made), then its pre-hooks; then backward; then its post-hooks.
    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward; a returned tuple replaces grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = OrderedDict()  # NOTE: RemovableHandle keeps a weak reference to it
        return _add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node's backward; a returned tuple replaces grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        return _add_hook(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr, fn):
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        hooks = self._tensor_pre_hooks.get(output_nr)
        if hooks is None:
            hooks = self._tensor_pre_hooks[output_nr] = OrderedDict()
        return _add_hook(hooks, fn)

    def _set_retains_grad_hook(self, output_nr, fn):
        """The hook that fills .grad of the tensor that is output `output_nr` (one per output, run last)."""
        if self._retains_grad_hooks is None:
            self._retains_grad_hooks = {}
        self._retains_grad_hooks[output_nr] = fn

    # --- running -----------------------------------------------------------------------------
    def _backward(self, grads):
        """Run the Function's backward; always returns a tuple."""
        fn = self._fn
        if fn.complex_grad is not True and _touches_complex(self):
            if fn.complex_grad != "holomorphic":
                # NOTE: opt-in (Primitive.complex_grad is False): a backward written for real numbers
                # gives a silently wrong gradient for complex ones, so it runs only where declared.
                raise NotImplementedError(f"the derivative of {type(self).__name__} for complex inputs is not "
                                          "implemented in ember yet")
            # NOTE: for a holomorphic f, PyTorch's gradient is grad * conj(f'(z)); the real formula gives
            # grad * f'(z), so conj(backward(conj(grad))) is PyTorch's.
            out = fn.backward(self, *(None if g is None else g.conj() for g in grads))
            out = out if isinstance(out, tuple) else (out,)
            return tuple(None if o is None else o.conj() for o in out)
        out = fn.backward(self, *grads)
        return out if isinstance(out, tuple) else (out,)

    @property
    def metadata(self):
        d = self.__dict__.get("_metadata")
        if d is None:
            d = self.__dict__["_metadata"] = {}
        return d


def _touches_complex(node):
    """Whether any input or output of the node is complex (its backward then sees complex numbers)."""
    for metas in (node._in_meta, node._out_meta):
        for m in metas:
            if m is not None and m[1].is_complex:
                return True
    return False


class SavedOutput:
    """An output saved by the node that made it, kept without a reference back to that node.

    NOTE: saving the output Tensor itself would make a cycle (tensor -> grad_fn -> saved tensor),
    so a dropped graph would wait for the cyclic GC. As PyTorch's SavedVariable does for outputs,
    keep the array and its version counter, and rebuild a Tensor whose grad_fn is the node on unpack.
    """

    __slots__ = ("data", "device", "dtype", "vc")

    def __init__(self, t):
        self.data, self.device, self.dtype, self.vc = t._data, t._device, t._dtype, t._vc

    def unpack(self, node, nr):
        from .._tensor import _wrap
        t = _wrap(self.data, self.device, self.dtype, vc=self.vc)
        t._grad_fn, t._output_nr, t._requires_grad = node, nr, True
        return t


def saved_entry(t, node, version=None, hooks=None):
    """The entry `node` keeps for a saved tensor `t`: (tensor or SavedOutput, version, grad_fn, output_nr).

    hooks: the innermost (pack, unpack) pair of `saved_tensors_hooks` when one is active; `t` is then
    packed now and the entry holds a SavedWithHooks in place of the tensor."""
    if type(t._vc) is not list:  # NOTE: an inference tensor (see InferenceVersion in ember/_tensor.py)
        raise RuntimeError(ERR_INFERENCE_SAVED)
    if hooks is not None:
        return (SavedWithHooks(t, node, hooks), 0, None, t._output_nr)
    if version is None:
        version = t._vc[0]
    if t._grad_fn is node and t._base is None:
        return (SavedOutput(t), version, None, t._output_nr)
    return (t, version, t._grad_fn, t._output_nr)


def unpack_entry(entry, node):
    """The tensor a `saved_entry` stands for, as `node`'s backward reads it: PyTorch's error if it was
    modified in place since it was saved (without hooks; see SavedWithHooks for the check with them)."""
    t, version, fn, nr = entry
    if type(t) is SavedWithHooks:
        return t.unpack(node)
    if type(t) is SavedOutput:
        t = t.unpack(node, nr)
        fn = node
    if t is not None and t._vc[0] != version:
        if fn is not node:
            # NOTE: PyTorch names a saved input's history as it is now (after the in-place
            # op), and a saved output's by the node that made it.
            fn, nr = t.grad_fn, t._output_nr
        raise RuntimeError(_modified_message(t, version, fn, nr))
    return t


# --- saved-tensor hooks (torch.autograd.graph.saved_tensors_hooks) ------------------------------------
class _HooksState(threading.local):
    """Per thread, as in PyTorch: the stack of (pack, unpack) pairs, innermost last, and the error message
    while `disable_saved_tensors_hooks` is in force (None when hooks may be registered), and the tensor an
    in-place op is about to overwrite while that op runs under hooks (see autograd/inplace.py overwriting)."""

    def __init__(self):
        self.stack = []
        self.disabled = None
        self.overwriting = None


_hooks_state = _HooksState()


def current_saved_hooks():
    """The (pack, unpack) pair that applies to tensors saved now, or None (only the innermost pair applies)."""
    stack = _hooks_state.stack
    return stack[-1] if stack else None


class SavedWithHooks:
    """A tensor saved while saved-tensor hooks were active: what `pack_hook` returned, and what is needed to
    put the tensor `unpack_hook` gives back into the graph where the saved one was.

    NOTE: as PyTorch's SavedVariable with hooks, the tensor itself is not kept (that is the point of the
    hooks: checkpointing and save_on_cpu free it), so the version check cannot look at it. The one case
    kept checked is an unpacked tensor that shares the saved one's version counter (a pack hook returned
    `x.detach()` or `x`): modified in place since, it would give a silently wrong gradient, so it raises
    the error the version check gives without hooks.
    """

    __slots__ = ("packed", "unpack_hook", "vc", "version", "grad_fn", "output_nr", "requires_grad", "accum",
                 "is_output")

    def __init__(self, t, node, hooks):
        pack_hook, self.unpack_hook = hooks
        self.vc, self.version = t._vc, t._vc[0]
        self.output_nr = t._output_nr
        self.requires_grad = t._requires_grad
        # NOTE: an output's grad_fn is the node that saves it: kept as a flag (the node is passed back at
        # unpack), as SavedOutput does, so that node -> entry -> node makes no cycle.
        self.is_output = t._grad_fn is node
        self.grad_fn = None if self.is_output else t._grad_fn
        # NOTE: a saved leaf that requires grad: its unpacked stand-in must send gradients to the same
        # AccumulateGrad, or a double backward through it would lose them.
        self.accum = t._accumulator() if t._grad_fn is None and t._requires_grad else None
        prev = _state.local.grad_enabled
        _state.local.grad_enabled = False  # NOTE: PyTorch runs pack hooks under no_grad
        try:
            self.packed = pack_hook(t)
        finally:
            _state.local.grad_enabled = prev
        if t._vc[0] != self.version:
            raise RuntimeError(
                "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack "
                "hook cannot be modified by in-place operations as this can lead to unexpected side-effects. "
                "Please open an issue if you need to perform in-place operations on the input to a pack hook.")

    def unpack(self, node):
        """The saved tensor for `node`'s backward: unpack_hook's result, in the saved tensor's place in the graph."""
        from .._tensor import Tensor, _wrap
        data = self.unpack_hook(self.packed)
        if not isinstance(data, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(data).__name__}")
        if data._vc is self.vc and self.vc[0] != self.version:
            fn = node if self.is_output else self.grad_fn
            raise RuntimeError(_modified_message(data, self.version, fn, self.output_nr))
        grad_fn = node if self.is_output else self.grad_fn
        if grad_fn is None and not self.requires_grad and not data._requires_grad:
            return data  # NOTE: nothing to attach, so PyTorch returns what unpack_hook gave, as it is
        t = _wrap(data._data, data._device, data._dtype, vc=data._vc)
        if grad_fn is not None:
            t._grad_fn, t._output_nr, t._requires_grad = grad_fn, self.output_nr, True
        else:
            t._requires_grad = self.requires_grad
            t._accum = self.accum
        return t


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it are given to `pack_hook(tensor)`, which returns
    what is kept instead; backward gets them back from `unpack_hook(packed)` each time it reads them.

    Only the innermost pair applies when these blocks nest. The pair stays with what was saved: backward may
    run after the block has ended.
    """

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _hooks_state.disabled is not None:
            raise RuntimeError(_hooks_state.disabled)
        _hooks_state.stack.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *exc):
        _hooks_state.stack.pop()


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are kept on the host and copied back to their device when backward reads them
    (a tensor already on the CPU is kept as it is). pin_memory=True keeps them in pinned host memory."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        import ember
        device_module = getattr(ember, device_type, ember.cuda)

        def pack_to_cpu(tensor):
            if not pin_memory:
                return (tensor.device, tensor.cpu())
            # NOTE: a host buffer of its own (pinned where the device can pin memory), as PyTorch's; on the
            # host even when the default device is another
            packed = ember.empty(tensor.size(), dtype=tensor.dtype, device="cpu")
            if device_module.is_available():
                packed = packed.pin_memory()  # NOTE: ember.empty does not read pin_memory=
            packed.copy_(tensor)
            return (tensor.device, packed)

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message):
    """Inside this block, registering saved-tensor hooks raises RuntimeError(error_message); entering it while
    hooks are registered raises that error too (as PyTorch 2.13 does)."""
    prev = _hooks_state.disabled
    try:
        if _hooks_state.stack:
            raise RuntimeError(error_message)
        _hooks_state.disabled = error_message
        yield
    finally:
        _hooks_state.disabled = prev


class AccumulateGrad(Node):
    """The node behind a leaf tensor: puts the incoming gradient into `variable.grad`."""

    __slots__ = ("_variable",)

    def __init__(self, variable):
        # NOTE: the leaf holds its AccumulateGrad (with its hooks); a strong reference back would make a
        # cycle per leaf, kept until the cyclic GC runs. A leaf nobody holds can receive no gradient anyway.
        self._variable = weakref.ref(variable)
        self.next_functions = ()
        self._in_meta = ()
        self._out_meta = (None,)

    @property
    def variable(self):
        """The leaf tensor whose .grad this node accumulates into (None once that tensor is gone)."""
        return self._variable()

    def name(self):
        return "torch::autograd::AccumulateGrad"  # NOTE: PyTorch's name for its C++ node

    _post_accumulate_hooks = None  # NOTE: Tensor.register_post_accumulate_grad_hook's, run after .grad is updated

    def _add_post_accumulate_hook(self, fn):
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = OrderedDict()
        return _add_hook(self._post_accumulate_hooks, fn)


def _add_hook(hooks, fn):
    """Register `fn` in the ordered dict `hooks`; the handle (torch.utils.hooks.RemovableHandle) removes it."""
    from ..utils.hooks import RemovableHandle  # NOTE: ember.utils is imported after autograd
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


def hook_result(fn, result, expected):
    """A node hook's return value checked as PyTorch does: None (keep), or a tuple of `expected` items."""
    if type(result) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != expected:
        name = getattr(fn, "__name__", type(fn).__name__)
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got {len(result)}, but "
                           f"expected {expected})")
    return list(result)


def _modified_message(t, version, fn, nr):
    from .._dtype import scalar_type_name
    kind = "cuda." if t._device.type == "cuda" else ""
    desc = f"[torch.{kind}{scalar_type_name(t._dtype)}Tensor [{', '.join(str(s) for s in t.shape)}]]"
    where = ""
    if fn is not None:
        # NOTE: PyTorch drops "Backward0" but keeps an overload's number: SigmoidBackward0 -> Sigmoid,
        # PowBackward1 -> Pow1, MyFnBackward -> MyFn.
        name = re.sub(r"Backward(0$)?", "", type(fn).__name__, count=1)
        where = f", which is output {nr} of {name},"
    if _state.anomaly_enabled:
        hint = ("the backtrace further above shows the operation that failed to compute its gradient. The "
                "variable in question was changed in there or anywhere later. Good luck!")
    else:
        hint = ("enable anomaly detection to find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False).")
    return (f"one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: {desc}{where} is at version {t._vc[0]}; expected version {version} instead. Hint: {hint}")


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Run `fn` once per backward pass for a group of tensors (torch.autograd.graph.register_multi_grad_hook).

    mode="all": fn(grads) once the gradients of all the tensors this backward reaches are computed, with
    None for the others; mode="any": fn(grad) with the first of their gradients computed. Returns one
    handle that removes the hooks of every tensor."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    from .engine import current_task
    tensors = tuple(tensors)
    key = object()  # NOTE: this group's state in each walk (GraphTask.hook_state) goes when the walk ends
    if mode == "all":
        for t in tensors:
            if not t.requires_grad:
                raise AssertionError("Expected gradient function to be set")  # NOTE: PyTorch's own assert
        nodes = [t._edge_for_grad()[0] for t in tensors]

        def hook_for(i):
            def collect(grad):
                task = current_task()
                state = task.hook_state.get(key)
                if state is None:  # the first of the group in this walk: how many will come
                    state = task.hook_state[key] = [[None] * len(tensors), sum(map(task.will_execute, nodes))]
                state[0][i] = grad
                state[1] -= 1
                if state[1] == 0:
                    fn(state[0])
            return collect
        handles = [t.register_hook(hook_for(i)) for i, t in enumerate(tensors) if t.requires_grad]
    else:
        def first(grad):
            task = current_task()
            if key not in task.hook_state:
                task.hook_state[key] = True
                fn(grad)
        handles = [t.register_hook(first) for t in tensors if t.requires_grad]
    return _MultiHandle(handles)


class _MultiHandle:
    """The handle register_multi_grad_hook returns: removes the hook of every tensor of the group."""

    __slots__ = ("handles",)

    def __init__(self, handles):
        self.handles = tuple(handles)

    def remove(self):
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def increment_version(tensor):
    """Bump the version counter of a tensor (or of each tensor of an iterable), as an in-place write does:
    for code that writes into a tensor's memory behind autograd's back. Inference tensors have none."""
    from .._tensor import InferenceVersion, Tensor
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        if type(t._vc) is not InferenceVersion:
            t._vc[0] += 1


def grad_enabled():
    return _state.local.grad_enabled


from ._graph_edges import (GradientEdge, allow_mutation_on_saved_tensors, get_gradient_edge,  # noqa: E402,F401
                           region_activation_memory_budget, set_override_stale_capture_stream,
                           set_warn_on_accumulate_grad_stream_mismatch)
