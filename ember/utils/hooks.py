"""torch.utils.hooks: the handle a `register_*_hook` call returns, BackwardHook (nn.Module's full backward
hooks), unserializable_hook and warn_if_has_hooks."""
import itertools
import warnings
import weakref
from collections import OrderedDict

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks", "BackwardHook"]


class RemovableHandle:
    """Removes its hook from the dict(s) it was registered in; usable as a context manager."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(RemovableHandle._next_id)
        extras = extra_dict if isinstance(extra_dict, (list, tuple)) else [extra_dict] if extra_dict is not None else []
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extras)

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        # NOTE: a dict that is gone is pickled as None: the handle then points at a fresh, dead dict
        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        # NOTE: ids made from now on stay above the loaded one, so two live handles never share an id
        nxt = next(RemovableHandle._next_id)
        RemovableHandle._next_id = itertools.count(max(nxt, self.id + 1))
        self.extra_dict_ref = tuple(weakref.ref(d) for d in state[2] if d is not None) if len(state) > 2 else ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def unserializable_hook(f):
    """Mark a hook as one that is not saved with its tensor (no warning when the tensor is serialized)."""
    f.__torch_unserializable__ = True
    return f


def _tensor_hooks(tensor):
    """The hooks Tensor.register_hook put on `tensor` (PyTorch's tensor._backward_hooks), or None.

    NOTE: ember keeps them on the tensor's graph node (its grad_fn, or its AccumulateGrad), by output number."""
    hooks = getattr(tensor, "_backward_hooks", None)
    if hooks is not None:
        return hooks
    node, nr = tensor.grad_fn, tensor._output_nr
    if node is None:
        node, nr = tensor._accum, 0
    if node is None or not node._tensor_pre_hooks:
        return None
    return node._tensor_pre_hooks.get(nr)


def warn_if_has_hooks(tensor):
    """Warn for each backward hook of `tensor` not marked @unserializable_hook (they are not serialized)."""
    hooks = _tensor_hooks(tensor)
    for hook in (hooks or {}).values():
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you can "
                          "decorate the function with @torch.utils.hooks.unserializable_hook to suppress this "
                          "warning", stacklevel=2)


def __getattr__(name):
    # NOTE: lazily, because ember.nn imports this module while it is itself being imported
    if name == "BackwardHook":
        from ..nn.modules._backward_hook import BackwardHook
        return BackwardHook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
