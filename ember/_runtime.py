"""Runtime switches and helpers of the torch namespace: thread counts, deterministic algorithms, warn_always,
flush_denormal, the autocast getters and setters, set_default_tensor_type; the sym_* functions and
torch.cond / torch.while_loop in their eager meaning; fork/wait; DLPack; from_file. The values live in
_state; ember's computation does not change with them (noted on each), except autocast's (ember/amp)."""
import math
import os
import warnings

import numpy as np

from . import _dtype, _state
from ._ops._registry import bind_method, public
from ._tensor import Tensor


def _bool_arg(value, message):
    if not isinstance(value, bool):
        raise RuntimeError(f"{message} expects a bool, but got {type(value).__name__ if type(value).__module__ == 'builtins' else type(value).__module__.split('.')[0] + '.' + type(value).__name__}")
    return value


def _str_arg(fn, arg, value):
    if not isinstance(value, str):
        from ._arguments import type_name
        raise TypeError(f"{fn}(): argument '{arg}' (position 1) must be str, not {type_name(value)}")
    return value


def _dtype_arg(value):
    if not isinstance(value, _dtype.dtype):
        from ._arguments import type_name
        raise TypeError(f"dtype must be a torch.dtype (got {type_name(value)})")
    return value


def _plain(fn):
    """NOTE: these take numbers; the generic guard (_guards.py) would read a first parameter named `a` as a Tensor."""
    fn._checked = True
    return fn


# --- threads ------------------------------------------------------------------------------------------------
def _positive(n, name):
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


@public
def set_num_threads(int):
    """Record the intra-op thread count (reported by get_num_threads; NumPy keeps its own threading)."""
    _state.num_threads = _positive(int, "set_num_threads")


@public
def get_num_threads():
    """The intra-op thread count (the machine's CPU count unless set)."""
    return _state.num_threads or os.cpu_count() or 1


@public
def set_num_interop_threads(int):
    """Record the inter-op thread count; as in PyTorch, only once."""
    if _state.interop_threads_set:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _state.num_interop_threads = _positive(int, "set_num_interop_threads")
    _state.interop_threads_set = True


@public
def get_num_interop_threads():
    """The inter-op thread count (the machine's CPU count unless set)."""
    return _state.num_interop_threads or os.cpu_count() or 1


@public
def init_num_threads():
    """A no-op in ember (PyTorch initialises its thread pools here)."""
    return None


# --- determinism, warnings, denormals ---------------------------------------------------------------------
@public
def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record whether deterministic algorithms are required (ember's kernels are deterministic already)."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not "
                        f"{type(mode).__name__}")
    _state.deterministic_mode = (1 if warn_only else 2) if mode else 0


@public
def are_deterministic_algorithms_enabled():
    """Whether use_deterministic_algorithms(True) is in effect."""
    return _state.deterministic_mode != 0


@public
def is_deterministic_algorithms_warn_only_enabled():
    """Whether use_deterministic_algorithms(True, warn_only=True) is in effect."""
    return _state.deterministic_mode == 1


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


@public
def set_deterministic_debug_mode(debug_mode):
    """'default'/0, 'warn'/1 or 'error'/2: use_deterministic_algorithms off, warn-only, or on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    _state.deterministic_mode = debug_mode


@public
def get_deterministic_debug_mode():
    """0, 1 or 2, as set_deterministic_debug_mode takes it."""
    return _state.deterministic_mode


@public
def set_warn_always(b):
    """Record whether warnings PyTorch gives once should be given every time."""
    _state.warn_always = _bool_arg(b, "setWarnOnlyOnce")


@public
def is_warn_always_enabled():
    """What set_warn_always set."""
    return _state.warn_always


@public
def set_flush_denormal(mode):
    """Returns False: NumPy and CuPy cannot flush denormals to zero (PyTorch returns False where its CPU
    cannot either)."""
    _bool_arg(mode, "flush_denormal")
    return False


@public
def set_default_tensor_type(t):
    """Deprecated: set the default dtype (and device, for torch.cuda.* types) from a legacy tensor type."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    from ._compat.legacy import dtype_of_type_name
    name = t if isinstance(t, str) else getattr(t, "__name__", "")
    dtype = dtype_of_type_name(t) if isinstance(t, str) else getattr(t, "_legacy_dtype", None)
    if dtype is None:
        raise TypeError(f"invalid type: '{name}'")
    _state.set_default_dtype(dtype)
    if isinstance(t, str):
        from ._device import set_default_device
        set_default_device("cuda" if ".cuda." in t else None)


@public
def compiled_with_cxx11_abi():
    """True, as PyTorch 2.13's builds report (ember has no C++ part)."""
    return True


# --- autocast state ---------------------------------------------------------------------------------------
_AUTOCAST_DTYPES = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16, "ipu": _dtype.float16, "xla": _dtype.bfloat16,
                    "xpu": _dtype.float16, "mps": _dtype.float16, "hpu": _dtype.bfloat16, "mtia": _dtype.float16,
                    "maia": _dtype.bfloat16}
_DEVICE_TYPES = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, vulkan, mps, "
                 "meta, hpu, mtia, privateuseone")


def _autocast_entry(device_type, fn="get_autocast_dtype"):
    _str_arg(fn, "device_type", device_type)
    if not isinstance(device_type, str) or device_type.split(":")[0] not in _DEVICE_TYPES.split(", "):
        raise RuntimeError(f"Expected one of {_DEVICE_TYPES} device type at start of device string: {device_type}")
    device_type = device_type.split(":")[0]
    return _state.autocast.setdefault(device_type, [False, _AUTOCAST_DTYPES.get(device_type, _dtype.float16)])


@public
def is_autocast_enabled(device_type="cuda"):
    """Whether autocast is on for the device type (cuda when not given)."""
    return _autocast_entry(device_type, "is_autocast_enabled")[0]


@public
def set_autocast_enabled(*args):
    """set_autocast_enabled(enabled) for cuda, or set_autocast_enabled(device_type, enabled)."""
    device_type, enabled = ("cuda",) + args if len(args) == 1 else args
    if not isinstance(enabled, bool):
        from ._arguments import type_name
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' (position {len(args)}) must be bool, not "
                        f"{type_name(enabled)}")
    _autocast_entry(device_type, "set_autocast_enabled")[0] = enabled
    from .amp import _policy
    _policy.refresh()


@public
def get_autocast_dtype(device_type):
    """The dtype autocast would use on the device type (bfloat16 on cpu, float16 on cuda by default)."""
    return _autocast_entry(device_type)[1]


@public
def set_autocast_dtype(device_type, dtype):
    """Set the dtype autocast would use on the device type."""
    _autocast_entry(device_type, "set_autocast_dtype")[1] = _dtype_arg(dtype)


def _legacy_autocast(name, device_type, kind):
    def deprecated(what, instead):
        warnings.warn(f"torch.{what} is deprecated. Please use torch.{instead} instead.", DeprecationWarning,
                      stacklevel=3)
    if kind == "is":
        def fn():
            deprecated(f"{name}()", f"is_autocast_enabled('{device_type}')")
            return is_autocast_enabled(device_type)
    elif kind == "set_enabled":
        def fn(enabled):
            deprecated(f"{name}(enabled)", f"set_autocast_enabled('{device_type}', enabled)")
            set_autocast_enabled(device_type, enabled)
    elif kind == "get_dtype":
        def fn():
            deprecated(f"{name}()", f"get_autocast_dtype('{device_type}')")
            return get_autocast_dtype(device_type)
    else:
        def fn(dtype):
            deprecated(f"{name}(dtype)", f"set_autocast_dtype('{device_type}', dtype)")
            set_autocast_dtype(device_type, dtype)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Deprecated form of the autocast {kind.replace('_', ' ')} function for {device_type}."
    return public(fn, name=name)


for _dev in ("cpu", "ipu", "xla"):
    _legacy_autocast(f"is_autocast_{_dev}_enabled", _dev, "is")
    _legacy_autocast(f"set_autocast_{_dev}_enabled", _dev, "set_enabled")
for _dev, _label in (("cpu", "cpu"), ("cuda", "gpu"), ("ipu", "ipu"), ("xla", "xla")):
    _legacy_autocast(f"get_autocast_{_label}_dtype", _dev, "get_dtype")
    _legacy_autocast(f"set_autocast_{_label}_dtype", _dev, "set_dtype")


@public
def is_autocast_cache_enabled():
    """Whether autocast caches casted weights (a recorded switch in ember)."""
    return _state.autocast_cache_enabled


@public
def set_autocast_cache_enabled(enabled):
    """Set the autocast cache switch."""
    if not isinstance(enabled, bool):
        from ._arguments import type_name
        raise TypeError(f"enabled must be a bool (got {type_name(enabled)})")
    _state.autocast_cache_enabled = enabled


@public
def clear_autocast_cache():
    """Drop the weights' low-precision copies autocast keeps (left when the outermost autocast block exits)."""
    _state.autocast_cache.clear()


@public
def autocast_increment_nesting():
    """One more autocast block entered; returns the nesting depth."""
    _state.autocast_nesting += 1
    return _state.autocast_nesting


@public
def autocast_decrement_nesting():
    """One autocast block left; returns the nesting depth."""
    _state.autocast_nesting -= 1
    return _state.autocast_nesting


# --- symbolic-shape helpers in eager mode -----------------------------------------------------------------
_NUMBERS = (np.integer, np.floating, int, float)


def _number(a):
    if isinstance(a, Tensor):
        raise AssertionError(f"expected {tuple(_NUMBERS)}, got {type(a)}")
    return a


@public
@_plain
def sym_int(a):
    """int(a), truncating toward zero (eager form of the SymInt-aware cast)."""
    return math.trunc(a) if isinstance(a, float) else int(a)


@public
@_plain
def sym_float(a):
    """float(a)."""
    return float(a)


@public
@_plain
def sym_max(a, b):
    """max(a, b); a float if either is one."""
    a, b = _number(a), _number(b)
    result = a if a >= b else b
    return float(result) if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)) else result


@public
@_plain
def sym_min(a, b):
    """min(a, b); a float if either is one."""
    a, b = _number(a), _number(b)
    result = a if a <= b else b
    return float(result) if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)) else result


@public
@_plain
def sym_not(a):
    """not a."""
    return not a


@public
@_plain
def sym_sqrt(a):
    """math.sqrt(a)."""
    return math.sqrt(a)


@public
@_plain
def sym_sum(args):
    """sum(args)."""
    return sum(args)


@public
@_plain
def sym_ite(b, t, f):
    """t if b else f."""
    return t if b else f


@public
@_plain
def sym_fresh_size(expr):
    """expr itself in eager mode."""
    return expr


_INT64_MAX = 2 ** 63 - 1


def _number_arg(fn, size):
    if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
        from ._arguments import type_name
        raise TypeError(f"{fn}(): argument 'size' (position 1) must be Number, not {type_name(size)}")


@public
@_plain
def sym_constrain_range(size, *, min=None, max=None):
    """Check that the integer `size` lies in [min, max] (RuntimeError otherwise)."""
    _number_arg("sym_constrain_range", size)
    lo = min if min is not None else -_INT64_MAX - 1
    hi = max if max is not None else _INT64_MAX
    if isinstance(size, int) and not lo <= size <= hi:
        raise RuntimeError(f"Invalid value range for {size} between [{lo}, {hi}].")


@public
@_plain
def sym_constrain_range_for_size(size, *, min=None, max=None):
    """Check that `size` is a valid size: in [min or 0, max]."""
    _number_arg("sym_constrain_range_for_size", size)
    lo = 0 if min is None else min
    hi = max if max is not None else _INT64_MAX
    if isinstance(size, int) and not lo <= size <= hi:
        raise RuntimeError(f"Invalid value range for {size} between [{lo}, {hi}].")


# --- control flow -----------------------------------------------------------------------------------------
@public
def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands), run eagerly (pred: a bool, number or one-element
    tensor)."""
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
        pred = bool(pred)
    return (true_fn if pred else false_fn)(*operands)


@public
def while_loop(cond_fn, body_fn, carried_inputs):
    """carried_inputs = body_fn(*carried_inputs) while cond_fn(*carried_inputs), run eagerly; returns the
    final carried values as a tuple."""
    carried = tuple(carried_inputs)
    while bool(cond_fn(*carried)):
        out = body_fn(*carried)
        carried = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return carried


class Future:
    """A finished computation's result (torch.Future as fork returns it): wait(), value(), done(), then()."""

    def __init__(self, value=None, error=None):
        self._value, self._error = value, error

    def wait(self):
        if self._error is not None:
            raise self._error
        return self._value

    value = wait

    def done(self):
        return True

    def then(self, callback):
        try:
            return Future(callback(self))
        except Exception as e:  # noqa: BLE001 - kept for the future's wait()
            return Future(error=e)

    def add_done_callback(self, callback):
        callback(self)

    def set_result(self, result):
        self._value = result


@public
def fork(func, *args, **kwargs):
    """Run func(*args, **kwargs) now (ember has no TorchScript thread pool) and return a finished Future."""
    if not callable(func):
        from ._arguments import type_name
        raise TypeError(f"Object of type '{type_name(func)}' is not an instance of 'function'")
    try:
        return Future(func(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - raised again by wait(), as PyTorch does
        return Future(error=e)


@public
def wait(future):
    """The value of a Future from fork."""
    if future is None:
        raise RuntimeError("Future can't be None")
    if not isinstance(future, Future):
        raise TypeError(f"wait(): incompatible function arguments. The following argument types are supported:\n"
                        f"    1. (arg0: torch._C.Future) -> object\n\nInvoked with: {future!r}")
    return future.wait()


# --- DLPack -----------------------------------------------------------------------------------------------
class _Capsule:
    """A bare DLPack capsule offered through the protocol NumPy/CuPy's from_dlpack read."""

    def __init__(self, capsule, device):
        self.capsule, self.device = capsule, device

    def __dlpack__(self, *args, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return self.device


@public
def to_dlpack(tensor):
    """A DLPack capsule sharing tensor's memory."""
    return tensor._data.__dlpack__()


@public
def from_dlpack(ext_tensor):
    """A tensor sharing the memory of any object with __dlpack__ (NumPy and CuPy arrays, PyTorch tensors) or
    of a DLPack capsule (a capsule is taken as CPU memory)."""
    from ._device import CPU, device as device_cls
    from ._tensor import _wrap
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if not hasattr(ext_tensor, "__dlpack__"):
        ext_tensor = _Capsule(ext_tensor, (1, 0))
    kind, index = ext_tensor.__dlpack_device__()
    dev = CPU if int(kind) in (1, 3) else device_cls("cuda", int(index))
    arr = dev.backend.xp.from_dlpack(ext_tensor)
    return _wrap(arr, dev, _dtype._BY_NP[arr.dtype])


bind_method("__dlpack__", lambda self, *args, **kwargs: self._data.__dlpack__(*args, **kwargs))
bind_method("__dlpack_device__", lambda self: self._data.__dlpack_device__())


@public
def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False):
    """`size` elements of `dtype` read from a file; with shared=True the tensor maps the file, and writes
    reach it."""
    if not isinstance(filename, str):
        from ._arguments import type_name
        raise TypeError(f"from_file(): argument 'filename' (position 1) must be str, not {type_name(filename)}")
    dtype = dtype or _state.default_dtype
    nbytes = os.path.getsize(filename)
    if size * dtype.itemsize > nbytes:
        raise RuntimeError(f"file <{filename}> size <{nbytes}> is smaller than the required mapping size "
                           f"<{size * dtype.itemsize}>")
    if shared:
        arr = np.memmap(filename, dtype=dtype.np, mode="r+", shape=(size,))
    else:
        arr = np.fromfile(filename, dtype=dtype.np, count=size)
    from ._tensor import _wrap
    from ._device import CPU
    t = _wrap(np.asarray(arr) if not shared else arr, CPU, dtype)
    return t if device is None else t.to(device)


# --- odds and ends ----------------------------------------------------------------------------------------
@public
def thread_safe_generator():
    """None: no thread-local generator is active (PyTorch gives one inside DataLoader worker threads)."""
    return None


@public
def get_file_path(*path_components):
    """A path under the folder ember's package lives in."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), *path_components)


@public
def prepare_multiprocessing_environment(path):
    """A no-op, as in PyTorch's open-source build."""
    return None


class _ClassProperty(property):
    def __get__(self, instance, owner=None):
        return self.fget(owner)


@public
def classproperty(func):
    """Decorator: a property read on the class (func gets the class)."""
    if not isinstance(func, (classmethod, staticmethod)):
        func = classmethod(func)
    return _ClassProperty(func.__func__)
