"""Views with explicit geometry: Tensor.unfold (sliding windows), as_strided; and the in-place view
ops (t_, transpose_, swapaxes_, swapdims_, squeeze_, unsqueeze_, as_strided_) that change a tensor's
own shape."""
from .. import _state
from ..autograd.function import Primitive
from .._tensor import Tensor, norm_dim
from ._registry import FUNCTIONS, OpSpec, _check_inplace_autograd, public, spec
from ._strides import restride


class _Move(Primitive):
    """Zeros of `n` elements with g added at positions `src`, read back at positions `dst`: the
    gradient of a strided view (src: the view's positions, dst: the input's). Its adjoint is the
    same move the other way, so it is differentiable again."""
    complex_grad = True
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, g, src, dst, n):
        buf = ctx.xp.zeros(n, dtype=g.dtype)
        ctx.device.backend.add_at(buf, src, g)
        ctx.src, ctx.dst, ctx.n = src, dst, n
        return buf[dst]

    @staticmethod
    def backward(ctx, gg):
        return _Move.apply(gg, ctx.dst, ctx.src, ctx.n)


def _positions(xp, shape, strides, offset):
    """The storage position (in elements) of every element of a view."""
    pos = xp.full(tuple(shape), offset, dtype=xp.int64)
    for d, (size, st) in enumerate(zip(shape, strides)):
        pos = pos + xp.arange(size, dtype=xp.int64).reshape((size,) + (1,) * (len(shape) - d - 1)) * st
    return pos


# --- unfold ---------------------------------------------------------------------------------------------
class Unfold(Primitive):
    """Windows of `size` elements every `step` along `dimension`, as a new last dim (a view)."""
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, dimension, size, step):
        ctx.shape, ctx.geom = x.shape, (dimension, size, step)
        if x.ndim == 0:  # NOTE: a 0-d tensor unfolds as one element (size 0 or 1)
            return restride(ctx.xp, x, (size,), (x.itemsize,))
        shape, strides = list(x.shape), list(x.strides)
        n = shape[dimension]
        shape[dimension] = (n - size) // step + 1
        strides[dimension] *= step
        return restride(ctx.xp, x, tuple(shape) + (size,), tuple(strides) + (x.strides[dimension],))

    @staticmethod
    def backward(ctx, g):
        xp = g._device.backend.xp
        n = 1
        for s in ctx.shape:
            n *= s
        ids = xp.arange(n, dtype=xp.int64).reshape(ctx.shape)
        src = Unfold.forward(ctx, ids, *ctx.geom)  # NOTE: the same windows over element ids
        return _Move.apply(g, src, ids, n)


def _unfold(self, dimension, size, step):
    """Sliding windows of `size` elements every `step` along `dimension`, as a new last dim (a view)."""
    nd = self._data.ndim
    d = norm_dim(dimension, nd)
    n = self._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    return Unfold.apply(self, d, int(size), int(step))


Tensor.unfold = _unfold


# --- as_strided -----------------------------------------------------------------------------------------
def _storage(arr):
    """The array that owns `arr`'s memory, as a flat array of arr's dtype (its storage)."""
    root = arr
    # NOTE: as Tensor.storage_offset walks it: views made by as_strided sit on a DummyArray, whose
    # base is the array it views.
    while getattr(root, "base", None) is not None and (hasattr(root.base, "__array_interface__") or
                                                       hasattr(root.base, "__cuda_array_interface__")):
        root = root.base
    if type(root) is not type(arr) or not root.flags.c_contiguous:
        return arr.reshape(-1) if arr.flags.c_contiguous else arr
    return root.reshape(-1).view(arr.dtype)


def _offset_in(arr, root):
    iface = "__array_interface__" if hasattr(arr, "__array_interface__") else "__cuda_array_interface__"
    return (getattr(arr, iface)["data"][0] - getattr(root, iface)["data"][0]) // arr.itemsize


class AsStrided(Primitive):
    """The input's storage seen with explicit sizes, strides (in elements) and storage offset (a view)."""
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, size, stride, storage_offset):
        flat = _storage(x)
        own = _offset_in(x, flat)
        offset = own if storage_offset is None else storage_offset
        need = offset + (sum((s - 1) * st for s, st in zip(size, stride)) + 1 if all(size) else 0)
        if need > flat.size:
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
                               f"and itemsize {x.itemsize} requiring a storage size of {need * x.itemsize} are out "
                               f"of bounds for storage of size {flat.size * x.itemsize}")
        xp = ctx.xp
        ctx.n = flat.size
        ctx.src = _positions(xp, size, stride, offset)
        ctx.dst = _positions(xp, x.shape, tuple(s // x.itemsize for s in x.strides), own)
        return restride(xp, flat[offset:], tuple(size), tuple(st * x.itemsize for st in stride))

    @staticmethod
    def backward(ctx, g):
        return _Move.apply(g, ctx.src, ctx.dst, ctx.n)


@public(method=True)
def as_strided(input, size, stride, storage_offset=None):
    """A view of input's storage with the given sizes, strides and offset (in elements)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    return AsStrided.apply(input, size, stride, None if storage_offset is None else int(storage_offset))


# --- in-place view ops ----------------------------------------------------------------------------------------
def _become(self, result):
    """self takes on the geometry (and history) of `result`, a view of self."""
    if self._requires_grad and _state.local.grad_enabled:
        _check_inplace_autograd(self)
    self._data = result._data
    self._vc[0] += 1  # NOTE: PyTorch counts an in-place view op as a modification
    if result._base is not self:  # NOTE: a base keeps being a base, with its new geometry
        self._base, self._view_chain = result._base, result._view_chain
        self._view_version = self._vc[0]
    if result._grad_fn is not None:
        self._grad_fn, self._output_nr = result._grad_fn, result._output_nr
    return self


def _inplace_view(name):
    def method(self, *args, **kwargs):
        return _become(self, getattr(self, name)(*args, **kwargs))
    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of {name}: self's own shape and strides change."
    return method


for _name in ("t", "transpose", "swapaxes", "swapdims", "squeeze", "unsqueeze", "as_strided"):
    setattr(Tensor, _name + "_", _inplace_view(_name))
FUNCTIONS["as_strided_"] = Tensor.as_strided_


# --- specs -------------------------------------------------------------------------------------------------
def _unfold_sample(g):
    x = g.values(g.shape(0, 3, 0, 5))
    d = g.dim(x.ndim)
    n = x.shape[d] if x.ndim else 1
    return (x, d, g.integers(0, n), g.integers(1, 3)), {}


def _as_strided_sample(g):
    x = g.values((g.integers(1, 12),))
    n = x.size
    offset = g.integers(0, n - 1)
    size = (g.integers(1, 3), g.integers(1, 3))
    stride = (g.integers(0, 3), g.integers(0, 2))
    while offset + (size[0] - 1) * stride[0] + (size[1] - 1) * stride[1] >= n:
        size = (max(size[0] - 1, 1), max(size[1] - 1, 1))
        stride = (max(stride[0] - 1, 0), max(stride[1] - 1, 0))
        if size == (1, 1):
            offset = 0
    return (x, size, stride, offset), {}


def _permuted_strides_sample(g):
    """as_strided with the strides of a transpose (no overlap, so gradients are well defined)."""
    r, c = g.integers(1, 4), g.integers(1, 4)
    return (g.values((r * c,)), (c, r), (1, c)), {}


_FLOATS = ("float32", "float64")
spec(OpSpec("unfold", sample=_unfold_sample, method=True, dtypes=_FLOATS + ("int64",)),
     OpSpec("as_strided", sample=_permuted_strides_sample),
     OpSpec("as_strided_overlap", sample=_as_strided_sample, grad=False, dtypes=("float32", "int64"),
            call=lambda torch, x, *a: torch.as_strided(x, *a)),
     OpSpec("Tensor.as_strided", sample=_permuted_strides_sample, call=lambda torch, x, *a: x.as_strided(*a)),
     OpSpec("t_", shapes=[((2, 3),), ((3,),)], call=lambda torch, x: (x * 1).t_()),
     OpSpec("transpose_", shapes=[((2, 3, 4),)], call=lambda torch, x: (x * 1).transpose_(0, -1)),
     OpSpec("swapaxes_", shapes=[((2, 3),)], call=lambda torch, x: (x * 1).swapaxes_(0, 1)),
     OpSpec("swapdims_", shapes=[((2, 3),)], call=lambda torch, x: (x * 1).swapdims_(1, 0)),
     OpSpec("squeeze_", shapes=[((2, 1, 3, 1),)], call=lambda torch, x: (x * 1).squeeze_((1, 3))),
     OpSpec("unsqueeze_", shapes=[((2, 3),)], call=lambda torch, x: (x * 1).unsqueeze_(1)))
