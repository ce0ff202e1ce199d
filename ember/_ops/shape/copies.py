"""The `*_copy` functions (torch.alias_copy, torch.transpose_copy, ...): a view op's result as a fresh
contiguous tensor. One table maps each name to the view it copies; one wrapper does the copying.

NOTE: each is the view followed by a contiguous clone, so gradients are the view's (through the clone):
PyTorch's node is named `<View>Backward0_copy` where ember's is CloneBackward0.
"""
from ..._tensor import Tensor
from .._registry import OpSpec, bind_method, public, spec, write_out, write_outs
from ..pointwise.complex import view_as_complex, view_as_real
from .views import Slice, norm_dim  # NOTE: views first: it completes the shape/indexing import cycle
from .copy import Clone


def _fresh(t):
    return Clone.apply(t, "contiguous_format")


def _slice(input, dim=0, start=None, end=None, step=1):
    """input[start:end:step] along `dim` (torch.slice_copy's view; PyTorch has no public torch.slice)."""
    d = norm_dim(dim, input._data.ndim) if input._data.ndim else 0
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    n = input._data.shape[d] if input._data.ndim else 1
    start, end, _ = slice(start, end, 1).indices(n)
    return Slice.apply(input, d, start, max(start, end), step)


def _view(input, *shape):
    """NOTE: the copy need not alias, so PyTorch's view_copy accepts any layout (reshape's rule)."""
    from ... import _dtype
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return input.view(shape[0])
    return input.reshape(*shape)


def _complex_view(input):
    from ... import _state
    if input._requires_grad and _state.local.grad_enabled:
        raise RuntimeError("view_as_complex_copy does not support automatic differentiation for outputs with "
                           "complex dtype.")
    return view_as_complex(input)


def _detach(input):
    return input.detach()


# name -> the view it copies (called with the same arguments). Multi-output views give tuples.
_VIEWS = {
    "alias_copy": lambda input: input.view_as(input),
    "as_strided_copy": lambda input, size, stride, storage_offset=None: input.as_strided(size, stride,
                                                                                         storage_offset),
    "detach_copy": _detach,
    "diagonal_copy": lambda input, offset=0, dim1=0, dim2=1: input.diagonal(offset, dim1, dim2),
    "expand_copy": lambda input, size, *, implicit=False: input.expand(size),
    "narrow_copy": lambda input, dim, start, length: input.narrow(dim, start, length),
    "permute_copy": lambda input, dims: input.permute(dims),
    "select_copy": lambda input, dim, index: input.select(dim, index),
    "slice_copy": _slice,
    "split_copy": lambda tensor, split_size, dim=0: tensor.split(split_size, dim),
    "split_with_sizes_copy": lambda input, split_sizes, dim=0: input.split_with_sizes(split_sizes, dim),
    "squeeze_copy": lambda input, dim=None: input.squeeze() if dim is None else input.squeeze(dim),
    "t_copy": lambda input: input.t(),
    "transpose_copy": lambda input, dim0, dim1: input.transpose(dim0, dim1),
    "unbind_copy": lambda input, dim=0: input.unbind(dim),
    "unfold_copy": lambda input, dimension, size, step: input.unfold(dimension, size, step),
    "unsqueeze_copy": lambda input, dim: input.unsqueeze(dim),
    "view_copy": _view,
    "view_as_complex_copy": _complex_view,
    "view_as_real_copy": lambda input: view_as_real(input),
}


def _copying(name, view):
    def fn(*args, out=None, **kwargs):
        first = args[0] if args else kwargs.get("input", kwargs.get("tensor"))
        if not isinstance(first, Tensor):
            from ..._arguments import type_name
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type_name(first)}")
        result = view(*args, **kwargs)
        if isinstance(result, Tensor):
            result = _fresh(result)
            return result if out is None else write_out(out, result, name)
        result = tuple(_fresh(r) for r in result)
        if out is None:
            return result
        write_outs(out, result, name)
        return None  # NOTE: PyTorch's multi-output *_copy(out=) returns None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{name[:-5]}'s result as a new contiguous tensor (not a view)."
    return fn


_COPIES = {name: public(_copying(name, view), name=name) for name, view in _VIEWS.items()}
bind_method("narrow_copy", _COPIES["narrow_copy"])


# --- specs -------------------------------------------------------------------------------------------------
def _x(g, min_dims=1, min_side=0):
    return g.values(g.shape(min_dims, 3, min_side, 4))


def _transpose_sample(g):
    x = _x(g)
    return (x, g.dim(x.ndim), g.dim(x.ndim)), {}


def _permute_sample(g):
    x = _x(g, 0)
    dims = list(range(x.ndim))
    for i in range(len(dims) - 1, 0, -1):  # NOTE: a shuffle drawn from g's own choices
        j = g.integers(0, i)
        dims[i], dims[j] = dims[j], dims[i]
    return (x, dims), {}


def _diag_sample(g):
    x = g.values(g.shape(2, 3, 0, 4))
    d1 = g.dim(x.ndim)
    d2 = g.choice([d for d in range(x.ndim) if d != d1 % x.ndim])
    return (x,), {"offset": g.integers(-2, 2), "dim1": d1, "dim2": d2}


def _select_sample(g):
    x = _x(g, 1, 1)
    d = g.dim(x.ndim)
    n = x.shape[d]
    return (x, d, g.integers(-n, n - 1)), {}


def _slice_sample(g):
    x = _x(g)
    d = g.dim(x.ndim)
    n = x.shape[d]
    return (x,), {"dim": d, "start": g.choice([None, g.integers(-n - 1, n + 1)]),
                  "end": g.choice([None, g.integers(-n - 1, n + 1)]), "step": g.integers(1, 3)}


def _expand_sample(g):
    x = g.values(g.shape(0, 2, 1, 3))
    size = [g.choice([s, -1]) if s != 1 else g.integers(1, 3) for s in x.shape]
    return (x, [g.integers(1, 2)] + size), {}


def _view_sample(g):
    x = _x(g, 0)
    return ((x, [-1]) if x.ndim < 2 else (x, [x.shape[0], -1])), {}


def _unsqueeze_sample(g):
    x = _x(g, 0)
    return (x, g.integers(-x.ndim - 1, x.ndim)), {}


def _squeeze_sample(g):
    x = g.values(tuple(g.choice([1, 2]) for _ in range(g.integers(0, 3))))
    return (x,), ({} if not x.ndim or g.boolean() else {"dim": g.dim(x.ndim)})


def _unfold_sample(g):
    x = _x(g, 1, 1)
    d = g.dim(x.ndim)
    return (x, d, g.integers(0, x.shape[d]), g.integers(1, 3)), {}


def _as_strided_sample(g):
    x = g.values((g.integers(4, 9),))
    return (x, (2, 2), (1, 2)), {"storage_offset": g.integers(0, x.shape[0] - 4)}


def _split_sample(g):
    x = _x(g, 1, 1)
    return (x, g.integers(1, 3)), {"dim": g.dim(x.ndim)}


def _split_sizes_sample(g):
    x = _x(g, 1, 1)
    d = g.dim(x.ndim)
    first = g.integers(0, x.shape[d])
    return (x, [first, x.shape[d] - first]), {"dim": d}


def _unbind_sample(g):
    x = _x(g, 1, 1)
    return (x,), {"dim": g.dim(x.ndim)}


def _narrow_sample(g):
    x = _x(g, 1, 1)
    d = g.dim(x.ndim)
    n = x.shape[d]
    start = g.integers(0, n - 1)
    return (x, d, start, g.integers(0, n - start)), {}


def _complex_sample(g):
    # NOTE: no empty inputs: NumPy's zero strides of an empty array make PyTorch refuse the view
    return (g.values(g.shape(0, 2, 1, 3) + (2,)),), {}


_FL = ("float32", "float64")
spec(OpSpec("alias_copy", dtypes=_FL + ("int64", "bool")),
     OpSpec("as_strided_copy", sample=_as_strided_sample),
     OpSpec("detach_copy", grad=False, dtypes=_FL + ("int32",)),
     OpSpec("diagonal_copy", sample=_diag_sample),
     OpSpec("expand_copy", sample=_expand_sample, dtypes=_FL + ("int64",)),
     OpSpec("narrow_copy", sample=_narrow_sample),
     OpSpec("narrow_copy_method", sample=_narrow_sample, call=lambda torch, *a: a[0].narrow_copy(*a[1:])),
     OpSpec("permute_copy", sample=_permute_sample),
     OpSpec("select_copy", sample=_select_sample),
     OpSpec("slice_copy", sample=_slice_sample, dtypes=_FL + ("int64",)),
     OpSpec("split_copy", sample=_split_sample),
     OpSpec("split_with_sizes_copy", sample=_split_sizes_sample),
     OpSpec("squeeze_copy", sample=_squeeze_sample),
     OpSpec("t_copy", shapes=[((3, 4),), ((2,),), ((),)]),
     OpSpec("transpose_copy", sample=_transpose_sample, dtypes=_FL + ("bool",)),
     OpSpec("unbind_copy", sample=_unbind_sample),
     OpSpec("unfold_copy", sample=_unfold_sample),
     OpSpec("unsqueeze_copy", sample=_unsqueeze_sample),
     OpSpec("view_copy", sample=_view_sample),
     OpSpec("view_as_complex_copy", sample=_complex_sample, grad=False),  # NOTE: PyTorch refuses its gradient
     OpSpec("view_as_real_copy", dtypes=("complex64", "complex128")))
