"""The primitive behind torch.pdist / torch.nn.functional.pdist.

NOTE: a primitive for speed: composed (gather both rows of every pair, norm), backward scatters
each pair's gradient back to its two rows through repeated-index adds, 75x slower than PyTorch at
500 rows. Here backward writes each pair's gradient once into an (N, N) layout and sums rows and
columns; for p = 2 it is two (N, N) matrix products with x and no per-coordinate array at all.
Its backward is once-differentiable, as PyTorch's (_pdist_backward has no derivative).
"""
from ..._tensor import _wrap
from ...autograd.function import Primitive, once_differentiable
from ..reduction.reduce import _quiet

INF = float("inf")


def _pairs(xp, n):
    return xp.triu_indices(n, 1)


class Pdist(Primitive):
    """||x[i] - x[j]||_p for every pair of rows i < j, in row-major pair order."""
    inputs = 1
    upcast = True
    node_name = "PdistBackward0"

    @staticmethod
    def forward(ctx, x, p=2.0):
        xp = ctx.xp
        rows, cols = _pairs(xp, x.shape[0])
        diff = x[rows] - x[cols]
        with _quiet(xp):
            if p == 2:
                dist = xp.sqrt(xp.einsum("ij,ij->i", diff, diff))
            elif p == 0:
                dist = (diff != 0).sum(axis=1).astype(x.dtype)
            else:
                size = xp.abs(diff, out=diff)
                if p == 1:
                    dist = size.sum(axis=1)
                elif p == INF:
                    dist = size.max(axis=1) if size.shape[1] else xp.zeros(size.shape[0], dtype=x.dtype)
                else:
                    dist = (size ** p).sum(axis=1) ** (1.0 / p)
        ctx.p = p
        ctx.save_for_backward(x, dist)
        return dist.astype(x.dtype, copy=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        x, dist = ctx.saved_tensors
        grad = _pdist_grad(ctx.xp, x._data, dist._data, g._data, ctx.p)
        return _wrap(grad.astype(x._data.dtype, copy=False), g._device, x._dtype)


def _pdist_grad(xp, x, dist, g, p):
    """PyTorch's _pdist_backward: every pair's gradient on x[i] (and its negation on x[j]); 0 where the
    distance is 0, and for p < 1 where a coordinate difference is 0."""
    n = x.shape[0]
    rows, cols = _pairs(xp, n)
    if p == 0 or n < 2:
        return xp.zeros(x.shape, dtype=x.dtype)
    with _quiet(xp):
        if p == 2:
            # grad[i] = sum_j w_ij (x_i - x_j), w symmetric: w.sum(1) * x - w @ x
            w = _symmetric(xp, rows, cols, xp.where(dist == 0, 0, g / dist).astype(x.dtype), n)
            return w.sum(axis=1)[:, None] * x - w @ x
        if p in (1, INF):
            # NOTE: every ordered pair at once, (N, N, D): the coefficient is odd in the difference, so
            # x[i]'s gradient is the sum over its row (pairs (j, i) enter with the sign flipped)
            diff = x[:, None, :] - x[None, :, :]
            coef = xp.sign(diff)
            if p == INF:
                coef *= xp.abs(diff) == _symmetric(xp, rows, cols, dist, n)[:, :, None]
            coef *= _symmetric(xp, rows, cols, g, n)[:, :, None]
            return coef.sum(axis=1)
        # NOTE: powers are costly: computed once per pair i < j, then each pair written once into an
        # (N, N, D) layout whose row sums add and column sums subtract
        diff = x[rows] - x[cols]
        size = xp.abs(diff)
        if p < 2:
            coef = xp.sign(diff) * size ** (p - 1) * (g / dist ** (p - 1))[:, None]
            coef[(dist == 0)[:, None] | ((diff == 0) & (p < 1))] = 0
        else:
            coef = diff * size ** (p - 2) * (g / dist ** (p - 1))[:, None]
            coef[xp.broadcast_to((dist == 0)[:, None], coef.shape)] = 0
    full = xp.zeros((n, n, x.shape[1]), dtype=x.dtype)
    full[rows, cols] = coef
    return full.sum(axis=1) - full.sum(axis=0)


def _symmetric(xp, rows, cols, values, n):
    """An (n, n) symmetric matrix with `values` at the pairs (rows, cols) and (cols, rows), 0 on the diagonal."""
    full = xp.zeros((n, n), dtype=values.dtype)
    full[rows, cols] = values
    full[cols, rows] = values
    return full


def pdist(input, p=2):
    """The p-norm distance between every pair of rows i < j of a 2-D input, in row-major pair order."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return Pdist.apply(input, float(p))

