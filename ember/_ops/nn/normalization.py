"""Primitives behind torch.nn.functional's normalisation layers (layer, batch, instance, group norm),
and nn.CrossMapLRN2d's kernel.

NOTE: one primitive earns its place for all four: the statistics are computed once in forward
(float32 for half inputs, as PyTorch's kernels), mean and 1/std are saved, and backward is the
closed formula gx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) instead of the
dozen nodes (and saved intermediates) a composition of mean/var/sqrt/div would record.

The layers differ only in where their statistics live: `view` is the shape the input is
read as, `axes` the dims of that view the statistics reduce over, and `wshape` the shape
weight and bias take to broadcast against the input (None for layer norm: they already do).
"""
import math

from ... import _state
from ...autograd.function import Primitive, float32_backward, once_differentiable
from .._registry import OpSpec, spec


def _stats(xp, xv, axes, eps):
    """(mean, rstd, centred input, biased variance) of `xv` over `axes`, keepdims."""
    mean = xv.mean(axis=axes, keepdims=True)
    xc = xv - mean
    var = _mean_of_product(xp, xc, xc, axes)
    rstd = 1.0 / xp.sqrt(var + eps)
    return mean, rstd, xc, var


def _mean_of_product(xp, a, b, axes):
    """mean(a * b) over `axes` (keepdims), without the full-size product where the axis is last."""
    if axes == (a.ndim - 1,) and a.shape[-1]:
        # NOTE: a row-wise dot: one pass, no temporary the size of the input
        return (xp.einsum("...i,...i->...", a, b) / a.shape[-1])[..., None]
    return (a * b).mean(axis=axes, keepdims=True)


def _normalize(ctx, x, weight, bias, view, axes, wshape, eps, fixed=None):
    """The shared forward: (output, mean, biased var); saves what the needed gradients use.
    fixed: (mean, rstd) to use instead of the input's statistics (batch norm in eval mode)."""
    xp = ctx.xp
    xv = x.reshape(view)
    if wshape is not None and view[1] == x.shape[1]:
        y, mean, rstd, var = _normalize_per_channel(xp, xv, weight, bias, axes, eps, fixed)
        y = y.reshape(x.shape)
    else:
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


def _normalize_per_channel(xp, xv, weight, bias, axes, eps, fixed):
    """Batch/instance norm (statistics and affine both per channel, dim 1 of the view (N, C, S)):
    y = x * scale + shift with one per-channel scale, fewer full-size passes than normalise-then-affine."""
    if fixed is None:
        mean, rstd, xc, var = _stats(xp, xv, axes, eps)
    else:
        (mean, rstd), var = fixed, None
    scale = rstd if weight is None else rstd * weight.reshape(1, -1, 1)
    if fixed is None:
        xc *= scale
        y = xc
    else:
        y = xv * scale
        y -= mean * scale
    if bias is not None:
        y += bias.reshape(1, -1, 1)
    return y, mean, rstd, var


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
        if not _state.local.grad_enabled:
            return _backward_arrays(ctx, g, x, weight, mean, rstd)
        gx = gw = gb = None
        if x is not None:
            xv = x.reshape(view)
            if not fixed:
                # NOTE: create_graph (only then this path runs): the statistics are recomputed as functions of x, so that the
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


def _backward_arrays(ctx, g, x, weight, mean, rstd):
    """The same gradients as `backward`, on arrays (no create_graph).

    NOTE: few full-size temporaries (each new large array costs page faults as well as a pass):
    the weight's gradient is one einsum over the input read as (rows, C, cols), and the input's
    gradient is built in place in the buffer that held xhat."""
    xp = ctx.xp
    view, axes, wshape, eps, fixed = ctx.args
    need = ctx.needs_input_grad
    gd = g._data
    if wshape is None:  # layer norm: the affine dims are the trailing ones of `view`
        affine_shape = gd.shape[len(view) - 1:]
        as3d = (-1, 1, view[-1])
        spec_w = "ncs,ncs->s"
    else:  # a per-channel affine (dim 1)
        affine_shape = (gd.shape[1],)
        as3d = (gd.shape[0], gd.shape[1], -1)
        spec_w = "ncs,ncs->c"
    gx = gw = gb = None
    if x is not None:
        xhat = x._data.reshape(view) - mean._data
        xhat *= rstd._data
        if need[1]:
            gw = xp.einsum(spec_w, gd.reshape(as3d), xhat.reshape(as3d)).reshape(affine_shape)
        if need[0]:
            if weight is None:
                gxhat = gd.reshape(view)
            else:
                w = weight._data if wshape is None else weight._data.reshape(wshape)
                gxhat = (gd * w).reshape(view)
            if fixed:
                gx = gxhat * rstd._data
            else:
                gx = xhat
                gx *= _mean_of_product(xp, gxhat, xhat, axes)
                gx += gxhat.mean(axis=axes, keepdims=True)
                xp.subtract(gxhat, gx, out=gx)
                gx *= rstd._data
            gx = gx.reshape(gd.shape)
    if need[2]:
        gb = gd.reshape(as3d).sum(axis=(0, 2) if wshape is not None else (0, 1)).reshape(affine_shape)
    return tuple(None if a is None else _wrap_like(a, ctx) for a in (gx, gw, gb))


def _other_axes(ndim):
    """The dims of the input other than the channel dim (1), for per-channel weights."""
    return tuple(d for d in range(ndim) if d != 1)


class LayerNorm(_Normalize):
    node_name = "NativeLayerNormBackward0"
    batch_rule = ("layer_norm",)


class BatchNorm(_Normalize):
    """Batch norm over (N, C, S) with per-channel statistics; in training, the running statistics
    (Tensors, or None) are updated in place: running = (1 - momentum) * running + momentum * batch,
    with the unbiased variance; in eval, they are the statistics."""
    node_name = "NativeBatchNormBackward0"
    axes = (0, 2)

    @classmethod
    def forward(cls, ctx, x, weight=None, bias=None, running_mean=None, running_var=None, training=True,
                momentum=0.1, eps=1e-5):
        xp = ctx.xp
        n, c = x.shape[0], x.shape[1]
        view = (n, c, x.size // (n * c) if n * c else 0)
        wshape = (c,) + (1,) * (x.ndim - 2)
        if not training:
            mean = running_mean._data.astype(x.dtype).reshape(1, c, 1)
            rstd = 1.0 / xp.sqrt(running_var._data.astype(x.dtype).reshape(1, c, 1) + eps)
            return _normalize(ctx, x, weight, bias, view, (0, 2), wshape, eps, (mean, rstd))[0]
        y, mean, var = _normalize(ctx, x, weight, bias, view, cls.axes, wshape, eps)
        count = math.prod(view[a] for a in cls.axes)
        if not x.size:
            return y  # NOTE: an empty batch leaves the running statistics as they were
        # NOTE: instance norm's running statistics are the batch's average of the per-instance ones
        # (PyTorch repeats the buffers per instance, updates each, and averages them back).
        mean = mean.reshape(-1, c).mean(axis=0)
        var = var.reshape(-1, c).mean(axis=0)
        # NOTE: PyTorch updates the buffers' storage without bumping their version counters.
        if running_mean is not None:
            rm = running_mean._data
            rm *= 1 - momentum
            rm += (momentum * mean).astype(rm.dtype)
        if running_var is not None:
            rv = running_var._data
            unbiased = var * (count / (count - 1) if count > 1 else float("inf"))
            rv *= 1 - momentum
            rv += (momentum * unbiased).astype(rv.dtype)
        return y


class InstanceNorm(BatchNorm):
    """Instance norm: batch norm's statistics per (instance, channel)."""
    axes = (2,)


class GroupNorm(_Normalize):
    node_name = "NativeGroupNormBackward0"


class CrossMapLRN2d(Primitive):
    """nn.CrossMapLRN2d's legacy kernel, kept as PyTorch computes it.

    NOTE: PyTorch's forward slides its channel window with a quirk (channel 0 is never dropped
    from the running sum, so later windows grow), and its backward uses a fixed window of `size`
    channels; both are reproduced here, vectorised with cumulative sums over the channels."""
    inputs = 1
    node_name = "CrossMapLRN2dBackward"

    @staticmethod
    def forward(ctx, x, size=5, alpha=1e-4, beta=0.75, k=1.0):
        xp = ctx.xp
        c = x.shape[1]
        sq = x * x
        total = xp.cumsum(sq, axis=1)
        pre_pad = int((size - 1) / 2 + 1)
        idx = xp.arange(c)
        hi = xp.minimum(idx + pre_pad - 1, c - 1)
        lo = xp.maximum(idx - pre_pad + 1, 1)
        scale = sq[:, :1] + total[:, hi] - total[:, lo - 1]
        scale = scale * (alpha / size) + k
        out = x * scale ** -beta
        ctx.args = (size, alpha, beta)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, scale, out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, scale, out = (t._data for t in ctx.saved_tensors)
        size, alpha, beta = ctx.args
        xp = ctx.xp
        g = g._data
        c = x.shape[1]
        ratio = g * out / scale
        run = xp.concatenate([xp.zeros_like(ratio[:, :1]), xp.cumsum(ratio, axis=1)], axis=1)
        shift = int(size - (size - 1) / 2)
        idx = xp.arange(c)
        hi = xp.minimum(idx + size - 1 - shift, c - 1)
        lo = xp.maximum(idx - shift, 0)
        accum = run[:, hi + 1] - run[:, lo]
        gx = scale ** -beta * g - (2 * alpha * beta / size) * x * accum
        return _wrap_like(gx, ctx)


def _wrap_like(arr, ctx):
    from ..._tensor import _wrap
    from ... import _dtype
    return _wrap(arr, ctx.device, _dtype._BY_NP[arr.dtype])


# --- test specs: the generic comparison against PyTorch (tests/ops/test_against_torch.py) -------------
def _layer_norm_sample(g):
    shape = g.shape(min_dims=1, max_dims=3, min_side=1)
    k = g.integers(1, len(shape))
    norm = tuple(shape[-k:])
    if math.prod(norm) in (1, 2):
        # NOTE: two values normalise to -1, +1 and their gradient is cancellation (see _channels_sample); one value
        # normalises to 0, whose gradient is 0: ember gives 0, PyTorch float32 rounding noise times 1/sqrt(eps)
        shape, norm = shape + (3,), norm + (3,)
    affine = g.boolean()
    w = g.values(norm, domain=(0.5, 1.5)) if affine else None
    b = g.values(norm) if affine else None
    return [g.values(shape), w, b], {"normalized_shape": norm}


def _channels_sample(g, groups=False, instance=False):
    n, c = g.integers(1, 3), g.integers(1, 3) * (2 if groups else 1)
    shape = (n, c) + g.shape(min_dims=0 if groups else 1, max_dims=2, min_side=1, max_side=3)
    num_groups = g.choice([1, 2]) if groups else None
    if instance and math.prod(shape[2:]) < 3:
        shape = shape + (3,)
    if groups and c // num_groups * math.prod(shape[2:]) < 3:
        shape = shape + (3,)  # NOTE: a group of two values has the same cancellation as below
    if not groups and n * math.prod(shape[2:]) < 3:
        # NOTE: two values per channel normalise to exactly -1, +1: the input's gradient is then
        # zero but for eps's effect, a cancellation whose last bits no two formulas share
        shape = (3,) + shape[1:]
    affine = g.boolean()
    w = g.values((c,), domain=(0.5, 1.5)) if affine else None
    b = g.values((c,)) if affine else None
    x = g.values(shape)
    if not groups:
        # NOTE: PyTorch 2.13's CPU batch_norm backward is wrong for an input laid out channels-last
        # (e.g. strides (1, 1, 2, 2) on (1, 2, 1, 3)) with a contiguous gradient: it returns another
        # input gradient than for the same values contiguous; ember's (checked by gradcheck) does not
        # depend on the layout, so the comparison draws contiguous inputs.
        x = x.copy(order="C")
    return [x, w, b], ({"num_groups": num_groups} if groups else {})


def _call_F(name, **fixed):
    def call(torch, *xs, **kw):
        return getattr(torch.nn.functional, name)(*xs, **fixed, **kw)
    return call


def _layer_norm(torch, x, w, b, normalized_shape):
    return torch.nn.functional.layer_norm(x, normalized_shape, w, b)


def _group_norm(torch, x, w, b, num_groups):
    return torch.nn.functional.group_norm(x, num_groups, w, b)


def _batch_norm_train(torch, x, w, b):
    return torch.nn.functional.batch_norm(x, None, None, w, b, training=True)


def _instance_norm(torch, x, w, b):
    return torch.nn.functional.instance_norm(x, weight=w, bias=b)


# NOTE: float32 input gradients of a normalisation subtract nearly equal terms where a group's values are close
# (small variance, large 1/std): among thousands of rows a drawn sample has such a row, up to 4.5e-4 apart
# (PyTorch's value there showed the lost bits: 0.3314208984375 against ember's 0.33096913)
_NORM_TOL = {"rtol": {"float32": 5e-4}, "atol": {"float32": 1e-3}}
spec(OpSpec("nn.functional.layer_norm", sample=_layer_norm_sample, call=_layer_norm, **_NORM_TOL),
     OpSpec("nn.functional.group_norm", sample=lambda g: _channels_sample(g, True), call=_group_norm, **_NORM_TOL),
     OpSpec("nn.functional.batch_norm", sample=_channels_sample, call=_batch_norm_train, **_NORM_TOL),
     OpSpec("nn.functional.instance_norm", sample=lambda g: _channels_sample(g, instance=True), call=_instance_norm, **_NORM_TOL))
