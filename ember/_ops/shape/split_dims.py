"""hsplit, vsplit, dsplit (tensor_split along dim 1, 0, 2 with NumPy's divisibility rule) and the
unsafe_ splits (split, split_with_sizes and chunk under the names PyTorch gives its unchecked forms)."""
from ..._tensor import Tensor
from .._registry import OpSpec, public, spec
from ...autograd.multi_view import SplitBackward0, UnsafeSplitBackward0, UnsafeSplitWithSizesBackward0, unsafe_pieces
from .splits import chunk_views, split_views, split_with_sizes_views, tensor_split


def _split_dim(name, input, indices_or_sections, dim, min_dims):
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {nd} dimensions!")
    if isinstance(indices_or_sections, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, Tensor), but expected "
                        f"one of:\n * (Tensor input, int sections)\n      didn't match because some of the arguments "
                        f"have invalid types: (Tensor, !Tensor!)\n * (Tensor input, tuple of ints indices)\n      "
                        f"didn't match because some of the arguments have invalid types: (Tensor, !Tensor!)\n")
    if not isinstance(indices_or_sections, (list, tuple)):
        size = input._data.shape[dim]
        sections = int(indices_or_sections)
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {sections}!")
    return tensor_split(input, indices_or_sections, dim)


@public(method=True)
def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for 1-D input); an int must divide that dim."""
    dim = 0 if input._data.ndim == 1 else 1
    return _split_dim("hsplit", input, indices_or_sections, dim, 1)


@public(method=True)
def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor of 2 or more dims; an int must divide that dim."""
    return _split_dim("vsplit", input, indices_or_sections, 0, 2)


@public(method=True)
def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor of 3 or more dims; an int must divide that dim."""
    return _split_dim("dsplit", input, indices_or_sections, 2, 3)


@public(method=True)
def unsafe_split(tensor, split_size, dim=0):
    """split, whose pieces share the input's memory but are not views for autograd: a write into one is
    allowed while autograd records, and changes only that piece's history (the input's gradient ignores it)."""
    d, parts = split_views(tensor, split_size, dim)
    return unsafe_pieces(tensor, parts, UnsafeSplitBackward0, d)


@public(method=True)
def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """split_with_sizes, as unsafe_split."""
    d, parts = split_with_sizes_views(input, split_sizes, dim)
    return unsafe_pieces(input, parts, UnsafeSplitWithSizesBackward0, d)


@public(method=True)
def unsafe_chunk(input, chunks, dim=0):
    """chunk, as unsafe_split."""
    d, parts, node_cls = chunk_views(input, chunks, dim)
    unsafe = UnsafeSplitBackward0 if node_cls is SplitBackward0 else UnsafeSplitWithSizesBackward0
    return unsafe_pieces(input, parts, unsafe, d)


# --- specs -------------------------------------------------------------------------------------------------
def _sections_sample(min_dims, dim_of):
    def sample(g):
        x = g.values(g.shape(min_dims, min_dims + 1, 0, 6))
        n = x.shape[dim_of(x.ndim)]
        if g.boolean():
            return (x, g.choice([k for k in range(1, 7) if n % k == 0])), {}
        return (x, sorted(g.integers(0, n) for _ in range(g.integers(0, 3)))), {}
    return sample


def _unsafe_split_sample(g):
    x = g.values(g.shape(1, 3, 1, 5))
    return (x, g.integers(1, 3)), {"dim": g.dim(x.ndim)}


def _unsafe_sizes_sample(g):
    x = g.values(g.shape(1, 3, 1, 5))
    d = g.dim(x.ndim)
    first = g.integers(0, x.shape[d])
    return (x, [first, x.shape[d] - first]), {"dim": d}


spec(OpSpec("hsplit", sample=_sections_sample(1, lambda nd: 0 if nd == 1 else 1)),
     OpSpec("vsplit", sample=_sections_sample(2, lambda nd: 0)),
     OpSpec("dsplit", sample=_sections_sample(3, lambda nd: 2), dtypes=("float64", "int64")),
     OpSpec("unsafe_split", sample=_unsafe_split_sample),
     OpSpec("unsafe_split_with_sizes", sample=_unsafe_sizes_sample),
     OpSpec("unsafe_chunk", sample=lambda g: ((g.values(g.shape(1, 3, 1, 5)), g.integers(1, 3)), {})))
