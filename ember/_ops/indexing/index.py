"""Indexing: `tensor[key]`, `tensor[key] = value`, where, masked_fill, gather, scatter.

A key is read once into steps that PyTorch applies in order: integers select (removing the dim),
slices narrow, None inserts a dim, and any integer or bool tensors then index together (a copy).
The same steps run on Tensors (tracked by autograd) or on raw arrays (the no-grad fast path).
"""
import warnings

from ... import _dtype, _state
from ...autograd.function import Primitive
from ..._arguments import is_number
from ..._creation import check_number_operand, checked_fill_value
from ..._tensor import Tensor, _wrap, broadcast_shapes, norm_dim, sum_to
from .._registry import OpSpec, apply_inplace, bind, bind_method, public, register, spec
from .._strides import overlaps, writable_alias
from ...func._batching.tensor import is_batched
from ._index_key import advanced_key, parse, run_steps
from ..shape.views import Index, Select


def getitem(self, key):
    if type(key) is int and self._data.ndim and -self._data.shape[0] <= key < self._data.shape[0]:
        return Select.apply(self, 0, key)  # NOTE: the common x[i], straight to its primitive
    xp = self._device.backend.xp
    if isinstance(key, int) and not isinstance(key, bool) and self._data.ndim:
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
    batch_rule = ("pointwise",)
    complex_grad = True
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
        if is_number(value):
            # NOTE: PyTorch checks the number fits (t[0] = 300 into uint8 raises); it skips the float
            # range check for the half-precision types alone (1e6 becomes inf there).
            value = checked_fill_value(value, self._dtype, float_range=self._dtype.itemsize > 2, unpack=True)
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
    if _state.vmap_depth:  # NOTE: inside vmap: a write into a batched tensor goes to its physical value
        from ...func._batching.rules import batched_setitem
        if batched_setitem(self, key, value):
            return
    xp = self._device.backend.xp
    steps, advanced = parse(key, self._data.ndim, xp)
    value = _value_tensor(self, value)
    # NOTE: under a forward-AD level the write goes through the ops too, so that tangents follow it
    tracking = (_state.local.grad_enabled and (self.requires_grad or value._requires_grad)) or bool(_state.fw_visible)
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
            if _overlapping(target):
                warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before "
                              "performing this operation. This also applies to advanced indexing e.g. "
                              "tensor[indices] = tensor", UserWarning, stacklevel=3)
            target = writable_alias(target, force=True)
            target[akey] = value._data
            self._vc[0] += 1
        return
    value = _strip_leading_ones(value)
    from ..shape.views import expanded_shape
    expanded_shape(value._data.shape, tuple(shape), value._data.dtype)  # PyTorch's expand errors
    if tracking:
        target.copy_(value)
    else:
        _check_writable(target)
        writable_alias(target)[...] = value._data
        self._vc[0] += 1


def _overlapping(array):
    return array.size and overlaps(array.shape, array.strides)


def _check_writable(array):
    """PyTorch's error for a write whose own elements share memory (a region of an expanded tensor)."""
    if _overlapping(array):
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


bind_method("__getitem__", getitem)
bind_method("__setitem__", setitem)


class IndexPut(Primitive):
    """Copy of input with `values` written (or added, with accumulate) at an advanced key."""
    complex_grad = True
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


bind("index_put_", _index_put_, method=True)


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
    shape = broadcast_shapes(mask._data.shape, input._data.shape)  # PyTorch's message on mismatch
    if not shape:  # NOTE: nonzero() needs at least one dim
        return masked_select(input.reshape(1), mask.reshape(1))
    m = mask.expand(shape)._data
    return Index.apply(input.expand(shape), tuple(input._device.backend.xp.nonzero(m)))


def _write_out(out, result):
    from .._registry import write_out
    return write_out(out, result, "index_select")


@public(method=True)
def index_select(input, dim, index, *, out=None):
    """The entries of input at `index` (1-D int tensor) along `dim`, as a copy."""
    if not isinstance(index, Tensor) or index._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if is_batched(index) and input.dim():
        # NOTE: inside vmap, a batched index cannot be a raw key: the same selection as a gather along dim, whose
        # batching rule takes a batched index (and checks its bounds on the physical tensor)
        d = norm_dim(dim, input.dim())
        shape = list(input.shape)
        shape[d] = index.numel()
        key = index.reshape([1] * d + [-1] + [1] * (input.dim() - d - 1)).expand(shape)
        from .scatter import gather
        result = gather(input, d, key)
        return result if out is None else _write_out(out, result)
    nd = input._data.ndim
    d = norm_dim(dim, max(nd, 1))
    idx = index._data.reshape(-1).astype("int64")
    size = input._data.shape[d] if nd else 1
    if idx.size:
        bad = (idx < 0) | (idx >= size)

        def error():
            # NOTE: PyTorch's kernel for dim 0 words it as embedding does; other dims name the first bad index
            if d == 0:
                return IndexError("index out of range in self")
            first = int(idx[bad.argmax()])
            return RuntimeError(f"INDICES element is out of DATA bounds, id={first} axis_dim={size}")
        backend = input._device.backend
        backend.check(bad.any(), error)
        if not backend.cheap_reads:
            idx = backend.xp.clip(idx, 0, size - 1)  # NOTE: the check is deferred: keep the read in bounds
    if nd == 0:
        return input.clone()
    result = Index.apply(input, (slice(None),) * d + (idx,))
    if out is not None:
        from .._registry import write_out
        return write_out(out, result, "index_select")
    return result


# --- where / masked_fill ----------------------------------------------------------------------------------
class Where(Primitive):
    """condition ? input : other, elementwise with broadcasting."""
    batch_rule = ("pointwise",)
    complex_grad = True
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


def _check_where_number(input, other):
    """A number beside an integer tensor must fit its dtype (where(c, uint8, 300) is PyTorch's
    overflow error, not 44)."""
    for t, v in ((input, other), (other, input)):
        if isinstance(t, Tensor):
            check_number_operand(t, v, float_range=t._dtype.itemsize > 2)  # NOTE: half types go unchecked


@public
def where(condition, input=None, other=None, *, out=None):
    """condition ? input : other; with one argument, the indices where condition holds."""
    condition = _as_bool_condition(condition)
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    _check_where_number(input, other)
    result = Where.apply(input, other, condition)
    if out is not None:
        from .._registry import write_out
        return write_out(out, result, "where")
    return result


bind_method("where", lambda self, condition, other: where(condition, self, other))
spec(OpSpec("where", arity=2, shapes="binary", call=lambda torch, x, y: torch.where(x > 0, x, y)))


class MaskedFill(Primitive):
    """Copy of input with `value` where mask is True; the result keeps input's dtype."""
    batch_rule = ("masked_fill",)
    complex_grad = True
    inputs = 3

    @staticmethod
    def check(x, mask, value):
        if isinstance(x, Tensor) and (not isinstance(value, Tensor) or value._data.ndim == 0):
            checked_fill_value(value, x._dtype)  # NOTE: a 0-d tensor value is checked as its number

    @staticmethod
    def forward(ctx, x, mask, value):
        if getattr(value, "ndim", 0):
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
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
bind("masked_fill", lambda input, mask, value: input.masked_fill(mask, value))


class MaskedScatter(Primitive):
    """Copy of input (broadcast with mask) with source's leading elements written where mask is True."""
    complex_grad = True
    inputs = 3

    @staticmethod
    def forward(ctx, x, mask, source):
        xp = ctx.xp
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        out = xp.broadcast_to(x, shape).copy()
        m = xp.broadcast_to(mask, shape)
        n = int(m.sum())
        if source.size < n:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        out[m] = source.reshape(-1)[:n]
        ctx.x_shape, ctx.source_shape, ctx.n = x.shape, source.shape, n
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        gx = sum_to(g.masked_fill(mask, 0), ctx.x_shape)
        gs = None
        if ctx.needs_input_grad[2]:
            picked = g.masked_select(mask)
            total = 1
            for s in ctx.source_shape:
                total *= s
            from ..shape.join import cat
            gs = cat([picked, g.new_zeros(total - ctx.n)]).reshape(ctx.source_shape)
        return gx, None, gs


def _masked_scatter_args(self, mask, source):
    if not isinstance(source, Tensor):
        from ..._arguments import type_name
        raise TypeError(f"masked_scatter(): argument 'source' (position 3) must be Tensor, not {type_name(source)}")
    if not isinstance(mask, Tensor) or mask._dtype is not _dtype.bool:
        got = _dtype.scalar_type_name(mask._dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {got}")
    if source._dtype is not self._dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_dtype.scalar_type_name(self._dtype)} and {_dtype.scalar_type_name(source._dtype)}")


@public(method=True)
def masked_scatter(input, mask, source):
    """Copy of input with source's elements, in order, written where mask (broadcast) is True."""
    _masked_scatter_args(input, mask, source)
    return MaskedScatter.apply(input, mask, source)


def _masked_scatter_(self, mask, source):
    _masked_scatter_args(self, mask, source)
    return apply_inplace(MaskedScatter, self, mask, source)


bind_method("masked_scatter_", _masked_scatter_)


# --- specs -------------------------------------------------------------------------------------------------
def _mask_sample(g):
    x = g.values(g.shape(0, 3))
    k = g.integers(0, x.ndim)
    return x, g.values(tuple(1 if g.boolean() else s for s in x.shape[k:]), dtype="bool")


def _masked_scatter_sample(g):
    x, mask = _mask_sample(g)
    return (x, mask, g.values((g.integers(x.size, x.size + 2),))), {}


def _index_select_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))
    d = g.dim(x.ndim)
    return (x, d, g.index((g.integers(0, 5),), x.shape[d])), {}


def _index_put_sample(g, unique):
    x = g.values(g.shape(1, 3, 1, 4))
    k = g.integers(1, x.ndim)
    n = g.integers(0, min(x.shape[:k]) if unique else 4)
    idx = tuple(g.rng.permutation(x.shape[i])[:n].astype("int64") if unique else g.index((n,), x.shape[i])
                for i in range(k))
    vshape = (n,) + x.shape[k:]
    return (x, idx, g.values(vshape[g.integers(0, len(vshape)):])), {}


def _select_mask(g):
    x, mask = _mask_sample(g)
    return (x, mask), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("masked_scatter", sample=_masked_scatter_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("masked_scatter_", sample=_masked_scatter_sample,
            call=lambda torch, x, m, s: x.clone().masked_scatter_(m, s)),
     OpSpec("masked_fill_", sample=_select_mask,
            call=lambda torch, x, m: x.clone().masked_fill_(m, -2.5)),
     # NOTE: x's gradient adds the float32 sum of the masked cotangents (thousands of terms when the input
     # is large), whose last bits follow the summation order
     OpSpec("masked_fill_tensor_value", sample=_select_mask, atol=3e-5,
            call=lambda torch, x, m: torch.masked_fill(x, m, x.sum())),
     OpSpec("masked_select", sample=_select_mask, dtypes=_FLOATS + ("bool",)),
     OpSpec("index_select", sample=_index_select_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("index_put", sample=lambda g: _index_put_sample(g, True), kwargs=({}, {"accumulate": True})),
     OpSpec("index_put_accumulate", sample=lambda g: _index_put_sample(g, False),
            call=lambda torch, x, i, v: torch.index_put(x, i, v, accumulate=True)),
     OpSpec("index_put_", sample=lambda g: _index_put_sample(g, False),
            call=lambda torch, x, i, v: x.clone().index_put_(i, v, accumulate=True)),
     OpSpec("nonzero", sample=lambda g: ((g.values(g.shape(0, 3), domain=(-1, 1)),), {}), grad=False,
            dtypes=("float32", "int64", "bool"), kwargs=({}, {"as_tuple": True})),
     OpSpec("argwhere", sample=lambda g: ((g.values(g.shape(0, 3), domain=(-1, 1)),), {}), grad=False,
            dtypes=("int64", "bool")))
