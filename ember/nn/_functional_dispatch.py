"""torch.nn.functional's dispatch helpers (has_torch_function, handle_torch_function, boolean_dispatch).

NOTE: ember has no `__torch_function__` dispatch of its own: its functions never consult these. They
exist because library code written for PyTorch calls them; `has_torch_function*` answer whether an
argument other than an ember Tensor defines `__torch_function__`, and `handle_torch_function` runs
that protocol for such arguments as PyTorch's does (subclasses first, NotImplemented passes on).
"""
from .._tensor import Tensor

__all__ = ["has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
           "handle_torch_function", "boolean_dispatch", "assert_int_or_pair"]


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


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the `__torch_function__` overrides of `relevant_args` (subclasses before their bases) until one
    returns something other than NotImplemented; TypeError when all decline."""
    overriding = []
    for arg in relevant_args:
        if _overrides(arg) and type(arg) not in [type(o) for o in overriding]:
            at = next((i for i, o in enumerate(overriding) if issubclass(type(arg), type(o))), len(overriding))
            overriding.insert(at, arg)
    types = tuple(type(a) for a in overriding)
    for arg in overriding:
        result = type(arg).__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    name = getattr(public_api, "__name__", repr(public_api))
    raise TypeError(f"no implementation found for '{name}' on types that implement __torch_function__: "
                    f"{[t for t in types]}")


def boolean_dispatch(arg_name, arg_index, default, if_true, if_false, module_name, func_name):
    """A function that calls `if_true` or `if_false` by the boolean argument `arg_name` (at `arg_index`)."""
    def dispatch(*args, **kwargs):
        flag = kwargs[arg_name] if arg_name in kwargs else args[arg_index] if arg_index < len(args) else default
        return (if_true if flag else if_false)(*args, **kwargs)
    docs = [f.__doc__ for f in (if_true, if_false) if f.__doc__ is not None]
    if len(docs) == 2:
        raise RuntimeError("only one function can have a docstring")
    dispatch.__doc__ = docs[0] if docs else None
    if module_name is not None:
        dispatch.__module__ = module_name
    if func_name is not None:
        dispatch.__name__ = func_name
    return dispatch


def assert_int_or_pair(arg, arg_name, message):
    """AssertionError(message.format(arg_name)) unless `arg` is an int or has two elements."""
    if not (isinstance(arg, int) or len(arg) == 2):
        raise AssertionError(message.format(arg_name))
