"""Reordering and repeating: flip, fliplr, flipud, roll, rot90, repeat, tile, repeat_interleave,
and the torch-level aliases of transpose/movedim (swapaxes, swapdims, moveaxis)."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor, _dim_index, norm_dims, reduction_dims
from .._registry import OpSpec, bind, bind_method, public, spec
from .._strides import contiguous_strides
from .views import Transpose, _ReshapeCopy, int_list, movedim


class Flip(Primitive):
    """The elements in reverse order along `dims` (a copy that keeps the input's layout)."""
    batch_rule = ("dim", (0,), None)
    complex_grad = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        # NOTE: order="K" lays the copy out like the input (PyTorch keeps a transposed input's strides).
        return ctx.xp.flip(x, dims).copy(order="K") if dims else x.copy(order="K")

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims)


@public
def flip(input, dims):
    """Reverse the order of elements along `dims` (a copy)."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}")
    return Flip.apply(input, reduction_dims(tuple(int(d) for d in dims), input._data.ndim))


def _flip_method(self, *dims):
    return flip(self, int_list(dims, "flip", "dims"))


bind_method("flip", _flip_method)


@public(method=True)
def fliplr(input):
    """Flip along dim 1 (left/right)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


@public(method=True)
def flipud(input):
    """Flip along dim 0 (up/down)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Primitive):
    """Elements shifted cyclically along dims (all elements, flattened, when dims is None)."""
    complex_grad = True

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return contiguous_strides(ctx.xp, ctx.xp.roll(x, shifts, dims))

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return Roll.apply(g, back, ctx.dims)


@public(method=True)
def roll(input, shifts, dims=None):
    """Shift elements cyclically by `shifts` along `dims` (flattened when dims is None)."""
    shifts = tuple(int(s) for s in shifts) if isinstance(shifts, (tuple, list)) else (int(shifts),)
    dims = () if dims is None else tuple(dims) if isinstance(dims, (tuple, list)) else (int(dims),)
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return Roll.apply(input, shifts[0], None)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input._data.ndim
    dims = tuple(_dim_index(d, nd) for d in dims)  # NOTE: repeats allowed, as in PyTorch
    return Roll.apply(input, shifts, dims)


@public(method=True)
def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees `k` times in the plane of `dims`, from the first towards the second."""
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = norm_dims(dims[0], nd)[0], norm_dims(dims[1], nd)[0]
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip(d0, d1)
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def repeat(input, *repeats):
    """The tensor tiled `repeats` times along each dim (leading repeats add dims); a copy."""
    reps = int_list(repeats, "repeat", "repeats")
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    lead = len(reps) - len(shape)
    full = (1,) * lead + tuple(shape)
    out_shape = [r * s for r, s in zip(reps, full)]
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(out_shape)}: "
                           f"[{', '.join(map(str, out_shape))}]")
    # NOTE: a view (1, s0, 1, s1, ...) expanded to (r0, s0, r1, s1, ...) and copied into shape: the
    # gradient is the expand's (sums over the copies) with no backward of its own.
    inter = [v for s in full for v in (1, s)]
    wide = [v for r, s in zip(reps, full) for v in (r, s)]
    return _Repeat.apply(input.reshape(inter).expand(wide), tuple(out_shape))  # always a copy


class _Repeat(_ReshapeCopy):
    """repeat's copy of the expanded view: a reshape copy under PyTorch's node name."""
    node_name = "RepeatBackward0"


bind_method("repeat", repeat)  # NOTE: a Tensor method only; torch has no torch.repeat


@public(method=True)
def tile(input, dims):
    """Like repeat, but fewer `dims` than the tensor has are padded with leading 1s."""
    dims = int_list((dims,) if isinstance(dims, (tuple, list)) else (dims,), "tile", "dims")
    nd = input._data.ndim
    return repeat(input, (1,) * (nd - len(dims)) + dims)


@public(method=True)
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element repeated `repeats` times (an int or a tensor of counts) along `dim` (flattened if None)."""
    if repeats is None:  # torch.repeat_interleave(counts): the indices repeated by their counts
        return _repeated_indices(input, output_size)
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        d = norm_dims(dim, input._data.ndim)[0]
    if isinstance(repeats, Tensor) and repeats._data.ndim == 1 and repeats._data.size != 1:
        size = input._data.shape[d] if input._data.ndim else 1
        if repeats._data.size != size:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats._data.size} and input.size({d}) = {size}")
        return input.index_select(d, _repeated_indices(repeats, output_size))
    r = int(repeats)
    if r < 0:
        raise RuntimeError("repeats can not be negative")
    if input._data.ndim == 0:
        input = input.reshape(1)
    shape = input._data.shape
    wide = shape[:d + 1] + (r,) + shape[d + 1:]
    out = shape[:d] + (shape[d] * r,) + shape[d + 1:]
    return _ReshapeCopy.apply(input.unsqueeze(d + 1).expand(wide), out)


def _repeated_indices(counts, output_size=None):
    if counts._data.ndim > 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if counts._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("repeats has to be Long or Int tensor")
    xp = counts._device.backend.xp
    c = counts._data.reshape(-1)
    if c.size and int(c.min()) < 0:
        raise RuntimeError("repeats can not be negative")
    idx = xp.repeat(xp.arange(c.size, dtype=counts._dtype.np), c)
    from ..._tensor import _wrap
    return _wrap(idx, counts._device, counts._dtype)


@public(method=True)
def swapaxes(input, axis0, axis1):
    """Alias of transpose (NumPy's name)."""
    return Transpose.apply(input, axis0, axis1)


@public(method=True)
def swapdims(input, dim0, dim1):
    """Alias of transpose."""
    return Transpose.apply(input, dim0, dim1)


bind("moveaxis", movedim)


# --- specs -------------------------------------------------------------------------------------------------
def _dims_sample(g):
    x = g.values(g.shape(1, 3))
    dims = sorted({g.integers(0, x.ndim - 1) for _ in range(g.integers(0, x.ndim))})
    return (x,), {"dims": [d - x.ndim if g.boolean() else d for d in dims]}


def _roll_sample(g):
    x = g.values(g.shape(0, 3))
    if x.ndim == 0 or g.boolean():
        return (x,), {"shifts": g.integers(-5, 5)}
    n = g.integers(1, x.ndim)
    return (x,), {"shifts": tuple(g.integers(-5, 5) for _ in range(n)), "dims": tuple(g.dim(x.ndim)
                                                                                     for _ in range(n))}


def _rot_sample(g):
    x = g.values(g.shape(2, 3, 1))
    d0 = g.integers(0, x.ndim - 1)
    d1 = g.choice([d for d in range(x.ndim) if d != d0])
    return (x,), {"k": g.integers(-5, 5), "dims": [d0, d1]}


def _repeat_sample(g):
    x = g.values(g.shape(0, 2, 0, 3))
    reps = tuple(g.integers(0, 3) for _ in range(x.ndim + g.integers(0, 1)))
    return (x,) + reps, {}


def _tile_sample(g):
    x = g.values(g.shape(0, 3, 0, 3))
    return (x,), {"dims": tuple(g.integers(0, 3) for _ in range(g.integers(0, 3)))}


def _interleave_sample(g):
    x = g.values(g.shape(0, 3, 0, 3))
    if g.boolean() or x.ndim == 0:
        return (x,), {"repeats": g.integers(0, 3), "dim": None if x.ndim == 0 or g.boolean() else g.dim(x.ndim)}
    d = g.dim(x.ndim)
    return (x, g.index((x.shape[d],), 4)), {"dim": d}


def _swap_sample(g):
    x = g.values(g.shape(1, 3))
    return (x, g.dim(x.ndim), g.dim(x.ndim)), {}


def _move_sample(g):
    x = g.values(g.shape(1, 4))
    n = g.integers(1, x.ndim)
    src = list(range(x.ndim))
    dst = list(range(x.ndim))
    g.rng.shuffle(src)
    g.rng.shuffle(dst)
    return (x, tuple(src[:n]), tuple(dst[:n])), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("flip", sample=_dims_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("fliplr", shapes=[((2, 3),), ((3, 1, 2),)]),
     OpSpec("flipud", shapes=[((2, 3),), ((3,),)]),
     OpSpec("roll", sample=_roll_sample, dtypes=_FLOATS + ("bool",)),
     OpSpec("rot90", sample=_rot_sample),
     OpSpec("repeat", sample=_repeat_sample, method=True, dtypes=_FLOATS + ("int64",)),
     OpSpec("tile", sample=_tile_sample),
     OpSpec("repeat_interleave", sample=_interleave_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("repeat_interleave_counts", sample=lambda g: ((g.index((g.integers(0, 4),), 4),), {}),
            call=lambda torch, c: torch.repeat_interleave(c), dtypes=("int64",)),
     OpSpec("swapaxes", sample=_swap_sample),
     OpSpec("swapdims", sample=_swap_sample, method=True),
     OpSpec("movedim", sample=_move_sample),
     OpSpec("moveaxis", sample=_move_sample, method=True))
