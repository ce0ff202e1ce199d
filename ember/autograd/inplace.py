"""The graph surgery behind in-place ops (torch's C++ rebase_history and CopySlices; no Python module in torch).

A tensor written in place takes the new history, a base whose view was written gets a `CopySlices` node,
and tensors an op saved are kept right across the write.

The op registry (ember/_ops/_registry.py) runs an in-place op as its out-of-place primitive plus a store; it
calls these functions to update the graph, so that it knows nothing of nodes and edges itself.
"""
from .. import _state
from .._tensor import _wrap
from .function import replay_view
from .graph import Node, SavedOutput, _hooks_state


_VIEW_MODES = {"no_grad": ("no_grad mode", "with grad mode enabled", "no_grad"),
               "inference": ("inference mode", "in normal mode", "inference_mode")}


_MULTI_VIEW = (" This view is the output of a function that returns multiple views. Such functions do not allow the "
               "output views to be modified inplace. You should replace the inplace operation by an out-of-place one.")


def _view_mode_error(meta, what, view=None):
    if meta == "multi":
        return _multi_view_error(view, what)
    made, now, block = _VIEW_MODES[meta]
    return RuntimeError(
        f"A view was created in {made} and {what} {now}. Given that this use case is ambiguous and error-prone, "
        f"it is forbidden. You can clarify your code by moving both the view and the inplace either both inside "
        f"the {block} block (if you don't want the inplace to be tracked) or both outside (if you want the "
        f"inplace to be tracked).")


def _multi_view_error(view, what):
    """PyTorch's error for a write into (the base of) a piece of split/chunk/unbind or a view of one."""
    node = view._grad_fn
    if node is None:  # NOTE: PyTorch's text for a piece of a tensor that did not require grad
        head = f"A view was created in no_grad mode and {what} with grad mode enabled."
    else:
        name = node.name().replace("Backward0", "").replace("Backward", "")
        head = f"Output {view._output_nr} of {name} is a view and {what}."
    return RuntimeError(head + _MULTI_VIEW)


def view_rebase_error(meta, view=None):
    """PyTorch's error for the history of a view whose base was written in place, when the view cannot be
    rebuilt: made without grad tracking of a tensor that requires grad, or a piece of a multi-output view."""
    return _view_mode_error(meta, "its base or another view of its base has been modified inplace", view)


def _check_inplace_autograd(target):
    """PyTorch's refusal to write in place into a leaf that requires grad, or into a view of one."""
    meta = getattr(target, "_view_meta", None)
    if meta is not None:  # NOTE: made under no_grad/inference_mode of a tensor that requires grad, or multi-output
        raise _view_mode_error(meta, "is being modified inplace", target)
    if target._base is not None:
        base = target._base
        # NOTE: a view that was itself made to require grad (a leaf) is refused as a view too, as in PyTorch
        if (base._grad_fn is None and base._requires_grad) or (target.grad_fn is None and target.requires_grad):
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    elif target._grad_fn is None and target._requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def overwriting(target):
    """Tell the saving of the in-place op about to run that it will overwrite `target` (None: done). Returns
    whether it was told: only while saved-tensor hooks are active does it matter.

    NOTE: without hooks, _protect_saved copies a saved `target` after the op ran; with hooks the pack hook has
    already seen (and maybe kept, as t.detach()) the tensor itself, so the copy must be made before it is
    packed: the pack hook receives a copy of the old value, as PyTorch's in-place formulas save one."""
    if target is not None and not _hooks_state.stack:
        return False
    _hooks_state.overwriting = target
    return True


def snapshot_before_write(t):
    """A copy of `t`'s current value carrying its current history (what an op saving t must keep)."""
    snap = _wrap(t._data.copy(), t._device, t._dtype)
    snap._grad_fn, snap._output_nr, snap._requires_grad = t._grad_fn, t._output_nr, t._requires_grad
    return snap


def _protect_saved(node, target, result, old):
    """The op saved `target` (its old value) or `result` (its new value): keep backward right."""
    saved = []
    for entry in node._saved:
        t = entry[0]
        if t is target:  # keep the old value aside; the in-place write would destroy it
            snap = _wrap(target._data.copy(), target._device, target._dtype)
            snap._grad_fn, snap._output_nr, snap._requires_grad = old
            saved.append((snap, 0, old[0], old[1]))
        elif t is result or (type(t) is SavedOutput and t.data is result._data):
            # the new value lives in target from now on
            if target._base is None:  # NOTE: a SavedOutput, so that target and node make no cycle
                saved.append((SavedOutput(target), target._vc[0] + 1, None, result._output_nr))
            else:
                saved.append((target, target._vc[0] + 1, node, result._output_nr))
        else:
            saved.append(entry)
    node._saved = saved


def _rewire(target, result, node):
    """`target` was written in place with `result` (made by `node`): its history becomes node's output."""
    if target._base is None:
        if target._retains_grad:
            _move_retains_grad_hook(target, node, result._output_nr)
        target._grad_fn = node
        target._output_nr = result._output_nr
        target._requires_grad = True
        return
    base = target._base
    cs = CopySlices()
    cs.next_functions = (_base_edge(base), (node, result._output_nr))
    cs.needs_input_grad = (cs.next_functions[0][0] is not None, True)
    cs._in_meta = ((base._data.shape, base._dtype, base._device), (result._data.shape, result._dtype, result._device))
    cs._out_meta = ((base._data.shape, base._dtype, base._device),)
    cs.chain = target._view_chain
    base._grad_fn = cs
    base._output_nr = 0
    base._requires_grad = True
    # target (and every other view of base) rebuilds its grad_fn lazily: its version moved on.


def _move_retains_grad_hook(target, node, output_nr):
    """As PyTorch does, .grad of a tensor that retains it is the gradient of its value after the write."""
    hooks = target._grad_fn._retains_grad_hooks if target._grad_fn is not None else None
    keep = hooks.pop(target._output_nr, None) if hooks else None
    if keep is not None:
        node._set_retains_grad_hook(output_nr, keep)


def _base_edge(base):
    if base._grad_fn is not None:
        return (base._grad_fn, base._output_nr)
    return (None, 0)


class AsStridedBackward0(Node):
    """The grad_fn of a view rebuilt after its base was written in place: PyTorch rebuilds such a view as an
    as_strided of the base. NOTE: ember replays the view's own ops instead (same gradient, readable); this node
    passes the gradient on to that replay, so that the view is named (and reported in the version error) as
    PyTorch names it."""

    __slots__ = ()

    def _backward(self, grads):
        return grads


def as_strided_node(fresh):
    """A node named as PyTorch's rebuilt view, in front of `fresh` (the replayed view, which has a grad_fn)."""
    node = AsStridedBackward0()
    node.next_functions = ((fresh._grad_fn, fresh._output_nr),)
    node.needs_input_grad = (True,)
    meta = (fresh._data.shape, fresh._dtype, fresh._device)
    node._in_meta = (meta,)
    node._out_meta = (meta,)
    return node


class CopySlices(Node):
    """History of a base whose view was modified in place: the view's region comes from the
    in-place op's result, the rest from the base's previous history."""

    __slots__ = ("chain",)

    def name(self):
        return "torch::autograd::CopySlices"  # NOTE: PyTorch's name for its C++ node

    def _backward(self, grads):
        (g,) = grads
        g = g.contiguous()
        prev = _state.local.grad_enabled
        _state.local.grad_enabled = False
        try:
            mask = _wrap(g._device.backend.xp.ones(g._data.shape, dtype=g._dtype.np), g._device, g._dtype)
            replay_view(mask, self.chain)._data[...] = 0
        finally:
            _state.local.grad_enabled = prev
        return g * mask, replay_view(g, self.chain)
