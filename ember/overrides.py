"""torch.overrides: the `__torch_function__` protocol's helpers.

NOTE: ember's own functions do not dispatch through `__torch_function__`: has_torch_function,
handle_torch_function and wrap_torch_function work for library code that calls them itself, the listings
(get_overridable_functions, get_testing_overrides, get_ignored_functions) describe ember's namespaces, and a
TorchFunctionMode cannot be entered (a mode that silently intercepted nothing would change a program's meaning
without a word)."""
import collections
import functools
import inspect
import types
import warnings

from .autograd._overrides import (handle_torch_function, has_torch_function, has_torch_function_unary,
                                  has_torch_function_variadic, is_tensor_like)

__all__ = ["get_ignored_functions", "get_overridable_functions", "get_testing_overrides", "handle_torch_function",
           "has_torch_function", "resolve_name", "is_tensor_like", "is_tensor_method_or_property",
           "wrap_torch_function", "enable_reentrant_dispatch", "TorchFunctionMode", "BaseTorchFunctionMode",
           "get_default_nowrap_functions", "has_torch_function_unary", "has_torch_function_variadic"]

# NOTE: functions that take no tensor to dispatch on (factories, global state, predicates on types), as PyTorch lists
_IGNORED = ("typename", "is_tensor", "is_storage", "set_default_tensor_type", "set_default_device",
            "get_default_device", "set_rng_state", "get_rng_state", "manual_seed", "initial_seed", "seed", "save",
            "load", "set_printoptions", "get_printoptions", "set_default_dtype", "get_default_dtype", "promote_types",
            "can_cast", "result_type", "is_grad_enabled", "set_grad_enabled", "compile", "vmap", "from_numpy",
            "as_tensor", "asarray", "tensor", "scalar_tensor", "arange", "range", "linspace", "logspace", "eye",
            "empty", "empty_strided", "empty_permuted", "zeros", "ones", "full", "rand", "randn", "randint",
            "randperm", "bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window",
            "tril_indices", "triu_indices", "frombuffer", "broadcast_shapes", "is_inference_mode_enabled",
            "use_deterministic_algorithms", "are_deterministic_algorithms_enabled", "get_num_threads",
            "set_num_threads", "get_num_interop_threads", "set_num_interop_threads", "is_anomaly_enabled",
            "set_anomaly_enabled", "compiled_with_cxx11_abi", "set_float32_matmul_precision",
            "get_float32_matmul_precision")


def _public_functions(module):
    return [v for k, v in sorted(vars(module).items())
            if not k.startswith("_") and callable(v) and not isinstance(v, (type, types.ModuleType))]


@functools.lru_cache(None)
def _listing():
    """({namespace: [functions]}, {function: 'torch.name'}) over torch, torch.functional, torch.nn.functional,
    torch.linalg, torch.fft, torch.special and Tensor's methods and properties."""
    import ember
    from . import functional
    namespaces = [(ember, "torch"), (functional, "torch.functional"), (ember.nn.functional, "torch.nn.functional"),
                  (ember.linalg, "torch.linalg"), (ember.fft, "torch.fft"), (ember.special, "torch.special")]
    ignored = get_ignored_functions()
    overridable, names = collections.defaultdict(list), {}
    for module, prefix in namespaces:
        names_in = functional.__all__ if module is functional else None
        items = [(n, getattr(module, n)) for n in names_in] if names_in else \
            [(n, v) for n, v in sorted(vars(module).items()) if not n.startswith("_")]
        for name, value in items:
            if callable(value) and not isinstance(value, (type, types.ModuleType)) and value not in ignored:
                overridable[module].append(value)
                names.setdefault(value, f"{prefix}.{name}")
    for name, value in sorted(vars(ember.Tensor).items()):
        if name.startswith("_") and name not in _DUNDERS:
            continue
        if isinstance(value, property):
            value = value.__get__
        elif not callable(value) or isinstance(value, type):
            continue
        overridable[ember.Tensor].append(value)
        names.setdefault(value, f"torch.Tensor.{name}")
    return dict(overridable), names


_DUNDERS = {"__add__", "__radd__", "__iadd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__matmul__",
            "__truediv__", "__rtruediv__", "__floordiv__", "__pow__", "__rpow__", "__neg__", "__abs__", "__getitem__",
            "__setitem__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__and__", "__or__",
            "__xor__", "__invert__", "__len__", "__format__", "__reversed__", "__array__"}


def get_ignored_functions():
    """The public functions that take no tensor argument to dispatch on (factories, global settings)."""
    import ember
    return {getattr(ember, name) for name in _IGNORED if hasattr(ember, name)}


def get_overridable_functions():
    """{namespace: [its functions]}: ember's public functions and Tensor's methods (properties as their getters)."""
    return _listing()[0]


def get_default_nowrap_functions():
    """Functions that do not wrap their result in the caller's subclass: Tensor's _base and grad getters."""
    import ember
    return {ember.Tensor._base.__get__, ember.Tensor.grad.__get__}


def get_testing_overrides():
    """{function: a dummy with its signature that returns -1}, for every overridable function."""
    dummies = {}
    for functions in get_overridable_functions().values():
        for func in functions:
            dummies[func] = _dummy(func)
    return dummies


def _dummy(func):
    def dummy(*args, **kwargs):
        return -1
    try:
        dummy.__signature__ = inspect.signature(func)
    except (TypeError, ValueError):  # NOTE: builtins without a signature take anything
        pass
    dummy.__name__ = getattr(func, "__name__", "dummy")
    return dummy


def resolve_name(f):
    """'torch.add', 'torch.Tensor.add', 'torch.nn.functional.relu', ... for an overridable function, else None."""
    return _listing()[1].get(f)


def is_tensor_method_or_property(func):
    """True for a Tensor method, or the getter of a Tensor property."""
    import ember
    return func in get_overridable_functions()[ember.Tensor] or getattr(func, "__name__", None) == "__get__"


def wrap_torch_function(dispatcher):
    """A decorator: calls of the wrapped function go through `__torch_function__` when the tensor-likes that
    `dispatcher(*args, **kwargs)` returns override it."""
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant_args = dispatcher(*args, **kwargs)
            if has_torch_function(relevant_args):
                return handle_torch_function(wrapped, relevant_args, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner


class TorchFunctionMode:
    """Base of `__torch_function__` modes. NOTE: ember does not dispatch through modes: entering one raises
    NotImplementedError rather than intercepting nothing."""

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        raise NotImplementedError(f"{type(self).__name__}: ember's functions do not dispatch through "
                                  "__torch_function__ modes")

    def __exit__(self, exc_type, exc_val, exc_tb):
        return None

    @classmethod
    def push(cls, *args, **kwargs):
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`",
                      stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A TorchFunctionMode whose `__torch_function__` calls the function unchanged."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


class enable_reentrant_dispatch:
    """A context manager; ember has no dispatcher to re-enter, so it does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None
