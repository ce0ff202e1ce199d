"""The windows of torch.signal.windows, composed from ember's tensor ops in the requested dtype and device,
step by step as PyTorch's are (so float32 windows round as PyTorch's do).

Unlike torch.*_window (ember/_windows.py), these are symmetric by default (`sym=True`) and take the length as
`M`; `sym=False` gives the periodic window (the first M of M + 1 points).

NOTE: they share no code with ember/_windows.py on purpose: PyTorch computes torch.hann_window and
torch.signal.windows.hann by different steps (a fused kernel against linspace and a cosine sum), so their values
differ in the last bits, and each of ember's follows its own PyTorch counterpart."""
import math
from collections.abc import Iterable

from ... import _creation, _dtype, _state
from ..._types import LAYOUTS

_STRIDED = LAYOUTS["strided"]


def _checks(name, M, dtype, layout):
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not _STRIDED:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (_dtype.float32, _dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")


def _trivial(M, dtype, device, requires_grad):
    """The window of length 0 (empty) or 1 (a single one)."""
    return _creation.ones(M, dtype=dtype, device=device, requires_grad=requires_grad)


def _span(M, sym):
    """The denominator of the symmetric (M - 1) or periodic (M) window."""
    return M - 1 if sym else M


def _points(start, step, M, dtype, device, requires_grad):
    return _creation.linspace(start, start + (M - 1) * step, M, dtype=dtype, device=device,
                              requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=_STRIDED, device=None,
                requires_grad=False):
    """exp(-|n - center| / tau)."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return _trivial(0, dtype, device, requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    k = _creation.linspace(-center / tau, (-center + (M - 1)) / tau, M, dtype=dtype, device=device,
                           requires_grad=requires_grad)
    return k.abs().neg().exp()


def cosine(M, *, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """sin(pi (n + 0.5) / M) (the sine window)."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("cosine", M, dtype, layout)
    if M == 0:
        return _trivial(0, dtype, device, requires_grad)
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return _points(0.5 * step, step, M, dtype, device, requires_grad).sin()


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """exp(-(n - (M - 1) / 2)^2 / (2 std^2))."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return _trivial(0, dtype, device, requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    step = 1 / (std * math.sqrt(2))
    return _points(start * step, step, M, dtype, device, requires_grad).pow(2).neg().exp()


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta) (I0: the modified Bessel function of order 0)."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _trivial(M, dtype, device, requires_grad)
    # NOTE: beta is a tensor in the window's dtype, so the points and the clamp below round as PyTorch's do
    beta = _creation.tensor(beta, dtype=dtype, device=device)
    start = -beta
    step = 2.0 * beta / _span(M, sym)
    end = beta.minimum(start + (M - 1) * step)
    k = _creation.linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)
    return (beta * beta - k.pow(2)).sqrt().i0() / beta.i0()


def hann(M, *, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """0.5 - 0.5 cos(2 pi n / (M - 1))."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """0.54 - 0.46 cos(2 pi n / (M - 1))."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """The triangle 1 - |2n / (M - 1) - 1|."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("bartlett", M, dtype, layout)
    if M <= 1:
        return _trivial(M, dtype, device, requires_grad)
    step = 2 / _span(M, sym)
    return 1 - _points(-1, step, M, dtype, device, requires_grad).abs()


def blackman(M, *, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (M - 1)) + 0.08 cos(4 pi n / (M - 1))."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """sum_i (-1)^i a[i] cos(2 pi i n / (M - 1))."""
    dtype = dtype if dtype is not None else _state.default_dtype
    _checks("general_cosine", M, dtype, layout)
    if M <= 1:
        return _trivial(M, dtype, device, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    step = 2 * math.pi / _span(M, sym)
    k = _creation.linspace(0, (M - 1) * step, M, dtype=dtype, device=device, requires_grad=requires_grad)
    coefs = _creation.tensor([(-1) ** i * w for i, w in enumerate(a)], dtype=dtype, device=device,
                             requires_grad=requires_grad)
    i = _creation.arange(coefs.shape[0], dtype=dtype, device=device, requires_grad=requires_grad)
    return (coefs.unsqueeze(-1) * (i.unsqueeze(-1) * k).cos()).sum(0)


def nuttall(M, *, sym=True, dtype=None, layout=_STRIDED, device=None, requires_grad=False):
    """The 4-term Blackman-Harris window of Nuttall (coefficients 0.3635819, 0.4891775, 0.1365995, 0.0106411)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)
