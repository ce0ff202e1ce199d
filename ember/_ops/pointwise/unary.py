"""Sign and magnitude of one tensor: neg, positive, abs, sign, sgn, relu; logical_not and bitwise_not.

The rest of the one-input math lives beside it: unary_exp.py (exp, log, powers), unary_trig.py,
unary_special.py (sigmoid, erf, gamma functions), rounding.py, predicates.py (isnan ...), clamp.py.
"""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from .._registry import OpSpec, bind_method, public, register, spec
from ._unary_base import alias, not_implemented, refuse, unary

INTS = ("float32", "float64", "int64")


@unary("neg", dtypes=INTS, complex_ok=True)
class Neg(Primitive):
    """-input."""
    complex_grad = True  # linear: -grad is right for complex inputs too
    promote = "promote"
    check = staticmethod(refuse(bool_exc=RuntimeError, bool_msg=(
        "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
        "use the `~` or `logical_not()` operator instead.")))

    linear = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


bind_method("__neg__", Tensor.neg)
alias("negative", "neg", spec_args=dict(dtypes=INTS))


@unary("abs", dtypes=INTS, nondiff=(0,), complex_ok=True)
class Abs(Primitive):
    """|input|; the gradient at 0 is 0, and complex inputs give their real dtype."""
    complex_grad = True  # NOTE: g * sgn(x) is PyTorch's complex formula too (g is real)
    promote = "promote"
    check = staticmethod(not_implemented("abs_cpu", complex_=False, bool_=True))

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sgn()


bind_method("__abs__", Tensor.abs)
alias("absolute", "abs", spec_args=dict(dtypes=INTS))


def _real_sign(xp, x):
    y = xp.sign(x)
    if x.dtype.kind in "iub":
        return y
    return xp.where(xp.isnan(x), 0, y).astype(x.dtype, copy=False)  # NOTE: PyTorch's sign(nan) is 0


def _zero_grad(ctx, g):
    return g * 0


@unary("sign", grad=True, dtypes=INTS + ("bool",))
class Sign(Primitive):
    """-1, 0 or 1 by the sign of input; its gradient is 0."""
    promote = "promote"
    check = staticmethod(refuse(complex_msg="Unlike NumPy, torch.sign is not intended to support complex numbers. "
                                            "Please use torch.sgn instead."))
    backward = staticmethod(_zero_grad)

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            return x.copy()
        return _real_sign(ctx.xp, x)


@unary("sgn", grad=True, dtypes=INTS + ("bool",), complex_ok=True)
class Sgn(Primitive):
    """sign for real inputs; input / |input| (0 at 0) for complex ones."""
    complex_grad = True
    promote = "promote"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        if x.dtype.kind == "b":
            return x.copy()
        if x.dtype.kind != "c":
            return _real_sign(xp, x)
        ctx.save_for_backward(x)
        mag = xp.abs(x)
        return xp.where(mag == 0, 0, x / xp.where(mag == 0, 1, mag)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        if not ctx.saved_tensors:
            return g * 0
        # NOTE: only the part of g that turns the phase moves z / |z|: (g - s Re(conj(s) g)) / |z|, 0 at 0
        (x,) = ctx.saved_tensors
        mag = x.abs()
        s = x.sgn()
        return ((g - s * (s.conj() * g).real) / mag.masked_fill(mag == 0, 1)).masked_fill(mag == 0, 0)


@public(method=True)
def positive(input):
    """input itself (bool tensors are refused, as in PyTorch)."""
    if input._dtype is _dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


bind_method("__pos__", positive)
spec(OpSpec("positive", dtypes=INTS))


@unary("relu", dtypes=INTS, nondiff=(0,))
class Relu(Primitive):
    """max(input, 0); the gradient at 0 is 0."""
    promote = "promote"
    check = staticmethod(refuse(bool_exc=RuntimeError, bool_msg="Boolean inputs not supported for relu",
                                complex_msg="clamp is not supported for complex types"))

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return ThresholdBackward.apply(g, y)

    @staticmethod
    def jvp(ctx, t):
        return ThresholdBackward.apply(t, ctx.outputs[0])  # NOTE: t where the output is positive, else 0


class ThresholdBackward(Primitive):
    """relu's backward, g where the output y is positive and 0 elsewhere, as one op (PyTorch's
    threshold_backward); differentiable in g (the same mask), so relu has a double backward."""
    inputs = 2

    @staticmethod
    def forward(ctx, g, y):
        mask = y > 0
        ctx.save_for_backward(None, y)
        return ctx.xp.where(mask, g, g.dtype.type(0))  # NOTE: 0 where y <= 0 even for inf/nan g, as PyTorch

    @staticmethod
    def backward(ctx, gg):
        _, y = ctx.saved_tensors
        return (ThresholdBackward.apply(gg, y) if ctx.needs_input_grad[0] else None), None


@register(OpSpec("logical_not", dtypes=("bool", "float32", "int64"), grad=False),
          torch="logical_not", method="logical_not", inplace="logical_not_")
class LogicalNot(Primitive):
    """not input, as a bool tensor."""
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.logical_not(x)


@register(OpSpec("bitwise_not", dtypes=("bool", "int64"), grad=False),
          torch="bitwise_not", method="bitwise_not", inplace="bitwise_not_", operator=("__invert__",))
class BitwiseNot(Primitive):
    """~input for integer and bool tensors."""
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind not in "iub":
            raise TypeError("bitwise_not is only supported for integer and boolean tensors")
        return ctx.xp.invert(x)
