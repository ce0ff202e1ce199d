"""torch.overrides' helpers that torch.autograd and torch.nn.functional re-export: has_torch_function (and its
unary/variadic forms), handle_torch_function, is_tensor_like.

NOTE: ember has no `__torch_function__` dispatch of its own: its functions never consult these. They
exist because library code written for PyTorch calls them; `has_torch_function*` answer whether an
argument other than an ember Tensor defines `__torch_function__`, and `handle_torch_function` runs
that protocol for such arguments as PyTorch's does (subclasses first, NotImplemented passes on).
"""
from .._tensor import Tensor


def _overrides(value):
    method = getattr(type(value), "__torch_function__", None)
    return method is not None and method is not getattr(Tensor, "__torch_function__", None)


def has_torch_function(relevant_args):
    """True when any of `relevant_args` defines its own `__torch_function__`."""
    return any(_overrides(a) for a in relevant_args)


def has_torch_function_unary(value):
    """has_torch_function((value,))."""
    return _overrides(value)


def has_torch_function_variadic(*args):
    """has_torch_function(args)."""
    return has_torch_function(args)


def is_tensor_like(inp):
    """True for a Tensor (or subclass) and for any object whose type defines `__torch_function__`."""
    return isinstance(inp, Tensor) or hasattr(inp, "__torch_function__")


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the `__torch_function__` overrides of `relevant_args` (subclasses before their bases) until one
    returns something other than NotImplemented; TypeError when all decline.

    NOTE: a Tensor argument without an override of its own takes part as PyTorch's default
    `Tensor.__torch_function__` does: it runs `public_api` when every type taking part is a Tensor type."""
    overriding = []
    for arg in relevant_args:
        if (_overrides(arg) or isinstance(arg, Tensor)) and type(arg) not in [type(o) for o in overriding]:
            at = next((i for i, o in enumerate(overriding) if issubclass(type(arg), type(o))), len(overriding))
            overriding.insert(at, arg)
    types = tuple(type(a) for a in overriding)
    for arg in overriding:
        if _overrides(arg):
            result = type(arg).__torch_function__(public_api, types, args, kwargs)
        elif all(issubclass(t, Tensor) for t in types):
            result = public_api(*args, **kwargs)
        else:
            result = NotImplemented
        if result is not NotImplemented:
            return result
    name = getattr(public_api, "__name__", repr(public_api))
    raise TypeError(f"no implementation found for '{name}' on types that implement __torch_function__: "
                    f"{[t for t in types]}")
