"""Indexing: `tensor[key]`, `tensor[key] = value`, where, masked_fill, gather, scatter.

A key is read once into steps that PyTorch applies in order: integers select (removing the dim),
slices narrow, None inserts a dim, and any integer or bool tensors then index together (a copy).
The same steps run on Tensors (tracked by autograd) or on raw arrays (the no-grad fast path).
"""
from .. import _dtype, _state
from ..autograd.function import Primitive
from .._tensor import Tensor, _wrap, norm_dim
from ._registry import OpSpec, apply_inplace, public, register, spec
from .views import Index, Select, Slice, Unsqueeze


def _is_int(k):
    """Python ints and NumPy integer scalars (a select, not an advanced index)."""
    return (not isinstance(k, (Tensor, list, tuple, bool)) and hasattr(k, "__index__")
            and getattr(k, "ndim", 0) == 0 and getattr(getattr(k, "dtype", None), "kind", "i") in "iu")


def _parse(key, ndim, xp, device):
    """Turn a user key into (steps, advanced): steps on basic parts, then an advanced key or None."""
    if not isinstance(key, tuple):
        key = (key,)
    consumed = 0
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, bool):
            continue
        if isinstance(k, Tensor) and k._dtype.category == _dtype.BOOL:
            consumed += max(k._data.ndim, 1) if k._data.ndim else 0
        else:
            consumed += 1
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    steps, advanced = [], {}
    shape_after = []  # sizes of the dims the walk has produced so far, to check masks
    d = 0
    seen_ellipsis = False
    for k in key:
        if k is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            d += ndim - consumed
        elif k is None or k is True:
            steps.append(("unsqueeze", d))
            d += 1
        elif k is False:
            steps.append(("unsqueeze", d))
            steps.append(("slice", d, 0, 0, 1))
            d += 1
        elif isinstance(k, slice):
            steps.append(("slice_or_skip", d, k))
            d += 1
        elif isinstance(k, Tensor) and k._data.ndim == 0 and k._dtype.category == _dtype.INT:
            steps.append(("select", d, int(k.item())))
        elif isinstance(k, int) or _is_int(k):
            steps.append(("select", d, int(k)))
        else:
            arr = _index_array(k, xp)
            if arr.dtype.kind == "b":
                advanced[d] = arr
                d += max(arr.ndim, 1)
            else:
                advanced[d] = arr
                d += 1
    return steps, advanced


def _index_array(k, xp):
    if isinstance(k, Tensor):
        if k._dtype.category not in (_dtype.INT, _dtype.BOOL):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        arr = k._data
        if k._device.type != "cpu" and xp.__name__ == "numpy":
            arr = k._device.backend.to_numpy(arr)
        return xp.asarray(arr)
    arr = xp.asarray(k)
    if arr.dtype.kind == "f":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if arr.dtype.kind not in "iub":
        if arr.size == 0:
            return arr.astype(xp.int64)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr


def _run_steps(x, steps, on_tensor):
    """Apply the basic steps to a Tensor (tracked) or an array (raw)."""
    for step in steps:
        kind, d = step[0], step[1]
        if kind == "slice_or_skip":
            size = x.shape[d]
            start, stop, stepn = step[2].indices(size)
            if step[2].step is not None and step[2].step <= 0:
                raise ValueError("step must be greater than zero")
            if start == 0 and stop == size and stepn == 1:
                continue
            stop = max(stop, start)
            kind, step = "slice", ("slice", d, start, stop, stepn)
        if kind == "select":
            size = x.shape[d]
            i = step[2]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            x = Select.apply(x, d, i) if on_tensor else x[(slice(None),) * d + (i, Ellipsis)]
        elif kind == "slice":
            x = Slice.apply(x, d, *step[2:]) if on_tensor else x[(slice(None),) * d + (slice(*step[2:]),)]
        elif kind == "unsqueeze":
            x = Unsqueeze.apply(x, d) if on_tensor else x.reshape(x.shape[:d] + (1,) + x.shape[d:])
    return x


def _advanced_key(shape, advanced, xp):
    """The array key for the advanced part: masks become their nonzero() index arrays."""
    key = []
    d = 0
    positions = sorted(advanced)
    for pos in positions:
        while d < pos:
            key.append(slice(None))
            d += 1
        arr = advanced[pos]
        if arr.dtype.kind == "b":
            if arr.ndim == 0:
                raise IndexError("0-dim bool index is not supported here")
            for i, s in enumerate(arr.shape):
                if d + i >= len(shape) or shape[d + i] != s:
                    raise IndexError(f"The shape of the mask [{', '.join(map(str, arr.shape))}] at index {i} does "
                                     f"not match the shape of the indexed tensor [{', '.join(map(str, shape))}] at "
                                     f"index {d + i}")
            key.extend(xp.nonzero(arr))
            d += arr.ndim
        else:
            key.append(arr.astype(xp.int64, copy=False))
            d += 1
    for i, k in enumerate(key):
        if not isinstance(k, slice) and k.size:
            size = shape[i]
            lo, hi = int(k.min()), int(k.max())
            if hi >= size or lo < -size:
                bad = hi if hi >= size else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {i} with size {size}")
    return tuple(key)


def getitem(self, key):
    xp = self._device.backend.xp
    steps, advanced = _parse(key, self._data.ndim, xp, self._device)
    x = _run_steps(self, steps, True)
    if not advanced:
        if x is self:
            return Alias.apply(self)
        return x
    return Index.apply(x, _advanced_key(x._data.shape, advanced, xp))


class Alias(Primitive):
    """x[...] or x[:]: the same data as a new view."""
    view = True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g


def setitem(self, key, value):
    xp = self._device.backend.xp
    steps, advanced = _parse(key, self._data.ndim, xp, self._device)
    tracking = _state.local.grad_enabled and (
        self.requires_grad or (isinstance(value, Tensor) and value._requires_grad))
    if not tracking:
        target = _run_steps(self._data, steps, False)
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and value._device != self._device:
            v = self._device.backend.asarray(value._device.backend.to_numpy(v))
        if advanced:
            target[_advanced_key(target.shape, advanced, xp)] = v
        else:
            target[...] = v
        self._vc[0] += 1
        return
    view = _run_steps(self, steps, True)
    if not isinstance(value, Tensor):
        value = _wrap(xp.asarray(value, dtype=self._dtype.np), self._device, self._dtype)
    elif value._dtype is not self._dtype or value._device != self._device:
        value = value.to(self._dtype).to(self._device)
    if advanced:
        apply_inplace(IndexPut, view, value, _advanced_key(view._data.shape, advanced, xp), False)
    else:
        view.copy_(value)


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
