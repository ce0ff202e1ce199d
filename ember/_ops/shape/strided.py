"""Views with explicit geometry: Tensor.unfold (sliding windows), as_strided; and the in-place view
ops (t_, transpose_, swapaxes_, swapdims_, squeeze_, unsqueeze_, as_strided_) that change a tensor's
own shape."""
from ... import _state
from ...autograd.function import Primitive
from ..._tensor import Tensor, norm_dim
from ...autograd.inplace import _check_inplace_autograd
from .._registry import OpSpec, bind, bind_method, public, spec
from .._strides import restride, settle, storage_offset as storage_offset_of, storage_view
from .views import _is_int


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
        x = settle(ctx.xp, x)
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


bind_method("unfold", _unfold)


# --- as_strided -----------------------------------------------------------------------------------------
class AsStrided(Primitive):
    """The input's storage seen with explicit sizes, strides (in elements) and storage offset (a view)."""
    complex_grad = True
    view = True

    @staticmethod
    def forward(ctx, x, size, stride, storage_offset):
        own = storage_offset_of(x)
        offset = own if storage_offset is None else storage_offset
        # NOTE: storage_view refuses a negative offset and any view reaching outside the storage.
        out = storage_view(x, size, stride, offset, writeable=True)
        xp = ctx.xp
        ctx.n = ctx.device.backend.storage(x)[1] // x.itemsize
        ctx.src = _positions(xp, size, stride, offset)
        ctx.dst = _positions(xp, x.shape, tuple(s // x.itemsize for s in x.strides), own)
        return out

    @staticmethod
    def backward(ctx, g):
        return _Move.apply(g, ctx.src, ctx.dst, ctx.n)


def _int_tuple(value, argname, position):
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"as_strided(): argument '{argname}' (position {position}) must be tuple of ints, not "
                        f"{type(value).__name__}")
    for i, v in enumerate(value):
        if not _is_int(v):
            raise TypeError(f"as_strided(): argument '{argname}' (position {position}) must be tuple of ints, but "
                            f"found element of type {type(v).__name__} at pos {i}")
    return tuple(int(v) for v in value)


@public(method=True)
def as_strided(input, size, stride, storage_offset=None):
    """A view of input's storage with the given sizes, strides and offset (in elements)."""
    size, stride = _int_tuple(size, "size", 1), _int_tuple(stride, "stride", 2)
    if storage_offset is not None:
        if not _is_int(storage_offset):
            raise TypeError(f"as_strided(): argument 'storage_offset' (position 3) must be int, not "
                            f"{type(storage_offset).__name__}")
        storage_offset = int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                           f"{list(stride)}")
    return AsStrided.apply(input, size, stride, storage_offset)


# --- set_ -------------------------------------------------------------------------------------------------
_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
               "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
               "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
               "complex128": "c10::complex<double>"}


def _contiguous(size):
    stride, acc = [], 1
    for s in reversed(size):
        stride.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(stride))


def _set_geometry(source, storage_offset, size, stride):
    if size is None:
        return tuple(source._data.shape), tuple(source.stride()), source.storage_offset()
    if not source.is_contiguous():
        raise RuntimeError("passed in tensor to be used as storage must be contiguous")
    size = _int_tuple(size, "size", 3)
    stride = _contiguous(size) if stride is None else _int_tuple(stride, "stride", 4)
    if len(size) != len(stride):
        raise RuntimeError(f"unequal size length ({len(size)}) and stride length ({len(stride)})")
    if not _is_int(storage_offset):
        raise TypeError(f"set_(): argument 'storage_offset' (position 2) must be int, not "
                        f"{type(storage_offset).__name__}")
    offset = source.storage_offset() + int(storage_offset)  # NOTE: PyTorch counts from source's own offset
    if offset >= 0 and any(s < 0 for s in size):
        raise RuntimeError("numel: integer multiplication overflow")
    return size, stride, offset


class _SetNotDifferentiable(Primitive):
    """set_ under autograd: PyTorch records a node whose backward refuses (no derivative for set_)."""
    inputs = 2
    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, old, source, view):
        return view

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for set_ is not implemented")


def _set_signatures(got):
    return (f"set_() received an invalid combination of arguments - got ({got}), but expected one of:\n * ()\n"
            " * (torch.Storage source)\n * (torch.Storage source, int storage_offset, tuple of ints size, tuple of "
            "ints stride = None)\n * (Tensor source)\n * (Tensor source, int storage_offset, tuple of ints size, "
            "tuple of ints stride = None)\n")


def _set_(self, source=None, storage_offset=None, size=None, stride=None):
    """Make self a view of source's storage (all of source, or the given geometry); set_() empties self.

    NOTE: PyTorch grows the storage when the geometry needs more memory; ember's storage is shared with
    NumPy and cannot grow, so that raises PyTorch's setStorage RuntimeError instead."""
    if source is None:
        source = Tensor.new_empty(self, (0,))
    if not isinstance(source, Tensor):
        raise TypeError(_set_signatures(type(source).__name__))
    if source._dtype is not self._dtype:
        raise RuntimeError(f"Could not set tensor of type {_TYPE_NAMES.get(source._dtype.name, source._dtype.name)} "
                           f"to a tensor of type {_TYPE_NAMES.get(self._dtype.name, self._dtype.name)}")
    if storage_offset is not None and size is None:
        raise TypeError(_set_signatures("Tensor, int"))
    if self._requires_grad and _state.local.grad_enabled:
        _check_inplace_autograd(self)
    size, stride, offset = _set_geometry(source, storage_offset, size, stride)
    view = storage_view(source._data, size, stride, offset, writeable=True)
    if _state.local.grad_enabled and (self._grad_fn is not None or source._requires_grad):
        tracked = _SetNotDifferentiable.apply(self, source, view)
        self._grad_fn, self._output_nr, self._requires_grad = tracked._grad_fn, tracked._output_nr, True
    self._data = view
    self._device = source._device
    self._base = None
    self._vc[0] += 1
    return self


bind_method("set_", _set_)


def _data_ptr(self):
    """The address of self's first element."""
    return self._device.backend.data_ptr(self._data)


bind_method("data_ptr", _data_ptr)


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
    if _state.fw_visible:  # NOTE: forward-mode AD: the tangent takes the same geometry (a view of the old one)
        from ...autograd.forward_ad import take_tangents
        take_tangents(self, result)
    return self


def _inplace_view(name):
    def method(self, *args, **kwargs):
        return _become(self, getattr(self, name)(*args, **kwargs))
    method.__name__ = name + "_"
    method.__doc__ = f"In-place version of {name}: self's own shape and strides change."
    return method


for _name in ("t", "transpose", "swapaxes", "swapdims", "squeeze", "unsqueeze", "as_strided"):
    bind_method(_name + "_", _inplace_view(_name))
bind("as_strided_", Tensor.as_strided_)


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
