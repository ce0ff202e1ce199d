"""torch.autograd's legacy names: NestedIOFunction, SavedTensor, variable."""
from .._tensor import Tensor
from .function import Function


def _flat(obj, allow_none=False):
    """The tensors of a nested list/tuple structure, in order (None entries dropped, or kept with allow_none)."""
    if isinstance(obj, Tensor):
        return [obj]
    if obj is None:
        return [None] if allow_none else []
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in _flat(item, allow_none)]
    accepted = "Tensors or None" if allow_none else "Tensors"
    raise ValueError(f"Auto nesting doesn't know how to process an input object of type {type(obj).__name__}. "
                     f"Accepted types: {accepted}, or lists/tuples of them")


def _nest(flat, proto):
    """`flat` (a sequence) put back into the nesting of `proto`: None entries of proto stay None."""
    items = iter(flat)

    def build(p):
        if p is None:
            return None
        if isinstance(p, (list, tuple)):
            return type(p)(build(e) for e in p)
        return next(items)
    return build(proto)


class NestedIOFunction(Function):
    """The legacy Function whose forward and backward take nested lists/tuples of tensors: subclasses define
    `forward_extended(*inputs)` and `backward_extended(*grad_outputs)` as instance methods.
    NOTE: kept for backward compatibility only, as in PyTorch (whose instance call no longer works either)."""

    def forward(self, *args):
        """Shared forward: runs forward_extended on the nested inputs' data; returns the outputs flattened."""
        nested = _map_data(self._nested_input)
        result = self.forward_extended(*nested)
        del self._nested_input
        self._nested_output = result
        return tuple(_flat(result))

    def backward(self, *gradients):
        """Shared backward: runs backward_extended on the gradients nested as the outputs were."""
        nested = _nest(gradients, self._nested_output)
        result = self.backward_extended(*nested)
        return tuple(_flat(result, allow_none=True))

    def save_for_backward(self, *args):
        """Keep the (nested) tensors for backward."""
        self.to_save = tuple(_flat(args))
        self._to_save_nested = args

    @property
    def saved_tensors(self):
        """The saved tensors, nested as they were given to save_for_backward."""
        return _nest(self.to_save, self._to_save_nested)

    def mark_dirty(self, *args, **kwargs):
        """Mark the (nested) tensors modified in place."""
        self.dirty_tensors = tuple(_flat((args, tuple(kwargs.values()))))

    def mark_non_differentiable(self, *args, **kwargs):
        """Mark the (nested) outputs that have no gradient."""
        self.non_differentiable = tuple(_flat((args, tuple(kwargs.values()))))

    def forward_extended(self, *input):
        """User defined forward."""
        raise NotImplementedError

    def backward_extended(self, *grad_output):
        """User defined backward."""
        raise NotImplementedError


def _map_data(obj):
    if isinstance(obj, Tensor):
        return obj.data
    if obj is None:
        return None
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_data(o) for o in obj)
    raise ValueError(f"Auto nesting doesn't know how to process an input object of type {type(obj).__name__}. "
                     f"Accepted types: Tensors, or lists/tuples of them")


class SavedTensor:
    """A tensor saved for backward, as a node's `_raw_saved_*` fields hand it out in PyTorch.
    NOTE: ember's nodes expose no `_raw_saved_*` fields, so no SavedTensor is ever made; as in PyTorch, one
    cannot be made from Python."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Trying to create a SavedTensor object from Python is forbidden.")


def variable(*args, **kwargs):
    """Removed in PyTorch: raises, pointing to torch.tensor."""
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")
