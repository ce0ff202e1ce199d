"""Primitives behind max and average pooling (1d/2d/3d); the public functions are composed in
ember/nn/_functional_pool.py.

Every primitive here sees its input as (B, *spatial): batch and channels merged into one leading
dim, and `nd` spatial dims. Windows are strided views of one padded copy of the input; the loops
below run over kernel offsets only (a few passes over the output), never over output positions.

NOTE: max pooling earns a primitive for speed (one pass per kernel offset, no window copy) and for
PyTorch's indices; its backward is a scatter_add of the gradient at those indices, in Tensor ops,
so it is differentiable again. Average pooling is a linear map: AvgPool and AvgPoolTranspose are
each other's backward.
"""
import itertools

from ...autograd.function import Primitive, float32_backward
from .._registry import OpSpec, spec


def out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length along one dim (pooling_output_shape)."""
    span = size + 2 * p - d * (k - 1) - 1
    n = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= size + p:  # NOTE: the last window must start inside the input or left pad
        n -= 1
    return n


def _padded(xp, x, pads, extents, fill):
    """x (B, *spatial) inside a new array filled with `fill`: `pads` before each dim, room for `extents`."""
    shape = [x.shape[0]] + [max(e, p + n) for e, p, n in zip(extents, pads, x.shape[1:])]
    if not any(pads) and tuple(shape) == tuple(x.shape):
        return x
    out = xp.full(shape, fill, dtype=x.dtype)
    out[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(pads, x.shape[1:]))] = x
    return out


def _offset_views(xp, padded, outs, strides, dilations, kernel):
    """For each kernel offset (row-major), the strided slice of `padded` its windows read: (B, *outs)."""
    for offs in itertools.product(*(range(k) for k in kernel)):
        key = (slice(None),) + tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                                     for o, d, n, s in zip(offs, dilations, outs, strides))
        yield offs, key


def _extents(outs, strides, dilations, kernel):
    return [(n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(outs, strides, dilations, kernel)]


def _fill_value(xp, dtype):
    if dtype.kind == "f" or dtype.kind == "V":
        return -float("inf")
    if dtype.kind == "b":
        return False
    return xp.iinfo(dtype).min


class MaxPool(Primitive):
    """(values, flat indices into each plane) of a max pool over x (B, *spatial)."""
    batch_rule = ("leading",)
    node_name = "MaxPoolWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        xp = ctx.xp
        nd = len(kernel)
        lead, spatial = x.shape[:-nd], x.shape[-nd:]
        x = x.reshape((-1,) + spatial)
        outs = [out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)]
        padded = _padded(xp, x, padding, _extents(outs, stride, dilation, kernel), _fill_value(xp, x.dtype))
        views = [padded[key] for offs, key in _offset_views(xp, padded, outs, stride, dilation, kernel)]
        # NOTE: NaN-aware passes cost twice as much; they run only when the input holds a NaN
        nan_aware = x.dtype.kind in "fV" and (not ctx.device.backend.cheap_reads or bool(xp.isnan(x).any()))
        best, arg = _running_max(xp, views, nan_aware)
        # NOTE: a window whose values are all -inf (or padding) reports its first in-bounds element, as PyTorch.
        first = _first_valid(xp, outs, stride, padding, dilation, kernel)
        if first is not None:
            arg = xp.where(best == _fill_value(xp, x.dtype), first, arg)
        # flat plane index = sum_i (o_i * s_i - p_i + k_i * d_i) * plane_stride_i
        plane_strides = [1] * nd
        for i in range(nd - 2, -1, -1):
            plane_strides[i] = plane_strides[i + 1] * spatial[i + 1]
        base = 0
        for i in range(nd):
            shape = [1] * nd
            shape[i] = outs[i]
            pos = (xp.arange(outs[i], dtype=xp.int64) * stride[i] - padding[i]) * plane_strides[i]
            base = base + pos.reshape(shape)
        offset_table = xp.asarray([sum(o * d * ps for o, d, ps in zip(offs, dilation, plane_strides))
                                   for offs in _prod(kernel)], dtype=xp.int64)
        indices = (base + offset_table[arg.astype(xp.int64)]).reshape(lead + tuple(outs))
        ctx.in_shape, ctx.nd = lead + spatial, nd
        ctx.save_for_backward(indices)
        return best.reshape(lead + tuple(outs)), indices

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        lead = ctx.in_shape[:len(ctx.in_shape) - ctx.nd]
        plane = 1
        for n in ctx.in_shape[len(lead):]:
            plane *= n
        b = 1
        for n in lead:
            b *= n
        flat = g.new_zeros((b, plane)).scatter_add(1, idx.reshape(b, -1), g.reshape(b, -1))
        return flat.reshape(ctx.in_shape)


def _running_max(xp, views, nan_aware):
    """(max, number of the view holding it) over same-shaped views, PyTorch's way: a later value
    replaces the maximum when `val > maxval || isnan(val)` (the first maximum wins, NaN propagates)."""
    best = views[0].copy()
    arg_dtype = xp.int8 if len(views) < 2 ** 7 else xp.int16 if len(views) < 2 ** 15 else xp.int64
    if not nan_aware:
        # NOTE: plain maximum passes, then the first view equal to it. Masked writes (where, copyto) cost
        # 10-30x a branch-free update `arg += eq * (number - arg)` on small integers.
        for v in views[1:]:
            xp.maximum(best, v, out=best)
        arg = xp.zeros(best.shape, dtype=arg_dtype)
        eq = xp.empty(best.shape, dtype=bool)
        step = xp.empty(best.shape, dtype=arg_dtype)
        for number in range(len(views) - 1, 0, -1):
            xp.equal(views[number], best, out=eq)
            xp.subtract(arg_dtype(number), arg, out=step)
            xp.multiply(step, eq, out=step)
            arg += step
        xp.equal(views[0], best, out=eq)
        xp.multiply(arg, ~eq, out=arg)
        return best, arg
    arg = xp.zeros(best.shape, dtype=arg_dtype)
    better = xp.empty(best.shape, dtype=bool)
    for number in range(1, len(views)):
        v = views[number]
        xp.greater(v, best, out=better)
        better |= xp.isnan(v)
        xp.copyto(best, v, where=better)
        xp.copyto(arg, number, where=better)
    return best, arg


def _prod(kernel):
    return itertools.product(*(range(k) for k in kernel))


def _first_valid(xp, outs, stride, padding, dilation, kernel):
    """The kernel-offset number of each window's first in-bounds element, or None if no window starts
    in the padding (then it is offset 0 everywhere)."""
    if not any(padding):
        return None
    number = 0
    nd = len(outs)
    for i in range(nd):
        start = xp.arange(outs[i], dtype=xp.int64) * stride[i] - padding[i]
        skip = xp.where(start < 0, (-start + dilation[i] - 1) // dilation[i], 0)
        shape = [1] * nd
        shape[i] = outs[i]
        number = number * kernel[i] + skip.reshape(shape)
    return number


# --- average pooling: a linear map and its transpose ----------------------------------------------------
def avg_divisor(xp, spatial, outs, kernel, stride, padding, count_include_pad, divisor_override):
    """The divisor of each output position (broadcastable to (B, *outs)), as PyTorch's kernels count it."""
    if divisor_override:
        return divisor_override
    nd = len(spatial)
    div = 1
    for i in range(nd):
        start = xp.arange(outs[i], dtype=xp.int64) * stride[i] - padding[i]
        end = xp.minimum(start + kernel[i], spatial[i] + padding[i])
        if count_include_pad:
            count = end - start
        else:
            count = xp.minimum(end, spatial[i]) - xp.maximum(start, 0)
        shape = [1] * nd
        shape[i] = outs[i]
        div = div * count.reshape(shape)
    return div


def _window_sums(xp, padded, outs, stride, kernel):
    """The sum of each window of padded (B, *spatial) (dilation 1)."""
    nd = len(kernel)
    if tuple(stride) == tuple(kernel) and all(o * k <= n for o, k, n in zip(outs, kernel, padded.shape[1:])):
        # NOTE: windows that tile the input: reductions of a reshaped view (big kernels, global pooling)
        crop = padded[(slice(None),) + tuple(slice(0, o * k) for o, k in zip(outs, kernel))]
        b = crop.shape[0]
        if all(o == 1 for o in outs):
            return crop.reshape(b, -1).sum(axis=1, dtype=padded.dtype).reshape((b,) + (1,) * nd)
        total = crop.reshape((b,) + tuple(v for o, k in zip(outs, kernel) for v in (o, k)))
        for i in reversed(range(nd)):  # NOTE: slice additions; NumPy's sum over small middle axes is 4x slower
            axis = 2 + 2 * i
            lead = (slice(None),) * axis
            acc = total[lead + (0,)].copy()
            for j in range(1, kernel[i]):
                acc += total[lead + (j,)]
            total = acc
        return total
    total = None
    for offs, key in _offset_views(xp, padded, outs, stride, (1,) * nd, kernel):
        if total is None:
            total = padded[key].copy()
        else:
            total += padded[key]
    return total


def _padded_window_sums(xp, x, kernel, stride, padding, outs):
    """The sum of each window of x (B, *spatial) zero-padded by `padding`, for output sizes `outs`."""
    ones = (1,) * len(kernel)
    padded = _padded(xp, x, padding, _extents(outs, stride, ones, kernel), 0)
    return _window_sums(xp, padded, outs, stride, kernel)


def _divide(xp, total, div, dtype):
    if dtype.kind in "iub":
        # NOTE: PyTorch's integer average is C++ integer division (truncates toward zero)
        q = xp.abs(total) // div
        return xp.where(total < 0, -q, q).astype(dtype, copy=False)
    return (total / _as(div, total)).astype(dtype, copy=False)


def _as(div, like):
    """The divisor in `like`'s float type (an int64 array would make the quotient float64)."""
    return div.astype(like.dtype) if hasattr(div, "astype") else div


class AvgPool(Primitive):
    """Average of each window of x (B, *spatial); zero padding; PyTorch's divisors."""
    batch_rule = ("leading",)
    upcast = True
    node_name = "AvgPoolBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        xp = ctx.xp
        lead, spatial = x.shape[:-len(kernel)], x.shape[-len(kernel):]
        x = x.reshape((-1,) + spatial)
        outs = [out_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(spatial, kernel, stride, padding)]
        acc_dtype = xp.int64 if x.dtype.kind in "iub" else x.dtype
        total = _padded_window_sums(xp, x.astype(acc_dtype, copy=False), kernel, stride, padding, outs)
        div = avg_divisor(xp, spatial, outs, kernel, stride, padding, count_include_pad, divisor_override)
        ctx.args = (tuple(spatial), tuple(outs), kernel, stride, padding, div)
        return _divide(xp, total, div, x.dtype).reshape(lead + tuple(outs))

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        return AvgPoolTranspose.apply(g, *ctx.args)


class AvgPoolTranspose(Primitive):
    """The transpose of AvgPool: each output's share spread back over its window (AvgPool's gradient)."""
    upcast = True
    node_name = "AvgPoolBackwardBackward0"

    @staticmethod
    def forward(ctx, g, spatial, outs, kernel, stride, padding, div):
        xp = ctx.xp
        lead = g.shape[:-len(kernel)]
        g = g.reshape((-1,) + g.shape[len(lead):])
        ones = (1,) * len(spatial)
        share = g / _as(div, g)
        extents = [max(e, p + n) for e, p, n in zip(_extents(outs, stride, ones, kernel), padding, spatial)]
        grad = xp.zeros((g.shape[0], *extents), dtype=share.dtype)
        if tuple(stride) == tuple(kernel) and not any(padding):
            # NOTE: windows that tile the input: one broadcast write (big kernels, global pooling)
            tiled = share.reshape((share.shape[0],) + tuple(v for o in outs for v in (o, 1)))
            tiled = xp.broadcast_to(tiled, (share.shape[0],) + tuple(v for o, k in zip(outs, kernel) for v in (o, k)))
            grad[(slice(None),) + tuple(slice(0, o * k) for o, k in zip(outs, kernel))] = tiled.reshape(
                (share.shape[0],) + tuple(o * k for o, k in zip(outs, kernel)))
        else:
            for offs, key in _offset_views(xp, grad, outs, stride, ones, kernel):
                grad[key] += share
        crop = (slice(None),) + tuple(slice(p, p + n) for p, n in zip(padding, spatial))
        ctx.args = (kernel, stride, padding, div, tuple(outs))
        return grad[crop].astype(g.dtype, copy=False).reshape(lead + tuple(spatial))

    @staticmethod
    @float32_backward
    def backward(ctx, gg):
        # NOTE: the transpose of the transpose; ceil_mode is already in the saved output sizes
        return _AvgPoolFixed.apply(gg, *ctx.args)


class _AvgPoolFixed(Primitive):
    """AvgPool with a given divisor and output shape (AvgPoolTranspose's gradient)."""
    upcast = True

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, div, outs):
        lead, spatial = x.shape[:-len(kernel)], x.shape[-len(kernel):]
        x = x.reshape((-1,) + spatial)
        total = _padded_window_sums(ctx.xp, x, kernel, stride, padding, outs)
        ctx.args = (tuple(spatial), tuple(outs), kernel, stride, padding, div)
        return (total / _as(div, total)).astype(x.dtype, copy=False).reshape(lead + tuple(outs))

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        return AvgPoolTranspose.apply(g, *ctx.args)


# NOTE: one class per rank, for PyTorch's node names (MaxPool2DWithIndicesBackward0, AvgPool2DBackward0)
MAX_POOL = {nd: type(f"MaxPool{nd}d", (MaxPool,), {"node_name": f"MaxPool{nd}DWithIndicesBackward0"})
            for nd in (1, 2, 3)}
AVG_POOL = {nd: type(f"AvgPool{nd}d", (AvgPool,), {"node_name": f"AvgPool{nd}DBackward0"}) for nd in (1, 2, 3)}


# --- specs for the generic tests (tests/ops): drawn sizes and options, compared with PyTorch -------------
def _pool_sample(with_count=False):
    def sample(g):
        n, c = g.integers(1, 2), g.integers(1, 3)
        h, w = g.integers(1, 6), g.integers(1, 6)
        k = g.integers(1, min(h, w, 3))
        kw = dict(kernel_size=k, stride=g.integers(1, 3), padding=g.integers(0, k // 2), ceil_mode=g.boolean())
        if with_count:
            kw["count_include_pad"] = g.boolean()
        return [g.values((n, c, h, w))], kw
    return sample


def _adaptive_sample(g):
    return [g.values((g.integers(1, 2), g.integers(1, 3), g.integers(1, 7), g.integers(1, 7)))], \
        dict(output_size=(g.integers(1, 4), g.integers(1, 4)))


spec(OpSpec("nn.functional.max_pool2d", sample=_pool_sample(), large=False,
            call=lambda torch, x, **kw: torch.nn.functional.max_pool2d(x, **kw)),
     OpSpec("nn.functional.avg_pool2d", sample=_pool_sample(True), large=False,
            call=lambda torch, x, **kw: torch.nn.functional.avg_pool2d(x, **kw)),
     OpSpec("nn.functional.adaptive_avg_pool2d", sample=_adaptive_sample, large=False,
            call=lambda torch, x, **kw: torch.nn.functional.adaptive_avg_pool2d(x, **kw)),
     OpSpec("nn.functional.adaptive_max_pool2d", sample=_adaptive_sample, large=False,
            call=lambda torch, x, **kw: torch.nn.functional.adaptive_max_pool2d(x, **kw)))
