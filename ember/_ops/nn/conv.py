"""The convolution primitives behind torch.nn.functional's conv{1,2,3}d and conv_transpose{1,2,3}d.

NOTE: three primitives, each the others' gradient, as PyTorch's convolution_backward is built:
- Convolution(x, w, b): im2col through one strided window view (no copy until the one that feeds
  the GEMM), then ONE matmul, batched over the groups only.
- ConvInputGrad(g, w): the data gradient of a convolution, i.e. conv_transpose: at stride 1 a full
  correlation (the forward with the flipped kernel); otherwise one matmul to columns, then col2im
  by a loop over the kernel offsets (kh * kw strided adds).
- ConvWeightGrad(x, g): the weight gradient: one matmul against the same columns.
Each backward is written with the other two, so gradients of gradients are exact (create_graph works).

`geom` (a hashable tuple) is (stride, pad_lo, pad_hi, dilation, groups), each per spatial dim;
padding may be asymmetric (padding='same' with an even kernel pads more on the high side, as PyTorch).
"""
import itertools
import math

from ...autograd.function import Primitive
from .._registry import OpSpec, spec
from .._strides import restride


def out_size(in_size, kernel, geom):
    """The spatial output size of a convolution of `in_size` with `kernel` under `geom`."""
    stride, lo, hi, dilation, _ = geom
    return tuple((s + a + b - d * (k - 1) - 1) // st + 1
                 for s, k, st, a, b, d in zip(in_size, kernel, stride, lo, hi, dilation))


def _padded(xp, x, lo, hi):
    """x (N, C, *S) with zeros around its spatial dims (a contiguous array)."""
    if not any(lo) and not any(hi):
        return xp.ascontiguousarray(x)
    shape = x.shape[:2] + tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
    out = xp.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in zip(lo, x.shape[2:]))] = x
    return out


def _columns(xp, x, kernel, osize, geom):
    """The im2col matrix of x: (G, Cg * prod(kernel), N * prod(osize)), one copy of a window view.

    NOTE: channels first and the batch inside the columns, so that each product below is ONE GEMM
    per group over the whole batch (many small per-image GEMMs cost far more on small images)."""
    stride, lo, hi, dilation, groups = geom
    xpad = _padded(xp, x, lo, hi)
    n, c = xpad.shape[:2]
    cg = c // groups
    sn, sc = xpad.strides[:2]
    ss = xpad.strides[2:]
    shape = (groups, cg) + tuple(kernel) + (n,) + tuple(osize)
    strides = ((cg * sc, sc) + tuple(d * s for d, s in zip(dilation, ss)) + (sn,)
               + tuple(st * s for st, s in zip(stride, ss)))
    view = restride(xp, xpad, shape, strides)
    return xp.ascontiguousarray(view).reshape(groups, cg * math.prod(kernel), n * math.prod(osize))


def _batch_first(xp, out, n, osize, bias=None):
    """(G, Og, N * P) GEMM results as a contiguous (N, G * Og, *osize) array (plus bias), in one pass."""
    cout = out.shape[0] * out.shape[1]
    out = out.reshape(cout, n, -1).swapaxes(0, 1)
    result = xp.empty((n, cout, out.shape[2]), dtype=out.dtype)
    if bias is None:
        result[...] = out
    else:
        xp.add(out, bias.reshape(cout, 1), out=result)
    return result.reshape((n, cout) + tuple(osize))


def _channels_first(xp, g, groups):
    """g (N, O, *P) as (G, O / G, N * P), a copy."""
    n, o = g.shape[:2]
    gm = g.reshape(n, groups, o // groups, -1).transpose(1, 2, 0, 3)
    return xp.ascontiguousarray(gm).reshape(groups, o // groups, -1)


def col2im(xp, cols, x_shape, geom):
    """The sum of the windows `cols` (C, *K, N, *O) back into an array of `x_shape` (N, C, *S): each
    kernel offset adds its strided slice (a loop over the kernel offsets only), into a channels-first
    buffer laid out as the columns are; one transposing copy at the end."""
    stride, lo, hi, dilation, _ = geom
    nd = len(x_shape) - 2
    kernel, osize = cols.shape[1:1 + nd], cols.shape[2 + nd:]
    n, c = x_shape[:2]
    padded = (c, n) + tuple(s + a + b for s, a, b in zip(x_shape[2:], lo, hi))
    dx = xp.zeros(padded, dtype=cols.dtype)
    for offset in itertools.product(*(range(k) for k in kernel)):
        window = tuple(slice(i * d, i * d + st * (p - 1) + 1, st)
                       for i, d, st, p in zip(offset, dilation, stride, osize))
        dx[(slice(None), slice(None)) + window] += cols[(slice(None),) + offset]
    crop = tuple(slice(a, a + s) for a, s in zip(lo, x_shape[2:]))
    return xp.ascontiguousarray(dx[(slice(None), slice(None)) + crop].swapaxes(0, 1))


# NOTE: the columns are not kept from forward for the weight gradient (that would save one im2col copy
# per convolution): they are K times the input, and a ResNet-style step then held 4.4x PyTorch's peak
# memory (bench/layers.py). Backward rebuilds them.
# NOTE: past this size the column matrix is built for a slice of the batch at a time (a loop over
# batch chunks, never per image), so the transient im2col buffer stays bounded: 16 MiB measured
# 1.2x PyTorch's peak memory on the ResNet-style step at the same speed as unchunked (64 MiB: 1.6x).
CHUNK_COLUMNS_BYTES = 16 * 2 ** 20


def _chunk(n, kernel, channels, osize, itemsize):
    """How many images' columns fit in CHUNK_COLUMNS_BYTES (n when all of them do)."""
    per_image = channels * math.prod(kernel) * math.prod(osize) * itemsize
    return max(1, min(n, CHUNK_COLUMNS_BYTES // max(per_image, 1)))


def _conv_arrays(xp, x, w, geom, osize, bias=None):
    """The convolution of arrays x and w (plus bias): (N, O, *osize)."""
    groups = geom[4]
    n, cout = x.shape[0], w.shape[0]
    if not (n and cout and x.shape[1] and math.prod(osize)):
        out = xp.zeros((n, cout) + tuple(osize), dtype=x.dtype)
        if bias is not None:
            out += bias.reshape((cout,) + (1,) * len(osize))
        return out
    step = _chunk(n, w.shape[2:], x.shape[1], osize, x.itemsize)
    if step < n:
        out = xp.empty((n, cout) + tuple(osize), dtype=x.dtype)
        for i in range(0, n, step):
            out[i:i + step] = _conv_arrays(xp, x[i:i + step], w, geom, osize, bias)
        return out
    cols = _columns(xp, x, w.shape[2:], osize, geom)
    wm = w.reshape(groups, cout // groups, -1)
    return _batch_first(xp, xp.matmul(wm, cols), n, osize, bias)


def _flipped_transpose(xp, w, groups):
    """w (O, Cg, *K) as the weight of the full correlation that gives a stride-1 conv's input
    gradient: (C, O / groups, *K), kernel reversed in every spatial dim."""
    o, cg = w.shape[:2]
    kernel = w.shape[2:]
    wt = w.reshape((groups, o // groups, cg) + kernel).swapaxes(1, 2).reshape((groups * cg, o // groups) + kernel)
    return xp.ascontiguousarray(wt[(slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)])


def _input_grad_arrays(xp, g, w, x_shape, geom):
    """The gradient of a convolution for its input (i.e. conv_transpose) on arrays."""
    stride, lo, hi, dilation, groups = geom
    kernel, osize = w.shape[2:], g.shape[2:]
    n, c = x_shape[:2]
    if not (n and c and w.shape[0] and math.prod(osize)):
        return xp.zeros(x_shape, dtype=g.dtype)
    reach = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
    # NOTE: stride 1: the input gradient is also the full correlation of g with the flipped kernel:
    # an im2col of g (O * K * N * S elements, a contiguous copy) where col2im writes C * K * N * P
    # columns and then scatter-adds them (strided, about twice as slow per element, measured). The
    # high side pads g up to the input's size (output_padding adds positions no window reaches).
    full_lo = tuple(r - a for r, a in zip(reach, lo))
    full_hi = tuple(s - p + a for s, p, a in zip(x_shape[2:], osize, lo))
    cheaper = w.shape[0] * math.prod(x_shape[2:]) <= 2 * c * math.prod(osize)
    if cheaper and all(s == 1 for s in stride) and min(full_lo) >= 0 and min(full_hi) >= 0:
        full = (stride, full_lo, full_hi, dilation, groups)
        return _conv_arrays(xp, g, _flipped_transpose(xp, w, groups), full, tuple(x_shape[2:]))
    step = _chunk(n, kernel, c, osize, g.itemsize)
    if step < n:
        dx = xp.empty(x_shape, dtype=g.dtype)
        for i in range(0, n, step):
            part = g[i:i + step]
            dx[i:i + step] = _input_grad_arrays(xp, part, w, (part.shape[0],) + tuple(x_shape[1:]), geom)
        return dx
    wm = w.reshape(groups, w.shape[0] // groups, -1)
    cols = xp.matmul(wm.swapaxes(-1, -2), _channels_first(xp, g, groups))  # (G, Cg*K, N*P)
    return col2im(xp, cols.reshape((c,) + tuple(kernel) + (n,) + tuple(osize)), x_shape, geom)


def _weight_grad_arrays(xp, x, g, w_shape, geom):
    groups = geom[4]
    kernel, osize = w_shape[2:], g.shape[2:]
    if not (x.shape[0] and x.shape[1] and w_shape[0] and math.prod(osize)):
        return xp.zeros(w_shape, dtype=x.dtype)
    n = x.shape[0]
    step = _chunk(n, kernel, x.shape[1], osize, x.itemsize)
    if step < n:
        gw = _weight_grad_arrays(xp, x[:step], g[:step], w_shape, geom)
        for i in range(step, n, step):
            gw += _weight_grad_arrays(xp, x[i:i + step], g[i:i + step], w_shape, geom)
        return gw
    cols = _columns(xp, x, kernel, osize, geom)  # (G, Cg*K, N*P)
    # NOTE: the transposed columns are read in place (BLAS's transpose flag): no copy of them.
    return xp.matmul(_channels_first(xp, g, groups), cols.swapaxes(-1, -2)).reshape(w_shape)


def _bias_grad(g):
    """The bias gradient of a convolution's output gradient g (N, O, *P): its sum over all but O."""
    return g.sum((0,) + tuple(range(2, g.dim())))


class Convolution(Primitive):
    """The forward convolution (cross-correlation) of x (N, C, *S) with w (O, C / groups, *K), plus bias."""
    batch_rule = ("conv",)
    inputs = 3
    upcast = True
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, geom, osize=None):
        if osize is None:
            osize = out_size(x.shape[2:], w.shape[2:], geom)
        ctx.geom, ctx.osize, ctx.x_shape, ctx.w_shape = geom, osize, x.shape, w.shape
        # NOTE: PyTorch's ConvolutionBackward0 saves both input and weight whichever gradient is needed
        # (modifying either in place then fails backward's version check); so does ember.
        ctx.save_for_backward(x, w)
        return _conv_arrays(ctx.xp, x, w, geom, osize, b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = ConvInputGrad.apply(g, w, ctx.x_shape, ctx.geom)
        if need[1]:
            gw = ConvWeightGrad.apply(x, g, ctx.w_shape, ctx.geom)
        if need[2]:
            gb = _bias_grad(g)
        return gx, gw, gb


class ConvInputGrad(Primitive):
    """The gradient of a convolution with respect to its input: g (N, O, *P) and w (O, Cg, *K) to
    (N, C, *S) of `x_shape`. It is also conv_transpose (x_shape then sets the output size)."""
    inputs = 2
    upcast = True
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, g, w, x_shape, geom):
        osize = g.shape[2:]
        ctx.x_shape, ctx.w_shape, ctx.geom, ctx.osize = x_shape, w.shape, geom, osize
        ctx.save_for_backward(g, w)  # NOTE: both, as PyTorch's conv_transpose (ConvolutionBackward0)
        return _input_grad_arrays(ctx.xp, g, w, x_shape, geom)

    @staticmethod
    def backward(ctx, gg):
        g, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        dg = dw = None
        if need[0]:
            dg = Convolution.apply(gg, w, None, ctx.geom, ctx.osize)
        if need[1]:
            dw = ConvWeightGrad.apply(gg, g, ctx.w_shape, ctx.geom)
        return dg, dw



class ConvWeightGrad(Primitive):
    """The gradient of a convolution with respect to its weight: x (N, C, *S) and g (N, O, *P) to `w_shape`."""
    inputs = 2
    upcast = True
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, g, w_shape, geom):
        need = ctx.needs_input_grad
        ctx.x_shape, ctx.geom, ctx.osize = x.shape, geom, g.shape[2:]
        ctx.save_for_backward(x if need[1] else None, g if need[0] else None)
        return _weight_grad_arrays(ctx.xp, x, g, w_shape, geom)

    @staticmethod
    def backward(ctx, gw):
        x, g = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx = dg = None
        if need[0]:
            dx = ConvInputGrad.apply(g, gw, ctx.x_shape, ctx.geom)
        if need[1]:
            dg = Convolution.apply(x, gw, None, ctx.geom, ctx.osize)
        return dx, dg



class ConvTranspose(Primitive):
    """conv_transpose: x (N, C, *P) with w (C, O / groups, *K) to `out_shape`, plus bias; the data
    gradient of a convolution, with its own node so the bias joins it (one ConvolutionBackward0, as PyTorch)."""
    inputs = 3
    upcast = True
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, out_shape, geom):
        ctx.out_shape, ctx.w_shape, ctx.geom, ctx.osize = out_shape, w.shape, geom, x.shape[2:]
        ctx.save_for_backward(x, w)
        out = _input_grad_arrays(ctx.xp, x, w, out_shape, geom)
        if b is not None:
            out += b.reshape((out_shape[1],) + (1,) * (len(out_shape) - 2))
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = Convolution.apply(g, w, None, ctx.geom, ctx.osize)
        if need[1]:
            gw = ConvWeightGrad.apply(g, x, ctx.w_shape, ctx.geom)
        if need[2]:
            gb = _bias_grad(g)
        return gx, gw, gb


# === test specs (tests/ops/test_against_torch.py) =================================================
def _conv_sample(nd, transposed=False):
    def sample(g):
        groups = g.choice((1, 2))
        cin, cout = groups * g.integers(1, 2), groups * g.integers(1, 2)
        kernel = tuple(g.integers(1, 3) for _ in range(nd))
        stride = tuple(g.integers(1, 2) for _ in range(nd))
        dilation = tuple(g.integers(1, 2) for _ in range(nd))
        padding = g.choice((0, 1))
        if not transposed and all(s == 1 for s in stride) and g.boolean():
            padding = g.choice(("same", "valid"))
        pad = 0 if isinstance(padding, str) else padding
        reach = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        if transposed:
            size = tuple(g.integers(max(1, (2 * pad + 2 - r + s - 1) // s + 1), 4)
                         for r, s in zip(reach, stride))
            weight = (cin, cout // groups) + kernel
            kw = dict(stride=stride, padding=pad, dilation=dilation, groups=groups,
                      output_padding=tuple(g.integers(0, max(s, d) - 1) for s, d in zip(stride, dilation)))
        else:
            size = tuple(g.integers(max(1, r - 2 * pad), max(1, r - 2 * pad) + 3) for r in reach)
            weight = (cout, cin // groups) + kernel
            kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        x = g.values((g.integers(0, 2), cin) + size)
        return [x, g.values(weight), g.values((cout,))], kw
    return sample


def _conv_call(name):
    return lambda torch, x, w, b, **kw: getattr(torch.nn.functional, name)(x, w, b, **kw)


spec(*[OpSpec("nn.functional." + name, sample=_conv_sample(nd, "transpose" in name), call=_conv_call(name),
              rtol=1e-4, atol=1e-5, large=False)
       for name, nd in (("conv1d", 1), ("conv2d", 2), ("conv3d", 3), ("conv_transpose1d", 1),
                        ("conv_transpose2d", 2), ("conv_transpose3d", 3))])
