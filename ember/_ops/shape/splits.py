"""Splitting into views: unbind, split, split_with_sizes, chunk, tensor_split, unflatten.

Each piece is a select or narrow of the input, so it shares memory; split, split_with_sizes, chunk and unbind
give their pieces PyTorch's one multi-output node and its in-place rules (ember/autograd/multi_view.py).
"""
import builtins

from ... import _dtype
from ..._tensor import Tensor
from .._registry import OpSpec, public, spec
from ...autograd.multi_view import SplitBackward0, SplitWithSizesBackward0, UnbindBackward0, pieces
from .views import Select, Slice, _fmt_shape, infer_shape, norm_dim


def _dim_of(input, dim):
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return norm_dim(dim, input._data.ndim)


@public(method=True)
def unbind(input, dim=0):
    """The slices along `dim`, each with that dim removed (views)."""
    d = _dim_of(input, dim)
    return pieces(input, tuple(Select.apply(input, d, i) for i in range(input._data.shape[d])), UnbindBackward0, d)


@public(method=True)
def split(tensor, split_size_or_sections, dim=0):
    """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes (views)."""
    if isinstance(split_size_or_sections, (list, tuple)):
        return split_with_sizes(tensor, split_size_or_sections, dim)
    d, parts = split_views(tensor, split_size_or_sections, dim)
    return pieces(tensor, parts, SplitBackward0, d)


def split_views(tensor, split_size, dim):
    """split's (dim, pieces), the pieces plain views (no multi-output node)."""
    step = int(split_size)
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    if step < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={step}")
    d = _dim_of(tensor, dim)
    size = tensor._data.shape[d]
    if step == 0:
        if size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        return d, (Slice.apply(tensor, d, 0, 0, 1),)
    starts = range(0, size, step) if size else range(1)
    return d, tuple(Slice.apply(tensor, d, s, builtins.min(s + step, size), 1) for s in starts)


@public(method=True)
def split_with_sizes(input, split_sizes, dim=0):
    """Pieces of the listed sizes along `dim` (views)."""
    d, parts = split_with_sizes_views(input, split_sizes, dim)
    return pieces(input, parts, SplitWithSizesBackward0, d)


def split_with_sizes_views(input, split_sizes, dim):
    """split_with_sizes' (dim, pieces), the pieces plain views (no multi-output node)."""
    d = _dim_of(input, dim)
    size = input._data.shape[d]
    sizes = [int(s) for s in split_sizes]
    if any(s < 0 for s in sizes):
        bad = next(s for s in sizes if s < 0)
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={_fmt_shape(sizes)}" if bad < 0 else "")
    if builtins.sum(sizes) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={_fmt_shape(sizes)}")
    out, start = [], 0
    for s in sizes:
        out.append(Slice.apply(input, d, start, start + s, 1))
        start += s
    return d, tuple(out)


@public(method=True)
def chunk(input, chunks, dim=0):
    """At most `chunks` pieces of equal size (the last may be smaller) along `dim` (views)."""
    d, parts, node_cls = chunk_views(input, chunks, dim)
    return pieces(input, parts, node_cls, d)


def chunk_views(input, chunks, dim):
    """chunk's (dim, pieces, node class), the pieces plain views (no multi-output node)."""
    chunks = int(chunks)
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _dim_of(input, dim)
    size = input._data.shape[d]
    step = -(-size // chunks)
    if step == 0:  # an empty dim gives `chunks` empty pieces (PyTorch: by split_with_sizes)
        return d, tuple(Slice.apply(input, d, 0, 0, 1) for _ in range(chunks)), SplitWithSizesBackward0
    return split_views(input, step, d) + (SplitBackward0,)


@public(method=True)
def tensor_split(input, indices_or_sections, dim=0):
    """Pieces split at the given indices, or into `sections` pieces as equal as possible (views)."""
    d = _dim_of(input, dim)
    size = input._data.shape[d]
    indices_or_sections = _sections_arg(indices_or_sections)
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = [0] + [builtins.min(builtins.max(int(i) + size if int(i) < 0 else int(i), 0), size)
                        for i in indices_or_sections] + [size]
    else:
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        small, extra = divmod(size, n)
        bounds, acc = [0], 0
        for i in range(n):
            acc += small + (1 if i < extra else 0)
            bounds.append(acc)
    return tuple(Slice.apply(input, d, a, builtins.max(a, b), 1) for a, b in zip(bounds, bounds[1:]))


def _sections_arg(arg):
    """A tensor argument of tensor_split: 0-d means sections, 1-D means indices (int64 only)."""
    if not isinstance(arg, Tensor):
        return arg
    if arg._dtype is not _dtype.int64:
        raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                           f"{_dtype.scalar_type_name(arg._dtype)}")
    if arg._data.ndim > 1:
        raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                           f"one-dimensional tensor, but got a tensor with {arg._data.ndim} dims")
    return int(arg.item()) if arg._data.ndim == 0 else [int(i) for i in arg.tolist()]


@public(method=True)
def unflatten(input, dim, sizes):
    """Split dim `dim` into `sizes` (one may be -1): a view."""
    if input._data.ndim == 0:
        norm_dim(dim, 0)  # NOTE: an out-of-range dim is an IndexError first
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but tensor has no dimensions")
    d = _dim_of(input, dim)
    shape = input._data.shape
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    inner = infer_shape(sizes, shape[d]) if -1 in sizes else sizes
    n = 1
    for s in inner:
        n *= s
    if n != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {_fmt_shape(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor")
    return input.view(shape[:d] + inner + shape[d + 1:])


# --- specs -------------------------------------------------------------------------------------------------
def _dim_sample(g, min_dims=1):
    x = g.values(g.shape(min_dims, 3, 0, 5))
    d = g.dim(x.ndim)
    return x, d, x.shape[d] if x.ndim else 1


def _split_sample(g):
    x, d, n = _dim_sample(g)
    return (x, g.integers(1, 3) if n else g.integers(0, 2)), {"dim": d}


def _split_list_sample(g):
    x, d, n = _dim_sample(g)
    sizes = []
    while sum(sizes) < n:
        sizes.append(g.integers(0, n - sum(sizes)))
    return (x, sizes or [0]), {"dim": d}


def _chunk_sample(g):
    x, d, _ = _dim_sample(g)
    return (x, g.integers(1, 4)), {"dim": d}


def _tensor_split_indices(g):
    x, d, n = _dim_sample(g)
    return (x, [g.integers(-n - 1, n + 1) for _ in range(g.integers(0, 3))]), {"dim": d}


def _tensor_split_tensor(g):
    x, d, n = _dim_sample(g)
    if g.boolean():
        return (x, g.index((), 3) + 1), {"dim": d}
    return (x, g.index((g.integers(0, 3),), n + 1)), {"dim": d}


def _unbind_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))  # NOTE: the generic test needs at least one output
    return (x,), {"dim": g.dim(x.ndim)}


def _unflatten_sample(g):
    x, d, n = _dim_sample(g)
    first = g.choice([k for k in range(1, n + 1) if n % k == 0] or [1]) if n else 0
    sizes = (first, n // first if first else 0)
    if n and g.boolean():
        sizes = (sizes[0], -1) if g.boolean() else (-1, sizes[1])
    return (x, d, sizes), {}


def _narrow_sample(g):
    x, d, n = _dim_sample(g)
    start = g.integers(-n, n)
    length = g.integers(0, n - (start % n if n and start < n else 0))
    return (x, d, start, length), {}


def _select_sample(g):
    x, d, n = _dim_sample(g, 1)
    return (x, d, g.integers(-n, max(n - 1, -n))), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("split", sample=_split_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("split_sizes", sample=_split_list_sample, call=lambda torch, x, s, **kw: torch.split(x, s, **kw)),
     OpSpec("split_with_sizes", sample=_split_list_sample, method=True),
     OpSpec("chunk", sample=_chunk_sample),
     OpSpec("tensor_split", sample=lambda g: (_dim_sample(g)[:1] + (g.integers(1, 4),), {}), dtypes=_FLOATS),
     OpSpec("tensor_split_indices", sample=_tensor_split_indices,
            call=lambda torch, x, i, **kw: torch.tensor_split(x, i, **kw)),
     OpSpec("tensor_split_tensor", sample=_tensor_split_tensor,
            call=lambda torch, x, i, **kw: x.tensor_split(i, **kw)),
     OpSpec("unbind", sample=_unbind_sample, dtypes=_FLOATS + ("bool",), large=False),  # NOTE: thousands of outputs
     OpSpec("unflatten", sample=_unflatten_sample),
     OpSpec("narrow", sample=_narrow_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("select", sample=_select_sample))
