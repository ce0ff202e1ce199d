"""Array backends: the seam between ember and the array libraries. Only this package imports cupy.

A backend is a module with `xp` (the array module), `is_available()`, `device_count()` and
`asarray(data, dtype)`. `get(type)` returns it; cuda is imported lazily, so ember installs and
runs without cupy.
"""
import importlib

_LOADED = {}


def get(device_type):
    """The backend module for a device type ('cpu' or 'cuda')."""
    mod = _LOADED.get(device_type)
    if mod is None:
        if device_type not in ("cpu", "cuda"):
            raise RuntimeError(f"ember has no backend for device type '{device_type}'")
        mod = importlib.import_module(f"{__name__}.{device_type}")
        _LOADED[device_type] = mod
    return mod


def device_type_of(array):
    """'cpu' for NumPy arrays, 'cuda' for CuPy arrays."""
    return "cpu" if type(array).__module__.startswith("numpy") else "cuda"
