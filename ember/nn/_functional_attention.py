"""torch.nn.functional's attention (scaled_dot_product_attention, multi_head_attention_forward) and ctc_loss."""
import math
import warnings

from .. import _creation, _dtype
from .._ops._registry import FUNCTIONS as _TORCH, bind as _bind
from .._ops.nn.attention import ScaledDotProductAttention
from .._ops.nn.ctc import ctc_loss
from .._ops.nn.pdist import pdist
from .._tensor import Tensor, broadcast_shapes

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "ctc_loss", "pdist",
           "linear_cross_entropy"]


_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "int64": "long int", "int32": "int"}


def _dtype_name(d):
    """PyTorch's C++ spelling of a dtype in SDPA's messages (float, double, c10::Half ...)."""
    name = str(d).rsplit(".", 1)[-1]
    return _CPP_NAMES.get(name, name)


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal):
    for i, (name, t) in enumerate((("query", query), ("key", key), ("value", value))):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' (position {i + 1}) must be Tensor, "
                            f"not {type(t).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError("scaled_dot_product_attention(): argument 'attn_mask' must be Tensor, not "
                        f"{type(attn_mask).__module__}.{type(attn_mask).__name__}")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_dtype_name(query.dtype)} key.dtype: {_dtype_name(key.dtype)} and value.dtype: "
                           f"{_dtype_name(value.dtype)} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {_dtype.scalar_type_name(query.dtype)}")
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        if attn_mask.dtype != _dtype.bool and attn_mask.dtype != query.dtype:
            raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_dtype_name(attn_mask.dtype)} and  query.dtype: "
                               f"{_dtype_name(query.dtype)} instead.")
    if dropout_p < 0.0 or dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if key.shape[-1] != query.shape[-1] or value.shape[-2] != key.shape[-2]:
        batch = math.prod(_batch_shape(query, key, value))
        if key.shape[-1] != query.shape[-1]:
            got, want = [batch, key.shape[-1]], [batch, query.shape[-1]]
        else:
            got, want = [batch, value.shape[-2]], [batch, key.shape[-2]]
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: {want} but got: {got}.")


def _batch_shape(*tensors):
    return tuple(broadcast_shapes(*(tuple(t.shape[:-2]) for t in tensors)))


def _causal_bias(L, S, like):
    """0 on and below the diagonal of an (L, S) grid aligned at the top left, -inf above."""
    ones = _creation.ones((L, S), dtype=_dtype.bool, device=like.device)
    return _creation.zeros((L, S), dtype=like.dtype, device=like.device).masked_fill(ones.triu(1), float("-inf"))


def _repeat_heads(key, value, heads):
    """enable_gqa: each key/value head serves heads // kv_heads query heads (dim -3)."""
    kv_heads = key.shape[-3]
    if heads % kv_heads or value.shape[-3] != kv_heads:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    if kv_heads == heads:
        return key, value
    groups = heads // kv_heads
    return key.repeat_interleave(groups, -3), value.repeat_interleave(groups, -3)


def _attention(query, key, value, bias, dropout_p, scale, safe):
    """The primitive's (output, weights) with dropout's keep mask drawn here (ember's RNG)."""
    keep = None
    if dropout_p > 0.0:
        L, S = query.shape[-2], key.shape[-2]
        shape = tuple(broadcast_shapes(_batch_shape(query, key, value) + (L, S),
                                       () if bias is None else tuple(bias.shape)))
        if dropout_p == 1.0:
            keep = _creation.zeros(shape, dtype=query.dtype, device=query.device)
        else:
            keep = _creation.empty(shape, dtype=query.dtype, device=query.device).bernoulli_(1 - dropout_p)
            keep = keep / (1 - dropout_p)
    return ScaledDotProductAttention.apply(query, key, value, bias, keep, scale, safe), keep


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value; a bool mask's True takes part, a float mask is added.

    Every batch element and head goes through one batched matmul; rows with nothing to attend give 0."""
    from . import attention  # NOTE: lazy: torch.nn.attention reads torch.backends' switches
    attn_mask = attention._causal_bias_mask(query, attn_mask, is_causal)
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal)
    attention._refuse_when_disabled(query, key, value, attn_mask, dropout_p, enable_gqa)
    if enable_gqa and query.dim() >= 3:
        key, value = _repeat_heads(key, value, query.shape[-3])
    L, S = query.shape[-2], key.shape[-2]
    bias = None
    if is_causal:
        bias = _causal_bias(L, S, query)
    elif attn_mask is not None:
        if attn_mask.dtype == _dtype.bool:
            bias = _creation.zeros(attn_mask.shape, dtype=query.dtype, device=query.device).masked_fill(
                attn_mask.logical_not(), float("-inf"))
        else:
            bias = attn_mask
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    (out, _), _ = _attention(query, key, value, bias, dropout_p, float(scale), True)
    return out


# === multi-head attention =======================================================================
def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """PyTorch's shape checks; True when the input is batched (3-D query)."""
    d = query.dim()
    if d in (2, 3):
        where = "For batched (3-D) `query`" if d == 3 else "For unbatched (2-D) `query`"
        if key.dim() != d or value.dim() != d:
            raise AssertionError(f"{where}, expected `key` and `value` to be {d}-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != d - 1:
            raise AssertionError(f"{where}, expected `key_padding_mask` to be `None` or {d - 1}-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"{where}, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        if d == 2 and attn_mask is not None and attn_mask.dim() == 3:
            expected = (num_heads, query.shape[0], key.shape[0])
            if tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return d == 3
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) as a float mask of target_type (-inf where True); floats pass."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype != _dtype.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if not is_float:
        mask = _creation.zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill(mask, float("-inf"))
    return mask


def _linear(x, w, b):
    # NOTE: (L, N, E) rows as one (L * N, E) matrix: one GEMM, and the weight's gradient one GEMM too
    # (a batched product runs one small GEMM per leading index and sums a (L, E, E') stack for the weight).
    lead = tuple(x.shape[:-1])
    out = x.reshape(-1, x.shape[-1]).matmul(w.t()) if len(lead) > 1 else x.matmul(w.t())
    if b is not None:
        out = out + b
    return out.reshape(*lead, w.shape[0]) if len(lead) > 1 else out


def _in_projection_packed(q, k, v, w, b):
    """q, k, v through the packed (3E, E) in-projection; one matmul when q is k is v (self-attention)."""
    E = q.shape[-1]
    if k is v and q is k:
        proj = _linear(q, w, b).unflatten(-1, (3, E))
        return proj[..., 0, :], proj[..., 1, :], proj[..., 2, :]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    if k is v:
        kv = _linear(k, w[E:], None if b is None else b[E:]).unflatten(-1, (2, E))
        return _linear(q, w_q, b_q), kv[..., 0, :], kv[..., 1, :]
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _pad_last(mask):
    from . import functional as F
    return F.pad(mask, (0, 1))


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)); returns (output, weights or None)."""
    return _mha_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
                        need_weights, attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight,
                        v_proj_weight, static_k, static_v, average_attn_weights, is_causal)


def _mha_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                 add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
                 attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
                 average_attn_weights, is_causal, fast_path=False):
    """multi_head_attention_forward; fast_path: as PyTorch's fused inference kernel, a query with nothing
    to attend gives NaN (its SDPA path, taken without need_weights, gives zeros)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       None if attn_mask is None else attn_mask.dtype, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # NOTE: as PyTorch: the causal hint replaces the mask (SDPA builds its own)
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                       q_proj_weight, k_proj_weight, v_proj_weight)
    attn_mask = _check_attn_mask(attn_mask, tgt_len, src_len, bsz, num_heads)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _TORCH["cat"]([k, bias_k.repeat(1, bsz, 1)])
        v = _TORCH["cat"]([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz, num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz, num_heads, head_dim)
    if add_zero_attn:
        zeros = (bsz * num_heads, 1, head_dim)
        k = _TORCH["cat"]([k, _creation.zeros(zeros, dtype=k.dtype, device=k.device)], 1)
        v = _TORCH["cat"]([v, _creation.zeros(zeros, dtype=v.dtype, device=v.device)], 1)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if attn_mask is not None:  # NOTE: 4-D, (1, 1, L, S) or (N, heads, L, S): broadcast inside the primitive
        if attn_mask.shape[0] == 1:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, v.shape[-1])
    if is_causal and attn_mask is None:
        if need_weights:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        attn_mask = _causal_bias(tgt_len, src_len, q)
    scale = 1.0 / math.sqrt(head_dim)
    # NOTE: need_weights computes a plain softmax (a fully masked row is NaN), SDPA a safe one (zeros)
    (out, weights), keep = _attention(q, k, v, attn_mask, dropout_p, scale, not (need_weights or fast_path))
    out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not need_weights:
        return (out if is_batched else out.squeeze(1)), None
    if keep is not None:
        weights = weights * keep
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not is_batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights


def _project(query, key, value, in_proj_weight, in_proj_bias, separate, w_q, w_k, w_v):
    if not separate:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        return _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    for name, w in (("q", w_q), ("k", w_k), ("v", w_v)):
        if w is None:
            raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
    b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    return _linear(query, w_q, b_q), _linear(key, w_k, b_k), _linear(value, w_v, b_v)


def _check_attn_mask(attn_mask, tgt_len, src_len, bsz, num_heads):
    if attn_mask is None:
        return None
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                               f"{(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(bsz * num_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _heads(t, static, name, bsz, num_heads, head_dim):
    """(S, N, E) -> (N * heads, S, head_dim), or the given static keys/values checked."""
    if static is None:
        return t.reshape(t.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


# === pdist (the primitive in ember/_ops/nn/pdist.py) ===========================================
_bind("pdist", pdist)


# === linear_cross_entropy =========================================================================
def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...); linear_weight (C, *out, in)
    gives K-dimensional logits (N, C, *out). Difference from PyTorch: `options` (its memory-saving chunked
    evaluation) is accepted and ignored; the result is the reference computation's."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batch = tuple(input.shape[:-1])
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), got "
                           f"{input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires "
                           f"batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    total = math.prod(out_features, start=num_classes)
    logits = _linear(input, linear_weight.reshape(total, in_features),
                     None if linear_bias is None else linear_bias.reshape(total)).reshape(logits_shape)
    from . import functional as F
    return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                           ignore_index=-100 if ignore_index is None else ignore_index,
                           label_smoothing=label_smoothing)
