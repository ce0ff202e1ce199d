"""torch.nn.functional's resampling: interpolate, upsample*, grid_sample, affine_grid (part of
ember/nn/_functional_pool.py).

interpolate works one spatial dim at a time: nearest modes pick source indices, linear and cubic
modes add 2 or 4 picked slices times their weights (or, along a short last dim, multiply by the
(out, in) weight matrix), antialiased modes multiply by their filter matrix, area is adaptive
average pooling. The indices and weights are computed as PyTorch's kernels compute them (in float32
for float32 and half inputs, float64 for float64: PyTorch's opmath type), so results match to rounding.
NOTE: composed of differentiable Tensor ops (the picks are SortedSelect, index_select for sorted
indices, whose backward sums each source's repeats), so double gradients need no code of their own.
"""
import math
import numbers
import warnings

from .._device import runs_on_its_device
from .. import _dtype
from .._ops._registry import OpSpec as _OpSpec, spec as _spec
from .._ops.nn.resample import SortedSelect
from .._tensor import Tensor, _wrap
from ._functional_pool_adaptive import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, apply_matrix
from ._functional_pool_grid import affine_grid, grid_sample

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid"]

_CUBIC_A = -0.75
# NOTE: up to this input length, linear and cubic resampling along the last dim is one 2-D matrix product
# with its (out, in) weight matrix (BLAS beats 2 or 4 selections, multiplies and adds); beyond, the dense
# product's n-fold work loses. Other dims use selections: NumPy's batched products over them are slow.
_DENSE_MAX = 48
_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) or (
        isinstance(v, Tensor) and not v.dtype.is_floating_point and v.dim() == 0)


def _sizes_and_scales(input, size, scale_factor, mode, recompute_scale_factor):
    """(output sizes, scales or None per dim) as torch.nn.functional.interpolate settles them."""
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {list(input.shape[2:])} and output size of {size}. Please provide input tensor in "
                    "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(s) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, int], "
                                f"but got size with types {[type(s) for s in size]}")
            out, scales = [int(s) for s in size], None
        else:
            if not _is_int(size):
                raise TypeError(f"upsample_{mode}{dim}d() received an invalid combination of arguments - got (Tensor, "
                                "list, NoneType)")
            out, scales = [int(size)] * dim, None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but got input with "
                    f"spatial dimensions of {list(input.shape[2:])} and scale_factor of shape {scale_factor}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        out = [int(n * s) for n, s in zip(input.shape[2:], scales)]
        scales = None
    if out is None:
        # NOTE: PyTorch's kernels take floor(in * scale) in double precision
        out = [int(math.floor(n * s)) for n, s in zip(input.shape[2:], scales)]
    return out, scales or [None] * dim


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial dims of (N, C, *spatial) by `mode` (antialias: bilinear and bicubic only, no lanczos)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    out, scales = _sizes_and_scales(input, size, scale_factor, mode, recompute_scale_factor)
    nd = input.dim()
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and nd == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if antialias and mode == "lanczos":
        raise NotImplementedError("ember: interpolate(mode='lanczos') is not implemented")
    expected = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}
    if nd not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", "area") and expected.get(mode) != nd:
        if nd in (3, 4, 5) and mode in ("linear", "bilinear", "trilinear"):
            raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {expected[mode]}D input")
        if mode == "lanczos" and nd == 4:
            raise ValueError("Lanczos mode requires antialias=True")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: "
                                  f"{_MODES} (got {mode})")
    _check_dtype(input, mode)
    if antialias and input.dtype in (_dtype.float16, _dtype.bfloat16):
        from ._functional_pool import refuse_dtype
        refuse_dtype(input, "compute_index_ranges_weights")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 3](input, out)
    if any(o <= 0 for o in out) or any(n <= 0 for n in input.shape[2:]):
        labels = ("D", "H", "W")[3 - len(out):]
        given = ", ".join(f"{k}: {v}" for k, v in zip(labels, input.shape[2:]))
        wanted = ", ".join(f"{k}: {v}" for k, v in zip(labels, out))
        joint = " and " if len(out) == 1 else " "
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({given}){joint}output "
                           f"({wanted})")
    if input.shape[1] == 0:
        raise RuntimeError(f"Non-empty {nd}D data tensor expected but got a tensor with sizes {list(input.shape)}")
    x = input
    for i, (o, scale) in enumerate(zip(out, scales)):
        if antialias:
            x = apply_matrix(x, 2 + i, _antialias_matrix(x, x.shape[2 + i], o, scale, mode, align_corners))
        else:
            x = _resample_dim(x, 2 + i, o, scale, mode, align_corners)
    return x


@runs_on_its_device
def _antialias_matrix(x, n, o, scale, mode, align_corners):
    """PyTorch's antialiased weights (its _compute_weights_aa): when shrinking, the filter (triangle, or
    Keys' cubic with a = -0.5) is stretched by the scale, so each output averages all the inputs under it;
    each row is normalized to sum 1."""
    xp = x._device.backend.xp
    ft = _opmath(x)
    step = _scale(xp, ft, n, o, scale, align_corners)
    interp = 2 if mode == "bilinear" else 4
    support = ft(interp * 0.5) * step if step >= 1 else ft(interp * 0.5)
    invscale = ft(1) / step if step >= 1 else ft(1)
    center = step * (xp.arange(o).astype(ft) + ft(0.5))
    lo = xp.maximum((center - support + ft(0.5)).astype(xp.int64), 0)
    hi = xp.minimum((center + support + ft(0.5)).astype(xp.int64), n)
    cols = xp.arange(n)[None, :]
    inside = (cols >= lo[:, None]) & (cols < hi[:, None])
    dist = xp.abs((cols.astype(ft) - center[:, None] + ft(0.5)) * invscale)
    if mode == "bilinear":
        w = xp.where(dist < 1, ft(1) - dist, ft(0))
    else:
        a = ft(-0.5)
        near = ((a + 2) * dist - (a + 3)) * dist * dist + 1
        far = ((a * dist - 5 * a) * dist + 8 * a) * dist - 4 * a
        w = xp.where(dist < 1, near, xp.where(dist < 2, far, ft(0)))
    w = (w * inside).astype(ft)
    total = w.sum(axis=1, keepdims=True)
    w = xp.where(total != 0, w / xp.where(total != 0, total, ft(1)), w)
    return _wrap(w.astype(x.dtype.np), x._device, x.dtype)


def _check_dtype(input, mode):
    """PyTorch's refusals: integer inputs only as uint8 for nearest and bicubic modes."""
    dt = input.dtype
    if dt.is_floating_point or mode == "area":
        return
    from ._functional_pool import refuse_dtype
    two_d = input.dim() == 4
    if dt is _dtype.uint8 and mode in ("nearest", "nearest-exact"):
        return
    if dt is _dtype.uint8 and mode == "bicubic":
        # NOTE: PyTorch resamples uint8 in fixed point (its own rounding); ember does not imitate it
        raise NotImplementedError("ember: interpolate(mode='bicubic') of a uint8 tensor is not implemented")
    if mode in ("nearest", "nearest-exact"):
        refuse_dtype(input, "upsample_nearest2d_channels_last" if two_d else "compute_indices_weights_nearest")
    if mode == "bilinear":
        refuse_dtype(input, "upsample_bilinear2d_channels_last")
    refuse_dtype(input, "compute_indices_weights_cubic" if mode == "bicubic" else "compute_indices_weights_linear")


def _opmath(x):
    """The numpy dtype PyTorch computes source positions in: double for float64, else float."""
    return x._device.backend.xp.float64 if x.dtype is _dtype.float64 else x._device.backend.xp.float32


def _scale(xp, ft, n, o, scale, align_corners):
    """area_pixel_compute_scale: the source step per output step."""
    if align_corners:
        return ft((n - 1) / (o - 1)) if o > 1 else ft(0)
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n) / ft(o)


def _index(x, xp, idx):
    return _wrap(idx.astype(xp.int64), x._device, _dtype.int64)


def _weights(x, dim, w):
    """w (length along dim) as a tensor of x's dtype shaped to broadcast along `dim`."""
    shape = [1] * x.dim()
    shape[dim] = w.shape[0]
    return _wrap(w.astype(x.dtype.np).reshape(shape), x._device, x.dtype)


@runs_on_its_device
def _resample_dim(x, dim, o, scale, mode, align_corners):
    n = x.shape[dim]
    xp = x._device.backend.xp
    ft = _opmath(x)
    if mode in ("nearest", "nearest-exact"):
        if o == n:
            return x
        dst = xp.arange(o, dtype=xp.int64)
        if mode == "nearest" and o == 2 * n:
            src = dst >> 1
        else:
            # NOTE: PyTorch computes nearest indices in float32 whatever the dtype
            s = xp.float32(1.0 / scale) if scale is not None and scale > 0 else xp.float32(n) / xp.float32(o)
            pos = dst.astype(xp.float32) + (xp.float32(0.5) if mode == "nearest-exact" else xp.float32(0))
            src = xp.minimum(xp.floor(pos * s).astype(xp.int64), n - 1)
        return SortedSelect.apply(x, dim, _index(x, xp, src))
    step = _scale(xp, ft, n, o, scale, align_corners)
    dst = xp.arange(o).astype(ft)
    cubic = mode == "bicubic"
    if align_corners:
        real = step * dst
    else:
        real = step * (dst + ft(0.5)) - ft(0.5)
        if not cubic:
            real = xp.maximum(real, ft(0))
    if not cubic:
        if o == n:
            return x
        i0 = real.astype(xp.int64)
        i1 = i0 + (i0 < n - 1)
        l1 = xp.minimum(xp.maximum(real - i0.astype(ft), ft(0)), ft(1))
        taps = [(i0, ft(1) - l1), (i1, l1)]
    else:
        floor = xp.floor(real)
        base = floor.astype(xp.int64)
        coeffs = cubic_coefficients(xp, real - floor, ft)
        taps = [(xp.minimum(xp.maximum(base - 1 + k, 0), n - 1), coeffs[k]) for k in range(4)]
    if n <= _DENSE_MAX and dim == x.dim() - 1:
        return apply_matrix(x, dim, _tap_matrix(x, taps, o, n))
    out = None
    for idx, w in taps:
        term = SortedSelect.apply(x, dim, _index(x, xp, idx)) * _weights(x, dim, w)
        out = term if out is None else out + term
    return out


@runs_on_its_device
def _tap_matrix(x, taps, o, n):
    """The (o, n) matrix of the taps' weights (taps that land on one source index add up)."""
    backend = x._device.backend
    xp = backend.xp
    mat = xp.zeros((o, n), dtype=taps[0][1].dtype)
    rows = xp.arange(o)
    for idx, w in taps:
        backend.add_at(mat, (rows, idx), w)
    return _wrap(mat.astype(x.dtype.np), x._device, x.dtype)


def cubic_coefficients(xp, t, ft):
    """PyTorch's four cubic-convolution weights (A = -0.75) for fractional offsets t (arrays)."""
    a = ft(_CUBIC_A)

    def conv1(v):
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def conv2(v):
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a
    one = ft(1)
    return [conv2(t + one), conv1(t), conv1(one - t), conv2(one - t + one)]


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (warns as PyTorch does)."""
    # NOTE: stacklevel 3: nn.functional's argument guard (_guards.checked_function) sits between the caller and here
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=3)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=3)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=3)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _interpolate_sample(g):
    mode = g.choice(["nearest", "nearest-exact", "bilinear", "bicubic", "area"])
    kw = dict(size=(g.integers(1, 7), g.integers(1, 7)), mode=mode)
    if mode in ("bilinear", "bicubic"):
        kw["align_corners"] = g.boolean()
        # NOTE: PyTorch 2.13's antialiased resize to width 1 repeats its first row (tests/nn/test_resample.py)
        kw["antialias"] = kw["size"][1] > 1 and g.boolean()
    return [g.values((g.integers(1, 2), g.integers(1, 3), g.integers(1, 5), g.integers(1, 5)))], kw


_spec(_OpSpec("nn.functional.interpolate", sample=_interpolate_sample, large=False,
              call=lambda torch, x, **kw: torch.nn.functional.interpolate(x, **kw)))
