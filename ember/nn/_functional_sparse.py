"""torch.nn.functional's embedding and embedding_bag."""
from .._device import runs_on_its_device
from .. import _dtype
from .._ops._registry import bind
from .._ops.nn.embedding import Embedding, EmbeddingBag
from .._tensor import Tensor, _wrap
from ..func._batching.tensor import is_batched
from ..autograd.grad_mode import no_grad

__all__ = ["embedding", "embedding_bag"]

_INDEX_DTYPES = (_dtype.int64, _dtype.int32)


def _check_tensors(weight, indices):
    """PyTorch's TypeError for a non-tensor weight or indices (aten's argument order: weight, indices)."""
    from .._arguments import type_name
    for position, name, value in ((1, "weight", weight), (2, "indices", indices)):
        if not isinstance(value, Tensor):
            raise TypeError(f"embedding(): argument '{name}' (position {position}) must be Tensor, not "
                            f"{type_name(value)}")


def _check_indices(indices, fn):
    if indices._dtype not in _INDEX_DTYPES:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {indices.type()} instead (while checking arguments for {fn})")


@runs_on_its_device
def _check_range(indices, num_weights):
    """indices, checked against num_weights (at once on the CPU; clipped in bounds where the check is deferred)."""
    data = indices._data
    if not data.size:
        return indices
    backend = indices._device.backend
    backend.check(((data < 0) | (data >= num_weights)).any(), lambda: IndexError("index out of range in self"))
    if backend.cheap_reads:
        return indices
    return _wrap(backend.xp.clip(data, 0, num_weights - 1), indices._device, indices._dtype)


def _wrapped_padding_idx(padding_idx, num_weights):
    """padding_idx checked against num_weights, a negative one counted from the end (None stays None)."""
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num_weights, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num_weights, "Padding_idx must be within num_embeddings"
            padding_idx = num_weights + padding_idx
    return padding_idx


def _padding_index(padding_idx, num_weights):
    """The kernels' padding index: -1 for none."""
    padding_idx = _wrapped_padding_idx(padding_idx, num_weights)
    return -1 if padding_idx is None else padding_idx


@runs_on_its_device
def _renorm_(weight, indices, max_norm, norm_type):
    """torch.embedding_renorm_: rows of `weight` referenced by `indices` whose norm exceeds max_norm
    are scaled to max_norm, in place, outside autograd."""
    xp = weight._device.backend.xp
    with no_grad():
        rows = xp.unique(indices._data.reshape(-1))
        if not rows.size:
            return weight
        sub = weight._data[rows].astype(xp.float64 if weight._data.dtype == xp.float64 else xp.float32)
        norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        over = norms > max_norm
        if bool(over.any()):
            scale = (max_norm / (norms + 1e-7))[:, None]
            new = weight._data[rows]
            new[over] = (sub[over] * scale[over]).astype(new.dtype)
            weight._data[rows] = new
            weight._vc[0] += 1
    return weight


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of `weight` at the indices in `input`.

    sparse=True makes weight's gradient a sparse COO tensor (one entry per looked-up index)."""
    _check_tensors(weight, input)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    num_weights = weight.shape[0]
    padding_idx = _padding_index(padding_idx, num_weights)
    _check_indices(input, "embedding")
    if is_batched(input) and max_norm is None:
        # NOTE: inside vmap the batching rule checks the physical indices' range
        return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq), bool(sparse))
    input = _check_range(input, num_weights)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq), bool(sparse))


def _torch_embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False)."""
    _check_tensors(weight, indices)
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(indices, "embedding")
    indices = _check_range(indices, weight.shape[0])
    return Embedding.apply(weight, indices, padding_idx, bool(scale_grad_by_freq), bool(sparse))


def _torch_embedding_renorm_(weight, indices, max_norm, norm_type):
    """torch.embedding_renorm_(weight, indices, max_norm, norm_type)."""
    return _renorm_(weight, indices, max_norm, norm_type)


# --- embedding_bag ---------------------------------------------------------------------------------
@runs_on_its_device
def _bag_layout(input, offsets, include_last_offset):
    """(flat indices, bag id of each, number of bags) for embedding_bag's two input forms."""
    xp = input._device.backend.xp
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type "
                             f"{_type_repr(offsets)}")
        bags, length = input.shape
        bag_of = xp.repeat(xp.arange(bags, dtype=xp.int64), length)
        return input.reshape(-1), bag_of, bags
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    off = offsets._data.astype(xp.int64)
    if off.size and int(off[0]) != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(off[0])}\n[ torch.LongTensor{{}} ]")
    n = input.shape[0]
    if off.size and int(off[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length ({n}), but got offsets[-1] of "
                           f"{int(off[-1])}")
    bags = off.size - 1 if include_last_offset else off.size
    starts = off[:bags]
    # NOTE: each position's bag is the last bag starting at or before it (empty bags are skipped).
    bag_of = xp.searchsorted(starts, xp.arange(n), side="right") - 1
    if include_last_offset and off.size:
        bag_of = xp.where(xp.arange(n) < off[-1], bag_of, -1)
    return input, bag_of, max(bags, 0)


def _type_repr(value):
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else repr(type(value))


@runs_on_its_device
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of bags of embeddings (bags given by offsets, or a 2-D input's rows).

    Differs from PyTorch: sparse=True gives a dense gradient."""
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({_size(per_sample_weights)}) is not None, then it "
                         f"must have the same shape as the input ({_size(input)})")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    _check_indices(input, "embedding_bag")
    num_weights, dim = weight.shape
    padding_idx = _padding_index(padding_idx, num_weights)
    flat, bag_of, bags = _bag_layout(input, offsets, include_last_offset)
    xp = weight._device.backend.xp
    data = flat._data
    bad = (data < 0) | (data >= num_weights)
    if data.size and bool(bad.any()):
        i = int(xp.argmax(bad))
        raise RuntimeError(f"Index {i} of input takes value {int(data[i])} which is not in the valid range "
                           f"[0, {num_weights})")
    if max_norm is not None:
        _renorm_(weight, flat, max_norm, norm_type)
    keep = bag_of >= 0
    if padding_idx >= 0:
        keep = keep & (data != padding_idx)
    pos = xp.nonzero(keep)[0]
    dev = weight._device
    kept = _wrap(data[pos], dev, flat._dtype)
    bag_t = _wrap(bag_of[pos].astype(xp.int64), dev, _dtype.int64)
    psw = None
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1).index_select(0, _wrap(pos, dev, _dtype.int64))
    return EmbeddingBag.apply(weight, kept, bag_t, psw, bags, mode, bool(scale_grad_by_freq))


def _size(t):
    return "torch.Size([" + ", ".join(str(s) for s in t.shape) + "])"


for _name, _fn in {"embedding": _torch_embedding, "embedding_renorm_": _torch_embedding_renorm_}.items():
    bind(_name, _fn)
del _name, _fn
