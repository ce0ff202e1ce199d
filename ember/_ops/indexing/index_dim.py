"""Writing along a dim at a vector of indices: index_add, index_copy, index_fill; and take (indices
into the flattened tensor)."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor, norm_dim
from .._registry import OpSpec, apply_inplace, bind_method, public, spec
from .scatter import _in_range
from ..shape.views import Index, _fmt_shape


def _key(dim, idx):
    return (slice(None),) * dim + (idx,)


class IndexAdd(Primitive):
    """Copy of input with alpha * source added at `index` along `dim` (repeats add up)."""
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, x, source, dim, index, alpha):
        out = x.copy()
        values = source if alpha == 1 else source * ctx.xp.asarray(alpha, dtype=x.dtype)
        ctx.device.backend.add_at(out, _key(dim, _in_range(ctx, index._data, x.shape[dim] if x.ndim else 1)), values)
        ctx.dim, ctx.index, ctx.alpha = dim, index, alpha
        return out

    @staticmethod
    def backward(ctx, g):
        gs = None
        if ctx.needs_input_grad[1]:
            gs = g.index_select(ctx.dim, ctx.index)
            gs = gs if ctx.alpha == 1 else gs * ctx.alpha
        return g, gs


class IndexCopy(Primitive):
    """Copy of input with source's slices written at `index` along `dim`."""
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, x, source, dim, index):
        out = x.copy()
        out[_key(dim, _in_range(ctx, index._data, x.shape[dim] if x.ndim else 1))] = source
        ctx.dim, ctx.index = dim, index
        return out

    @staticmethod
    def backward(ctx, g):
        gs = g.index_select(ctx.dim, ctx.index) if ctx.needs_input_grad[1] else None
        return g.index_fill(ctx.dim, ctx.index, 0), gs


class IndexFill(Primitive):
    """Copy of input with `value` (a number or a 0-d tensor) at `index` along `dim`."""
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, x, value, dim, index):
        out = x.copy()
        size = x.shape[dim] if x.ndim else 1
        out[_key(dim, _in_range(ctx, index._data, size, -size))] = ctx.xp.asarray(value).astype(x.dtype)
        ctx.dim, ctx.index = dim, index
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g.index_fill(ctx.dim, ctx.index, 0)
        # NOTE: not index_select(...).sum(): a repeated index fills its position only once
        gv = (g - gx).sum() if ctx.needs_input_grad[1] else None
        return gx, gv


def _vector_index(index, name, scalar_ok=True):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: "
                           f"{_dtype.scalar_type_name(index._dtype)}")
    if index._data.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index._data.ndim} with type: "
                         f"{_dtype.scalar_type_name(index._dtype)} and size: {_fmt_shape(index._data.shape)}")
    return index.reshape(-1) if index._data.ndim == 0 else index


def _bounds(index, size, d, exc, prefix="", negative_ok=False):
    idx = index._data
    if idx.size:
        def error():
            lo, hi = int(idx.min()), int(idx.max())
            return exc(f"{prefix}index {hi if hi >= size else lo} is out of bounds for dimension {d} with size {size}")
        index._device.backend.check(((idx < (-size if negative_ok else 0)) | (idx >= size)).any(), error)


def _source_args(self, dim, index, source, name):
    """Checks shared by index_add and index_copy; returns (dim, index)."""
    index = _vector_index(index, name)
    nd = self._data.ndim
    d = norm_dim(dim, nd)
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._dtype is not self._dtype:
        raise RuntimeError(f"{name}(): self ({_dtype.scalar_type_name(self._dtype)}) and source "
                           f"({_dtype.scalar_type_name(source._dtype)}) must have the same scalar type")
    n = source._data.shape[d] if source._data.ndim else 1
    if index._data.size != n:
        raise (IndexError if name == "index_copy_" else RuntimeError)(
            f"{name}(): Number of indices ({index._data.size}) should be equal to source.size(dim)"
            f"{': ' if name == 'index_add_' else ' '}({n}){', for dim: ' + str(d) if name == 'index_add_' else ''}")
    want = list(self._data.shape)
    if want:
        want[d] = n
    if source._data.ndim and tuple(want) != source._data.shape:
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {_fmt_shape(self._data.shape)} source.shape = "
                           f"{_fmt_shape(source._data.shape)}")
    size = self._data.shape[d] if nd else 1
    if name == "index_copy_":
        _bounds(index, size, d, IndexError, "index_copy_(): ")
    else:
        _bounds(index, size, d, RuntimeError)
    return d, index


def _vectors(*tensors):
    """0-d tensors work as 1-element vectors."""
    return tuple(t.reshape(1) if t._data.ndim == 0 else t for t in tensors)


@public(method=True)
def index_add(input, dim, index, source, *, alpha=1, out=None):
    """Copy of input with alpha * source added at `index` along `dim` (repeats add up)."""
    d, index = _source_args(input, dim, index, source, "index_add_")
    x, src = _vectors(input, source)
    return IndexAdd.apply(x, src, d, index, alpha).reshape(input.shape)


def _index_add_(self, dim, index, source, *, alpha=1):
    d, index = _source_args(self, dim, index, source, "index_add_")
    return apply_inplace(IndexAdd, self, source, d, index, alpha)


@public(method=True)
def index_copy(input, dim, index, source):
    """Copy of input with source's slices written at `index` along `dim`."""
    d, index = _source_args(input, dim, index, source, "index_copy_")
    x, src = _vectors(input, source)
    return IndexCopy.apply(x, src, d, index).reshape(input.shape)


def _index_copy_(self, dim, index, source):
    d, index = _source_args(self, dim, index, source, "index_copy_")
    return apply_inplace(IndexCopy, self, source, d, index)


def _fill_args(self, dim, index, value):
    if not isinstance(value, Tensor):
        from ..._creation import checked_fill_value
        checked_fill_value(value, self._dtype)  # PyTorch's overflow error (300 into uint8)
    index = _vector_index(index, "index_fill_")
    d = norm_dim(dim, self._data.ndim)
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    size = self._data.shape[d] if self._data.ndim else 1
    _bounds(index, size, d, IndexError, negative_ok=True)  # NOTE: index_fill alone counts from the end
    return d, index


@public(method=True)
def index_fill(input, dim, index, value):
    """Copy of input with `value` at `index` along `dim`."""
    d, index = _fill_args(input, dim, index, value)
    x = input.reshape(1) if input._data.ndim == 0 else input
    return IndexFill.apply(x, value, d, index).reshape(input.shape)


def _index_fill_(self, dim, index, value):
    d, index = _fill_args(self, dim, index, value)
    return apply_inplace(IndexFill, self, value, d, index)


bind_method("index_add_", _index_add_)
bind_method("index_copy_", _index_copy_)
bind_method("index_fill_", _index_fill_)


def _check_take(backend, idx, n):
    def error():
        lo, hi = int(idx.min()), int(idx.max())
        return IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of {n} elements.")
    backend.check(((idx >= n) | (idx < -n)).any(), error)


@public(method=True)
def take(input, index):
    """The elements of the flattened input at `index` (negative counts from the end); index's shape."""
    if not isinstance(index, Tensor):
        raise TypeError(f"take(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    if index._dtype is not _dtype.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_dtype.scalar_type_name(index._dtype)}")
    n = input._data.size
    idx = index._data
    if idx.size:
        _check_take(input._device.backend, idx, n)
        if n and not input._device.backend.cheap_reads:
            idx = input._device.backend.xp.clip(idx, -n, n - 1)  # NOTE: the check is deferred: stay in bounds
    flat = input.reshape(-1)
    return Index.apply(flat, (idx.reshape(-1),)).reshape(idx.shape)


# --- specs -------------------------------------------------------------------------------------------------
def _index_sample(g, unique, fill=False):
    x = g.values(g.shape(1, 3, 1, 4))
    d = g.dim(x.ndim)
    size = x.shape[d % x.ndim]
    n = g.integers(0, size) if unique else g.integers(0, 4)
    idx = g.rng.permutation(size)[:n].astype("int64") if unique else g.index((n,), size)
    if fill:
        return (x, d, idx), {}
    shape = list(x.shape)
    shape[d] = len(idx)
    return (x, d, idx, g.values(shape)), {}


def _take_sample(g):
    x = g.values(g.shape(0, 3, 1, 3))
    n = x.size
    idx = g.index(g.shape(0, 2, 1 if n else 0), 2 * n)
    idx -= n  # NOTE: in place, so a 0-d index stays an array
    return (x, idx), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("index_add", sample=lambda g: _index_sample(g, False), kwargs=({}, {"alpha": 2}),
            dtypes=_FLOATS + ("int64",)),
     OpSpec("index_add_", sample=lambda g: _index_sample(g, False),
            call=lambda torch, x, d, i, s: x.clone().index_add_(d, i, s, alpha=-1.5)),
     OpSpec("index_copy", sample=lambda g: _index_sample(g, True), dtypes=_FLOATS + ("bool",)),
     OpSpec("index_copy_", sample=lambda g: _index_sample(g, True),
            call=lambda torch, x, d, i, s: x.clone().index_copy_(d, i, s)),
     OpSpec("index_fill", sample=lambda g: _index_sample(g, False, True), kwargs=({"value": -1.5}, {"value": 2}),
            dtypes=_FLOATS + ("int64",)),
     OpSpec("index_fill_tensor_value", sample=lambda g: _index_sample(g, False, True),
            call=lambda torch, x, d, i: x.index_fill(d, i, x.sum() if x.is_floating_point() else x.sum().item())),
     OpSpec("index_fill_", sample=lambda g: _index_sample(g, False, True),
            call=lambda torch, x, d, i: x.clone().index_fill_(d, i, 3.0)),
     OpSpec("take", sample=_take_sample,
            dtypes=_FLOATS + ("int64",)))
