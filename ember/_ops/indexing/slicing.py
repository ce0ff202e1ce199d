"""Basic indexing as views (select, narrow/slice) and advanced indexing as copies (Index), with
IndexInto, the backward both share."""
from ...autograd.function import Primitive
from ..._tensor import norm_dim
from .._registry import public
from .._strides import contiguous_strides, settle, writeable_view
from ..shape.views import _fmt_shape


# --- basic indexing -------------------------------------------------------------------------------------
class Select(Primitive):
    """input[..., index, ...] along `dim`: removes that dim (a view)."""
    batch_rule = ("dim", (0,), None)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dim, index):
        x = settle(ctx.xp, x)
        d = norm_dim(dim, x.ndim) if x.ndim else None
        if d is None:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        size = x.shape[d]
        if not -size <= index < size:
            raise IndexError(f"select(): index {index} out of range for tensor of size {_fmt_shape(x.shape)} at "
                             f"dimension {d}")
        # NOTE: the trailing Ellipsis keeps a 0-d result a view (NumPy returns a copied scalar without it).
        ctx.shape, ctx.key = x.shape, (slice(None),) * d + (index, Ellipsis)
        return writeable_view(ctx.xp, x[ctx.key])

    @staticmethod
    def backward(ctx, g):
        return IndexInto.apply(g, ctx.shape, ctx.key, False)


@public(method=True)
def select(input, dim, index):
    """The slice at `index` along `dim`, with that dim removed (a view)."""
    return Select.apply(input, dim, int(index))


class Slice(Primitive):
    """input[start:stop:step] along `dim` (a view)."""
    batch_rule = ("dim", (0,), None)
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dim, start, stop, step):
        x = settle(ctx.xp, x)
        if step <= 0:
            raise ValueError("step must be greater than zero")
        if x.ndim and abs(x.strides[dim]) * step > 2 ** 63 - 1:
            # NOTE: a step past the dim keeps one element, but its byte stride would overflow NumPy's
            # int64 strides (and come out negative): clamp it to the dim's size.
            step = max(x.shape[dim], 1)
        ctx.shape, ctx.key = x.shape, (slice(None),) * dim + (slice(start, stop, step),)
        out = x[ctx.key]
        if out.size == 0:
            # NOTE: NumPy leaves an empty slice at the dim's start and drops its step; PyTorch's starts at
            # `start` (its storage_offset shows it) and keeps the step. An empty view reads no memory.
            strides = out.strides[:dim] + (x.strides[dim] * step,) + out.strides[dim + 1:]
            out = ctx.device.backend.strided_view(x, out.shape, strides, min(start, x.shape[dim]) * x.strides[dim])
        return writeable_view(ctx.xp, out)

    @staticmethod
    def backward(ctx, g):
        return IndexInto.apply(g, ctx.shape, ctx.key, False)


@public(method=True)
def narrow(input, dim, start, length):
    """`length` elements from `start` along `dim` (a view)."""
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = norm_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Slice.apply(input, d, start, start + length, 1)


class Index(Primitive):
    """Advanced indexing (integer arrays and masks): a copy, as in PyTorch."""
    batch_rule = ("index",)
    complex_grad = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.key = x.shape, key
        return contiguous_strides(ctx.xp, x[key])

    @staticmethod
    def backward(ctx, g):
        return IndexInto.apply(g, ctx.shape, ctx.key, True)


class IndexInto(Primitive):
    """Zeros of `shape` with `g` placed at `key` (summed where indices repeat): indexing's backward."""
    complex_grad = True
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, shape, key, accumulate):
        out = ctx.xp.zeros(shape, dtype=g.dtype)
        if accumulate:
            ctx.device.backend.add_at(out, key, g)
        else:
            out[key] = g
        ctx.key, ctx.accumulate = key, accumulate
        return out

    @staticmethod
    def backward(ctx, gg):
        return (Index if ctx.accumulate else _BasicKey).apply(gg, ctx.key)


class _BasicKey(Primitive):
    """x[key] for a key of ints and slices (used by double backward of select/slice)."""
    complex_grad = True
    node_name = "SliceBackward0"
    view = True

    @staticmethod
    def forward(ctx, x, key):
        x = settle(ctx.xp, x)
        ctx.shape, ctx.key = x.shape, key
        return writeable_view(ctx.xp, x[key])

    @staticmethod
    def backward(ctx, g):
        return IndexInto.apply(g, ctx.shape, ctx.key, False)
