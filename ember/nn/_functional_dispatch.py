"""torch.nn.functional's dispatch helpers: boolean_dispatch here; has_torch_function (and its unary/variadic
forms) and handle_torch_function from ember/autograd/_overrides.py (torch.overrides' objects, which torch.autograd
re-exports too).
"""
from ..autograd._overrides import (handle_torch_function, has_torch_function, has_torch_function_unary,  # noqa: F401
                                     has_torch_function_variadic)

__all__ = ["has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
           "handle_torch_function", "boolean_dispatch", "assert_int_or_pair"]


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
