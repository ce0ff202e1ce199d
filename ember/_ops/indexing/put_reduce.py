"""Tensor.put / put_ (writes at flat indices), index_reduce / index_reduce_ (scatter_reduce along one dim
with a 1-D index), fill_diagonal_; each composed from index_put / scatter_reduce / item assignment, whose
gradients they inherit."""
import warnings

from ... import _dtype
from ..._tensor import Tensor
from .._registry import OpSpec, bind_method, public, spec
from .index import index_put


def _put_checks(input, index, source):
    if not isinstance(index, Tensor) or not isinstance(source, Tensor):
        bad, arg, pos = (index, "index", 1) if not isinstance(index, Tensor) else (source, "source", 2)
        raise TypeError(f"put(): argument '{arg}' (position {pos}) must be Tensor, not {type(bad).__name__}")
    if index._dtype is not _dtype.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_dtype.scalar_type_name(index._dtype)}")
    if input._dtype is not source._dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_dtype.scalar_type_name(input._dtype)} and source.dtype = "
                           f"{_dtype.scalar_type_name(source._dtype)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    n = input.numel()
    if index.numel():
        xp = index._device.backend.xp
        flat = index._data.reshape(-1)
        bad = flat[(flat >= n) | (flat < -n)]
        if bad.size:
            raise IndexError(f"out of range: tried to access index {int(bad[0])} on a tensor of {n} elements.")


@public(method=True)
def put(input, index, source, accumulate=False):
    """A copy of input with source's values written (or added, with accumulate) at flat `index` positions."""
    _put_checks(input, index, source)
    flat = index_put(input.reshape(-1), (index.reshape(-1),), source.reshape(-1), bool(accumulate))
    return flat.reshape(input.shape)


def _put_(self, index, source, accumulate=False):
    """put, in place."""
    return self.copy_(put(self, index, source, accumulate))


bind_method("put_", _put_)


_REDUCES = ("prod", "mean", "amax", "amin")
_BETA_WARNED = []


def _index_reduce_checks(input, dim, index, source, reduce, name):
    for arg, value, position in (("index", index, 3), ("source", source, 4)):
        if not isinstance(value, Tensor):
            raise TypeError(f"index_reduce(): argument '{arg}' (position {position}) must be Tensor, not "
                            f"{type(value).__name__}")
    if reduce not in _REDUCES:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if not _BETA_WARNED:  # NOTE: PyTorch's TORCH_WARN_ONCE
        _BETA_WARNED.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=3)
    if index._data.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index._data.ndim} with type: "
                         f"{_dtype.scalar_type_name(index._dtype)} and size: {list(index.shape)}")
    if index._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: "
                           f"{_dtype.scalar_type_name(index._dtype)}")
    if input._dtype is not source._dtype:
        raise RuntimeError(f"{name}(): self ({_dtype.scalar_type_name(input._dtype)}) and source "
                           f"({_dtype.scalar_type_name(source._dtype)}) must have the same scalar type")
    nd = max(input._data.ndim, 1)
    d = dim + nd if dim < 0 else dim
    if not 0 <= d < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})")
    src_n = source.shape[d] if source._data.ndim else 1
    if index.numel() != src_n:
        raise RuntimeError(f"{name}(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({src_n}), for dim: {dim}")
    size = input.shape[d] if input._data.ndim else 1
    flat = index._data.reshape(-1)
    if flat.size and bool(((flat >= size) | (flat < 0)).any()):  # NOTE: no negative indices, as PyTorch
        raise IndexError("index out of range in self")
    return d


def _index_reduce(input, dim, index, source, reduce, include_self, name, inplace=False):
    """scatter_reduce (or scatter_reduce_) with `index` spread along `dim` over source's shape."""
    d = _index_reduce_checks(input, dim, index, source, reduce, name)
    reducer = input.scatter_reduce_ if inplace else input.scatter_reduce
    if not input._data.ndim:
        return reducer(0, index.long().reshape(()), source.reshape(()), reduce, include_self=include_self)
    idx = index.long()
    shape = [1] * source._data.ndim
    shape[d] = -1
    return reducer(d, idx.reshape(shape).expand(source.shape), source, reduce, include_self=include_self)


@public(method=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """Reduce (prod, mean, amax, amin) source's slices into input's at positions `index` along `dim`."""
    result = _index_reduce(input, dim, index, source, reduce, include_self, "index_reduce_")
    if out is None:
        return result
    from .._registry import write_out
    return write_out(out, result, "index_reduce")


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """index_reduce, in place."""
    return _index_reduce(self, dim, index, source, reduce, include_self, "index_reduce_", inplace=True)


bind_method("index_reduce_", _index_reduce_)


def _fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (all dims equal for more than 2 dims; `wrap` restarts it below a tall matrix)."""
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError("dimensions must larger than 1")
    shape = self._data.shape
    if nd > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = shape[0], shape[1]
    if nd == 2:
        n = rows * cols if wrap and rows > cols + 1 else min(rows, cols) * (cols + 1)
        positions = range(0, min(n, rows * cols), cols + 1)
        key = [[p // cols for p in positions], [p % cols for p in positions]]
    else:
        key = [list(range(rows))] * nd
    from ..._creation import tensor
    idx = tuple(tensor(k, dtype=_dtype.int64, device=self._device) for k in key)
    self[idx] = fill_value
    return self


bind_method("fill_diagonal_", _fill_diagonal_)


# --- specs -------------------------------------------------------------------------------------------------
def _put_sample(g, unique):
    x = g.values(g.shape(0, 3, 1, 4))
    n = x.size
    k = g.integers(0, n if unique else 2 * n)
    pool = list(range(-n, n)) if not unique else list(range(n))
    idx = []
    for _ in range(k):
        i = g.choice(pool)
        if unique:
            pool.remove(i)
            if g.boolean():
                i -= n
        idx.append(i)
    index = g.index((k,), 1)  # NOTE: an int64 array of zeros, filled with the drawn indices
    index[:] = idx
    return (x, index.reshape((1, k)) if g.boolean() else index, g.values((k,))), {}


def _index_reduce_sample(g):
    x = g.values(g.shape(1, 3, 1, 4), domain=(0.5, 2))
    d = g.dim(x.ndim)
    k = g.integers(0, 5)
    shape = list(x.shape)
    shape[d] = k
    return (x, d, g.index((k,), x.shape[d]), g.values(shape, domain=(0.5, 2)), g.choice(_REDUCES)), \
        {"include_self": g.boolean()}


def _fill_diag_sample(g):
    # NOTE: contiguous inputs: PyTorch's wrap on a transposed tall matrix raises from its storage arithmetic
    if g.boolean():
        n, nd = g.integers(1, 3), g.integers(2, 3)
        x = g.values((n ** nd,)).reshape((n,) * nd)
    else:
        rows, cols = g.integers(1, 7), g.integers(1, 4)
        x = g.values((rows * cols,)).reshape(rows, cols)
    return (x, g.choice([1.5, -2, 0])), {"wrap": g.boolean()}


def _inplace(name):
    return lambda torch, x, *a, **kw: getattr(x.clone(), name)(*a, **kw)


spec(OpSpec("put", sample=lambda g: _put_sample(g, True), dtypes=("float32", "float64", "int64")),
     OpSpec("put_accumulate", sample=lambda g: _put_sample(g, False),
            call=lambda torch, x, i, s: torch.put(x, i, s, accumulate=True)),
     OpSpec("put_", sample=lambda g: _put_sample(g, True), call=_inplace("put_")),
     OpSpec("index_reduce", sample=_index_reduce_sample, method=True, atol=1e-5),
     OpSpec("index_reduce_", sample=_index_reduce_sample, call=_inplace("index_reduce_"), atol=1e-5),
     OpSpec("fill_diagonal_", sample=_fill_diag_sample, call=_inplace("fill_diagonal_"),
            dtypes=("float32", "float64", "int64")))
