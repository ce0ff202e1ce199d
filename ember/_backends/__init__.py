"""Array backends: the seam between ember and the array libraries. Only this package imports cupy.

A backend is a module providing the contract written down in base.py. `get(type)` returns it and
`of_array(array)` the one an array belongs to; cuda is imported lazily, so ember installs and runs
without cupy.
"""
import importlib

_LOADED = {}
# NOTE: False while every loaded backend runs on one device (the CPU): code that would make its tensors'
# device current first (`_device.runs_on_its_device`) then has nothing to do and skips the lookup.
# True once a backend that has devices to make current is loaded with its array library (CuPy).
needs_activation = False


def get(device_type):
    """The backend module for a device type ('cpu' or 'cuda')."""
    mod = _LOADED.get(device_type)
    if mod is None:
        if device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"ember has no backend for device type '{device_type}'")
        mod = importlib.import_module(f"{__name__}.{device_type}")
        _LOADED[device_type] = mod
        if mod.activate is not None and mod.xp is not None:
            global needs_activation
            needs_activation = True
    return mod


_BY_ARRAY_TYPE = {}


def device_type_of(array):
    """'cpu' for NumPy arrays, 'cuda' for CuPy arrays."""
    return "cpu" if type(array).__module__.startswith("numpy") else "cuda"


def of_xp(xp):
    """The backend whose array module is `xp`."""
    for backend in _LOADED.values():
        if backend.xp is xp:
            return backend
    raise RuntimeError(f"ember has no backend for the array module {xp!r}")


def of_array(array):
    """The backend an array belongs to."""
    kind = type(array)
    backend = _BY_ARRAY_TYPE.get(kind)
    if backend is None:
        backend = _BY_ARRAY_TYPE[kind] = get(device_type_of(array))
    return backend
