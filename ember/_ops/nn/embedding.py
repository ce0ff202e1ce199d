"""Primitives behind torch.nn.functional.embedding (and embedding_bag, composed in
ember/nn/_functional_sparse.py).

NOTE: embedding earns a primitive: its backward is one scatter-add into a (num_weights, dim) gradient
that skips padding_idx and may scale each row by 1/count (scale_grad_by_freq), as PyTorch's
embedding_dense_backward; a composition through indexing could do neither.
"""
from ...autograd.function import Primitive
from .._registry import OpSpec, spec


def _row_scale(xp, flat, num_weights, padding_idx, scale_grad_by_freq, dtype):
    """Each looked-up position's gradient factor: 0 at padding_idx, 1/count with scale_grad_by_freq;
    None when every factor is 1."""
    if padding_idx < 0 and not scale_grad_by_freq:
        return None
    factor = xp.ones(flat.shape, dtype=dtype)
    if scale_grad_by_freq:
        counts = xp.bincount(flat, minlength=num_weights)
        factor = factor / counts[flat].astype(dtype)
    if padding_idx >= 0:
        factor = xp.where(flat == padding_idx, dtype.type(0), factor)
    return factor


def add_rows(ctx, out, rows_index, values):
    """out[rows_index[k]] += values[k] for 2-D out and values, repeats adding up.

    NOTE: through one 1-D scatter-add over flat element indices: NumPy's add.at is 5x faster on 1-D
    keys than on row keys with 2-D values."""
    xp = ctx.xp
    width = out.shape[1]
    key = (rows_index[:, None] * width + xp.arange(width)[None, :]).reshape(-1)
    ctx.device.backend.add_at(out.reshape(-1), key, xp.ascontiguousarray(values).reshape(-1))


class Embedding(Primitive):
    """weight[indices]; the gradient is scatter-added into weight's rows."""
    batch_rule = ("embedding",)
    inputs = 2

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
        if sparse and scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
        ctx.num_weights = weight.shape[0]
        ctx.options = (padding_idx, scale_grad_by_freq)
        ctx.sparse = sparse
        ctx.save_for_backward(indices)
        return ctx.xp.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        if ctx.sparse:
            return _sparse_gradient(g, indices, ctx.num_weights, ctx.options[0]), None
        return EmbeddingDenseBackward.apply(g, indices, ctx.num_weights, *ctx.options), None


def _sparse_gradient(g, indices, num_weights, padding_idx):
    """embedding(sparse=True)'s weight gradient: one entry per looked-up index (repeats kept, uncoalesced),
    its row of g as the values; lookups of padding_idx contribute no entry (PyTorch's
    embedding_sparse_backward)."""
    from ..._sparse import _make
    flat = indices.reshape(-1)
    rows = g.reshape(-1, g.shape[-1])
    if padding_idx >= 0:
        keep = flat != padding_idx
        flat, rows = flat[keep], rows[keep]
    return _make(flat.reshape(1, -1), rows.detach(), (num_weights, g.shape[-1]), flat.shape[0] <= 1)


class EmbeddingDenseBackward(Primitive):
    """The (num_weights, dim) gradient of embedding: g's rows added at their indices."""
    inputs = 2

    @staticmethod
    def forward(ctx, g, indices, num_weights, padding_idx, scale_grad_by_freq):
        xp = ctx.xp
        dim = g.shape[-1]
        flat = indices.reshape(-1)
        rows = g.reshape(-1, dim)
        factor = _row_scale(xp, flat, num_weights, padding_idx, scale_grad_by_freq, g.dtype)
        if factor is not None:
            rows = rows * factor[:, None]
        out = xp.zeros((num_weights, dim), dtype=g.dtype)
        add_rows(ctx, out, flat, rows)
        ctx.options = (num_weights, padding_idx, scale_grad_by_freq)
        ctx.save_for_backward(indices)
        return out

    @staticmethod
    def backward(ctx, gg):
        (indices,) = ctx.saved_tensors
        num_weights, padding_idx, _ = ctx.options
        out = Embedding.apply(gg, indices)
        # NOTE: PyTorch's embedding_dense_double_backward masks padding_idx but does not scale by frequency.
        factor = _row_scale(ctx.xp, indices._data.reshape(-1), num_weights, padding_idx, False, gg._data.dtype)
        if factor is not None:
            from ..._tensor import _wrap
            out = out * _wrap(factor.reshape(indices.shape + (1,)), gg._device, gg._dtype)
        return out, None


class EmbeddingBag(Primitive):
    """Sums, means or maxes of weight's rows over bags: `bag_of[k]` (non-decreasing) is the bag of the
    k-th looked-up index; per_sample_weights scale each row (sum only)."""
    inputs = 4
    node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, weight, indices, bag_of, per_sample_weights=None, bags=0, mode="mean",
                scale_grad_by_freq=False):
        xp = ctx.xp
        dim = weight.shape[1]
        rows = xp.take(weight, indices, axis=0)
        ctx.options = (weight.shape[0], mode, scale_grad_by_freq)
        if mode == "max":
            out, ctx.winners = _bag_max(xp, rows, bag_of, bags)
            ctx.save_for_backward(indices, bag_of)
            return out
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[:, None]
        out = xp.zeros((bags, dim), dtype=weight.dtype)
        add_rows(ctx, out, bag_of, rows)
        ctx.counts = None
        if mode == "mean":
            counts = xp.maximum(xp.bincount(bag_of, minlength=bags), 1).astype(weight.dtype)
            out /= counts[:, None]
            ctx.counts = counts
        need_rows = per_sample_weights is not None and ctx.needs_input_grad[3]
        ctx.save_for_backward(indices, bag_of, per_sample_weights, weight if need_rows else None)
        return out

    @staticmethod
    def backward(ctx, g):
        from ..._tensor import _wrap
        num_weights, mode, scale = ctx.options
        if mode == "max":
            indices, bag_of = ctx.saved_tensors
            mask = _wrap(ctx.winners, g._device, g._dtype)
            grad_rows = g.index_select(0, bag_of) * mask
            return EmbeddingDenseBackward.apply(grad_rows, indices, num_weights, -1, scale), None, None, None
        indices, bag_of, psw, weight = ctx.saved_tensors
        if ctx.counts is not None:
            g = g / _wrap(ctx.counts[:, None], g._device, g._dtype)
        grad_rows = g.index_select(0, bag_of)
        g_psw = None
        if ctx.needs_input_grad[3]:
            g_psw = (grad_rows * Embedding.apply(weight, indices)).sum(1)
        g_w = None
        if ctx.needs_input_grad[0]:
            if psw is not None:
                grad_rows = grad_rows * psw[:, None]
            g_w = EmbeddingDenseBackward.apply(grad_rows, indices, num_weights, -1, scale)
        return g_w, None, None, g_psw


def _bag_max(xp, rows, bag_of, bags):
    """(max over each bag's rows (0 for an empty bag), a 0/1 mask of the rows that won each column).

    NOTE: bags are contiguous runs of rows, so they are laid out as a (bags, longest, dim) block padded
    with -inf and reduced along one axis: no scatter-max is needed."""
    k, dim = rows.shape
    counts = xp.bincount(bag_of, minlength=bags)[:bags]
    longest = int(counts.max()) if bags and k else 0
    winners = xp.zeros(rows.shape, dtype=rows.dtype)
    if not longest:
        return xp.zeros((bags, dim), dtype=rows.dtype), winners
    starts = xp.cumsum(counts) - counts
    pos = xp.arange(k) - starts[bag_of]
    block = xp.full((bags, longest, dim), -xp.inf, dtype=rows.dtype)
    block[bag_of, pos] = rows
    arg = block.argmax(axis=1)  # (bags, dim): the first maximum, as PyTorch's CPU kernel
    out = xp.take_along_axis(block, arg[:, None, :], axis=1)[:, 0, :]
    filled = counts > 0
    out[~filled] = 0
    bag_idx, col = xp.nonzero(xp.broadcast_to(filled[:, None], (bags, dim)))
    winners[starts[bag_idx] + arg[bag_idx, col], col] = 1
    return out, winners


def _embedding_sample(g):
    w = g.values((7, 3))
    idx = g.index((2, 4), 7)
    return [idx, w], {}


spec(OpSpec("nn.functional.embedding", sample=_embedding_sample,
            call=lambda torch, idx, w: torch.nn.functional.embedding(idx, w)))
