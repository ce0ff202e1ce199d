"""The view scatters: diagonal_scatter, select_scatter, slice_scatter, as_strided_scatter. Each is a copy of
`input` with `src` written into one view of it; composed from clone, the view and copy_, so autograd's
in-place rebasing gives both gradients (input's: zero on the view; src's: the gradient's view)."""
from ..._tensor import Tensor
from .._registry import OpSpec, public, spec
from ..shape.views import _fmt_shape
from ..shape.copies import _slice


def _scatter(name, input, src, view):
    if not isinstance(src, Tensor):
        from ..._arguments import type_name
        raise TypeError(f"{name}(): argument 'src' (position 2) must be Tensor, not {type_name(src)}")
    out = input.clone()
    target = view(out)
    if tuple(src.shape) != tuple(target.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{_fmt_shape(src.shape)}, slice size = {_fmt_shape(target.shape)}")
    target.copy_(src)
    return out


@public(method=True)
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with src written into its diagonal (as torch.diagonal selects it)."""
    return _scatter("diagonal_scatter", input, src, lambda t: t.diagonal(offset, dim1, dim2))


@public(method=True)
def select_scatter(input, src, dim, index):
    """A copy of input with src written at `index` along `dim`."""
    return _scatter("select_scatter", input, src, lambda t: t.select(dim, index))


@public(method=True)
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with src written into input[start:end:step] along `dim`."""
    return _scatter("slice_scatter", input, src, lambda t: _slice(t, dim, start, end, step))


@public(method=True)
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input (same strides) with src written into its as_strided(size, stride, storage_offset) view.
    Differs from PyTorch 2.13: input's gradient is zero where src was written (PyTorch's is the complement, which
    fails its own gradcheck)."""
    from ... import _state
    if input._requires_grad and _state.local.grad_enabled and not input.is_contiguous():
        raise RuntimeError("!self.requires_grad() || self.is_contiguous() INTERNAL ASSERT FAILED at "
                           "\"/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp\":4754, please report a bug "
                           "to PyTorch. as_strided_scatter is currently only supported for contiguous inputs")
    return _scatter("as_strided_scatter", input, src, lambda t: t.as_strided(size, stride, storage_offset))


# --- specs -------------------------------------------------------------------------------------------------
def _diag_sample(g):
    x = g.values(g.shape(2, 3, 0, 4))
    d1 = g.dim(x.ndim) % x.ndim
    d2 = g.choice([d for d in range(x.ndim) if d != d1])
    offset = g.integers(-2, 2)
    rows, cols = x.shape[d1], x.shape[d2]
    n = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    rest = tuple(s for i, s in enumerate(x.shape) if i not in (d1, d2))
    return (x, g.values(rest + (n,))), {"offset": offset, "dim1": d1 - x.ndim * g.integers(0, 1), "dim2": d2}


def _select_sample(g):
    x = g.values(g.shape(1, 3, 1, 4))
    d = g.dim(x.ndim)
    n = x.shape[d]
    shape = x.shape[:d % x.ndim] + x.shape[d % x.ndim + 1:]
    return (x, g.values(shape), d, g.integers(-n, n - 1)), {}


def _slice_sample(g):
    x = g.values(g.shape(1, 3, 0, 5))
    d = g.dim(x.ndim)
    n = x.shape[d]
    start, end, step = g.choice([None, g.integers(-n - 1, n + 1)]), g.choice([None, g.integers(-n - 1, n + 1)]), \
        g.integers(1, 3)
    k = len(range(*slice(start, end, step).indices(n)))
    shape = x.shape[:d % x.ndim] + (k,) + x.shape[d % x.ndim + 1:]
    return (x, g.values(shape)), {"dim": d, "start": start, "end": end, "step": step}


def _as_strided_sample(g):
    x = g.values((g.integers(2, 3), 3))
    if g.boolean():
        x = x.T
    return (x, g.values((2, 2)), (2, 2), (1, 2)), {"storage_offset": g.integers(0, 1)}


spec(OpSpec("diagonal_scatter", sample=_diag_sample),
     OpSpec("select_scatter", sample=_select_sample, dtypes=("float32", "float64", "int64")),
     OpSpec("slice_scatter", sample=_slice_sample),
     # NOTE: grad=False: PyTorch's input gradient for as_strided_scatter is wrong (it fails torch.autograd.gradcheck);
     # ember's is checked against finite differences in tests/core/test_namespace_tail.py
     OpSpec("as_strided_scatter", sample=_as_strided_sample, grad=False))


@public(method=True)
def slice_inverse(input, src, dim=0, start=None, end=None, step=1):
    """The inverse of slicing src into input: a view of input's storage with src's sizes, strides and offset."""
    return input.as_strided(src.shape, src.stride(), src.storage_offset())
