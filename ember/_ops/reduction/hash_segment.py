"""torch.hash_tensor (an xor of each element's 64 bits along dims) and torch.segment_reduce (reductions over
consecutive segments of given lengths or offsets; composed, so its gradients are the reductions')."""
import math

from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from .._registry import OpSpec, public, register, spec


class HashTensor(Primitive):
    """The xor of the 64-bit patterns of input's elements (floats as float64, integers as int64) along `dims`."""
    differentiable = False

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        xp = ctx.xp
        if x.dtype.kind in "fc":
            bits = x.astype(xp.float64).view(xp.uint64)
        else:
            bits = x.astype(xp.int64).view(xp.uint64)
        nd = bits.ndim
        rest = [d for d in range(nd) if d not in dims]
        moved = xp.transpose(bits, rest + list(dims)) if nd else bits
        kept = tuple(bits.shape[d] for d in rest)
        flat = moved.reshape(kept + (-1,))
        while flat.shape[-1] > 1:  # NOTE: halving, so that it needs no ufunc.reduce (CuPy's xor has none)
            n = flat.shape[-1]
            if n % 2:
                flat = xp.concatenate([flat, xp.zeros(kept + (1,), dtype=flat.dtype)], axis=-1)
                n += 1
            flat = xp.bitwise_xor(flat[..., :n // 2], flat[..., n // 2:])
        out = flat[..., 0] if flat.shape[-1] else xp.zeros(kept, dtype=xp.uint64)
        if keepdim:
            out = out.reshape(tuple(1 if d in dims else bits.shape[d] for d in range(nd)))
        return xp.asarray(out, dtype=xp.uint64).copy()  # NOTE: ascontiguousarray would make a 0-d result 1-d


@public(method=True)
def hash_tensor(input, dim=(), *, keepdim=False, mode=0, out=None):
    """A uint64 xor-hash of input's elements (as float64 or int64 bits) over `dim` (all dims by default)."""
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    if input.is_complex():
        raise NotImplementedError(f"\"xor_sum_cpu\" not implemented for '{_dtype.scalar_type_name(input._dtype)}'")
    nd = input._data.ndim
    if isinstance(dim, float):
        raise TypeError("hash_tensor(): argument 'dim' must be tuple of ints, not float")
    dims = [dim] if isinstance(dim, int) else list(dim or ())
    if not dims:
        if input.numel() == 0:
            raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        dims = list(range(nd))
    from ..._tensor import norm_dims
    dims = sorted(norm_dims(dims, nd)) if nd else []
    for d in dims:
        if input._data.shape[d] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {d} to have non-zero size.")
    result = HashTensor.apply(input.detach(), tuple(dims), bool(keepdim))
    if out is None:
        return result
    from .._registry import write_out
    return write_out(out, result, "hash_tensor")


# --- segment_reduce -----------------------------------------------------------------------------------------
_SEGMENT_REDUCES = ("sum", "prod", "mean", "max", "min")
_EMPTY = {"sum": 0.0, "prod": 1.0, "mean": math.nan, "max": -math.inf, "min": math.inf}


def _segments_1d(data, axis, lengths, reduce, initial):
    """data's segments along `axis` (lengths: Python ints) reduced, stacked along `axis`."""
    from ... import stack
    out, start = [], 0
    for n in lengths:
        seg = data.narrow(axis, start, n)
        start += n
        out.append(_reduce_segment(seg, axis, n, reduce, initial))
    if not out:
        shape = list(data.shape)
        shape[axis] = 0
        return data.new_zeros(shape)
    return stack(out, axis)


def _reduce_segment(seg, axis, n, reduce, initial):
    if n == 0:  # NOTE: from the empty segment's sum (0), so the result stays in the graph with a zero gradient
        return seg.sum(axis) * 0 + (_EMPTY[reduce] if initial is None else initial)
    if reduce == "sum":
        r = seg.sum(axis)
        return r if initial is None else r + initial
    if reduce == "mean":
        r = seg.sum(axis)
        return (r if initial is None else r + initial) / n
    if reduce == "prod":
        r = seg.prod(axis)
        return r if initial is None else r * initial
    r = seg.amax(axis) if reduce == "max" else seg.amin(axis)
    if initial is None:
        return r
    return r.clamp(min=initial) if reduce == "max" else r.clamp(max=initial)


@public
def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None):
    """Reduce ('sum', 'prod', 'mean', 'max', 'min') consecutive segments of data along `axis`, of the given
    `lengths` (or between `offsets`); empty segments give `initial` or the reduction's identity."""
    if reduce not in _SEGMENT_REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if not (data.is_floating_point()):
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for "
                                  f"'{_dtype.scalar_type_name(data._dtype)}'")
    given = lengths if lengths is not None else offsets
    if given._dtype not in (_dtype.int64, _dtype.int32):
        raise NotImplementedError(f"\"_segment_reduce_lengths_cpu_kernel1\" not implemented for "
                                  f"'{_dtype.scalar_type_name(given._dtype)}'")
    axis = axis + data.dim() if axis < 0 else axis
    if axis != given.dim() - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of lengths but got {axis}.")
    if lengths is None:
        lengths = offsets.narrow(-1, 1, offsets.shape[-1] - 1) - offsets.narrow(-1, 0, offsets.shape[-1] - 1)
    if lengths.numel() == 0:  # NOTE: PyTorch reads lengths.min() here
        raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    if bool((lengths < 0).any()):
        raise RuntimeError("lengths contains negative value!")
    if not unsafe and bool((lengths.sum(-1) != data.shape[axis]).any()):
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                           "data.size(lengths.dim()-1) when !unsafe.")
    return _segment_rows(data, lengths, axis, reduce, initial)


def _segment_rows(data, lengths, axis, reduce, initial):
    if lengths.dim() == 1:
        return _segments_1d(data, axis, [int(n) for n in lengths.tolist()], reduce, initial)
    from ... import stack
    return stack([_segment_rows(d, n, axis - 1, reduce, initial) for d, n in zip(data.unbind(0), lengths.unbind(0))])


# --- specs -------------------------------------------------------------------------------------------------
def _hash_sample(g):
    x = g.values(g.shape(1, 3, 1, 4), domain=(-100, 100))
    if g.boolean():
        return (x,), {}
    return (x,), {"dim": g.dim(x.ndim), "keepdim": g.boolean()}


def _segment_sample(g):
    n = g.integers(0, 6)
    cols = g.integers(1, 3)
    x = g.values((n, cols))
    lengths, left = [], n
    while left:
        k = g.integers(0, left)
        lengths.append(k)
        left -= k
    lengths += [0] * g.integers(0, 1)
    index = g.index((len(lengths),), 1)
    index[:] = lengths
    kw = {"initial": g.choice([0.5, -1.0])} if g.boolean() else {}
    return (x, g.choice(_SEGMENT_REDUCES), index), kw  # NOTE: lengths passes by position (the test converts those)


spec(OpSpec("hash_tensor", sample=_hash_sample, dtypes=("float32", "float64", "int32", "int64", "bool", "uint8"),
            grad=False),
     OpSpec("segment_reduce", sample=_segment_sample, large=False,
            call=lambda torch, x, reduce, lengths, **kw: torch.segment_reduce(x, reduce, lengths=lengths, **kw)))
