"""The signal windows of torch: hann, hamming, blackman, bartlett and kaiser (for torch.stft and spectral
work). The cosine and triangle windows are computed in the requested dtype and device, step by step as
PyTorch's factories do (each constant rounded to that dtype first), so float16/bfloat16 windows are
PyTorch's to the bit; kaiser's is computed on the host in float64 and rounded once.

A window of length L is symmetric over L points (periodic=False), or the first L of L + 1 points
(periodic=True, the default): the form a DFT of overlapping frames wants (torch.stft)."""
import math

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
        return from_array(np.ones(length, dtype=dtype.np), device=device, requires_grad=requires_grad)
    n = length + 1 if periodic else length
    if getattr(points, "in_dtype", False):
        from ._creation import arange, scalar_tensor

        def constant(value):  # NOTE: PyTorch's kernels read a C++ Scalar in the tensor's own dtype
            return scalar_tensor(value, dtype=dtype, device=device)
        values = points(arange(n, dtype=dtype, device=device), n, constant)[:length].contiguous()
        return values.requires_grad_(requires_grad)
    # NOTE: the positions are arange's in the requested dtype (above 256, bfloat16 ones are rounded), as PyTorch's
    values = points(np.arange(n).astype(dtype.np).astype(np.float64), n)[:length]
    return from_array(values.astype(dtype.np), device=device, requires_grad=requires_grad)


def _in_dtype(points):
    points.in_dtype = True
    return points


def _hamming(alpha, beta):
    """alpha - beta cos(2 pi i / (n - 1))."""
    @_in_dtype
    def points(i, n, c):
        return i.mul_(c(math.pi * 2.0 / (n - 1))).cos_().mul_(c(-beta)).add_(c(alpha))
    return points


@_in_dtype
def _blackman(i, n, c):
    x = i.mul_(c(math.pi / (n - 1)))
    return x.mul(c(4)).cos_().mul_(c(0.08)) - x.mul(c(2)).cos_().mul_(c(0.5)) + c(0.42)


@_in_dtype
def _bartlett(i, n, c):
    """2 i / (n - 1) rising to the middle, then 2 - 2 i / (n - 1)."""
    x = i.mul_(c(2.0 / (n - 1)))
    half = (n - 1) // 2 + 1
    x[half:].mul_(c(-1)).add_(c(2))
    return x


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """0.5 - 0.5 cos(2 pi i / (N - 1)): zero at both ends."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _hamming(0.5, 0.5))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    """alpha - beta cos(2 pi i / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _hamming(alpha, beta))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """0.42 - 0.5 cos(2 pi i / (N - 1)) + 0.08 cos(4 pi i / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _blackman)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The triangle 1 - |2 i / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   _bartlett)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """I0(beta sqrt(1 - ((i - c) / c)^2)) / I0(beta), c = (N - 1) / 2 (I0: the modified Bessel function)."""
    def points(i, n):
        c = (n - 1) / 2
        return np.i0(beta * np.sqrt(np.clip(1 - ((i - c) / c) ** 2, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, points)


PUBLIC = ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")
