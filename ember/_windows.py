"""The signal windows of torch: hann, hamming, blackman, bartlett and kaiser (for torch.stft and spectral
work). Computed once on the host in float64 and stored in the requested dtype and device, as linspace is.

A window of length L is symmetric over L points (periodic=False), or the first L of L + 1 points
(periodic=True, the default): the form a DFT of overlapping frames wants (torch.stft)."""
import numpy as np

from . import _dtype, _state
from ._creation import from_array
from ._dtype import dtype as _dtype_class


def _window(name, length, periodic, dtype, device, requires_grad, points):
    if dtype is None:
        dtype = _state.default_dtype
    if not isinstance(dtype, _dtype_class) or dtype.category != _dtype.FLOAT:
        from ._ops._registry import _C_TYPE_NAMES  # NOTE: PyTorch names the dtype by its C type here
        shown = _C_TYPE_NAMES.get(dtype.name, dtype.name) if isinstance(dtype, _dtype_class) else dtype
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype={shown}, "
                           f"device={device or 'cpu'}, layout=Strided (default), requires_grad="
                           f"{'true' if requires_grad else 'false (default)'}, pinned_memory=false, "
                           "memory_format=(nullopt))")
    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={length}")
    if length <= 1:
        values = np.ones(length)
    else:
        n = length + 1 if periodic else length
        values = points(np.arange(n, dtype=np.float64), n)[:length]
    return from_array(values.astype(dtype.np), device=device, requires_grad=requires_grad)


def _cosine_sum(*coefficients):
    """sum_k (-1)^k a_k cos(2 pi k i / (n - 1)): the hann, hamming and blackman family."""
    def points(i, n):
        return sum((-1) ** k * a * np.cos(2 * np.pi * k * i / (n - 1)) for k, a in enumerate(coefficients))
    return points


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi i / (N - 1)): zero at both ends."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum(0.5, 0.5))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi i / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(alpha, beta))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi i / (N - 1)) + 0.08 cos(4 pi i / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum(0.42, 0.5, 0.08))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The triangle 1 - |2 i / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda i, n: 1 - np.abs(2 * i / (n - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - ((i - c) / c)^2)) / I0(beta), c = (N - 1) / 2 (I0: the modified Bessel function)."""
    def points(i, n):
        c = (n - 1) / 2
        return np.i0(beta * np.sqrt(np.clip(1 - ((i - c) / c) ** 2, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, points)


PUBLIC = ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")
