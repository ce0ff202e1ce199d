"""quantile and nanquantile, composed of sort, gather and a linear blend (so no backward of their own)."""
from ... import _dtype
from ..._tensor import Tensor, _wrap, norm_dim
from .._registry import OpSpec, public, spec, write_out
from .sort import Sort

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _check(input, q, interpolation, name):
    if input._dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._dtype is not input._dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qs = q._data
        # NOTE: PyTorch checks q only on the CPU (Sorting.cpp: "to avoid synchronizing an accelerator"): deferred
        input._device.backend.check(((qs < 0) | (qs > 1)).any(),
                                    lambda: RuntimeError(f"{name}() q values must be in the range [0, 1]"))
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qs = input._device.backend.xp.asarray(q, dtype=input._dtype.np)
    if interpolation not in _MODES:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    return qs


def _ranks(xp, qs, sorted_data, ignore_nan):
    """Fractional positions (..., nq) in the sorted last axis, as torch computes them, and their
    derivative with respect to q."""
    n = sorted_data.shape[-1]
    nan = sorted_data != sorted_data
    q = qs.reshape(-1)
    if ignore_nan:
        scale = (n - xp.sum(nan, axis=-1, keepdims=True) - 1).astype(qs.dtype)
        ranks = q * scale
        scale = xp.where(ranks < 0, 0, scale)
        return xp.maximum(ranks, 0), scale
    shape = sorted_data.shape[:-1] + (q.size,)
    any_nan = xp.any(nan, axis=-1, keepdims=True)
    # NOTE: a row holding NaN points at its last entry, a NaN (sort puts NaN last).
    ranks = xp.where(any_nan, qs.dtype.type(n - 1), xp.broadcast_to(q * qs.dtype.type(n - 1), shape))
    return ranks, xp.where(any_nan, 0, xp.full(shape, n - 1, qs.dtype))


def _blend(sorted_t, ranks, interpolation, q, scale):
    """Values at `ranks` along the last dim, interpolated as asked (differentiable in the values)."""
    xp = sorted_t._device.backend.xp
    dev, dt = sorted_t._device, sorted_t._dtype
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # NOTE: half to even, as torch rounds
    below = xp.floor(ranks).astype(xp.int64)
    lo = sorted_t.gather(-1, _wrap(below, dev, _dtype.int64))
    if interpolation in ("lower", "higher", "nearest"):
        return lo
    weight = xp.full(ranks.shape, 0.5, dt.np) if interpolation == "midpoint" else (ranks - below).astype(dt.np)
    hi = sorted_t.gather(-1, _wrap(xp.ceil(ranks).astype(xp.int64), dev, _dtype.int64))
    weight = _wrap(weight, dev, dt)
    values = lo + (hi - lo) * weight
    if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
        # NOTE: torch's weight is q * (n - 1) - floor(...), so q gets a gradient; adding a zero that
        # carries d(rank)/dq gives the same. Where the rank does not move with q (a row of NaNs for
        # nanquantile, scale 0) q's gradient is 0, as torch's, not NaN * 0.
        spread = (hi - lo).masked_fill(_wrap(xp.broadcast_to(scale == 0, ranks.shape), dev, _dtype.bool), 0)
        values = values + spread * (q.reshape(-1) - q.detach().reshape(-1)) * _wrap(scale, dev, dt)
    return values


def _quantile(input, q, dim, keepdim, interpolation, name, ignore_nan):
    qs = _check(input, q, interpolation, name)
    xp = input._device.backend.xp
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else norm_dim(dim, input.dim())
    if x.dim() == 0:
        x = x.reshape(1)
    sorted_t = Sort.apply(x, d, False)[0].movedim(d, -1)
    ranks, scale = _ranks(xp, qs, sorted_t._data, ignore_nan)
    values = _blend(sorted_t, ranks, interpolation, q, scale)
    values = values.movedim(-1, 0)  # (nq, *kept dims)
    if keepdim:
        if dim is None:
            values = values.reshape((values.shape[0],) + (1,) * input.dim())
        elif input.dim():
            values = values.unsqueeze(d + 1)
    if not isinstance(q, Tensor) or q.dim() == 0:
        values = values.squeeze(0)
    return values


def _public_quantile(name, ignore_nan):
    def fn(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
        result = _quantile(input, q, dim, keepdim, interpolation, name, ignore_nan)
        return result if out is None else write_out(out, result, name)
    fn.__name__ = name
    fn.__doc__ = (f"The q-th quantiles over `dim` (flattened if None){', ignoring NaN' if ignore_nan else ''}; "
                  "q is a number or a 1-D tensor.")
    return public(fn, method=True)


quantile = _public_quantile("quantile", False)
nanquantile = _public_quantile("nanquantile", True)


def _sample(g, nan=False):
    shape = g.shape(min_dims=1, max_dims=3, min_side=1)
    x = g.values(shape)
    if nan:
        x[x > 1.5] = float("nan")
    kw = {"interpolation": g.choice(_MODES)}
    if g.boolean():
        kw["dim"] = g.dim(len(shape))
        kw["keepdim"] = g.boolean()
    q = g.values((g.integers(1, 3),), domain=(0, 1)) if g.boolean() else round(g.rng.uniform(0, 1), 3)
    return (x, q), kw


spec(OpSpec("quantile", sample=_sample),
     OpSpec("nanquantile", sample=lambda g: _sample(g, nan=True)))
