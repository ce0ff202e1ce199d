"""Copies and casts: to(dtype/device), clone, contiguous, copy_, fill_, zero_."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from .._registry import OpSpec, apply_inplace, bind_method, public, register, spec


class ToCopy(Primitive):
    """A copy in another dtype and/or on another device; gradients come back in the original ones."""
    batch_rule = ("pointwise",)
    complex_grad = True
    crosses_devices = True

    @staticmethod
    def forward(ctx, x, dtype, device):
        ctx.dtype, ctx.src = _dtype_of(x), ctx.device
        if device == ctx.device:
            return _dtype.astype(x, dtype.np, copy=True)
        # NOTE: cast first where the data is (a smaller dtype moves fewer bytes), then move through the host
        x = _dtype.astype(x, dtype.np, copy=False)
        return device.backend.asarray(ctx.device.backend.to_host(x), index=device.index)

    @staticmethod
    def backward(ctx, g):
        return _real_if(g, ctx.dtype).to(dtype=ctx.dtype, device=ctx.src)


def _real_if(g, dtype):
    """NOTE: a real source's gradient is the real part of a complex one (PyTorch's handle_r_to_c), taken
    without the cast's 'discards the imaginary part' warning."""
    return g.real if g.is_complex() and not dtype.is_complex else g


def _dtype_of(x):
    from ..._dtype import _BY_NP
    return _BY_NP[x.dtype]


spec(OpSpec("double", method=True, call=lambda torch, x: x.double()),
     OpSpec("float", method=True, dtypes=("float64",), call=lambda torch, x: x.float(), gradcheck=False))


@register(OpSpec("clone", dtypes=("float32", "float64", "int64", "bool")), torch="clone")
class Clone(Primitive):
    """A copy with its own memory; by default it keeps the layout of a dense input (preserve_format)."""
    batch_rule = ("pointwise",)
    complex_grad = True

    @staticmethod
    def forward(ctx, x, memory_format=None):
        if memory_format in (None, "preserve_format") and _dense(x):
            return x.copy(order="K")  # same stride order as x, as PyTorch's preserve_format
        return x.copy(order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def _dense(x):
    """No gaps and no overlaps: some permutation of x's dims is C-contiguous."""
    if x.size <= 1:
        return True
    item = x.itemsize
    span = 1
    for size, stride in sorted(((n, abs(st) // item) for n, st in zip(x.shape, x.strides) if n > 1),
                               key=lambda p: p[1]):
        if stride != span:
            return False
        span *= size
    return True


def _clone(self, *, memory_format=None):
    return Clone.apply(self, memory_format)


bind_method("clone", _clone)


def _contiguous(self, memory_format=None):
    """self when already contiguous, else a contiguous copy."""
    return self if self.is_contiguous() else Clone.apply(self, "contiguous_format")


bind_method("contiguous", _contiguous)


class Copy(Primitive):
    """dst.copy_(src): src broadcast to dst's shape and cast to its dtype (in place)."""
    batch_rule = ("pointwise",)
    complex_grad = True
    inputs = 2
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        ctx.src_dtype = _dtype_of(src)
        return _dtype.astype(ctx.xp.broadcast_to(src, dst.shape), dst.dtype)

    @staticmethod
    def backward(ctx, g):
        # NOTE: the old value is overwritten: its gradient is zero (not None), as in PyTorch.
        return g.new_zeros(g.shape), _real_if(g, ctx.src_dtype).to(ctx.src_dtype)


def _copy_(self, src, non_blocking=False):
    """Copy src's values into self (broadcasting, casting, across devices)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    if src._device != self._device:
        src = src.to(self._device)
    return apply_inplace(Copy, self, src)


bind_method("copy_", _copy_)


class Fill(Primitive):
    """A tensor like input, full of `value` (a number or a 0-d tensor)."""
    batch_rule = ("pointwise",)
    complex_grad = True
    inputs = 2

    @staticmethod
    def forward(ctx, x, value):
        return ctx.xp.full(x.shape, value, dtype=x.dtype) if not hasattr(value, "shape") else \
            ctx.xp.broadcast_to(value.astype(x.dtype), x.shape).copy()

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(g.shape), g.sum()


def _fill_(self, value):
    """Fill self with value, in place."""
    if not isinstance(value, Tensor):
        from ..._creation import checked_fill_value
        value = checked_fill_value(value, self._dtype)  # PyTorch's overflow error; -1 wraps into uint8
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")
    return apply_inplace(Fill, self, value)


bind_method("fill_", _fill_)
bind_method("zero_", lambda self: _fill_(self, 0))
