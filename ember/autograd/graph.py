"""Nodes of the backward graph: what `tensor.grad_fn` is (stands in for torch.autograd.graph.Node)."""
import re
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
        for t, version, fn, nr in saved:
            if type(t) is SavedOutput:
                t = t.unpack(self, nr)
                fn = self
            if t is not None and t._vc[0] != version:
                if fn is not self:
                    # NOTE: PyTorch names a saved input's history as it is now (after the in-place
                    # op), and a saved output's by the node that made it.
                    fn, nr = t.grad_fn, t._output_nr
                raise RuntimeError(_modified_message(t, version, fn, nr))
            out.append(t)
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


def saved_entry(t, node, version=None):
    """The entry `node` keeps for a saved tensor `t`: (tensor or SavedOutput, version, grad_fn, output_nr)."""
    if type(t._vc) is not list:  # NOTE: an inference tensor (see InferenceVersion in ember/_tensor.py)
        raise RuntimeError(ERR_INFERENCE_SAVED)
    if version is None:
        version = t._vc[0]
    if t._grad_fn is node and t._base is None:
        return (SavedOutput(t), version, None, t._output_nr)
    return (t, version, t._grad_fn, t._output_nr)


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
