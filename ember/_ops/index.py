"""Indexing: `tensor[key]`, `tensor[key] = value`, where, masked_fill, gather, scatter.

A key is read once into steps that PyTorch applies in order: integers select (removing the dim),
slices narrow, None inserts a dim, and any integer or bool tensors then index together (a copy).
The same steps run on Tensors (tracked by autograd) or on raw arrays (the no-grad fast path).
"""
from .. import _dtype, _state
from ..autograd.function import Primitive
from .._tensor import Tensor, _wrap, norm_dim
from ._registry import OpSpec, apply_inplace, public, register, spec
from ._index_key import advanced_key, parse, run_steps
from .views import Index


def getitem(self, key):
    xp = self._device.backend.xp
    if isinstance(key, int) and not isinstance(key, bool) and self._data.ndim:  # the common x[i]
        steps, advanced = [("select", 0, key, 0)], None
    else:
        steps, advanced = parse(key, self._data.ndim, xp)
    x = run_steps(self, steps, True)
    if not advanced:
        if x is self:
            return Alias.apply(self)
        return x
    return Index.apply(x, advanced_key(x._data.shape, advanced, xp))


class Alias(Primitive):
    """x[...] or x[:]: the same data as a new view."""
    view = True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g


def _fmt(shape):
    return f"[{', '.join(map(str, shape))}]"


def _value_tensor(self, value):
    """The value of `x[key] = value` as a tensor on x's device (numbers take x's dtype)."""
    if isinstance(value, Tensor):
        if value._device != self._device:
            value = value.to(self._device)
        return value
    if isinstance(value, (bool, int, float, complex)) or (hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0):
        xp = self._device.backend.xp
        return _wrap(xp.asarray(value).astype(self._dtype.np), self._device, self._dtype)
    raise TypeError(f"can't assign a {type(value).__name__} to a {self.type()}")


def _strip_leading_ones(value):
    """PyTorch drops a value's leading size-1 dims before broadcasting it into the target."""
    shape = value._data.shape
    i = 0
    while i < len(shape) and shape[i] == 1:
        i += 1
    return value if i == 0 else value.reshape(shape[i:])


def setitem(self, key, value):
    xp = self._device.backend.xp
    steps, advanced = parse(key, self._data.ndim, xp)
    value = _value_tensor(self, value)
    tracking = _state.local.grad_enabled and (self.requires_grad or value._requires_grad)
    target = run_steps(self if tracking else self._data, steps, tracking)
    shape = target.shape if tracking else target.shape
    if advanced:
        akey = advanced_key(tuple(shape), advanced, xp)
        value = _strip_leading_ones(value)
        result_shape = _indexed_shape(target._data if tracking else target, akey)
        try:
            xp.broadcast_shapes(value._data.shape, result_shape)
            if len(value._data.shape) > len(result_shape):
                raise ValueError
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {_fmt(value._data.shape)} cannot be broadcast "
                               f"to indexing result of shape {_fmt(result_shape)}") from None
        if value._dtype is not self._dtype:
            if value._data.ndim:  # NOTE: a 0-d value is cast like a number; others must match
                raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                                   f"{_dtype.scalar_type_name(self._dtype)} for the destination and "
                                   f"{_dtype.scalar_type_name(value._dtype)} for the source.")
            value = value.to(self._dtype)
        if tracking:
            apply_inplace(IndexPut, target, value, akey, False)
        else:
            _check_writable(target)
            target[akey] = value._data
            self._vc[0] += 1
        return
    value = _strip_leading_ones(value)
    from .views import expanded_shape
    expanded_shape(value._data.shape, tuple(shape), value._data.dtype)  # PyTorch's expand errors
    if tracking:
        target.copy_(value)
    else:
        _check_writable(target)
        target[...] = value._data
        self._vc[0] += 1


def _check_writable(array):
    """An expanded tensor's array is read-only (several elements share memory): PyTorch's error."""
    if not getattr(array.flags, "writeable", True):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")


def _indexed_shape(array, key):
    """The shape of array[key] (full slices and index arrays) without computing it."""
    positions = [i for i, k in enumerate(key) if not isinstance(k, slice)]
    bshape = tuple(array.__array_namespace__().broadcast_shapes(*(key[i].shape for i in positions))) \
        if hasattr(array, "__array_namespace__") else tuple(_broadcast(key[i].shape for i in positions))
    shape = tuple(array.shape)
    if positions == list(range(positions[0], positions[-1] + 1)):
        return shape[:positions[0]] + bshape + shape[positions[-1] + 1:]
    return bshape + tuple(s for i, s in enumerate(shape) if i not in positions)


def _broadcast(shapes):
    out = []
    for shape in shapes:
        shape = tuple(shape)
        out = [1] * (len(shape) - len(out)) + out
        for i, s in enumerate(shape):
            j = len(out) - len(shape) + i
            if out[j] == 1:
                out[j] = s
    return out


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


class IndexPut(Primitive):
    """Copy of input with `values` written (or added, with accumulate) at an advanced key."""
    inputs = 2

    @staticmethod
    def forward(ctx, x, values, key, accumulate):
        out = x.copy()
        if accumulate:
            ctx.device.backend.add_at(out, key, ctx.xp.broadcast_to(values, out[key].shape))
        else:
            out[key] = values
        ctx.key, ctx.accumulate = key, accumulate
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g if ctx.accumulate else IndexPut.apply(g, g.new_zeros(()), ctx.key, False)
        return gx, Index.apply(g, ctx.key)


def _index_put_args(self, indices, values, name):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for i, k in enumerate(indices):
        if k is not None and not isinstance(k, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(k).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if values._dtype is not self._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_dtype.scalar_type_name(self._dtype)} for the destination and "
                           f"{_dtype.scalar_type_name(values._dtype)} for the source.")
    xp = self._device.backend.xp
    key = tuple(slice(None) if k is None else k for k in indices)
    steps, advanced = parse(key, self._data.ndim, xp)
    akey = advanced_key(self._data.shape, advanced, xp)
    result_shape = _indexed_shape(self._data, akey)
    vshape = _strip_leading_ones(values)._data.shape
    try:
        xp.broadcast_shapes(vshape, result_shape)
        if len(vshape) > len(result_shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_fmt(values._data.shape)} cannot be broadcast "
                           f"to indexing result of shape {_fmt(result_shape)}") from None
    return _strip_leading_ones(values), akey


@public(method=True)
def index_put(input, indices, values, accumulate=False):
    """Copy of input with values written (or, with accumulate, added) at the index tensors."""
    values, key = _index_put_args(input, indices, values, "index_put")
    return IndexPut.apply(input, values, key, bool(accumulate))


def _index_put_(self, indices, values, accumulate=False):
    """values written (or, with accumulate, added: repeats add up) at the index tensors, in place."""
    values, key = _index_put_args(self, indices, values, "index_put_")
    return apply_inplace(IndexPut, self, values, key, bool(accumulate))


Tensor.index_put_ = _index_put_


class NonZero(Primitive):
    """The indices of the nonzero elements, one row per element (int64)."""
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((1 if bool(x) else 0, 0), dtype=xp.int64)
        return xp.stack(xp.nonzero(x), axis=1).astype(xp.int64) if x.size else xp.zeros((0, x.ndim), dtype=xp.int64)


@public(method=True)
def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or one tensor per dim with as_tuple."""
    idx = NonZero.apply(input)
    if not as_tuple:
        return idx
    if input._data.ndim == 0:
        return (idx.reshape(-1) if idx._data.shape[0] == 0 else input.new_zeros(1, dtype=_dtype.int64),)
    return tuple(idx[:, i] .contiguous() for i in range(input._data.ndim))


@public(method=True)
def argwhere(input):
    """The indices of the nonzero elements as an (n, ndim) tensor."""
    return NonZero.apply(input)


@public(method=True)
def masked_select(input, mask, *, out=None):
    """The elements of input where mask (broadcast) is True, as a 1-D copy."""
    if not isinstance(mask, Tensor) or mask._dtype is not _dtype.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    a, b = mask._data.shape, input._data.shape
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                               f"non-singleton dimension {i}")
    shape = tuple(max(x, y) for x, y in zip(pa, pb))
    m = mask.expand(shape)._data
    return Index.apply(input.expand(shape), tuple(input._device.backend.xp.nonzero(m)))


@public(method=True)
def index_select(input, dim, index, *, out=None):
    """The entries of input at `index` (1-D int tensor) along `dim`, as a copy."""
    if not isinstance(index, Tensor) or index._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    nd = input._data.ndim
    d = norm_dim(dim, max(nd, 1))
    idx = index._data.reshape(-1).astype("int64")
    size = input._data.shape[d] if nd else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={lo} axis_dim={size}")
        if hi >= size:
            raise IndexError("index out of range in self")
    if nd == 0:
        return input.clone()
    result = Index.apply(input, (slice(None),) * d + (idx,))
    if out is not None:
        from ._registry import write_out
        return write_out(out, result, "index_select")
    return result


# --- where / masked_fill ----------------------------------------------------------------------------------
class Where(Primitive):
    """condition ? input : other, elementwise with broadcasting."""
    inputs = 3
    promote = "promote"
    promote_args = 2  # the bool condition takes no part in promotion

    @staticmethod
    def forward(ctx, x, y, cond):
        ctx.save_for_backward(cond)
        return ctx.xp.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        zero = g.new_zeros(())
        return Where.apply(g, zero, cond), Where.apply(zero, g, cond), None


def _as_bool_condition(condition):
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
    if condition._dtype is not _dtype.bool:
        if condition._dtype is _dtype.uint8:
            return condition.bool()
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.scalar_type_name(condition._dtype)}")
    return condition


@public
def where(condition, input=None, other=None, *, out=None):
    """condition ? input : other; with one argument, the indices where condition holds."""
    condition = _as_bool_condition(condition)
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    result = Where.apply(input, other, condition)
    if out is not None:
        from ._registry import write_out
        return write_out(out, result, "where")
    return result


Tensor.where = lambda self, condition, other: where(condition, self, other)
spec(OpSpec("where", arity=2, shapes="binary", call=lambda torch, x, y: torch.where(x > 0, x, y)))


class MaskedFill(Primitive):
    """Copy of input with `value` where mask is True; the result keeps input's dtype."""
    inputs = 3

    @staticmethod
    def forward(ctx, x, mask, value):
        if mask.dtype.kind != "b":
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                               f"{_dtype._BY_NP[mask.dtype]}")
        ctx.save_for_backward(mask)
        out = ctx.xp.where(mask, ctx.xp.asarray(value).astype(x.dtype), x)
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        gv = None
        if ctx.needs_input_grad[2]:
            gv = (g * mask).sum()
        return g.masked_fill(mask, 0), None, gv


register(OpSpec("masked_fill", arity=1, shapes=[((3, 4),)], call=lambda torch, x: x.masked_fill(x > 0, 0.5)),
         method="masked_fill", inplace="masked_fill_")(MaskedFill)


# --- gather / scatter -----------------------------------------------------------------------------------------
def _scatter_key(xp, index, dim):
    """Full coordinates of every entry of `index`, with `index` itself along `dim`."""
    grids = xp.indices(index.shape, sparse=True)
    return tuple(index if d == dim else g for d, g in enumerate(grids))


def _check_index(index, name):
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")


class Gather(Primitive):
    """out[i][j] = input[index[i][j]][j] along `dim`."""
    inputs = 1

    @staticmethod
    def forward(ctx, x, dim, index):
        idx = index._data
        _check_index(idx, "gather")
        d = norm_dim(dim, x.ndim)
        if idx.ndim != x.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
        ctx.shape, ctx.dim, ctx.index = x.shape, d, index
        return x[_scatter_key(ctx.xp, idx, d)]

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(ctx.shape).scatter_add(ctx.dim, ctx.index, g)


@public(method=True)
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of input picked along `dim` by `index`."""
    return Gather.apply(input, dim, index)


class Scatter(Primitive):
    """Copy of input with src written at `index` along `dim` (reduce='add' adds)."""
    inputs = 2

    @staticmethod
    def forward(ctx, x, src, dim, index, add):
        idx = index._data
        _check_index(idx, "scatter")
        d = norm_dim(dim, x.ndim)
        key = _scatter_key(ctx.xp, idx, d)
        out = x.copy()
        if src.ndim:
            src = src[tuple(slice(0, s) for s in idx.shape)]
        if add:
            ctx.device.backend.add_at(out, key, ctx.xp.broadcast_to(src, idx.shape))
        else:
            out[key] = src
        ctx.dim, ctx.index, ctx.add, ctx.src_shape = d, index, add, src.shape
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g if ctx.add else g.scatter(ctx.dim, ctx.index, 0.0)
        gs = g.gather(ctx.dim, ctx.index)
        return gx, gs


def _scatter(self, dim, index, src=None, value=None, reduce=None, add=False):
    if src is None:
        src = value
    if not isinstance(src, Tensor):
        src = _wrap(self._device.backend.xp.asarray(src, dtype=self._dtype.np), self._device, self._dtype)
    elif src._dtype is not self._dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    return Scatter.apply(self, src, dim, index, add or reduce == "add")


@public(method=True)
def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Copy of input with src (or value) written at `index` along `dim`."""
    return _scatter(input, dim, index, src, value, reduce)


@public(method=True)
def scatter_add(input, dim, index, src):
    """Copy of input with src added at `index` along `dim` (repeats add up)."""
    return _scatter(input, dim, index, src, add=True)


Tensor.scatter_ = lambda self, dim, index, src=None, *, value=None, reduce=None: apply_inplace(
    Scatter, self, src if isinstance(src, Tensor) else _wrap(self._device.backend.xp.asarray(
        src if src is not None else value, dtype=self._dtype.np), self._device, self._dtype), dim, index,
    reduce == "add")
Tensor.scatter_add_ = lambda self, dim, index, src: apply_inplace(Scatter, self, src, dim, index, True)
