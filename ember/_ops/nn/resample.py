"""The primitive behind torch.nn.functional.grid_sample's bilinear and nearest modes (2D and 3D);
the public function is in ember/nn/_functional_pool_grid.py (bicubic is composed there).

NOTE: a primitive for speed: composed of Tensor ops, one sample costs ~60 small ops (4 corners of
masks, clamps, gathers and weights), 10x PyTorch's time on small images. Here it is a few array
passes per corner. Its backward, like PyTorch's grid_sampler backward, is not differentiable again.
Coordinates are computed in the input's dtype, as PyTorch's kernels do, with PyTorch's gradient
multipliers for the padding modes (0 on the clipped borders, a sign per reflection).
"""
import itertools

from ... import _state
from ...autograd.function import Primitive, once_differentiable
from ..._tensor import _wrap


def _unnormalize(coord, size, align_corners):
    """(source coordinate, d source / d coord)."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _clip(xp, coord, size):
    limit = size - 1
    inside = (coord > 0) & (coord < limit)
    return xp.where(coord <= 0, 0, xp.where(coord >= limit, limit, coord)).astype(coord.dtype), inside


def _reflect(xp, coord, twice_low, twice_high):
    """PyTorch's reflect_coordinates_set_grad: (folded coordinate, its derivative: +1 or -1 (or 0))."""
    if twice_low == twice_high:
        return xp.zeros_like(coord), xp.zeros_like(coord)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    shifted = coord - coord.dtype.type(low)
    sign = xp.where(shifted < 0, -1, 1).astype(coord.dtype)
    shifted = xp.abs(shifted)
    extra = xp.fmod(shifted, coord.dtype.type(span))
    flips = xp.floor(shifted / coord.dtype.type(span))
    even = (flips % 2) == 0
    out = xp.where(even, extra + low, span - extra + low).astype(coord.dtype)
    return out, xp.where(even, sign, -sign)


def source_index(xp, coord, size, padding_mode, align_corners):
    """(source coordinate, d source / d grid coordinate) along one dim, as PyTorch computes them."""
    src, mult = _unnormalize(coord, size, align_corners)
    mult = xp.full(coord.shape, mult, dtype=coord.dtype)
    if padding_mode == "border":
        src, inside = _clip(xp, src, size)
        mult = mult * inside
    elif padding_mode == "reflection":
        if align_corners:
            src, refl = _reflect(xp, src, 0, 2 * (size - 1))
        else:
            src, refl = _reflect(xp, src, -1, 2 * size - 1)
        src, inside = _clip(xp, src, size)
        mult = mult * refl * inside
    return src.astype(coord.dtype, copy=False), mult


def _corners(xp, coords, sizes, mode):
    """For each corner: (flat index (N, Q), weight with out-of-bounds zeroed, per-dim derivative
    factors or None)."""
    nd = len(sizes)
    if mode == "nearest":
        lin, inside = 0, True
        for c, s in zip(coords, sizes):
            t = xp.rint(c).astype(xp.int64)  # NOTE: round half to even, as std::nearbyint
            ok = (t >= 0) & (t < s)
            inside = inside & ok
            lin = lin * s + xp.clip(t, 0, s - 1)
        yield lin, inside.astype(coords[0].dtype), None
        return
    floors = [xp.floor(c) for c in coords]
    for bits in itertools.product((0, 1), repeat=nd):
        lin, inside = 0, True
        factors = []
        for c, f, s, b in zip(coords, floors, sizes, bits):
            t = f.astype(xp.int64) + b
            inside = inside & (t >= 0) & (t < s)
            lin = lin * s + xp.clip(t, 0, s - 1)
            factors.append((c - f) if b else (f + 1 - c))
        weight = factors[0]
        for f in factors[1:]:
            weight = weight * f
        yield lin, weight * inside, (factors, bits, inside)


def _channels_last(xp, x):
    """x (N, C, *spatial) as rows (N * prod(spatial), C): one row of channels per input point."""
    n, c = x.shape[:2]
    return xp.ascontiguousarray(x.reshape(n, c, -1).transpose(0, 2, 1)).reshape(-1, c)


def _rows(xp, lin, plane):
    """Row numbers in the channels-last rows of each (n, q) sample point."""
    return (lin + (xp.arange(lin.shape[0], dtype=xp.int64) * plane)[:, None]).reshape(-1)


class GridSample(Primitive):
    """input (N, C, *spatial) sampled at grid (N, *out, nd) by bilinear or nearest interpolation."""
    inputs = 2

    @staticmethod
    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        xp = ctx.xp
        n, c = x.shape[:2]
        sizes = x.shape[2:]
        nd = len(sizes)
        out_sp = grid.shape[1:-1]
        rows = _channels_last(xp, x)
        plane = rows.shape[0] // n if n else 0
        g2 = grid.reshape(n, -1, nd)
        coords = [source_index(xp, g2[:, :, nd - 1 - i], sizes[i], padding_mode, align_corners)[0]
                  for i in range(nd)]
        out = xp.zeros((n * g2.shape[1], c), dtype=x.dtype)
        for lin, weight, _ in _corners(xp, coords, sizes, mode):
            out += xp.take(rows, _rows(xp, lin, plane), axis=0) * weight.reshape(-1, 1)
        out = out.reshape(n, g2.shape[1], c).transpose(0, 2, 1)
        ctx.params = (mode, padding_mode, align_corners)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, grid)
        ctx.x_shape = x.shape
        return out.reshape((n, c) + tuple(out_sp))

    composed = None  # NOTE: set by ember/nn/_functional_pool_grid.py: the same sampling in Tensor ops

    @staticmethod
    def backward(ctx, g):
        if _state.local.grad_enabled:
            return _differentiable_backward(ctx, g)
        return _backward(ctx, g)


def _differentiable_backward(ctx, g):
    """With create_graph: the gradients of the composed sampling, so they can be differentiated again
    (PyTorch's grid_sample backward is differentiable too)."""
    from ... import autograd
    from ..._creation import zeros
    x_t, grid_t = ctx.saved_tensors
    need_x, need_grid = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
    if x_t is None:  # NOTE: not saved (grid needs no gradient): the input's gradient does not depend on it
        x_t = zeros(ctx.x_shape, dtype=g.dtype, device=g.device, requires_grad=True)
    grid_in = grid_t if need_grid else grid_t.detach()
    out = type(ctx)._fn.composed(x_t, grid_in, *ctx.params)
    wrt = [t for t, need in ((x_t, need_x), (grid_in, need_grid)) if need]
    grads = list(autograd.grad(out, wrt, g, create_graph=True, allow_unused=True))
    return (grads.pop(0) if need_x else None), (grads.pop(0) if need_grid else None)


@once_differentiable
def _backward(ctx, g):
    """The gradients of input and grid on arrays (PyTorch's grid_sampler backward)."""
    x_t, grid_t = ctx.saved_tensors
    mode, padding_mode, align_corners = ctx.params
    grid = grid_t._data
    xp = ctx.xp
    n, c = ctx.x_shape[:2]
    sizes = ctx.x_shape[2:]
    nd = len(sizes)
    g2 = _channels_last(xp, g._data)  # (N * Q, C)
    grid2 = grid.reshape(n, -1, nd)
    pairs = [source_index(xp, grid2[:, :, nd - 1 - i], sizes[i], padding_mode, align_corners) for i in range(nd)]
    coords = [p[0] for p in pairs]
    need_x, need_grid = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
    plane = 1
    for s in sizes:
        plane *= s
    gx = xp.zeros((n * plane, c), dtype=g2.dtype) if need_x else None
    dcoord = [xp.zeros(grid2.shape[:2], dtype=g2.dtype) for _ in range(nd)] if need_grid else None
    rows = _channels_last(xp, x_t._data) if need_grid else None
    for lin, weight, extra in _corners(xp, coords, sizes, mode):
        at = _rows(xp, lin, plane)
        if need_x:
            ctx.device.backend.add_at(gx, at, g2 * weight.reshape(-1, 1))
        if need_grid and extra is not None:
            factors, bits, inside = extra
            gv = (g2 * xp.take(rows, at, axis=0)).sum(axis=1).reshape(inside.shape) * inside  # (N, Q)
            for e in range(nd):
                d = gv if bits[e] else -gv
                for k in range(nd):
                    if k != e:
                        d = d * factors[k]
                dcoord[e] += d
    grad_x = None
    if need_x:
        gx = xp.ascontiguousarray(gx.reshape(n, plane, c).transpose(0, 2, 1)).reshape(ctx.x_shape)
        grad_x = _wrap(gx, ctx.device, g.dtype)
    grad_grid = None
    if need_grid:
        gg = xp.stack([dcoord[nd - 1 - j] * pairs[nd - 1 - j][1] for j in range(nd)], axis=-1)
        grad_grid = _wrap(gg.reshape(grid.shape).astype(grid.dtype, copy=False), ctx.device, grid_t.dtype)
    return grad_x, grad_grid


GRID_SAMPLE = {nd: type(f"GridSampler{nd}d", (GridSample,), {"node_name": f"GridSampler{nd}DBackward0"})
               for nd in (2, 3)}


class SortedSelect(Primitive):
    """x.index_select(dim, index) for a non-decreasing index (interpolate's source positions).

    NOTE: a primitive for speed: a sorted selection is a repeat of each source by its count, which
    NumPy does 5x faster than a gather along the last dim; its backward sums each source's repeats
    (SortedSum), 5x faster than index_add's scatter."""
    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        xp = ctx.xp
        idx = index._data
        ctx.dim, ctx.index, ctx.size = dim, index, x.shape[dim]
        if idx.size > 1:  # NOTE: a caller's bug
            ctx.device.backend.check((idx[1:] < idx[:-1]).any(),
                                     lambda: RuntimeError("SortedSelect: the index must be non-decreasing"))
        if not ctx.device.backend.cheap_reads:  # NOTE: repeat needs its counts on the host: gather instead
            return xp.take(x, idx, axis=dim)
        counts = xp.bincount(idx, minlength=x.shape[dim])
        return xp.repeat(x, counts.tolist(), axis=dim)  # NOTE: a list: CuPy's repeat takes no array of counts

    @staticmethod
    def backward(ctx, g):
        # NOTE: without reduceat, or where SortedSum's reads of the counts would wait for the device:
        # index_select's backward
        if not hasattr(ctx.xp.add, "reduceat") or not ctx.device.backend.cheap_reads:
            shape = list(g.shape)
            shape[ctx.dim] = ctx.size
            return g.new_zeros(shape).index_add(ctx.dim, ctx.index, g)
        return SortedSum.apply(g, ctx.dim, ctx.index, ctx.size)


class SortedSum(Primitive):
    """The transpose of SortedSelect: g summed over each source's repeats along dim (0 where none)."""
    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, g, dim, index, size):
        xp = ctx.xp
        counts = xp.bincount(index._data, minlength=size)
        ctx.dim, ctx.index = dim, index
        k = int(counts[0])
        if k > 0 and bool((counts == k).all()):
            # NOTE: equal repeats (integer scale factors): k strided slice additions beat reduceat 5x
            key = [slice(None)] * g.ndim
            total = None
            for j in range(k):
                key[dim] = slice(j, None, k)
                total = g[tuple(key)].copy() if total is None else total + g[tuple(key)]
            return total
        used = counts > 0
        starts = (xp.cumsum(counts) - counts)[used]
        sums = xp.add.reduceat(g, starts, axis=dim)
        if bool(used.all()):
            return sums
        shape = list(g.shape)
        shape[dim] = size
        out = xp.zeros(shape, dtype=g.dtype)
        key = [slice(None)] * g.ndim
        key[dim] = xp.nonzero(used)[0]
        out[tuple(key)] = sums
        return out

    @staticmethod
    def backward(ctx, gg):
        return SortedSelect.apply(gg, ctx.dim, ctx.index)
