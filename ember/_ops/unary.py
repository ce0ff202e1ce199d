"""Pointwise functions of one tensor: exp, log, sqrt, abs, sigmoid, tanh, relu, clamp, trig ..."""
from ..autograd.function import Primitive
from .._tensor import Tensor
from ._registry import FUNCTIONS, OpSpec, apply_inplace, public, register, spec, write_out

FLOATS = ("float32", "float64")


def _unary(name, *, domain=(-3, 3), grad=True, dtypes=FLOATS, promote="float", method=True, nondiff=None):
    """Register a one-input op as torch.<name>, Tensor.<name> and Tensor.<name>_."""
    return register(OpSpec(name, domain=domain, grad=grad, dtypes=dtypes, nondiff_points=nondiff),
                    torch=name, method=name if method else None, inplace=name + "_" if method else None)


@_unary("neg", dtypes=("float32", "float64", "int64"), promote=None)
class Neg(Primitive):
    """-input."""
    promote = "promote"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


Tensor.__neg__ = Tensor.neg
Tensor.negative = Tensor.neg
Tensor.__pos__ = lambda self: self


@_unary("exp", dtypes=FLOATS + ("float16", "bfloat16"))
class Exp(Primitive):
    """e ** input."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)  # exp' = exp: keep the output
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


@_unary("log", domain=(0.1, 5))
class Log(Primitive):
    """Natural logarithm."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


@_unary("sqrt", domain=(0.1, 5))
class Sqrt(Primitive):
    """Square root."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


@_unary("abs", dtypes=("float32", "float64", "int64"), nondiff=(0,))
class Abs(Primitive):
    """|input|; the gradient at 0 is 0."""
    promote = "promote"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sign()


Tensor.__abs__ = Tensor.abs
Tensor.absolute = Tensor.abs


@_unary("sign", grad=True, dtypes=("float32", "float64", "int64"))
class Sign(Primitive):
    """-1, 0 or 1 by the sign of input; its gradient is 0."""
    promote = "promote"

    @staticmethod
    def forward(ctx, x):
        if x.dtype.kind == "b":
            return x.copy()
        return ctx.xp.sign(x)

    @staticmethod
    def backward(ctx, g):
        return g * 0


@_unary("sigmoid", dtypes=FLOATS + ("float16", "bfloat16"))
class Sigmoid(Primitive):
    """1 / (1 + exp(-input)), computed without overflow."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # NOTE: exp of -|x| never overflows; both branches are exact where they are used.
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


@_unary("tanh", dtypes=FLOATS + ("float16", "bfloat16"))
class Tanh(Primitive):
    """Hyperbolic tangent."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


@_unary("relu", dtypes=("float32", "float64", "int64"), nondiff=(0,))
class Relu(Primitive):
    """max(input, 0); the gradient at 0 is 0."""
    promote = "promote"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.maximum(x, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y > 0)


@_unary("sin")
class Sin(Primitive):
    """Sine."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


@_unary("cos")
class Cos(Primitive):
    """Cosine."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * x.sin()


@_unary("log1p", domain=(-0.5, 3))
class Log1p(Primitive):
    """log(1 + input), accurate near 0."""
    promote = "float"
    node_name = "Log1PBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (1 + x)


@_unary("expm1")
class Expm1(Primitive):
    """exp(input) - 1, accurate near 0."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y + 1)


@_unary("reciprocal", domain=(0.5, 3))
class Reciprocal(Primitive):
    """1 / input."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -g * y * y


@_unary("rsqrt", domain=(0.5, 3))
class Rsqrt(Primitive):
    """1 / sqrt(input)."""
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        y = 1 / ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -0.5 * g * y * y * y


def _rounding(name, fn):
    def forward(ctx, x):
        return getattr(ctx.xp, fn)(x) if x.dtype.kind == "f" else x.copy()

    def backward(ctx, g):
        return g * 0
    cls = type(name.capitalize(), (Primitive,), {"__doc__": f"{name} of each element; its gradient is 0.",
                                                 "promote": "promote", "forward": staticmethod(forward),
                                                 "backward": staticmethod(backward)})
    return _unary(name, domain=(-3, 3), grad=False)(cls)


Floor = _rounding("floor", "floor")
Ceil = _rounding("ceil", "ceil")
Trunc = _rounding("trunc", "trunc")


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


@register(OpSpec("clamp", kwargs=({"min": -1.0, "max": 1.0}, {"min": 0.0}, {"max": 0.5}),
                 nondiff_points=(-1.0, 1.0, 0.0, 0.5)),
          OpSpec("clamp", arity=3, shapes="ternary"))
class Clamp(Primitive):
    """Limit values to [min, max]; the gradient passes at the bounds themselves."""
    promote = "promote"
    inputs = 3
    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        xp = ctx.xp
        y = x
        if min is not None:
            y = xp.maximum(y, min)
        if max is not None:
            y = xp.minimum(y, max)
        ctx.save_for_backward(x, min, max)
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        inside = g_lo = g_hi = None
        if lo is not None:
            inside = x >= lo
            if ctx.needs_input_grad[1]:
                g_lo = g * (x < lo) if hi is None else g * ((x < lo) & (lo <= hi))
        if hi is not None:
            below = x <= hi
            inside = below if inside is None else inside & below
            if ctx.needs_input_grad[2]:
                # NOTE: with min > max the result is max, whatever x is.
                g_hi = g * ((x if lo is None else x.maximum(lo)) > hi)
        return g * inside, g_lo, g_hi


class ClampTensor(Clamp):
    node_name = "ClampBackward0"


class ClampMin(Clamp):
    node_name = "ClampMinBackward0"


class ClampMax(Clamp):
    node_name = "ClampMaxBackward0"


def _clamp_class(min, max):
    # NOTE: PyTorch names the node by overload: ClampBackward0 for tensor bounds, ClampBackward1 for numbers.
    return ClampTensor if isinstance(min, Tensor) or isinstance(max, Tensor) else Clamp


spec(OpSpec("clamp_min", kwargs=({"min": 0.5},)), OpSpec("clamp_max", kwargs=({"max": -0.5},)))


@public(method=True)
def clamp_min(input, min):
    """max(input, min)."""
    return ClampMin.apply(input, min, None)


@public(method=True)
def clamp_max(input, max):
    """min(input, max)."""
    return ClampMax.apply(input, None, max)


@public
def clamp(input, min=None, max=None, *, out=None):
    """Limit values to [min, max]."""
    result = _clamp_class(min, max).apply(input, min, max)
    return result if out is None else write_out(out, result, "clamp")


def _clamp_method(self, min=None, max=None):
    return _clamp_class(min, max).apply(self, min, max)


def _clamp_inplace(self, min=None, max=None):
    return apply_inplace(_clamp_class(min, max), self, min, max)


Tensor.clamp = Tensor.clip = _clamp_method
Tensor.clamp_ = Tensor.clip_ = _clamp_inplace
FUNCTIONS["clip"] = clamp
