"""cupy.fft: NumPy's fft on device arrays (CuPy's transforms take NumPy's arguments, plus plan=)."""
import numpy as _np

from .._dispatch import function

_NAMES = ("fft ifft rfft irfft hfft ihfft fft2 ifft2 rfft2 irfft2 fftn ifftn rfftn irfftn fftfreq rfftfreq "
          "fftshift ifftshift").split()


def __getattr__(name):
    if name not in _NAMES:
        raise AttributeError(f"module 'cupy.fft' has no attribute '{name}'")
    f = globals()[name] = function("fft." + name, getattr(_np.fft, name))
    return f
