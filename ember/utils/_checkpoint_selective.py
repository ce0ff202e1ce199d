"""Selective activation checkpointing (torch.utils.checkpoint.create_selective_checkpoint_contexts): a policy
decides, per op call in the checkpointed forward, whether its output is kept (SAVE) or recomputed in backward.

The two contexts are interceptors of every primitive call (they sit in the slot the checkpoint debug log uses,
ember/autograd/op_log.py): the forward one runs each op, asks the policy with the aten OpOverload it stands
for (ember/_op_overloads.py), and keeps the outputs of SAVE ops; the recompute one hands those outputs back
instead of running the op again.

NOTE: PyTorch's modes sit under autograd, so a cached op still records its node (and saves its inputs) in the
recomputation. ember's interceptor wraps the whole op, so a cached op records nothing in the rerun: the tensors
it saved for backward in the forward are kept instead (the checkpoint frame is told which ones, and skips them
in the rerun). Same gradients, same ops rerun; the saved inputs of a SAVE op are kept rather than recomputed.
One difference shows with early_stop (the default): ember's ops save their inputs after computing, PyTorch's
before, so the op whose saves complete the recomputation runs once more in ember before it stops.
"""
import enum
from collections import defaultdict

from .. import _state
from .._tensor import Tensor

__all__ = ["CheckpointPolicy", "SelectiveCheckpointContext", "create_selective_checkpoint_contexts",
           "SAC_IGNORED_OPS"]


class CheckpointPolicy(enum.Enum):
    """What selective checkpointing does with an op's output: {MUST,PREFER}_SAVE keep it, {MUST,PREFER}_RECOMPUTE
    recompute it in backward; {MUST,PREFER}_CPU_OFFLOAD is for torch.compile (eager mode recomputes, as PyTorch's)."""
    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


_KEEP = (CheckpointPolicy.MUST_SAVE, CheckpointPolicy.PREFER_SAVE)


class SelectiveCheckpointContext:
    """What a policy function receives first: is_recompute (always False: the policy runs in the forward only)
    and op_output."""

    def __init__(self, *, is_recompute, op_output=None):
        self.is_recompute = is_recompute
        self.op_output = op_output


def _ignored():
    from .._op_overloads import ops
    return {ops.aten.detach.default, ops.prim.device.default}


SAC_IGNORED_OPS = _ignored()

_MISMATCH = ("This can happen if the operations in the checkpointed region are nondeterministic or depend on "
             "global state that changed between forward and backward.")
_RECOMPUTE = object()
_CONSUMED = object()


class _Cached:
    """An output kept by the forward: the tensors detached, with their versions (a later in-place write is an
    error unless allow_cache_entry_mutation) and requires_grad (restored for the rerun's later ops)."""

    def __init__(self, out, n_saved):
        outs = out if isinstance(out, tuple) else (out,)
        self.is_tuple = isinstance(out, tuple)
        self.items = [(o.detach(), o._version, o.requires_grad) if isinstance(o, Tensor) else (None, None, o)
                      for o in outs]
        self.n_saved = n_saved  # NOTE: how many tensors the op saved for backward (kept by the frame)

    def get(self, allow_mutation):
        outs = []
        for t, version, rg in self.items:
            if t is None:
                outs.append(rg)
                continue
            if not allow_mutation and t._version != version:
                raise RuntimeError("Tensor cached during selective activation checkpoint has been mutated")
            x = t.detach()
            if rg:
                x.requires_grad_(True)
            outs.append(x)
        return tuple(outs) if self.is_tuple else outs[0]


class _Interceptor:
    """Installed as the op log (ember/autograd/op_log.py) while its context is open."""

    def __init__(self, storage):
        self.storage = storage
        self.counter = defaultdict(int)
        self._prev = []

    def __enter__(self):
        self._prev.append(_state.op_log)
        self.counter.clear()
        _state.op_log = self
        return self

    def __exit__(self, *exc):
        _state.op_log = self._prev.pop()

    def _run(self, cls, args, apply):
        """The op itself, seen by whatever recorder was active before this one (an op log, an outer context)."""
        _state.op_log = self._prev[-1]
        try:
            return apply(cls, args)
        finally:
            _state.op_log = self


class _CachingContext(_Interceptor):
    """The forward's context: asks the policy about each op and keeps the outputs of those to save."""

    def __init__(self, policy_fn, storage):
        super().__init__(storage)
        self.policy_fn = policy_fn

    def run_op(self, cls, args, apply):
        from .._op_overloads import op_for_call
        op = op_for_call(cls, args)
        if op in SAC_IGNORED_OPS:
            return self._run(cls, args, apply)
        from .checkpoint import current_frame
        frame = current_frame()
        if frame is not None:
            frame.collecting = []
        try:
            out = self._run(cls, args, apply)
        finally:
            collected = frame.collecting if frame is not None else ()
            if frame is not None:
                frame.collecting = None
        idx = self.counter[op]
        self.counter[op] += 1
        operands = args[:cls.inputs] if isinstance(getattr(cls, "inputs", None), int) else args
        policy = self.policy_fn(SelectiveCheckpointContext(is_recompute=False, op_output=out), op, *operands)
        if isinstance(policy, bool):
            policy = CheckpointPolicy.MUST_SAVE if policy else CheckpointPolicy.PREFER_RECOMPUTE
        if policy in _KEEP:
            if frame is not None:
                frame.keep(collected)
            self.storage[op][idx] = _Cached(out, len(collected))
        else:
            self.storage[op][idx] = _RECOMPUTE
        return out


class _CachedContext(_Interceptor):
    """The recomputation's context: ops whose outputs were kept are not run again."""

    def __init__(self, storage, allow_cache_entry_mutation):
        super().__init__(storage)
        self.allow_cache_entry_mutation = allow_cache_entry_mutation

    def run_op(self, cls, args, apply):
        from .._op_overloads import op_for_call
        op = op_for_call(cls, args)
        if op in SAC_IGNORED_OPS:
            return self._run(cls, args, apply)
        idx = self.counter[op]
        self.counter[op] += 1
        entries = self.storage.get(op)
        if entries is None:
            raise RuntimeError(f"{op} encountered during backward but not found in storage. {_MISMATCH}")
        entry = entries.get(idx)
        if entry is None:
            raise RuntimeError(f"{op} invocation index {idx} encountered during backward but not found in "
                               f"storage. {_MISMATCH}")
        if entry is _CONSUMED:
            raise RuntimeError("Trying to backward an extra time. You are only allowed to backward once on any "
                               "region computed under selective activation checkpoint.")
        if entry is _RECOMPUTE:
            return self._run(cls, args, apply)
        entries[idx] = _CONSUMED
        out = entry.get(self.allow_cache_entry_mutation)
        from .checkpoint import current_frame
        frame = current_frame()
        if frame is not None:
            frame.skip(entry.n_saved)
        return out


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The (forward, recompute) contexts for checkpoint(..., context_fn=...): policy_fn(ctx, op, *args, **kwargs)
    returns a CheckpointPolicy (or a bool: True saves) per op; a list of OpOverloads saves exactly those ops.

    ops are ember's stand-ins for PyTorch's (torch.ops.aten.mm.default, ...): an ember op is named as the ATen
    operator it corresponds to (see ember/_op_overloads.py)."""
    from .._op_overloads import OpOverload, OpOverloadPacket
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not isinstance(op, OpOverload):
                extra = ("Please update the OpOverloadPacket to a specific OpOverload.For example, if you have "
                         "`torch.ops.aten.mm`, change it to `torch.ops.aten.mm.default`."
                         if isinstance(op, OpOverloadPacket) else "")
                raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} of type {type(op)}. "
                                 f"{extra}")
        ops_to_save = policy_fn_or_list

        def policy_fn(ctx, op, *args, **kwargs):
            return CheckpointPolicy.MUST_SAVE if op in ops_to_save else CheckpointPolicy.PREFER_RECOMPUTE
    elif callable(policy_fn_or_list):
        policy_fn = policy_fn_or_list
    else:
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    storage = defaultdict(dict)
    return _CachingContext(policy_fn, storage), _CachedContext(storage, allow_cache_entry_mutation)
