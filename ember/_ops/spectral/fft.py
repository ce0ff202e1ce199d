"""torch.fft: discrete Fourier transforms, as three primitives and the public functions built on them.

Every transform in torch.fft is one of three linear maps over a set of dims, with a scale `norm` chooses:
- complex to complex (FftC2C: fft, ifft, fft2, fftn, ...),
- real to complex (FftR2C: rfft keeps the non-negative frequencies of the last dim, "onesided"; fft of a
  real input keeps all of them),
- half-spectrum to real (FftC2R: irfft, and hfft as irfft of the conjugate).
The public functions size the input (n= / s= crop or zero-pad it, in Tensor ops, so their gradients come
free) and pick the map. Each map's backward is its adjoint, the same kind of transform in the other
direction with the same scale: for norm="backward" (1 forward, 1/n inverse) the adjoint of the forward
transform is the unscaled inverse, i.e. the inverse transform with norm="forward" — hence _ADJOINT swaps
"backward" and "forward" and keeps "ortho". A real input's gradient is the real part of the adjoint
(PyTorch's convention for real inputs of complex functions); the half spectrum's adjoint counts each bin
that stands for two (itself and its mirror) twice.
"""
import builtins

from ... import _dtype, _state
from ...autograd.function import Primitive
from ..._tensor import Tensor, norm_dim
from .._registry import OpSpec, spec, write_out
from ..shape.join import cat
from ..shape.reorder import roll

NORMS = ("backward", "ortho", "forward")
_ADJOINT = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


class FftC2C(Primitive):
    """The DFT of a complex array over `axes` (its inverse when not `forward`), scaled as `norm` says."""
    complex_grad = True
    linear = True  # NOTE: forward AD: the tangent is the same transform of the input's tangent

    @staticmethod
    def forward(ctx, x, axes, norm, forward):
        ctx.axes, ctx.norm, ctx.direction = axes, norm, forward
        if not axes:  # NOTE: fftn over no dims (a 0-d input) is the identity
            return x.copy()
        fft = ctx.xp.fft
        out = (fft.fftn if forward else fft.ifftn)(x, axes=axes, norm=norm)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return FftC2C.apply(g, ctx.axes, _ADJOINT[ctx.norm], not ctx.direction)


class FftR2C(Primitive):
    """The forward DFT of a real array over `axes`; `onesided` keeps the last axis' first n // 2 + 1 bins
    (the others mirror them)."""
    complex_grad = True
    linear = True

    @staticmethod
    def forward(ctx, x, axes, norm, onesided):
        ctx.axes, ctx.norm, ctx.onesided, ctx.n = axes, norm, onesided, x.shape[axes[-1]]
        xp = ctx.xp
        out = (xp.fft.rfftn if onesided else xp.fft.fftn)(x, axes=axes, norm=norm)
        return out.astype(xp.result_type(x.dtype, xp.complex64), copy=False)

    @staticmethod
    def backward(ctx, g):
        if ctx.onesided:  # NOTE: the bins rfft leaves out carry no gradient: zeros complete the spectrum
            g = _zero_pad(g, ctx.axes[-1], ctx.n)
        return FftC2C.apply(g, ctx.axes, _ADJOINT[ctx.norm], False).real


class FftC2R(Primitive):
    """The inverse DFT over `axes` of a spectrum whose last axis holds the first n // 2 + 1 bins of a
    Hermitian-symmetric one: a real array with `n` points on the last axis."""
    complex_grad = True
    linear = True  # NOTE: over the reals (the imaginary parts of the edge bins are dropped, a real-linear map)

    @staticmethod
    def forward(ctx, x, axes, norm, n):
        ctx.axes, ctx.norm, ctx.n = axes, norm, n
        xp = ctx.xp
        sizes = [x.shape[a] for a in axes[:-1]] + [n]
        out = xp.fft.irfftn(x, s=sizes, axes=axes, norm=norm)
        return out.astype(xp.finfo(x.dtype).dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        gx = FftR2C.apply(g, ctx.axes, _ADJOINT[ctx.norm], True)
        last, n = ctx.axes[-1], ctx.n
        twice = n - (n // 2 + 1)  # NOTE: bins 1..twice stand for themselves and their mirror image
        if twice > 0:
            weight = [1.0] + [2.0] * twice + [1.0] * (gx.shape[last] - 1 - twice)
            shape = [1] * gx.dim()
            shape[last] = gx.shape[last]
            gx = gx * gx.new_tensor(weight, dtype=g.dtype).reshape(shape)
        return gx


def _zero_pad(x, dim, n):
    """x with zeros appended along dim up to n entries."""
    missing = list(x.shape)
    missing[dim] = n - x.shape[dim]
    return x if missing[dim] <= 0 else cat((x, x.new_zeros(missing)), dim)


def _sized(x, dim, n):
    """x cropped or zero-padded along dim to n entries (n= and s= of torch.fft)."""
    have = x.shape[dim]
    if n < have:
        return x.narrow(dim, 0, n)
    return _zero_pad(x, dim, n)


# --- the arguments every transform shares ------------------------------------------------------------
def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _float_input(x, name, real):
    """x as a floating (or complex) tensor: integers and bool take the default float type, as PyTorch's."""
    if not isinstance(x, Tensor):
        from ..._arguments import type_name
        raise TypeError(f"fft_{name}(): argument 'input' (position 1) must be Tensor, not {type_name(x)}")
    if x._dtype.category < _dtype.FLOAT:
        return x.to(_state.default_dtype)
    if x._dtype in (_dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"Unsupported dtype {_dtype.scalar_type_name(x._dtype)}")
    if real and x._dtype.category == _dtype.COMPLEX:
        got = _dtype.scalar_type_name(x._dtype)
        if name in ("rfft", "ihfft"):
            raise RuntimeError(f"{name} expects a real input tensor, but got {got}")
        if name.startswith("rfft"):
            raise RuntimeError(f"rfftn expects a real-valued input tensor, but got {got}")
        raise RuntimeError(f"Only supports floating-point dtypes, but found: {got}")
    return x


def _check_points(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _dims_and_sizes(x, s, dim, default_all=True):
    """The normalised dims and output sizes of an n-dim transform, from s= and dim= as PyTorch reads them:
    s alone covers the last len(s) dims; dim alone keeps their sizes; neither covers every dim (or the
    last two, for the 2-d functions, which pass their default dim); a size of -1 keeps that dim's size."""
    ndim = x.dim()
    if dim is not None:
        dims = [d for d in ((dim,) if isinstance(dim, builtins.int) else dim)]
        if dims and not ndim:
            raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
        dims = [norm_dim(d, ndim) for d in dims]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
        dims = list(range(ndim - len(s), ndim))
    else:
        dims = list(range(ndim)) if default_all else []
    sizes = [x.shape[d] if s is None or s[i] == -1 else _check_points(s[i]) for i, d in enumerate(dims)]
    return tuple(dims), sizes


def _finish(result, out, name):
    return result if out is None else write_out(out, result, f"fft_{name}")


# --- the transforms -----------------------------------------------------------------------------------
def _c2c(name, x, s, dim, norm, forward, out):
    x = _float_input(x, name, real=False)
    dims, sizes = _dims_and_sizes(x, s, dim)
    for d, n in zip(dims, sizes):
        x = _sized(x, d, n)
    if x._dtype.category == _dtype.COMPLEX:
        result = FftC2C.apply(x, dims, _norm(norm), forward)
    elif forward and dims:
        result = FftR2C.apply(x, dims, _norm(norm), False)  # NOTE: PyTorch's FftR2CBackward0, all bins
    else:
        result = FftC2C.apply(x.to(x._dtype.to_complex()), dims, _norm(norm), forward)
    return _finish(result, out, name)


def _r2c(name, x, s, dim, norm, out, conjugate=False):
    x = _float_input(x, name, real=True)
    dims, sizes = _dims_and_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    for d, n in zip(dims, sizes):
        x = _sized(x, d, n)
    result = FftR2C.apply(x, dims, _norm(norm), True)
    return _finish(result.conj() if conjugate else result, out, name)


def _c2r(name, x, s, dim, norm, out, conjugate=False):
    x = _float_input(x, name, real=False)
    dims, sizes = _dims_and_sizes(x, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = dims[-1]
    n = 2 * (x.shape[last] - 1) if s is None or s[-1] == -1 else sizes[-1]
    _check_points(n)
    for d, size in zip(dims[:-1], sizes[:-1]):
        x = _sized(x, d, size)
    x = _sized(x, last, n // 2 + 1)
    if x._dtype.category != _dtype.COMPLEX:
        x = x.to(x._dtype.to_complex())
    if conjugate:
        x = x.conj()
    return _finish(FftC2R.apply(x, dims, _norm(norm), n), out, name)


def _one(n, dim):
    return None if n is None else (n,), dim


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-d discrete Fourier transform over `dim` (complex result; n crops or zero-pads the input)."""
    return _c2c("fft", input, *_one(n, dim), norm, True, out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of fft (scaled by 1/n under the default norm)."""
    return _c2c("ifft", input, *_one(n, dim), norm, False, out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """fft of a real input, keeping the n // 2 + 1 non-negative frequencies (the others mirror them)."""
    return _r2c("rfft", input, *_one(n, dim), norm, out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of rfft: a real signal of n points (default 2 * (input.size(dim) - 1))."""
    return _c2r("irfft", input, *_one(n, dim), norm, out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """fft of a signal that is Hermitian-symmetric in time, given by its first half: a real spectrum."""
    return _c2r("hfft", input, *_one(n, dim), _ADJOINT[_norm(norm)], out, conjugate=True)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of hfft: the first half of the Hermitian-symmetric inverse transform of a real signal."""
    return _r2c("ihfft", input, *_one(n, dim), _ADJOINT[_norm(norm)], out, conjugate=True)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """fftn over two dims (the last two by default)."""
    return _c2c("fft2", input, s, dim, norm, True, out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """ifftn over two dims (the last two by default)."""
    return _c2c("ifft2", input, s, dim, norm, False, out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """rfftn over two dims (the last two by default)."""
    return _r2c("rfft2", input, s, dim, norm, out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """irfftn over two dims (the last two by default)."""
    return _c2r("irfft2", input, s, dim, norm, out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """hfftn over two dims (the last two by default)."""
    return _c2r("hfft2", input, s, dim, _ADJOINT[_norm(norm)], out, conjugate=True)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """ihfftn over two dims (the last two by default)."""
    return _r2c("ihfft2", input, s, dim, _ADJOINT[_norm(norm)], out, conjugate=True)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The n-dim discrete Fourier transform over `dim` (every dim by default; s sizes them)."""
    return _c2c("fftn", input, s, dim, norm, True, out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of fftn."""
    return _c2c("ifftn", input, s, dim, norm, False, out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """fftn of a real input, keeping the non-negative frequencies of the last transformed dim."""
    return _r2c("rfftn", input, s, dim, norm, out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of rfftn: a real result (the last dim's size from s, or 2 * (size - 1))."""
    return _c2r("irfftn", input, s, dim, norm, out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """fftn of a Hermitian-symmetric signal given by its half along the last dim: a real spectrum."""
    return _c2r("hfftn", input, s, dim, _ADJOINT[_norm(norm)], out, conjugate=True)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of hfftn."""
    return _r2c("ihfftn", input, s, dim, _ADJOINT[_norm(norm)], out, conjugate=True)


# --- frequencies and shifts ---------------------------------------------------------------------------
def _frequencies(n, d, count, negative, dtype, device, requires_grad, out, name):
    from ..._creation import arange
    if dtype is None:
        dtype = _state.default_dtype
    values = arange(count, dtype=dtype, device=device)
    if negative:  # NOTE: the second half counts up from -(n // 2)
        values = cat((values[:(n + 1) // 2], arange(-(n // 2), 0, dtype=dtype, device=device)))
    result = values * (1.0 / (n * d))
    result.requires_grad_(requires_grad)
    return _finish(result, out, name)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of fft(n points, spacing d): [0, 1, ..., -(n // 2), ..., -1] / (d * n)."""
    return _frequencies(n, d, n, True, dtype, device, requires_grad, out, "fftfreq")


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of rfft(n points, spacing d): [0, 1, ..., n // 2] / (d * n)."""
    return _frequencies(n, d, n // 2 + 1, False, dtype, device, requires_grad, out, "rfftfreq")


def _shift(x, dim, sign):
    dims = list(range(x.dim())) if dim is None else [dim] if isinstance(dim, builtins.int) else list(dim)
    dims = [norm_dim(d, x.dim()) for d in dims]
    return roll(x, [sign * (x.shape[d] // 2) for d in dims], dims)


def fftshift(input, dim=None):
    """Move the zero frequency to the middle of `dim` (every dim by default): a roll by size // 2."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of fftshift: a roll by -(size // 2)."""
    return _shift(input, dim, -1)


PUBLIC = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
          "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift")


# --- the generic op test's specs (tests/ops/test_against_torch.py): real inputs, gradients through each map
def _fft_sample(kind):
    def sample(g):
        x = g.values(g.shape(min_dims=1 if kind == "1d" else 2, max_dims=3, min_side=1, max_side=5))
        kw = {"norm": g.choice((None, "backward", "ortho", "forward"))}
        size = g.choice((None, 1, 2, 3, 6))
        if size is not None:
            kw["n" if kind == "1d" else "s"] = size if kind == "1d" else (size,) * (2 if kind == "2d" else 1)
        if kind == "1d":
            kw["dim"] = g.dim(x.ndim)
        return [x], kw
    return sample


def _fft_call(name):
    return lambda torch, x, **kw: getattr(torch.fft, name)(x, **kw)


spec(*(OpSpec(f"fft.{name}", sample=_fft_sample(kind), call=_fft_call(name), large=False, rtol=1e-4, atol=1e-5)
       for kind, names in (("1d", ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")),
                           ("2d", ("fft2", "ifft2", "rfft2", "irfft2")),
                           ("nd", ("fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn")))
       for name in names),
     OpSpec("fft.fftshift", sample=lambda g: ([g.values(g.shape(max_dims=3))], {}), call=_fft_call("fftshift")),
     OpSpec("fft.ifftshift", sample=lambda g: ([g.values(g.shape(max_dims=3))], {}), call=_fft_call("ifftshift")))
