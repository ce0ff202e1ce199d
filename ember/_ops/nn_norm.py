"""Primitives behind torch.nn.functional's normalisation layers (layer, batch, group norm).

NOTE: one primitive earns its place for all three: the statistics are computed once in forward
(float32 for half inputs, as PyTorch's kernels), mean and 1/std are saved, and backward is the
closed formula gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) instead of the
dozen nodes (and saved intermediates) a composition of mean/var/sqrt/div would record.

The three layers differ only in where their statistics live: `view` is the shape the input is
read as, `axes` the dims of that view the statistics reduce over, and `wshape` the shape
weight and bias take to broadcast against the input (None for layer norm: they already do).
"""
import math

from .. import _state
from ..autograd.function import Primitive, float32_backward


def _stats(xp, xv, axes, eps):
    """(mean, rstd, centred input, biased variance) of `xv` over `axes`, keepdims."""
    mean = xv.mean(axis=axes, keepdims=True)
    xc = xv - mean
    var = xp.square(xc).mean(axis=axes, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    return mean, rstd, xc, var


def _reduce_size(shape, axes):
    return math.prod(shape[a] for a in axes)


def _normalize(ctx, x, weight, bias, view, axes, wshape, eps, fixed=None):
    """The shared forward: (output, mean, biased var); saves what the needed gradients use.
    fixed: (mean, rstd) to use instead of the input's statistics (batch norm in eval mode)."""
    xp = ctx.xp
    xv = x.reshape(view)
    if fixed is None:
        mean, rstd, xc, var = _stats(xp, xv, axes, eps)
    else:
        (mean, rstd), var = fixed, None
        xc = xv - mean
    xc *= rstd
    y = xc.reshape(x.shape)
    if weight is not None:
        y *= weight if wshape is None else weight.reshape(wshape)
    if bias is not None:
        y += bias if wshape is None else bias.reshape(wshape)
    ctx.args = (view, axes, wshape, eps, fixed is not None)
    need = ctx.needs_input_grad
    if need[0] or need[1]:
        ctx.save_for_backward(x, weight if need[0] else None, mean, rstd)
    return y.astype(x.dtype, copy=False), mean, var


class _Normalize(Primitive):
    """(x - mean) * rstd * weight + bias, the statistics over `axes` of x read as `view`."""
    upcast = True
    inputs = 3

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, view=None, axes=None, wshape=None, eps=1e-5):
        return _normalize(ctx, x, weight, bias, view, axes, wshape, eps)[0]

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, weight, mean, rstd = ctx.saved_tensors or (None,) * 4
        view, axes, wshape, eps, fixed = ctx.args
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if x is not None:
            xv = x.reshape(view)
            if _state.local.grad_enabled and not fixed:
                # NOTE: create_graph: the statistics are recomputed as functions of x, so that the
                # second derivative sees their dependence on x (the saved ones are constants).
                mean = xv.mean(axes, keepdim=True)
                rstd = ((xv - mean).square().mean(axes, keepdim=True) + eps).rsqrt()
            xhat = (xv - mean) * rstd
            if need[1]:
                gw = g * xhat.reshape(x.shape)
                if wshape is not None:
                    gw = gw.sum(_other_axes(x.ndim))
            if need[0]:
                gxhat = g if weight is None else g * (weight if wshape is None else weight.reshape(wshape))
                gxhat = gxhat.reshape(view)
                if fixed:  # NOTE: eval mode: the statistics are constants
                    gx = gxhat * rstd
                else:
                    gx = rstd * (gxhat - gxhat.mean(axes, keepdim=True)
                                 - xhat * (gxhat * xhat).mean(axes, keepdim=True))
                gx = gx.reshape(x.shape)
        if need[2]:
            gb = g if wshape is None else g.sum(_other_axes(g.ndim))
        return gx, gw, gb


def _other_axes(ndim):
    """The dims of the input other than the channel dim (1), for per-channel weights."""
    return tuple(d for d in range(ndim) if d != 1)


class LayerNorm(_Normalize):
    node_name = "NativeLayerNormBackward0"


class BatchNorm(_Normalize):
    """Batch norm over (N, C, S) with per-channel statistics; in training, the running statistics
    (Tensors, or None) are updated in place: running = (1 - momentum) * running + momentum * batch,
    with the unbiased variance; in eval, they are the statistics."""
    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight=None, bias=None, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5):
        xp = ctx.xp
        n, c = x.shape[0], x.shape[1]
        view = (n, c, x.size // (n * c) if n * c else 0)
        wshape = (c,) + (1,) * (x.ndim - 2)
        if not training:
            mean = running_mean._data.astype(x.dtype).reshape(1, c, 1)
            rstd = 1.0 / xp.sqrt(running_var._data.astype(x.dtype).reshape(1, c, 1) + eps)
            return _normalize(ctx, x, weight, bias, view, (0, 2), wshape, eps, (mean, rstd))[0]
        y, mean, var = _normalize(ctx, x, weight, bias, view, (0, 2), wshape, eps)
        count = view[0] * view[2]
        # NOTE: PyTorch updates the buffers' storage without bumping their version counters.
        if running_mean is not None:
            rm = running_mean._data
            rm *= 1 - momentum
            rm += (momentum * mean.reshape(c)).astype(rm.dtype)
        if running_var is not None:
            rv = running_var._data
            unbiased = var.reshape(c) * (count / (count - 1) if count > 1 else float("inf"))
            rv *= 1 - momentum
            rv += (momentum * unbiased).astype(rv.dtype)
        return y


class GroupNorm(_Normalize):
    node_name = "NativeGroupNormBackward0"
