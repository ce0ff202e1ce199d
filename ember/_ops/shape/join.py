"""Joining tensors: cat (and its aliases), stack, hstack/vstack/dstack/column_stack, atleast_nd,
meshgrid, broadcast_tensors.

cat and stack are primitives (stack for PyTorch's StackBackward0: its gradient is the incoming one's slices
along the new dim); the rest are views and cats of views, so their gradients come for free.
"""
import warnings

from ...autograd.function import Primitive
from ..._tensor import Tensor, broadcast_shapes, norm_dim
from .._registry import OpSpec, bind_method, public, spec
from .views import _fmt_shape


class Cat(Primitive):
    """Tensors joined along `dim` (the last parameter); 1-D empty tensors are skipped, as in PyTorch."""
    batch_rule = ("cat",)
    complex_grad = True
    promote = "promote"

    @staticmethod
    def forward(ctx, *args):
        *arrays, dim = args
        kept = [a for a in arrays if not _legacy_empty(a)]
        ctx.dim = dim
        ctx.sizes = [None if _legacy_empty(a) else a.shape[dim] for a in arrays]
        if not kept:
            return ctx.xp.concatenate(arrays)
        return ctx.xp.concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for size in ctx.sizes:
            if size is None:
                grads.append(g.new_zeros((0,)))
                continue
            grads.append(g.narrow(ctx.dim, start, size))
            start += size
        return tuple(grads)


_CAT_BY_COUNT = {}


def _cat_primitive(n):
    """Cat for `n` tensors (a primitive's operand count is a class attribute)."""
    cls = _CAT_BY_COUNT.get(n)
    if cls is None:
        cls = _CAT_BY_COUNT[n] = type("Cat", (Cat,), {"inputs": n, "node_name": "CatBackward0"})
    return cls


class Stack(Primitive):
    """Equally shaped tensors joined along a new dim `dim` (the last parameter, normalised)."""
    batch_rule = ("stack",)
    complex_grad = True
    promote = "promote"

    @staticmethod
    def forward(ctx, *args):
        *arrays, dim = args
        ctx.dim = dim
        return ctx.xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(g.select(ctx.dim, i) for i in range(g.shape[ctx.dim]))


_STACK_BY_COUNT = {}


def _stack_primitive(n):
    """Stack for `n` tensors."""
    cls = _STACK_BY_COUNT.get(n)
    if cls is None:
        cls = _STACK_BY_COUNT[n] = type("Stack", (Stack,), {"inputs": n, "node_name": "StackBackward0"})
    return cls


def _legacy_empty(a):
    # NOTE: PyTorch still lets a 1-D tensor of size 0 join tensors of any shape (it is skipped).
    return a.ndim == 1 and a.shape[0] == 0


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _check_cat(tensors, dim):
    """PyTorch's refusals for cat; returns the normalised dim."""
    ref = None
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if ref is None and not _legacy_empty(t._data):
            ref = t
    if ref is None:
        return 0
    nd = ref._data.ndim
    d = norm_dim(dim, nd)
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if _legacy_empty(t._data):
            continue
        if len(shape) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(shape)}")
        for k in range(nd):
            if k != d and shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._data.shape[k]} but got size {shape[k]} for tensor number {i} in the list.")
    return d


@public
def cat(tensors, dim=0, *, axis=None, out=None):
    """Join tensors along an existing dim; dtypes are promoted."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    d = _check_cat(tensors, axis if axis is not None else dim)
    result = _cat_primitive(len(tensors)).apply(*tensors, d)
    if out is not None:
        from .._registry import write_out
        return write_out(out, result, "cat")
    return result


@public
def concat(tensors, dim=0, *, axis=None, out=None):
    """Alias of cat."""
    return cat(tensors, dim, axis=axis, out=out)


@public
def concatenate(tensors, axis=0, *, dim=None, out=None):
    """Alias of cat (NumPy's argument name first)."""
    return cat(tensors, dim if dim is not None else axis, out=out)


@public
def stack(tensors, dim=0, *, axis=None, out=None):
    """Join equally shaped tensors along a new dim."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_fmt_shape(first)} at entry 0 "
                               f"and {_fmt_shape(t._data.shape)} at entry {i}")
    d = norm_dim(axis if axis is not None else dim, len(first) + 1)
    result = _stack_primitive(len(tensors)).apply(*tensors, d)
    if out is not None:
        from .._registry import write_out
        return write_out(out, result, "stack")
    return result


def _nonempty(tensors, name):
    tensors = _tensor_list(tensors, name)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


@public
def hstack(tensors, *, out=None):
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1, out=out)


@public
def vstack(tensors, *, out=None):
    """Join along dim 0, 1-D tensors as rows."""
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0, out=out)


@public
def row_stack(tensors, *, out=None):
    """Alias of vstack."""
    return cat(atleast_2d(_nonempty(tensors, "row_stack")), 0, out=out)


@public
def dstack(tensors, *, out=None):
    """Join along dim 2, after making every tensor at least 3-D."""
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2, out=out)


@public
def column_stack(tensors, *, out=None):
    """Join along dim 1, 0-D and 1-D tensors as columns."""
    tensors = _nonempty(tensors, "column_stack")
    cols = [t.reshape(t._data.size, 1) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1, out=out)


def _atleast(tensors, fix):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fix(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return tuple(fix(t) for t in tensors)


@public
def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim (a 0-d tensor becomes shape (1,))."""
    return _atleast(tensors, lambda t: t.reshape(1) if t._data.ndim == 0 else t)


def _as_2d(t):
    nd = t._data.ndim
    return t.reshape(1, 1) if nd == 0 else t.unsqueeze(0) if nd == 1 else t


def _as_3d(t):
    nd = t._data.ndim
    if nd == 0:
        return t.reshape(1, 1, 1)
    if nd == 1:
        return t.unsqueeze(0).unsqueeze(-1)
    return t.unsqueeze(-1) if nd == 2 else t


@public
def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims (1-D tensors become rows)."""
    return _atleast(tensors, _as_2d)


@public
def atleast_3d(*tensors):
    """Each tensor viewed with at least 3 dims ((n,) becomes (1, n, 1); (m, n) becomes (m, n, 1))."""
    return _atleast(tensors, _as_3d)


@public
def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 0-D or 1-D tensors; indexing 'ij' (default) or 'xy'."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"{t}")
        if t._dtype is not tensors[0]._dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t._device != tensors[0]._device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:  # NOTE: 'xy' is 'ij' with the first two inputs swapped, and the first two grids swapped back
        tensors = (tensors[1], tensors[0]) + tuple(tensors[2:])
    shape = tuple(t._data.size for t in tensors)
    n = len(tensors)
    grids = [t.reshape((1,) * i + (-1,) + (1,) * (n - i - 1)).expand(shape) for i, t in enumerate(tensors)]
    if swap:
        grids = [grids[1], grids[0]] + grids[2:]
    return tuple(grids)


@public
def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


bind_method("broadcast_to", lambda self, size: self.expand(size))


# --- specs -------------------------------------------------------------------------------------------------
def _cat_sample(g):
    nd = g.integers(1, 3)
    base = list(g.shape(nd, nd, 1, 3))
    d = g.dim(nd)
    parts = []
    for _ in range(g.integers(1, 3)):
        s = list(base)
        s[d] = g.integers(0, 3)
        parts.append(g.values(s))
    return (parts,), {"dim": d}


def _same_shape_list(g, min_dims=0, max_dims=3):
    shape = g.shape(min_dims, max_dims, 1, 3)
    return [g.values(shape) for _ in range(g.integers(1, 3))], shape


def _stack_sample(g):
    parts, shape = _same_shape_list(g)
    return (parts,), {"dim": g.integers(-len(shape) - 1, len(shape))}


def _list_sample(g):
    """A list of tensors for hstack/vstack/dstack/column_stack: same shape, sometimes 0-D to 3-D."""
    parts, _ = _same_shape_list(g, 0, 3)
    return (parts,), {}


def _column_sample(g):
    n = g.integers(1, 3)
    return ([g.values(g.choice([(n,), (n, g.integers(1, 2))])) for _ in range(g.integers(1, 3))],), {}


def _mixed_dtype_cat(g):
    s = g.shape(1, 2, 1, 3)
    return ([g.values(s), g.values(s, dtype="int64")],), {"dim": 0}


def _legacy_empty_cat(g):
    return ([g.values(g.shape(1, 3, 1, 3)), g.values((0,))],), {"dim": 0}


def _meshgrid_sample(g):
    return tuple(g.values((g.integers(0, 3),)) for _ in range(g.integers(1, 3))), {}


def _broadcast_sample(g):
    base = g.shape(0, 3, 1, 3)
    shapes = [tuple(1 if g.boolean() else s for s in base[g.integers(0, len(base)):]) for _ in range(2)]
    return tuple(g.values(s) for s in shapes), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("cat", sample=_cat_sample, dtypes=_FLOATS + ("int64",)),
     OpSpec("cat_promote", sample=_mixed_dtype_cat, call=lambda torch, ts, **kw: torch.cat(ts, **kw),
            dtypes=("float32",)),
     OpSpec("cat_legacy_empty", sample=_legacy_empty_cat, call=lambda torch, ts, **kw: torch.cat(ts, **kw)),
     OpSpec("concat", sample=_cat_sample),
     OpSpec("concatenate", sample=_cat_sample, call=lambda torch, ts, dim: torch.concatenate(ts, axis=dim)),
     OpSpec("stack", sample=_stack_sample, dtypes=_FLOATS + ("bool",)),
     OpSpec("hstack", sample=_list_sample),
     OpSpec("vstack", sample=_list_sample),
     OpSpec("row_stack", sample=_list_sample, dtypes=("float64",)),
     OpSpec("dstack", sample=_list_sample),
     OpSpec("column_stack", sample=_column_sample),
     OpSpec("atleast_1d", sample=lambda g: ((g.values(g.shape(0, 2)),), {})),
     OpSpec("atleast_2d", sample=lambda g: ((g.values(g.shape(0, 3)),), {})),
     OpSpec("atleast_3d", sample=lambda g: ((g.values(g.shape(0, 4)),), {})),
     OpSpec("atleast_2d_many", sample=lambda g: ((g.values(g.shape(0, 3)), g.values(g.shape(0, 3))), {}),
            call=lambda torch, *ts: torch.atleast_2d(*ts)),
     OpSpec("meshgrid", sample=_meshgrid_sample, kwargs=({"indexing": "ij"}, {"indexing": "xy"})),
     OpSpec("broadcast_tensors", sample=_broadcast_sample),
     OpSpec("broadcast_to", shapes=[((3, 1),), ((),)], call=lambda torch, x: torch.broadcast_to(x, (2, 3, 4))
            if x.dim() else x.broadcast_to((2,))))
spec(OpSpec("broadcast_shapes", grad=False, shapes=[((2, 1),), ((0, 3),), ((),)],
            call=lambda torch, x: torch.broadcast_shapes(x.shape, (3, 1, 1), (1,))))
