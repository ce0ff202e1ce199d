"""torch.backends.cudnn: is_available, version, and the enabled/benchmark/deterministic/allow_tf32 switches."""
import contextlib
import sys
import types

from . import _flags

_SWITCHES = {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
             "deterministic": "set_deterministic_cudnn", "allow_tf32": "set_allow_tf32_cudnn"}


def version():
    """cuDNN's version as an int, or None when CuPy has no cuDNN (or there is no GPU)."""
    from ..cuda._lazy import available, runtime
    return runtime().cudnn_version() if available() else None


def is_available():
    """True when CuPy can load cuDNN."""
    return version() is not None


def is_acceptable(tensor):
    return bool(_flags.get("cudnn.enabled") and tensor.is_cuda and is_available())


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the switches inside the block, restore them after."""
    names = ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit")
    saved = {n: _flags.get(f"cudnn.{n}") for n in names}
    new = dict(zip(names, (enabled, benchmark, deterministic, allow_tf32, benchmark_limit)))
    _flags.flags.update({f"cudnn.{n}": v for n, v in new.items()})
    try:
        yield
    finally:
        _flags.flags.update({f"cudnn.{n}": v for n, v in saved.items()})


class CudnnModule(types.ModuleType):
    """The module type: its switches are properties over ember/backends/_flags.py."""

    def __getattr__(self, name):
        if name in _SWITCHES or name == "benchmark_limit":
            return _flags.get(f"cudnn.{name}")
        raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'")

    def __setattr__(self, name, value):
        if name in _SWITCHES:
            _flags.set_bool(f"cudnn.{name}", value, _SWITCHES[name])
        elif name == "benchmark_limit":
            _flags.flags["cudnn.benchmark_limit"] = value
        else:
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = CudnnModule
