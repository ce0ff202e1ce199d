"""Primitives behind torch.nn.functional.embedding (and embedding_bag, composed in
ember/nn/_functional_sparse.py).

NOTE: embedding earns a primitive: its backward is one scatter-add into a (num_weights, dim) gradient
that skips padding_idx and may scale each row by 1/count (scale_grad_by_freq), as PyTorch's
embedding_dense_backward; a composition through indexing could do neither.
"""
from ..autograd.function import Primitive
from ._registry import OpSpec, spec


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


class Embedding(Primitive):
    """weight[indices]; the gradient is scatter-added into weight's rows."""
    inputs = 2

    @staticmethod
    def forward(ctx, weight, indices, padding_idx=-1, scale_grad_by_freq=False):
        ctx.num_weights = weight.shape[0]
        ctx.options = (padding_idx, scale_grad_by_freq)
        ctx.save_for_backward(indices)
        return ctx.xp.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        return EmbeddingDenseBackward.apply(g, indices, ctx.num_weights, *ctx.options), None


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
        ctx.device.backend.add_at(out, flat, rows)
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
            from .._tensor import _wrap
            out = out * _wrap(factor.reshape(indices.shape + (1,)), gg._device, gg._dtype)
        return out, None


def _embedding_sample(g):
    w = g.values((7, 3))
    idx = g.index((2, 4), 7)
    return [idx, w], {}


spec(OpSpec("nn.functional.embedding", sample=_embedding_sample,
            call=lambda torch, idx, w: torch.nn.functional.embedding(idx, w)))
