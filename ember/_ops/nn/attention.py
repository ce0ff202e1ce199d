"""The primitive behind torch.nn.functional.scaled_dot_product_attention (and multi-head attention).

NOTE: a primitive rather than a composition for speed and memory: composed, attention is six nodes
(matmul, scale, mask add, softmax, dropout, matmul), each keeping its own (batch, heads, L, S) array
for backward; here forward keeps only the attention weights, and backward is two matmuls per input
written out by hand. Every head and batch element goes through one batched matmul.
"""
from ..._tensor import broadcast_shapes
from ...autograd.function import Primitive, float32_backward
from .._registry import OpSpec, spec


class ScaledDotProductAttention(Primitive):
    """(softmax(q @ k^T * scale + bias) * keep) @ v, and the weights softmax(...) as a second output.

    bias: an additive float mask (None for none); keep: the dropout multiplier (0 or 1 / (1 - p);
    None without dropout). safe: rows whose every score is -inf give zero weights (PyTorch's SDPA)
    instead of NaN (softmax itself, as multi-head attention's need_weights path computes)."""
    inputs = 5
    upcast = True
    node_name = "ScaledDotProductAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, bias=None, keep=None, scale=1.0, safe=True):
        xp = ctx.xp
        scores = xp.matmul(q, xp.swapaxes(k, -1, -2))
        scores *= scale
        if bias is not None:
            if bias.ndim <= scores.ndim and all(b in (1, s) for b, s in zip(bias.shape[::-1], scores.shape[::-1])):
                scores += bias
            else:
                broadcast_shapes(scores.shape, bias.shape)  # NOTE: PyTorch's message when they do not broadcast
                scores = scores + bias
        top = scores.max(axis=-1, keepdims=True)
        if safe:
            top = xp.where(top == -xp.inf, 0, top)  # NOTE: a fully masked row: exp(-inf) = 0 everywhere
        scores -= top
        weights = xp.exp(scores, out=scores)
        total = weights.sum(axis=-1, keepdims=True)
        if safe:
            total[total == 0] = 1
        weights /= total
        dropped = weights if keep is None else weights * keep
        out = xp.matmul(dropped, v)
        need = ctx.needs_input_grad
        needs_scores = need[0] or need[1] or need[3]
        ctx.scale = scale
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(q if need[1] else None, k if need[0] else None,
                              v if needs_scores else None, weights, keep)
        return out, weights

    @staticmethod
    @float32_backward
    def backward(ctx, g_out, g_weights):
        q, k, v, weights, keep = ctx.saved_tensors
        need = ctx.needs_input_grad
        gq = gk = gv = gbias = None
        if need[2] and g_out is not None:
            dropped = weights if keep is None else weights * keep
            gv = dropped.transpose(-1, -2).matmul(g_out)
        if need[0] or need[1] or need[3]:
            g_w = None
            if g_out is not None:
                g_w = g_out.matmul(v.transpose(-1, -2))
                if keep is not None:
                    g_w = g_w * keep
            if g_weights is not None:
                g_w = g_weights if g_w is None else g_w + g_weights
            if g_w is None:
                return None, None, None, None, None
            # softmax backward: dS = W * (dW - sum(dW * W))
            g_scores = weights * (g_w - (g_w * weights).sum(-1, keepdim=True))
            if need[3]:
                gbias = g_scores
            if need[0]:
                gq = g_scores.matmul(k) * ctx.scale
            if need[1]:
                gk = g_scores.transpose(-1, -2).matmul(q) * ctx.scale
        return gq, gk, gv, gbias, None


def _sdpa_sample(g):
    batch = g.choice([(2,), (1, 3), (2, 2)])
    L, S, E, Ev = g.integers(1, 4), g.integers(1, 4), g.integers(1, 4), g.integers(1, 4)
    q = g.values(batch + (L, E))
    k = g.values(batch + (S, E))
    v = g.values(batch + (S, Ev))
    kwargs = g.choice([{}, {"is_causal": True}, {"scale": 0.7}])
    if g.boolean() and "is_causal" not in kwargs:
        return [q, k, v, g.values((L, S))], kwargs
    return [q, k, v], kwargs


spec(OpSpec("nn.functional.scaled_dot_product_attention", sample=_sdpa_sample, dtypes=("float32", "float64"),
            call=lambda torch, *qkv_mask, **kw: torch.nn.functional.scaled_dot_product_attention(*qkv_mask, **kw)))
