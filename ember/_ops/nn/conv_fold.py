"""torch.nn.functional's unfold/fold (im2col/col2im) and pixel/channel shuffles.

NOTE: unfold and fold are one primitive each, the other's gradient: unfold is the convolution's
column matrix (one window view, one copy), fold its col2im scatter (a loop over kernel offsets).
"""
import math

from ... import _dtype
from ...autograd.function import Primitive
from . import conv as nn_conv
from .._registry import OpSpec, spec


class Im2Col(Primitive):
    """x (N, C, H, W) (or unbatched (C, H, W)) to its sliding blocks (N, C * kH * kW, L)."""
    inputs = 1
    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, kernel, geom, osize):
        ctx.x_shape, ctx.kernel, ctx.geom, ctx.osize = x.shape, kernel, geom, osize
        unbatched = x.ndim == 3
        if unbatched:
            x = x[None]
        n, c = x.shape[:2]
        if not (n and c):
            out = ctx.xp.zeros((n, c * kernel[0] * kernel[1], osize[0] * osize[1]), dtype=x.dtype)
        else:
            cols = nn_conv._columns(ctx.xp, x, kernel, osize, geom).reshape(c * kernel[0] * kernel[1], n, -1)
            out = ctx.xp.ascontiguousarray(cols.swapaxes(0, 1))
        return out[0] if unbatched else out

    @staticmethod
    def backward(ctx, g):
        return Col2Im.apply(g, ctx.x_shape, ctx.kernel, ctx.geom, ctx.osize)


class Col2Im(Primitive):
    """Sliding blocks (N, C * kH * kW, L) (or unbatched (C * kH * kW, L)) summed back into (N, C, H, W)."""
    inputs = 1
    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, x_shape, kernel, geom, osize):
        ctx.kernel, ctx.geom, ctx.osize = kernel, geom, osize
        unbatched = len(x_shape) == 3
        if unbatched:
            cols, x_shape = cols[None], (1,) + tuple(x_shape)
        n, c = x_shape[:2]
        cols = cols.swapaxes(0, 1).reshape((c,) + tuple(kernel) + (n,) + tuple(osize))
        out = nn_conv.col2im(ctx.xp, cols, x_shape, geom)
        return out[0] if unbatched else out

    @staticmethod
    def backward(ctx, g):
        return Im2Col.apply(g, ctx.kernel, ctx.geom, ctx.osize)


def _regroup(xp, x, split, order, merged):
    """x (*B, C, H, W) with its last three dims split into `split`, permuted by `order` and merged into
    `merged`: one transposing copy."""
    batch = x.shape[:-3]
    nb = len(batch)
    y = x.reshape(batch + split).transpose(*range(nb), *(nb + i for i in order))
    return xp.ascontiguousarray(y).reshape(batch + merged)


class PixelShuffle(Primitive):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r): one transposing copy; its gradient is PixelUnshuffle."""
    inputs = 1
    node_name = "PixelShuffleBackward0"

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        c, h, w = x.shape[-3:]
        return _regroup(ctx.xp, x, (c // (r * r), r, r, h, w), (0, 3, 1, 4, 2), (c // (r * r), h * r, w * r))

    @staticmethod
    def backward(ctx, g):
        return PixelUnshuffle.apply(g, ctx.r)


class PixelUnshuffle(Primitive):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W): one transposing copy; its gradient is PixelShuffle."""
    inputs = 1
    node_name = "PixelUnshuffleBackward0"

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        c, h, w = x.shape[-3:]
        return _regroup(ctx.xp, x, (c, h // r, r, w // r, r), (0, 2, 4, 1, 3), (c * r * r, h // r, w // r))

    @staticmethod
    def backward(ctx, g):
        return PixelShuffle.apply(g, ctx.r)


class ChannelShuffle(Primitive):
    """(N, C, *) with its channels seen as (g, C / g) transposed to (C / g, g); its gradient is the
    shuffle with C / g groups."""
    inputs = 1
    node_name = "ChannelShuffleBackward0"

    @staticmethod
    def forward(ctx, x, groups):
        ctx.groups = groups
        n, c = x.shape[:2]
        y = x.reshape((n, groups, c // groups) + x.shape[2:]).swapaxes(1, 2)
        return ctx.xp.ascontiguousarray(y).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        return ChannelShuffle.apply(g, g.shape[1] // ctx.groups)


def _pair(value, name):
    if isinstance(value, int) or not hasattr(value, "__len__"):
        return (int(value), int(value))
    if len(value) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
    return tuple(int(v) for v in value)


def _check_geometry(kernel, dilation, padding, stride):
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                           f"kernel_width: {kernel[1]}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {stride[0]} "
                           f"stride_width: {stride[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")


def _check_float(input, kernel_name):
    if input.dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f'"{kernel_name}" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\'')


def _blocks(size, kernel, dilation, padding, stride):
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) input as columns: (N, C * kH * kW, L) (im2col)."""
    kernel, dilation = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    padding, stride = _pair(padding, "padding"), _pair(stride, "stride")
    _check_geometry(kernel, dilation, padding, stride)
    if input.dim() not in (3, 4) or any(s == 0 for s in input.shape[-3:]):
        if input.dim() < 3:
            input.size(2)  # NOTE: PyTorch's IndexError for a 2-d input comes from reading dim 2
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    _check_float(input, "im2col_out_cpu")
    osize = _blocks(input.shape[-2:], kernel, dilation, padding, stride)
    if min(osize) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(input.shape[-2:])}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding "
                           f"blocks as {osize}, but its components must be at least one.")
    return Im2Col.apply(input, kernel, (stride, padding, padding, dilation, 1), osize)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding local blocks (N, C * kH * kW, L) into a (N, C, *output_size) tensor (col2im)."""
    size, kernel = _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size")
    dilation, padding, stride = _pair(dilation, "dilation"), _pair(padding, "padding"), _pair(stride, "stride")
    _check_geometry(kernel, dilation, padding, stride)
    if input.dim() not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(input.shape)}")
    _check_float(input, "col2im_out_cpu")
    k = kernel[0] * kernel[1]
    if input.shape[-2] % k:
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={input.shape[-2]} and kernel_size={kernel}.")
    osize = _blocks(size, kernel, dilation, padding, stride)
    head = (f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, ")
    if min(osize) < 1:
        raise RuntimeError(head + f"calculated shape of the array of sliding blocks as {osize}, but its components "
                                  "must be at least one.")
    if input.shape[-1] != math.prod(osize):
        raise RuntimeError(head + "expected size of input's dimension 2 to match the calculated number of sliding "
                                  f"blocks {osize[0]} * {osize[1]} = {math.prod(osize)}, but got "
                                  f"input.size(2)={input.shape[-1]}.")
    x_shape = tuple(input.shape[:-2]) + (input.shape[-2] // k,) + size
    return Col2Im.apply(input, x_shape, kernel, (stride, padding, padding, dilation, 1), osize)


def pixel_shuffle(input, upscale_factor):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError("pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    return PixelShuffle.apply(input, r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError("pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    return PixelUnshuffle.apply(input, r)


def channel_shuffle(input, groups):
    """(N, C, *) with the channels regrouped: (g, C / g) -> (C / g, g)."""
    groups = int(groups)
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return ChannelShuffle.apply(input, groups)


def native_channel_shuffle(input, groups):
    """channel_shuffle (PyTorch's native kernel; here the same computation, and differentiable)."""
    return channel_shuffle(input, groups)


# === test specs (tests/ops/test_against_torch.py) =================================================
def _fold_geometry(g):
    kernel = (g.integers(1, 3), g.integers(1, 3))
    return dict(kernel_size=kernel, dilation=(g.integers(1, 2), g.integers(1, 2)),
                padding=(g.integers(0, 1), g.integers(0, 1)), stride=(g.integers(1, 2), g.integers(1, 2)))


def _fold_image_size(g, kw):
    """A spatial size at which the window `kw` fits at least once."""
    reach = [d * (k - 1) + 1 - 2 * p for d, k, p in zip(kw["dilation"], kw["kernel_size"], kw["padding"])]
    return tuple(g.integers(max(1, r), max(1, r) + 3) for r in reach)


def _unfold_sample(g):
    kw = _fold_geometry(g)
    size = _fold_image_size(g, kw)
    batch = (g.integers(0, 2),) if g.boolean() else ()
    return [g.values(batch + (g.integers(1, 2),) + size)], kw


def _fold_sample(g):
    kw = _fold_geometry(g)
    size = _fold_image_size(g, kw)
    blocks = math.prod(_blocks(size, kw["kernel_size"], kw["dilation"], kw["padding"], kw["stride"]))
    c = g.integers(1, 2) * kw["kernel_size"][0] * kw["kernel_size"][1]
    batch = (g.integers(1, 2),) if g.boolean() else ()
    return [g.values(batch + (c, blocks))], dict(kw, output_size=size)


def _shuffle_sample(name):
    def sample(g):
        r = g.integers(1, 2)
        # NOTE: no empty batch: PyTorch 2.13 pixel_(un)shuffle backward fails on one (its own shape bug)
        batch = tuple(g.integers(1, 2) for _ in range(g.integers(0, 1)))
        if name == "pixel_shuffle":
            shape = batch + (r * r * g.integers(1, 2), g.integers(1, 3), g.integers(1, 3))
        elif name == "pixel_unshuffle":
            shape = batch + (g.integers(1, 2), r * g.integers(1, 2), r * g.integers(1, 2))
        else:
            shape = (g.integers(0, 2), r * g.integers(1, 2), g.integers(1, 3))
        return [g.values(shape)], {"groups" if name == "channel_shuffle" else "factor": r}
    return sample


spec(OpSpec("nn.functional.unfold", sample=_unfold_sample, large=False,
            call=lambda torch, x, **kw: torch.nn.functional.unfold(x, **kw)),
     OpSpec("nn.functional.fold", sample=_fold_sample, large=False,
            call=lambda torch, x, **kw: torch.nn.functional.fold(x, **kw)),
     OpSpec("nn.functional.pixel_shuffle", sample=_shuffle_sample("pixel_shuffle"), large=False,
            call=lambda torch, x, factor: torch.nn.functional.pixel_shuffle(x, factor)),
     OpSpec("nn.functional.pixel_unshuffle", sample=_shuffle_sample("pixel_unshuffle"), large=False,
            call=lambda torch, x, factor: torch.nn.functional.pixel_unshuffle(x, factor)),
     OpSpec("nn.functional.channel_shuffle", sample=_shuffle_sample("channel_shuffle"), large=False,
            call=lambda torch, x, groups: torch.nn.functional.channel_shuffle(x, groups)))
