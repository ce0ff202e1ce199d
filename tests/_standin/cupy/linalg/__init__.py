"""cupy.linalg: NumPy's linalg on device arrays."""
import numpy as _np

from .._dispatch import function

LinAlgError = _np.linalg.LinAlgError
_NAMES = ("cholesky det eig eigh eigvals eigvalsh inv lstsq matrix_power matrix_rank norm pinv qr slogdet solve "
          "svd tensorinv tensorsolve multi_dot").split()


def __getattr__(name):
    if name not in _NAMES:
        raise AttributeError(f"module 'cupy.linalg' has no attribute '{name}'")
    f = globals()[name] = function("linalg." + name, getattr(_np.linalg, name))
    return f
