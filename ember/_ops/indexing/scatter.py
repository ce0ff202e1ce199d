"""Gather and scatter along a dim: gather, scatter (src, value, reduce=), scatter_add, scatter_reduce,
take_along_dim.

Index tensors are parameters (not operands): they carry no gradient. Their checks (dtype, shapes,
bounds) run before any work, with PyTorch's messages.
"""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor, _wrap, broadcast_shapes, norm_dim
from .._registry import OpSpec, apply_inplace, bind_method, public, spec
from ...func._batching.tensor import is_batched
from ..shape.views import IndexInto, _fmt_shape

_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def _scatter_key(backend, index, dim):
    """Full coordinates of every entry of `index`, with `index` itself along `dim`."""
    grids = backend.indices(index.shape)
    return tuple(index if d == dim else g for d, g in enumerate(grids))


def _reduce_at(ctx, ufunc, out, key, values):
    """out[key] = ufunc(out[key], values), repeatedly where indices repeat."""
    ctx.device.backend.ufunc_at(ufunc, out, key, values)


def _index_array(index, name, what="int32/int64"):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}(): Expected dtype {what} for index")
    return index._data


def _check_bounds(backend, idx, size, dim, exc=RuntimeError, prefix=""):
    if idx.size:
        def error():
            lo, hi = int(idx.min()), int(idx.max())
            return exc(f"{prefix}index {lo if lo < 0 else hi} is out of bounds for dimension {dim} with size {size}")
        backend.check(((idx < 0) | (idx >= size)).any(), error)


def _in_range(ctx, idx, size, low=0):
    """idx, clipped into [low, size) where its bounds check is deferred (the op runs before the check is read)."""
    if ctx.device.backend.cheap_reads:
        return idx
    return ctx.xp.clip(idx, low, max(size - 1, 0))  # NOTE: CuPy wraps bad indices, NumPy raises: neither here




def _gather_checks(backend, x_shape, idx, d, name="gather"):
    if len(idx.shape) != len(x_shape) and not (len(idx.shape) <= 1 and len(x_shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k, (i, s) in enumerate(zip(idx.shape, x_shape)):
        if k != d and i > s:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {_fmt_shape(idx.shape)} to be "
                               f"no larger than self {_fmt_shape(x_shape)} apart from dimension {d}")
    _check_bounds(backend, idx, x_shape[d] if x_shape else 1, d)


class Gather(Primitive):
    """out[i][j] = input[index[i][j]][j] along `dim`."""
    batch_rule = ("gather",)
    complex_grad = True

    @staticmethod
    def forward(ctx, x, dim, index):
        idx = _in_range(ctx, index._data, x.shape[dim] if x.ndim else 1)
        ctx.shape, ctx.dim, ctx.index = x.shape, dim, index
        return x[_scatter_key(ctx.device.backend, idx, dim)]

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(ctx.shape).scatter_add(ctx.dim, ctx.index, g)


@public(method=True)
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of input picked along `dim` by `index` (same number of dims as input)."""
    if is_batched(input) or is_batched(index):
        # NOTE: inside vmap the batching rule calls this function on the physical tensors: the checks run there
        return Gather.apply(input, dim, index)
    idx = _index_array(index, "gather")
    d = norm_dim(dim, input._data.ndim)
    _gather_checks(input._device.backend, input._data.shape, idx, d)
    if input._data.ndim == 0 or idx.ndim == 0:  # NOTE: 0-d and 1-element 1-d tensors gather alike
        return gather(input.reshape(-1), 0, index.reshape(-1), out=out).reshape(idx.shape)
    result = Gather.apply(input, d, index)
    if out is not None:
        from .._registry import write_out
        return write_out(out, result, "gather")
    return result


# --- scatter ----------------------------------------------------------------------------------------------
class Scatter(Primitive):
    """Copy of input with src written at `index` along `dim` (reduce 'add'/'multiply' combines instead)."""
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, x, src, dim, index, reduce):
        idx = _in_range(ctx, index._data, x.shape[dim] if x.ndim else 1)
        out = x.copy()
        ctx.dim, ctx.index, ctx.reduce, ctx.src_shape = dim, index, reduce, src.shape
        if x.ndim == 0:  # NOTE: a 0-d tensor scatters as one element
            out, idx, src = out.reshape(1), idx.reshape(-1), src.reshape(-1) if src.ndim else src
        key = _scatter_key(ctx.device.backend, idx, dim)
        if src.ndim:
            src = src[tuple(slice(0, s) for s in idx.shape)]
        if reduce is None:
            out[key] = src
        else:
            _reduce_at(ctx, "add" if reduce == "add" else "multiply", out, key, ctx.xp.broadcast_to(src, idx.shape))
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce is not None:
            raise RuntimeError("derivative for aten::scatter is not implemented")
        gx = g.scatter(ctx.dim, ctx.index, 0.0)
        gs = None
        if ctx.needs_input_grad[1]:
            gs = _pad_to(g.gather(ctx.dim, ctx.index), ctx.src_shape)
        return gx, gs


class ScatterAdd(Scatter):
    complex_grad = True
    node_name = "ScatterAddBackward0"

    @staticmethod
    def backward(ctx, g):
        gs = _pad_to(g.gather(ctx.dim, ctx.index), ctx.src_shape) if ctx.needs_input_grad[1] else None
        return g, gs


def _pad_to(t, shape):
    """`t` in the leading corner of zeros of `shape` (src larger than index gets zero gradient beyond it)."""
    if tuple(t._data.shape) == tuple(shape):
        return t
    return IndexInto.apply(t, tuple(shape), tuple(slice(0, s) for s in t._data.shape), False)


def _scatter_args(self, dim, index, src, value, name):
    """Checks shared by the scatter family; returns (dim, src tensor)."""
    idx = _index_array(index, name)
    nd = self._data.ndim
    d = norm_dim(dim, nd)
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got neither a Tensor src nor a "
                        "Number value")
    if isinstance(src, Tensor):
        if src._dtype is not self._dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        src_shape = src._data.shape
    else:
        from ..._creation import checked_fill_value
        src = checked_fill_value(src, self._dtype)  # NOTE: PyTorch's overflow error; -1 wraps into uint8
        src = _wrap(self._device.backend.xp.asarray(src).astype(self._dtype.np), self._device, self._dtype)
        src_shape = None
    if idx.ndim != nd and not (idx.ndim <= 1 and nd <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    for k, i in enumerate(idx.shape):
        too_big = (k != d and nd and i > self._data.shape[k]) or (src_shape is not None and src_shape and
                                                                  i > src_shape[k])
        if too_big:
            tail = f" and to be no larger size than src {_fmt_shape(src_shape)}" if src_shape is not None else ""
            raise RuntimeError(f"Expected index {_fmt_shape(idx.shape)} to be no larger than self "
                               f"{_fmt_shape(self._data.shape)} apart from dimension {d}{tail}")
    _check_bounds(self._device.backend, idx, self._data.shape[d] if nd else 1, d)
    return d, src


def _check_reduce(reduce):
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")


@public(method=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Copy of input with src (or value) written at `index` along `dim`; reduce='add'/'multiply' combines."""
    _check_reduce(reduce)
    d, src = _scatter_args(input, dim, index, src, value, "scatter")
    return Scatter.apply(input, src, d, index, reduce)


def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    _check_reduce(reduce)
    d, src = _scatter_args(self, dim, index, src, value, "scatter")
    return apply_inplace(Scatter, self, src, d, index, reduce)


@public(method=True)
def scatter_add(input, dim, index, src):
    """Copy of input with src added at `index` along `dim` (repeats add up)."""
    d, src = _scatter_args(input, dim, index, src, None, "scatter")
    return ScatterAdd.apply(input, src, d, index, "add")


def _scatter_add_(self, dim, index, src):
    d, src = _scatter_args(self, dim, index, src, None, "scatter")
    return apply_inplace(ScatterAdd, self, src, d, index, "add")


bind_method("scatter_", _scatter_)
bind_method("scatter_add_", _scatter_add_)


# --- scatter_reduce --------------------------------------------------------------------------------------------
def _identity(xp, dtype, reduce):
    """The value a reduction starts from when self is left out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    info = xp.finfo(dtype) if dtype.kind == "f" else xp.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"
    if dtype.kind == "f":
        return -xp.inf if reduce == "amax" else xp.inf
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Primitive):
    """Copy of input with src combined in at `index` along `dim` by sum/prod/mean/amax/amin."""
    inputs = 2

    @staticmethod
    def forward(ctx, x, src, dim, index, reduce, include_self):
        xp = ctx.xp
        idx = _in_range(ctx, index._data, x.shape[dim] if x.ndim else 1)
        out = x.copy()
        key = _scatter_key(ctx.device.backend, idx, dim)
        src_used = src[tuple(slice(0, s) for s in idx.shape)]
        hit = xp.zeros(x.shape, dtype=bool)
        hit[key] = True
        if not include_self:
            out[key] = _identity(xp, x.dtype, reduce)
        _reduce_at(ctx, _REDUCE_UFUNC[reduce], out, key, src_used)
        count = None
        if reduce == "mean":
            count = xp.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
            ctx.device.backend.add_at(count, key, xp.ones(idx.shape, dtype=x.dtype))
            count = xp.maximum(count, 1)
            out = out // count if x.dtype.kind in "iub" else out / count
        ctx.dim, ctx.index, ctx.reduce, ctx.include_self, ctx.src_shape = dim, index, reduce, include_self, src.shape
        ctx.hit, ctx.count = hit, count
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, src, out = ctx.saved_tensors
        d, index = ctx.dim, ctx.index
        src = src if tuple(src.shape) == tuple(index.shape) else src[tuple(slice(0, s) for s in index.shape)]
        hit = _wrap(ctx.hit, g._device, _dtype.bool)
        gx, gs = _REDUCE_BACKWARD[ctx.reduce](ctx, g, x, src, out, hit)
        return gx, (_pad_to(gs, ctx.src_shape) if gs is not None else None)


def _keep_self(ctx, g, hit):
    """Gradient to self where the reduction does not include it: only the untouched positions."""
    return g if ctx.include_self else g.masked_fill(hit, 0)


def _sum_backward(ctx, g, x, src, out, hit):
    return _keep_self(ctx, g, hit), g.gather(ctx.dim, ctx.index)


def _mean_backward(ctx, g, x, src, out, hit):
    scaled = g / _wrap(ctx.count, g._device, g._dtype)
    gx = scaled if ctx.include_self else g.masked_fill(hit, 0)
    return gx, scaled.gather(ctx.dim, ctx.index)


def _extreme_backward(ctx, g, x, src, out, hit):
    # NOTE: as in PyTorch, the gradient is shared evenly among every value equal to the result.
    d, index = ctx.dim, ctx.index
    self_tie = x == out
    if not ctx.include_self:
        self_tie = self_tie & ~hit
    src_tie = src == out.gather(d, index)
    ties = self_tie.to(g.dtype).scatter_add(d, index, src_tie.to(g.dtype))
    share = g / ties.clamp(min=1)
    return share.masked_fill(~self_tie, 0), share.gather(d, index).masked_fill(~src_tie, 0)


def _prod_backward(ctx, g, x, src, out, hit):
    d, index = ctx.dim, ctx.index
    if ctx.include_self:  # d out / d self = the product of what was scattered in (exact with zeros)
        gx = g * x.new_ones(x.shape).scatter_reduce(d, index, src, "prod")
    else:
        gx = g.masked_fill(hit, 0)
    # d out / d src_j = the product of everything else at its position: out / src_j when src_j != 0;
    # for the only zero at a position, the product with that zero replaced by 1.
    zero = src == 0
    zeros_there = x.new_zeros(x.shape).scatter_add(d, index, zero.to(x.dtype)).gather(d, index)
    lone = zero & (zeros_there == 1)
    without = x.scatter_reduce(d, index, src.masked_fill(lone, 1), "prod", include_self=ctx.include_self)
    gs = (g * out).gather(d, index) / src.masked_fill(zero, 1)
    return gx, gs.where(~lone, (g * without).gather(d, index))


_REDUCE_BACKWARD = {"sum": _sum_backward, "mean": _mean_backward, "prod": _prod_backward,
                    "amax": _extreme_backward, "amin": _extreme_backward}


def _reduce_args(self, dim, index, src, reduce):
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    return _scatter_args(self, dim, index, src, None, "scatter_reduce")[0]


@public(method=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Copy of input with src reduced in at `index` along `dim` ('sum', 'prod', 'mean', 'amax', 'amin')."""
    d = _reduce_args(input, dim, index, src, reduce)
    return ScatterReduce.apply(input, src, d, index, reduce, bool(include_self))


def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    d = _reduce_args(self, dim, index, src, reduce)
    return apply_inplace(ScatterReduce, self, src, d, index, reduce, bool(include_self))


bind_method("scatter_reduce_", _scatter_reduce_)


@public(method=True)
def take_along_dim(input, indices, dim=None, *, out=None):
    """Values of input at `indices` along `dim` (broadcast against each other); flattened if dim is None."""
    idx = _index_array(indices, "take_along_dim", "int64")
    if dim is None:
        # NOTE: PyTorch flattens both with view(), so a non-contiguous input or index raises here.
        return gather(input.view(-1), 0, indices.view(-1), out=out)
    nd = input._data.ndim
    if idx.ndim != nd:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {nd} dimensions for input, and {idx.ndim} dimensions for indices")
    d = norm_dim(dim, nd)
    want = list(input._data.shape)
    want[d] = idx.shape[d]
    shape = list(broadcast_shapes(tuple(want), idx.shape))
    indices = indices.expand(shape)
    shape[d] = input._data.shape[d]
    return gather(input.expand(shape), d, indices, out=out)


# --- specs -------------------------------------------------------------------------------------------------
def _gather_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))
    d = g.dim(x.ndim)
    shape = [g.integers(0, s) for s in x.shape]
    shape[d] = g.integers(0, 5)
    return (x, d, g.index(shape, x.shape[d])), {}


def _unique_index(g, shape, d, size):
    """An index of `shape` whose entries along `d` are distinct (plain scatter is undefined on repeats)."""
    xp = g.rng
    keys = xp.random(tuple(shape[:d]) + (size,) + tuple(shape[d + 1:])).argsort(axis=d)
    return keys[tuple(slice(0, s) for s in shape)].astype("int64")


def _scatter_sample(g, unique=True, src_bigger=False):
    x = g.values(g.shape(1, 3, 1, 4))
    d = g.dim(x.ndim)
    dd = d % x.ndim
    shape = [g.integers(1, s) for s in x.shape]
    shape[dd] = g.integers(0, x.shape[dd]) if unique else g.integers(0, 5)
    idx = _unique_index(g, shape, dd, x.shape[dd]) if unique else g.index(shape, x.shape[dd])
    src_shape = [s + (g.integers(0, 1) if src_bigger else 0) for s in shape]
    return x, d, idx, g.values(src_shape)


def _scatter_src(g):
    x, d, idx, src = _scatter_sample(g, src_bigger=True)
    return (x, d, idx, src), {}


def _scatter_value(g):
    x, d, idx, _ = _scatter_sample(g)
    return (x, d, idx), {"value": g.choice([1.5, -2.0, 0.0])}


def _scatter_add_sample(g):
    x, d, idx, src = _scatter_sample(g, unique=False)
    return (x, d, idx, src), {}


def _scatter_reduce_sample(g):
    x, d, idx, src = _scatter_sample(g, unique=False)
    return (x, d, idx, src), {}


def _take_along_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))
    if g.boolean():
        return (x, g.index(g.shape(0, 2), max(x.size, 1))), {}
    d = g.dim(x.ndim)
    shape = [1 if g.boolean() else s for s in x.shape]
    shape[d] = g.integers(0, 4)
    return (x, g.index(shape, x.shape[d])), {"dim": d}


_FLOATS = ("float32", "float64")
_REDUCE_CALL = (lambda torch, x, d, i, s, **kw: x.scatter_reduce(d, i, s, **kw))
spec(OpSpec("gather", sample=_gather_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("scatter", sample=_scatter_src, dtypes=_FLOATS + ("int64",)),
     OpSpec("scatter_value", sample=_scatter_value, call=lambda torch, x, d, i, **kw: torch.scatter(x, d, i, **kw)),
     OpSpec("scatter_reduce_add", sample=_scatter_add_sample, grad=False, kwargs=({"reduce": "add"},
                                                                                 {"reduce": "multiply"}),
            call=lambda torch, x, d, i, s, **kw: x.scatter(d, i, s, **kw)),
     OpSpec("scatter_", sample=_scatter_src, call=lambda torch, x, d, i, s: x.clone().scatter_(d, i, s)),
     OpSpec("scatter_add", sample=_scatter_add_sample),
     OpSpec("scatter_add_", sample=_scatter_add_sample, call=lambda torch, x, d, i, s: x.clone().scatter_add_(d, i, s)),
     OpSpec("scatter_reduce", sample=_scatter_reduce_sample, call=_REDUCE_CALL,
            kwargs=({"reduce": "sum"}, {"reduce": "mean", "include_self": False}, {"reduce": "amax"})),
     OpSpec("scatter_reduce_prod", sample=_scatter_reduce_sample, call=_REDUCE_CALL, domain=(-2, 2),
            kwargs=({"reduce": "prod"}, {"reduce": "prod", "include_self": False})),
     OpSpec("scatter_reduce_min", sample=_scatter_reduce_sample, call=_REDUCE_CALL,
            kwargs=({"reduce": "amin", "include_self": False}, {"reduce": "mean"})),
     OpSpec("scatter_reduce_int", sample=_scatter_reduce_sample, call=_REDUCE_CALL, dtypes=("int64",),
            kwargs=({"reduce": "mean"}, {"reduce": "amax", "include_self": False}, {"reduce": "prod"})),
     OpSpec("scatter_reduce_", sample=_scatter_reduce_sample,
            call=lambda torch, x, d, i, s: x.clone().scatter_reduce_(d, i, s, "amin")),
     OpSpec("take_along_dim", sample=_take_along_sample, dtypes=_FLOATS + ("int64",)))
