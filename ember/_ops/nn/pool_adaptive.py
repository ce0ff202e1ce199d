"""Primitives for max pooling over windows given per output index: adaptive max pooling (windows
floor(i*in/out) .. ceil((i+1)*in/out)) and fractional max pooling (pseudo-random window starts).

Both see the input as (B, *spatial) and each window as a table of input positions per dim:
`tables[i]` has shape (B or 1, out_i, L_i) (L_i the longest window along dim i; shorter windows
repeat their last position, which changes no maximum). The loop runs over window offsets only.
NOTE: a primitive for PyTorch's indices and NaN rule; the backward is MaxPool's scatter_add.
"""
import itertools

from ...autograd.function import Primitive
from .pool import MaxPool, _running_max


def adaptive_bounds(xp, size, out):
    """(start, end) arrays of PyTorch's adaptive windows along one dim."""
    i = xp.arange(out, dtype=xp.int64)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_table(xp, size, out):
    """(1, out, L) input positions of each adaptive window along one dim, the last one repeated."""
    start, end = adaptive_bounds(xp, size, out)
    longest = int((end - start).max())
    pos = start[:, None] + xp.arange(longest, dtype=xp.int64)[None, :]
    return xp.minimum(pos, (end - 1)[:, None])[None]


def fractional_table(xp, samples, size, out, k):
    """(B, out, k) input positions of fractional max pooling's windows along one dim (PyTorch's
    generate_intervals: computed in the samples' floating type)."""
    b = samples.shape[0]
    starts = xp.empty((b, out), dtype=xp.int64)
    if out > 1:
        alpha = samples.dtype.type((size - k) / (out - 1))
        i = xp.arange(out - 1, dtype=samples.dtype)
        u = samples[:, None]
        starts[:, :-1] = ((i[None, :] + u) * alpha).astype(xp.int64) - (u * alpha).astype(xp.int64)
    starts[:, out - 1] = size - k
    return starts[:, :, None] + xp.arange(k, dtype=xp.int64)[None, None, :]


def _finish(ctx, best, best_pos, lead, spatial, outs):
    out_shape = lead + tuple(outs)
    best_pos = best_pos.reshape(out_shape)
    ctx.in_shape, ctx.nd = lead + spatial, len(spatial)
    ctx.save_for_backward(best_pos)
    return best.reshape(out_shape), best_pos


def _separable_max(xp, x, tables, cheap_reads=True):
    """Max over windows shared by every plane, one dim at a time from the last: a row's first maximum,
    then the first row holding the overall maximum, is the first maximum in row-major order, as
    PyTorch's scan finds it (and the last NaN likewise). tables[i]: (out_i, L_i)."""
    nd = len(tables)
    spatial = x.shape[1:]
    nan_aware = x.dtype.kind in "fV" and (not cheap_reads or bool(xp.isnan(x).any()))
    coords = {}  # dim -> the chosen input coordinate along it, for each element of the current x
    for i in range(nd - 1, -1, -1):
        axis = 1 + i
        taken = xp.take(x, tables[i], axis=axis)  # (..., out_i, L_i, ...)
        views = [taken[(slice(None),) * (axis + 1) + (l,)] for l in range(tables[i].shape[1])]
        x, arg = _running_max(xp, views, nan_aware)
        shape = [1] * x.ndim
        shape[axis] = tables[i].shape[0]
        chosen = tables[i][xp.arange(tables[i].shape[0]).reshape(shape), arg]
        for j, c in coords.items():
            coords[j] = xp.take_along_axis(c, chosen, axis=axis)
        coords[i] = chosen
    pos = 0
    for i in range(nd):
        pos = pos * spatial[i] + coords[i]
    return x, pos


class WindowMax(Primitive):
    """(values, flat plane indices) of the maximum of x (..., *spatial) over the windows in `tables`."""

    @staticmethod
    def forward(ctx, x, tables):
        xp = ctx.xp
        nd = len(tables)
        lead, spatial = x.shape[:-nd], x.shape[-nd:]
        x = x.reshape((-1,) + spatial)
        b = x.shape[0]
        plane_strides = [1] * nd
        for i in range(nd - 2, -1, -1):
            plane_strides[i] = plane_strides[i + 1] * spatial[i + 1]
        flat = x.reshape(b, plane_strides[0] * spatial[0])
        outs = [t.shape[1] for t in tables]
        if all(t.shape[:2] == (1, 1) and t.shape[2] == n for t, n in zip(tables, spatial)) and x.size and not (
                x.dtype.kind in "fV" and (not ctx.device.backend.cheap_reads or bool(xp.isnan(x).any()))):
            # NOTE: global max pooling: one contiguous reduction (argmax keeps the first maximum, as PyTorch)
            best_pos = flat.argmax(axis=1).reshape((b,) + (1,) * nd)
            best = xp.take_along_axis(flat, best_pos.reshape(b, 1), axis=1).reshape((b,) + (1,) * nd)
            return _finish(ctx, best, best_pos, lead, spatial, outs)
        if all(t.shape[0] == 1 for t in tables) and x.size:
            best, best_pos = _separable_max(xp, x, [t[0] for t in tables], ctx.device.backend.cheap_reads)
            return _finish(ctx, best, best_pos, lead, spatial, outs)
        rows = xp.arange(b, dtype=xp.int64).reshape((b,) + (1,) * nd)
        best = best_pos = None
        is_float = x.dtype.kind in "fV"
        for offs in itertools.product(*(range(t.shape[2]) for t in tables)):
            pos = 0
            for i, (t, o) in enumerate(zip(tables, offs)):
                shape = [t.shape[0]] + [1] * nd
                shape[1 + i] = outs[i]
                pos = pos + (t[:, :, o] * plane_strides[i]).reshape(shape)
            pos = xp.broadcast_to(pos, (b,) + tuple(outs))
            v = flat[rows, pos]
            if best is None:
                best, best_pos = v, pos.copy()
                continue
            # NOTE: PyTorch's test `val > maxval || isnan(val)`: the first maximum wins, NaN propagates.
            better = v > best
            if is_float:
                better |= xp.isnan(v)
            xp.copyto(best, v, where=better)
            xp.copyto(best_pos, pos, where=better)
        return _finish(ctx, best, best_pos, lead, spatial, outs)

    backward = staticmethod(MaxPool.backward)


ADAPTIVE_MAX = {nd: type(f"AdaptiveMaxPool{nd}d", (WindowMax,), {"node_name": f"AdaptiveMaxPool{nd}DBackward0"})
                for nd in (1, 2, 3)}
FRACTIONAL_MAX = {nd: type(f"FractionalMaxPool{nd}d", (WindowMax,),
                           {"node_name": f"FractionalMaxPool{nd}DBackward0"}) for nd in (2, 3)}
