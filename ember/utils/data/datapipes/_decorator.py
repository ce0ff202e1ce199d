"""DataPipe decorators: functional_datapipe, non_deterministic, guaranteed_datapipes_determinism,
argument_validation, runtime_validation and runtime_validation_disabled."""
import inspect
import typing
from functools import wraps

from .datapipe import IterDataPipe, MapDataPipe

__all__ = ["argument_validation", "functional_datapipe", "guaranteed_datapipes_determinism",
           "non_deterministic", "runtime_validation", "runtime_validation_disabled"]


class functional_datapipe:
    """Class decorator: register a DataPipe class so that `dp.<name>(...)` constructs it over dp."""

    def __init__(self, name, enable_df_api_tracing=False):
        self.name = name
        self.enable_df_api_tracing = enable_df_api_tracing

    def __call__(self, cls):
        if isinstance(cls, non_deterministic) or (hasattr(cls, "__self__")
                                                  and isinstance(cls.__self__, non_deterministic)):
            IterDataPipe.register_datapipe_as_function(self.name, cls)
        elif isinstance(cls, type) and issubclass(cls, IterDataPipe):
            IterDataPipe.register_datapipe_as_function(self.name, cls)
        elif isinstance(cls, type) and issubclass(cls, MapDataPipe):
            MapDataPipe.register_datapipe_as_function(self.name, cls)
        return cls


_FLAGS = {"determinism": False, "runtime_validation": True}


class _Setting:
    """A context manager that sets _FLAGS[flag] to `value` and restores it on exit. NOTE: set when constructed,
    not on __enter__, as torch's do."""
    flag = value = None

    def __init__(self):
        self.prev = _FLAGS[self.flag]
        _FLAGS[self.flag] = self.value

    def __enter__(self):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        _FLAGS[self.flag] = self.prev


class guaranteed_datapipes_determinism(_Setting):
    """Context manager: constructing a non_deterministic DataPipe inside it raises TypeError."""
    flag, value = "determinism", True


class non_deterministic:
    """Mark an IterDataPipe class (or, given a predicate on its arguments, some of its instances) as
    non-deterministic, so that guaranteed_datapipes_determinism refuses it."""

    cls = None

    def __init__(self, arg):
        if isinstance(arg, type):
            if not issubclass(arg, IterDataPipe):
                raise TypeError("Only `IterDataPipe` can be decorated with `non_deterministic`"
                                f", but {arg.__name__} is found")
            self.cls = arg
        elif callable(arg):
            self.deterministic_fn = arg
        else:
            raise TypeError(f"{arg} can not be decorated by non_deterministic")

    def __call__(self, *args, **kwargs):
        if self.cls is not None:
            if _FLAGS["determinism"]:
                raise TypeError(f"{self.cls.__name__} is non-deterministic, but you set "
                                "'guaranteed_datapipes_determinism'. You can turn off determinism for this "
                                "DataPipe if that is acceptable for your application")
            return self.cls(*args, **kwargs)
        if not (isinstance(args[0], type) and issubclass(args[0], IterDataPipe)):
            raise TypeError(f"Only `IterDataPipe` can be decorated, but {args[0].__name__} is found")
        self.cls = args[0]
        return self.deterministic_wrapper_fn

    def deterministic_wrapper_fn(self, *args, **kwargs):
        """Construct the class, refusing it when the predicate says these arguments are non-deterministic."""
        res = self.deterministic_fn(*args, **kwargs)
        if not isinstance(res, bool):
            raise TypeError("deterministic_fn of `non_deterministic` decorator is required "
                            f"to return a boolean value, but {type(res)} is found")
        if _FLAGS["determinism"] and res:
            raise TypeError(f"{self.cls.__name__} is non-deterministic with the inputs, but you set "
                            "'guaranteed_datapipes_determinism'. You can turn off determinism "
                            "for this DataPipe if that is acceptable for your application")
        return self.cls(*args, **kwargs)


def _datapipe_hint(hint):
    """The IterDataPipe class a hint names (IterDataPipe or IterDataPipe[T]), else None."""
    origin = typing.get_origin(hint) or hint
    return origin if isinstance(origin, type) and issubclass(origin, IterDataPipe) else None


def argument_validation(f):
    """Check at call time that arguments hinted as IterDataPipe are IterDataPipes.
    Differs from PyTorch: the element type inside IterDataPipe[T] is not compared."""
    signature = inspect.signature(f)
    hints = typing.get_type_hints(f)

    @wraps(f)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        for name, value in bound.arguments.items():
            if name in hints and _datapipe_hint(hints[name]) is not None:
                if not isinstance(value, IterDataPipe):
                    raise TypeError(f"Expected argument '{name}' as a IterDataPipe, but found {type(value)}")
        return f(*args, **kwargs)
    return wrapper


class runtime_validation_disabled(_Setting):
    """Context manager turning runtime_validation's checks off."""
    flag, value = "runtime_validation", False


def _element_type(dp):
    """The T of a class declared as IterDataPipe[T] (or None when it declares none)."""
    for base in getattr(type(dp), "__orig_bases__", ()):
        origin = typing.get_origin(base)
        if isinstance(origin, type) and issubclass(origin, IterDataPipe):
            args = typing.get_args(base)
            if args and not isinstance(args[0], typing.TypeVar):
                return args[0]
    return None


def _is_instance(value, hint):
    if hint is typing.Any:
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        return any(_is_instance(value, h) for h in typing.get_args(hint))
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, hint) if isinstance(hint, type) else True


def runtime_validation(f):
    """Decorate an IterDataPipe's __iter__: each yielded element must be an instance of the class's
    IterDataPipe[T] type. Differs from PyTorch: only the outer type of a generic T is checked."""
    if f.__name__ != "__iter__":
        raise TypeError(f"Can not decorate function {f.__name__} with 'runtime_validation'")

    @wraps(f)
    def wrapper(self):
        if not _FLAGS["runtime_validation"]:
            yield from f(self)
            return
        hint = _element_type(self)
        for d in f(self):
            if hint is not None and not _is_instance(d, hint):
                raise RuntimeError(f"Expected an instance as subtype of {hint}, but found {d}({type(d)})")
            yield d
    return wrapper
