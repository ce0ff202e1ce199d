"""Tensors built by combining others: torch.block_diag, cartesian_prod, combinations, vander and
unravel_index, composed from cat, meshgrid, indexing and cumprod (gradients come from those)."""
import itertools

from ... import _dtype
from ..._tensor import Tensor
from .._registry import OpSpec, public, spec


@public
def block_diag(*tensors):
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors (dtypes promoted)."""
    from ..._creation import zeros
    from .join import cat
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    if not tensors:
        return zeros((1, 0))
    dtype = tensors[0]._dtype
    for t in tensors[1:]:
        dtype = _dtype.promote_types(dtype, t._dtype)
    blocks = [t.reshape(1, -1) if t._data.ndim < 2 else t for t in tensors]
    blocks = [b.to(dtype) for b in blocks]
    width = sum(b.shape[1] for b in blocks)
    device = tensors[0].device
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        pad_left = zeros((r, left), dtype=dtype, device=device)
        pad_right = zeros((r, width - left - c), dtype=dtype, device=device)
        rows.append(cat([pad_left, b, pad_right], 1))
        left += c
    return cat(rows, 0)


@public
def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (the tensor itself when only one)."""
    from .join import meshgrid, stack
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


@public
def combinations(input, r=2, with_replacement=False):
    """All length-r combinations of the elements of a 1-D tensor, as rows (itertools' order)."""
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    from ..._creation import tensor
    # NOTE: the index grid is host-side bookkeeping (C(n, r) rows); the gather itself runs on input's device
    index = tensor(rows if rows else [[0] * r][:0], dtype=_dtype.int64, device=input.device).reshape(-1, r)
    return input[index]


@public
def vander(x, N=None, increasing=False):
    """Columns of powers of a 1-D tensor: x^(N-1) ... x^0 (or increasing); integer inputs give int64."""
    from ..._creation import ones
    from .join import cat
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x._dtype.category < _dtype.FLOAT:
        x = x.to(_dtype.int64)
    if n == 0:
        return x.new_empty((x.shape[0], 0))
    # NOTE: a running product, not pow: the gradient stays finite at x = 0 (pow's would be 0 * inf)
    first = ones((x.shape[0], 1), dtype=x._dtype, device=x.device)
    if n == 1:  # NOTE: as PyTorch, a column of ones with no gradient path to x
        return first
    cols = cat([first, x.unsqueeze(1).expand(x.shape[0], n - 1)], 1).cumprod(1)
    return cols if increasing else cols.flip(1)


@public
def unravel_index(indices, shape):
    """The coordinates (a tuple of int64 tensors) of flat indices into an array of the given shape."""
    if not isinstance(indices, Tensor):
        raise AttributeError(f"'{type(indices).__name__}' object has no attribute 'is_complex'")
    if indices._dtype.category >= _dtype.FLOAT or indices._dtype is _dtype.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    flat = indices.to(_dtype.int64)
    coords = []
    # NOTE: floor division and modulo, as PyTorch: out-of-range and negative indices wrap around
    for size in reversed(shape):
        coords.append(flat.remainder(size))
        flat = flat.div(size, rounding_mode="floor")
    return tuple(reversed(coords))


def _block(g):
    # NOTE: no empty 1-D blocks: PyTorch's BlockDiagBackward0 forgets the row such a block takes, and its
    # gradients for the later blocks are wrong (tests/ops/test_numerics_misc.py pins ember's right ones)
    shape = g.shape(0, 2, 0, 3)
    return g.values((max(shape[0], 1),) if len(shape) == 1 else shape)


spec(OpSpec("block_diag", sample=lambda g: (tuple(_block(g) for _ in range(g.integers(1, 3))), {}),
            call=lambda torch, *ts: torch.block_diag(*ts), dtypes=("float32", "float64", "int64")),
     OpSpec("cartesian_prod", sample=lambda g: (tuple(g.values((g.integers(0, 3),)) for _ in range(g.integers(1, 3))),
                                                {}),
            call=lambda torch, *ts: torch.cartesian_prod(*ts), dtypes=("float32", "float64", "int64")),
     OpSpec("combinations", sample=lambda g: ((g.values((g.integers(0, 5),)),),
                                              {"r": g.integers(0, 3), "with_replacement": g.boolean()}),
            dtypes=("float32", "float64", "int64")),
     OpSpec("vander", sample=lambda g: ((g.values((g.integers(0, 4),)),),
                                        {"N": g.choice([None, 0, 1, 2, 3]), "increasing": g.boolean()}),
            # NOTE: PyTorch's vander backward fails its own version check (an in-place cumprod on a view);
            # tests/ops/test_numerics_misc.py compares ember's gradient with torch.linalg.vander's instead
            dtypes=("float32", "float64", "int64", "bool"), large=False, grad=False),
     OpSpec("unravel_index", sample=lambda g: ((g.index(g.shape(0, 2, 0, 3), 24) - 6,),
                                               {"shape": g.choice([(2, 3), (4, 3, 2), 24])}),
            dtypes=("int64", "int32"), grad=False))
