"""torch.utils.checkpoint: activation checkpointing, trading compute for memory.

A checkpointed function keeps none of the tensors its ops save for backward; backward reruns the function
to get them again. Two forms, as in PyTorch:

- reentrant (use_reentrant=True): the whole function is one autograd.Function. Its forward runs the
  function under no_grad (nothing is recorded, nothing saved but the inputs); its backward reruns it under
  enable_grad and calls backward on that fresh graph from inside the outer backward.
- non-reentrant (use_reentrant=False): the function runs normally, recording its graph, but under
  saved-tensor hooks (ember/autograd/graph.py) whose pack hook keeps a small placeholder in place of each
  saved tensor. The first unpack reruns the function under other hooks that fill the placeholders with
  the recomputed tensors, which then replace the saved ones one for one.

Both restore the RNG state of the forward for the rerun (preserve_rng_state), so dropout drops the same
elements. ember's GPU tensors draw from the one host generator, so its state covers CUDA tensors too.
"""
import contextlib
import warnings
import weakref

from .. import _random
from .._tensor import Tensor
from ..autograd import graph as _graph
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad

from ._checkpoint_selective import (SAC_IGNORED_OPS, CheckpointPolicy, SelectiveCheckpointContext,  # noqa: F401
                                    create_selective_checkpoint_contexts)
from ._checkpoint_devices import DefaultDeviceType, get_device_states, set_device_states  # noqa: F401

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn", "set_checkpoint_early_stop",
           "set_checkpoint_debug_enabled", "CheckpointPolicy", "SelectiveCheckpointContext",
           "create_selective_checkpoint_contexts", "SAC_IGNORED_OPS", "DefaultDeviceType", "get_device_states",
           "set_device_states"]

_early_stop_override = None  # NOTE: set by set_checkpoint_early_stop; wins over checkpoint(early_stop=...)
_debug_override = None  # NOTE: set by set_checkpoint_debug_enabled; wins over checkpoint(debug=...)


class CheckpointError(RuntimeError):
    """Raised when the recomputation does not reproduce what the original forward saved."""


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Inside this block, checkpoints made here run in debug mode (enabled True), not (False), or as their
    debug argument says (None)."""
    global _debug_override
    prev = _debug_override
    _debug_override = enabled
    try:
        yield
    finally:
        _debug_override = prev


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Inside this block, non-reentrant checkpoints made here stop (or not) their recomputation as soon as
    every saved tensor is back, whatever their early_stop argument says."""
    global _early_stop_override
    prev = _early_stop_override
    _early_stop_override = enable
    try:
        yield
    finally:
        _early_stop_override = prev


def noop_context_fn():
    """The default context_fn: no context around the forward nor around the recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """Each tensor of the tuple detached, keeping its requires_grad (new leaves for the rerun's graph)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(isinstance(inp, Tensor) and inp.requires_grad for inp in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


_WARN_USE_REENTRANT = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, "
    "calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but "
    "if you need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for "
    "more details on the differences between the two variants.")

_WARN_USE_REENTRANT_SEQUENTIAL = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. "
    "In version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is "
    "recommended, but if you need to preserve the current default behavior, you can pass use_reentrant=True. "
    "Refer to docs for more details on the differences between the two variants.")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """Run `function(*args, **kwargs)` without keeping its saved tensors; backward recomputes them.

    use_reentrant: must be given (PyTorch 2.13 warns and takes True when it is not). Keyword arguments
    for `function`, context_fn and debug need use_reentrant=False. preserve_rng_state (keyword, default
    True) reruns the function from the forward's RNG state. determinism_check="default" compares the
    shape, dtype and device of each recomputed tensor with the saved one; "none" turns that off.
    """
    if use_reentrant is None:
        warnings.warn(_WARN_USE_REENTRANT, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    debug_logs = None
    if _debug_override if _debug_override is not None else debug:
        if context_fn is not noop_context_fn:
            raise ValueError("debug=True is incompatible with non-default context_fn")
        from ._checkpoint_debug import DebugLogs
        debug_logs = DebugLogs()
        context_fn = debug_logs.contexts
    if determinism_check not in _METADATA_FNS:
        raise ValueError(f"determinism_check should be one of {list(_METADATA_FNS)}, but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        return function(*args, **kwargs)  # NOTE: nothing is recorded, so nothing is recomputed (no context either)
    if _early_stop_override is not None:
        early_stop = _early_stop_override
    frame = _Frame(function, args, kwargs, preserve, _METADATA_FNS[determinism_check], early_stop,
                   recompute_context, debug_logs)
    suppressed = True
    with _graph.saved_tensors_hooks(frame.pack, frame.unpack), _running(frame):
        with forward_context:
            out = function(*args, **kwargs)
            suppressed = False
    if suppressed:  # NOTE: forward_context swallowed an exception: there is no output to return
        raise RuntimeError("torch.utils.checkpoint: the forward context provided by context_fn suppressed an "
                           "exception raised during the checkpointed forward. This is not supported because "
                           "checkpoint cannot return a value for a failed forward.")
    return out


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (an nn.Sequential or a list of modules/functions) in order on `input`, cut into
    `segments` pieces; every piece but the last is checkpointed."""
    if use_reentrant is None:
        warnings.warn(_WARN_USE_REENTRANT_SEQUENTIAL, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    # NOTE: as PyTorch: segments of len // segments functions; the last one takes the rest, unchecked
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)


# --- reentrant ---------------------------------------------------------------------------------------
class CheckpointFunction(Function):
    """The reentrant form: forward without a graph, backward reruns the function and differentiates it."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_rng_state = _random.get_rng_state()
        # NOTE: tensors go through save_for_backward (version checks, saved-tensor hooks); the other
        # arguments are kept as they are, with None where a tensor goes back
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        from ..autograd.engine import is_checkpoint_valid
        if not is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an "
                "`inputs` parameter to .backward(). To resolve this error, you can either set use_reentrant=False, "
                "or call .backward() without passing the `inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _random.fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                _random.set_rng_state(ctx.fwd_rng_state)
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        roots, seeds = [], []
        for out, g in zip(outputs, grads):
            if isinstance(out, Tensor) and out.requires_grad:
                roots.append(out)
                seeds.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        from ..autograd import backward
        backward(roots, seeds)
        return (None, None) + tuple(t.grad if isinstance(t, Tensor) else None for t in detached)


# --- non-reentrant -----------------------------------------------------------------------------------
_frames = []  # NOTE: the checkpoint calls whose forward (or rerun) is running, innermost last


@contextlib.contextmanager
def _running(frame):
    _frames.append(frame)
    try:
        yield
    finally:
        _frames.pop()


def current_frame():
    """The _Frame whose function is running now (selective checkpointing tells it which saves it keeps)."""
    return _frames[-1] if _frames else None


def _default_metadata(x):
    return {"shape": x.shape, "dtype": x.dtype, "device": x.device}


_METADATA_FNS = {"default": _default_metadata, "none": lambda _: None}


class _Holder:
    """What a node keeps in place of a tensor saved inside a checkpointed forward: empty until a
    recomputation fills it with (the recomputed tensor, its version then)."""

    __slots__ = ("value", "kept", "__weakref__")

    def __init__(self):
        self.value = None
        self.kept = None  # NOTE: saved by an op selective checkpointing keeps: the tensor itself, never recomputed


_NOT_TENSOR = object()  # NOTE: marks an argument kept as it is
_NO_NODE = object()  # NOTE: the "node" the saved inputs belong to: none of them is its output


class _StopRecomputation(Exception):
    """Raised inside the rerun once every placeholder is filled: the rest of the function is not needed."""


_DEBUG_TIP = ("\nTip: To see a more detailed error message, either pass `debug=True` to\n"
              "`torch.utils.checkpoint.checkpoint(...)` or wrap the code block\n"
              "with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to\n"
              "enable checkpoint\u2011debug mode globally.\n")


class _Frame:
    """One call of the non-reentrant checkpoint: the inputs to rerun from and one placeholder per saved tensor.

    NOTE: PyTorch recomputes once per backward call (its engine's graph-task id keys the recomputed
    tensors). ember's engine has no such id, so a recomputed tensor is handed out once and a later read of
    an emptied placeholder (a second backward with retain_graph=True) reruns the function again.
    """

    def __init__(self, fn, args, kwargs, preserve, metadata_fn, early_stop, recompute_context, debug_logs=None):
        self.fn, self.kwargs = fn, kwargs
        self.debug_logs = debug_logs  # NOTE: debug=True: a CheckpointError at unpack is raised with both op logs
        # NOTE: the tensor inputs are saved as an op saves its inputs: through the saved-tensor hooks active
        # at the call (an enclosing checkpoint's, save_on_cpu's), or else with their versions, so that one
        # modified in place before backward gives PyTorch's version error instead of a different rerun.
        hooks = _graph.current_saved_hooks()
        self.args = [(_graph.saved_entry(a, _NO_NODE, hooks=hooks), None) if isinstance(a, Tensor) else
                     (_NOT_TENSOR, a) for a in args]
        self.rng_state = _random.get_rng_state() if preserve else None
        self.metadata_fn = metadata_fn
        self.early_stop = early_stop
        self.recompute_context = recompute_context
        self.holders = []  # weak references: a placeholder lives as long as the node that saved it
        self.metadata = []
        self.count = 0  # tensors saved so far by the running recomputation
        self.copy_at = set()  # positions of saved tensors the rerun writes over later (kept as copies)
        self.collecting = None  # NOTE: a list while selective checkpointing watches one op's saves

    def pack(self, x):
        holder = _Holder()
        self.holders.append(weakref.ref(holder))
        self.metadata.append(self.metadata_fn(x))
        if self.collecting is not None:
            self.collecting.append((holder, x))
        return holder

    def keep(self, collected):
        """Selective checkpointing keeps the op that saved these: its saved tensors are kept, not recomputed."""
        for holder, x in collected:
            holder.kept = x.detach()

    def skip(self, n):
        """The rerun reached a kept op (not run again): the n tensors it saved are among the kept ones."""
        self.count += n
        if n and self.early_stop and self.count == len(self.holders):
            raise _StopRecomputation

    def unpack(self, holder):
        if holder.kept is not None:
            return holder.kept
        if holder.value is None:
            if self.debug_logs is None:
                self._recompute()
            else:
                try:
                    self._recompute()
                except CheckpointError as e:
                    self.debug_logs.explain(e)
        x = holder.value[0]
        holder.value = None  # NOTE: handed out once; the node that asked holds it for its backward
        return x

    def _inputs(self):
        inputs = []
        for entry, a in self.args:
            if entry is not _NOT_TENSOR:
                a = _graph.unpack_entry(entry, _NO_NODE)
            inputs.append(a)
        return inputs

    def _recompute(self):
        self._rerun()
        # NOTE: an in-place op in the function that saved its own input (x.sin_() saves x) writes over what
        # the rerun's pack hook kept, if that is the tensor itself. Without hooks ember's in-place ops save a
        # copy then; with hooks that copy comes too late, so the writes are found here by their versions and
        # the rerun is made again (same RNG state, same values) keeping copies of those tensors.
        moved = set()
        for i, ref in enumerate(self.holders):
            holder = ref()
            if holder is not None and holder.value is not None and holder.value[0]._version != holder.value[1]:
                moved.add(i)
        if moved:
            self.copy_at |= moved
            self._rerun()
        self._check()

    def _rerun(self):
        inputs = self._inputs()
        self.count = 0
        with _graph.saved_tensors_hooks(self._repack, lambda x: x), enable_grad():
            with _random.fork_rng(enabled=self.rng_state is not None):
                if self.rng_state is not None:
                    _random.set_rng_state(self.rng_state)
                try:
                    with self.recompute_context, _running(self):
                        self.fn(*inputs, **self.kwargs)
                except _StopRecomputation:
                    pass

    def _repack(self, x):
        """The rerun's pack hook: the i-th tensor it saves fills the i-th placeholder."""
        i = self.count
        self.count += 1
        if i >= len(self.holders):
            raise CheckpointError("torch.utils.checkpoint: trying to save more tensors during recomputation "
                                  "than during the original forward pass.\n" + _DEBUG_TIP)
        holder = self.holders[i]()
        if holder is not None:  # NOTE: None: the node that saved it is gone (its backward already ran)
            x = x.detach() if x.requires_grad else x
            if i in self.copy_at:
                x = x.clone()
            holder.value = (x, x._version)
        if self.early_stop and self.count == len(self.holders):
            raise _StopRecomputation
        return x

    def _check(self):
        if self.count != len(self.holders):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward and "
                f"recomputation.\nNumber of tensors saved during forward: {len(self.holders)}\n"
                f"Number of tensors saved during recomputation: {self.count}.\n" + _DEBUG_TIP)
        different = []
        for i, ref in enumerate(self.holders):
            holder = ref()
            if holder is None or holder.value is None:
                continue
            now = self.metadata_fn(holder.value[0])
            if now != self.metadata[i]:
                different.append(f"tensor at position {i}:\nsaved metadata: {self.metadata[i]}\n"
                                 f"recomputed metadata: {now}\n")
        if different:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata "
                f"than during the forward pass.\n{''.join(different)}.\n" + _DEBUG_TIP)
