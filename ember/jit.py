"""torch.jit, as far as a Python implementation can honour it: programs that script or trace a model for
speed run unchanged, on the model itself. TorchScript compiles a subset of Python to its own IR; ember
is Python already, so `script` and `trace` return what they are given (with a warning the first time,
so that nobody believes a TorchScript program was made), and the decorators that steer the compiler
(`ignore`, `unused`, `export`, `interface`, ...) return their function. What needs the IR itself — saving
or loading a TorchScript archive — raises NotImplementedError saying so."""
import contextlib
import typing
import warnings

Final = typing.Final

_warned = set()


def _once(what):
    if what not in _warned:
        _warned.add(what)
        done = {"script": "scripted", "trace": "traced"}[what]
        warnings.warn(f"torch.jit.{what}: ember has no TorchScript compiler; the {done} object is returned "
                      "unchanged and runs as Python (the same results, without TorchScript's optimisations)",
                      UserWarning, stacklevel=3)


class Error(RuntimeError):
    """torch.jit.Error: TorchScript's error class (never raised by ember's pass-through)."""


class ScriptModule:
    """torch.jit.ScriptModule, for isinstance checks: ember makes none (script returns the module)."""


class ScriptFunction:
    """torch.jit.ScriptFunction, for isinstance checks: ember makes none (script returns the function)."""


class RecursiveScriptModule(ScriptModule):
    """torch.jit.RecursiveScriptModule, for isinstance checks."""


TracedModule = TopLevelTracedModule = RecursiveScriptModule


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Returns `obj` (a function, Module or class) unchanged: ember runs it as Python."""
    _once("script")
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs=True):
    """Returns `func` (a function or Module) unchanged: ember runs it as Python, for any input, where a
    TorchScript trace would replay the recorded ops."""
    _once("trace")
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
                 strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg=False, _store_inputs=True):
    """Returns the Module unchanged (see trace)."""
    _once("trace")
    return mod


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """Returns the Module unchanged (freezing inlines a ScriptModule's parameters as constants)."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    """Returns the Module unchanged."""
    return mod


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore or @torch.jit.ignore(drop=True): leave a function to Python — which ember does
    for every function."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """@torch.jit.unused: the function stays as it is."""
    return fn


def export(fn):
    """@torch.jit.export: the method stays as it is."""
    return fn


def interface(obj):
    """@torch.jit.interface: the class stays as it is."""
    return obj


def script_if_tracing(fn):
    """The function stays as it is."""
    return fn


def script_method(fn):
    """The method stays as it is."""
    return fn


def is_scripting():
    """False: ember never runs code as TorchScript."""
    return False


def is_tracing():
    """False: ember never traces."""
    return False


def annotate(the_type, the_value):
    """TorchScript's type hint for a value: returns the value."""
    return the_value


def isinstance(obj, target_type):  # noqa: A001 - PyTorch's name
    """Python's isinstance (TorchScript's refines types with it)."""
    import builtins
    return builtins.isinstance(obj, target_type)


def Attribute(value, type):  # noqa: A002,N802 - PyTorch's names
    """TorchScript's attribute type hint: returns the value."""
    return value


class Future:
    """The result of torch.jit.fork: ember runs the call at once, so wait() returns its result."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def done(self):
        return True


def fork(func, *args, **kwargs):
    """Run func(*args, **kwargs) now (TorchScript would run it asynchronously) and return a Future of it."""
    return Future(func(*args, **kwargs))


def wait(future):
    """The value of a Future from fork."""
    return future.wait()


@contextlib.contextmanager
def optimized_execution(should_optimize):
    """A context in which TorchScript optimises (or not): nothing changes in ember."""
    yield


def save(m, f, _extra_files=None):
    """TorchScript archives need the TorchScript IR, which ember does not have."""
    raise NotImplementedError("torch.jit.save writes a TorchScript archive, which ember cannot make: save the "
                              "state_dict with torch.save instead")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """TorchScript archives need the TorchScript IR, which ember does not have."""
    raise NotImplementedError("torch.jit.load reads a TorchScript archive, which ember cannot run: load a "
                              "state_dict with torch.load into the model's Python class instead")
