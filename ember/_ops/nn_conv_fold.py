"""torch.nn.functional's unfold/fold (im2col/col2im) and pixel/channel shuffles.

NOTE: unfold and fold are one primitive each, the other's gradient: unfold is the convolution's
column matrix (one window view, one copy), fold its col2im scatter (a loop over kernel offsets).
"""
from ..autograd.function import Primitive
from . import nn_conv


class Im2Col(Primitive):
    """x (N, C, H, W) to its sliding blocks (N, C * kH * kW, L)."""
    inputs = 1
    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, kernel, geom, osize):
        ctx.x_shape, ctx.kernel, ctx.geom, ctx.osize = x.shape, kernel, geom, osize
        n, c = x.shape[:2]
        if not (n and c):
            return ctx.xp.zeros((n, c * kernel[0] * kernel[1], osize[0] * osize[1]), dtype=x.dtype)
        return nn_conv._columns(ctx.xp, x, kernel, osize, geom).reshape(n, c * kernel[0] * kernel[1], -1)

    @staticmethod
    def backward(ctx, g):
        return Col2Im.apply(g, ctx.x_shape, ctx.kernel, ctx.geom, ctx.osize)


class Col2Im(Primitive):
    """Sliding blocks (N, C * kH * kW, L) summed back into (N, C, H, W)."""
    inputs = 1
    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, x_shape, kernel, geom, osize):
        ctx.kernel, ctx.geom, ctx.osize = kernel, geom, osize
        n, c = x_shape[:2]
        cols = cols.reshape((n, c) + tuple(kernel) + tuple(osize))
        return nn_conv.col2im(ctx.xp, cols, x_shape, geom)

    @staticmethod
    def backward(ctx, g):
        return Im2Col.apply(g, ctx.kernel, ctx.geom, ctx.osize)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    raise NotImplementedError


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    raise NotImplementedError


def pixel_shuffle(input, upscale_factor):
    raise NotImplementedError


def pixel_unshuffle(input, downscale_factor):
    raise NotImplementedError


def channel_shuffle(input, groups):
    raise NotImplementedError


def native_channel_shuffle(input, groups):
    raise NotImplementedError
