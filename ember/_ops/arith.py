"""Binary arithmetic and comparisons: + - * / // % ** and ==, <, ... with broadcasting.

Backward returns gradients in the broadcast shape; the engine sums them back to each input's
shape with `sum_to`, as PyTorch's validate_outputs does.
"""
from .. import _dtype
from ..autograd.function import Primitive
from .._tensor import Tensor
from ._registry import OpSpec, apply_inplace, public, register, write_out

BINARY = dict(arity=2, shapes="binary", scalar=True)
ALL_REAL = ("float32", "float64", "int64", "int32", "uint8", "bool")


def _int_kind(x):
    return x.dtype.kind in "iub"


@register(OpSpec("add", **BINARY, dtypes=ALL_REAL + ("float16", "bfloat16")),
          OpSpec("add", **BINARY, kwargs=({"alpha": 2},)),
          torch="add", method="add", inplace="add_", operator=("__add__",), reflected=("__radd__",))
class Add(Primitive):
    """input + alpha * other."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            y = y * alpha
        if x.dtype.kind == "b":
            return ctx.xp.logical_or(x, y)
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha)


def _no_bool_sub(x, y, *rest):
    xb, yb = ((isinstance(v, Tensor) and v._dtype is _dtype.bool) or isinstance(v, bool) for v in (x, y))
    if xb and yb:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if xb or yb:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


@register(OpSpec("sub", **BINARY, dtypes=("float32", "float64", "int64", "int32")),
          torch="sub", method="sub", inplace="sub_", operator=("__sub__",))
class Sub(Primitive):
    """input - alpha * other."""
    inputs = 2
    promote = "promote"
    check = staticmethod(_no_bool_sub)

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        ctx.alpha = alpha
        return x - (y if alpha == 1 else y * alpha)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else g * -ctx.alpha)


class RSub(Sub):
    """other - input (the reflected `-`)."""
    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, x, y):
        ctx.alpha = 1
        return y - x

    @staticmethod
    def backward(ctx, g):
        return -g, g


def _rsub(self, other):
    return RSub.apply(self, other)


Tensor.__rsub__ = _rsub


@register(OpSpec("mul", **BINARY, dtypes=ALL_REAL + ("float16", "bfloat16")),
          torch="mul", method="mul", inplace="mul_", operator=("__mul__",), reflected=("__rmul__",))
class Mul(Primitive):
    """input * other."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        if x.dtype.kind == "b":
            return ctx.xp.logical_and(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return (g * y if ctx.needs_input_grad[0] else None), (g * x if ctx.needs_input_grad[1] else None)


@register(OpSpec("div", **BINARY, domain=(0.5, 3)), OpSpec("div", **BINARY, dtypes=("int64",), grad=False),
          torch="div", method="div", inplace="div_", operator=("__truediv__",))
class Div(Primitive):
    """True division; integer inputs give the default float dtype."""
    inputs = 2
    promote = "float"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g / y if ctx.needs_input_grad[0] else None
        gy = -g * x / (y * y) if ctx.needs_input_grad[1] else None
        return gx, gy


class RDiv(Primitive):
    """other / input (the reflected `/`)."""
    node_name = "MulBackward0"  # PyTorch computes number / x as reciprocal(x) * number
    inputs = 2
    promote = "float"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return y / x

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return (-g * y / (x * x) if ctx.needs_input_grad[0] else None), (g / x if ctx.needs_input_grad[1] else None)


Tensor.__rtruediv__ = lambda self, other: RDiv.apply(self, other)


def _check_int_zero(ctx, y):
    if _int_kind(y) and bool((y == 0).any()):
        raise RuntimeError("ZeroDivisionError")


@register(OpSpec("floor_divide", **BINARY, dtypes=("float32", "float64", "int64"), domain=(1, 5), grad=False),
          torch="floor_divide", method="floor_divide", inplace="floor_divide_", operator=("__floordiv__",))
class FloorDivide(Primitive):
    """Division rounded toward negative infinity (Python's //)."""
    inputs = 2
    promote = "promote"
    differentiable = False

    @staticmethod
    def forward(ctx, x, y):
        _check_int_zero(ctx, y)
        return ctx.xp.floor_divide(x, y)


Tensor.__rfloordiv__ = lambda self, other: FloorDivide.apply(other, self)


@register(OpSpec("remainder", **BINARY, dtypes=("float32", "float64", "int64"), domain=(1, 5)),
          torch="remainder", method="remainder", inplace="remainder_", operator=("__mod__",))
class Remainder(Primitive):
    """Python's %: the result takes the divisor's sign."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        _check_int_zero(ctx, y)
        ctx.save_for_backward(x, y)
        return ctx.xp.remainder(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g, (-g * (x / y).floor() if ctx.needs_input_grad[1] else None)


Tensor.__rmod__ = lambda self, other: Remainder.apply(other, self)


@register(OpSpec("fmod", **BINARY, dtypes=("float32", "float64", "int64"), domain=(1, 5)),
          torch="fmod", method="fmod", inplace="fmod_")
class Fmod(Primitive):
    """C's fmod: the result takes the dividend's sign."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        _check_int_zero(ctx, y)
        ctx.save_for_backward(x, y)
        return ctx.xp.fmod(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g, (-g * (x / y).trunc() if ctx.needs_input_grad[1] else None)


@register(OpSpec("pow", **BINARY, domain=(0.5, 2)))
def _no_negative_int_scalar_power(x, y):
    # NOTE: PyTorch refuses a negative integer *number* as the exponent of an integer tensor, but a
    # tensor of exponents may hold negatives (2 ** -1 is then 0).
    if (isinstance(x, Tensor) and x._dtype.category <= _dtype.INT and isinstance(y, int)
            and not isinstance(y, bool) and y < 0):
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def _int_power(xp, x, y):
    """Integer power where negative exponents give 1, -1 or 0 (truncated 1 / x**-y), as in PyTorch."""
    neg = y < 0
    out = xp.power(x, xp.where(neg, 0, y))
    if bool(neg.any()):
        odd = (xp.abs(y) % 2) == 1
        inverse = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
        out = xp.where(neg, inverse, out)
    return out


class Pow(Primitive):
    """input ** exponent."""
    inputs = 2
    promote = "promote"
    check = staticmethod(_no_negative_int_scalar_power)

    @staticmethod
    def forward(ctx, x, y):
        if _int_kind(x) and _int_kind(y) and x.dtype.kind != "b":
            out = _int_power(ctx.xp, x, y)
        else:
            out = ctx.xp.power(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            # NOTE: where the exponent is 0 the gradient is 0, also at x = 0 (PyTorch's masked form).
            gx = g * y * x.pow(y - 1)
            gx = gx.masked_fill(y == 0, 0.0)
        if ctx.needs_input_grad[1]:
            gy = g * out * x.log()
            gy = gy.masked_fill((x == 0) & (y >= 0), 0.0)
        return gx, gy


class PowTensor(Pow):
    node_name = "PowBackward1"


class PowScalarBase(Pow):
    node_name = "PowBackward2"


def _pow_class(base, exponent):
    # NOTE: PyTorch names the node by overload: tensor ** number, tensor ** tensor, number ** tensor.
    if not isinstance(base, Tensor):
        return PowScalarBase
    return PowTensor if isinstance(exponent, Tensor) else Pow


@public(method=True)
def pow(input, exponent, *, out=None):
    """input ** exponent (either may be a number)."""
    result = _pow_class(input, exponent).apply(input, exponent)
    return result if out is None else write_out(out, result, "pow")


Tensor.__pow__ = lambda self, exponent: _pow_class(self, exponent).apply(self, exponent)
Tensor.__rpow__ = lambda self, other: PowScalarBase.apply(other, self)
Tensor.pow_ = lambda self, exponent: apply_inplace(_pow_class(self, exponent), self, exponent)


# --- comparisons and logic ----------------------------------------------------------------------------
def _comparison(name, ufunc, dunder):
    def forward(ctx, x, y):
        return getattr(ctx.xp, ufunc)(x, y)
    cls = type(name.capitalize(), (Primitive,), {
        "__doc__": f"Elementwise {name}; returns a bool tensor.",
        "inputs": 2, "promote": "promote", "differentiable": False,
        "forward": staticmethod(forward)})
    ops = (dunder,) if dunder else ()
    return register(OpSpec(name, **BINARY, dtypes=("float32", "int64"), grad=False),
                    torch=name, method=name, inplace=name + "_", operator=ops)(cls)


Eq = _comparison("eq", "equal", "__eq__")
Ne = _comparison("ne", "not_equal", "__ne__")
Lt = _comparison("lt", "less", "__lt__")
Le = _comparison("le", "less_equal", "__le__")
Gt = _comparison("gt", "greater", "__gt__")
Ge = _comparison("ge", "greater_equal", "__ge__")
for _alias, _name in (("greater", "gt"), ("less", "lt"), ("greater_equal", "ge"), ("less_equal", "le"),
                      ("not_equal", "ne")):
    setattr(Tensor, _alias, getattr(Tensor, _name))


def _logical(name, ufunc, dunder, rdunder):
    def forward(ctx, x, y):
        if name.startswith("bitwise") and x.dtype.kind not in "iub":
            raise NotImplementedError(
                f"\"{name}_cpu\" not implemented for '{_dtype.scalar_type_name(_dtype._BY_NP[x.dtype])}'")
        return getattr(ctx.xp, ufunc)(x, y)

    def tensor_other(x, y):
        if not isinstance(y, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(y).__name__}")
    logical = name.startswith("logical")
    cls = type("".join(p.capitalize() for p in name.split("_")), (Primitive,), {
        "inputs": 2, "promote": "promote", "differentiable": False, "forward": staticmethod(forward),
        "check": staticmethod(tensor_other) if logical else None})
    reg = register(OpSpec(name, **BINARY, dtypes=("bool", "int64"), grad=False),
                   torch=name, method=name, inplace=name + "_",
                   operator=(dunder,) if dunder else (), reflected=(rdunder,) if rdunder else ())
    return reg(cls)


LogicalAnd = _logical("logical_and", "logical_and", None, None)
LogicalOr = _logical("logical_or", "logical_or", None, None)
LogicalXor = _logical("logical_xor", "logical_xor", None, None)
BitwiseAnd = _logical("bitwise_and", "bitwise_and", "__and__", "__rand__")
BitwiseOr = _logical("bitwise_or", "bitwise_or", "__or__", "__ror__")
BitwiseXor = _logical("bitwise_xor", "bitwise_xor", "__xor__", "__rxor__")
Tensor.__iand__ = lambda self, other: self.bitwise_and_(other)
Tensor.__ior__ = lambda self, other: self.bitwise_or_(other)
Tensor.__ixor__ = lambda self, other: self.bitwise_xor_(other)


@register(OpSpec("maximum", **{**BINARY, "scalar": False}), torch="maximum", method="maximum")
class Maximum(Primitive):
    """Elementwise maximum; ties split the gradient evenly."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        w = (x > y).to(g.dtype) + (x == y).to(g.dtype) * 0.5
        return g * w, g * (1 - w)


@register(OpSpec("minimum", **{**BINARY, "scalar": False}), torch="minimum", method="minimum")
class Minimum(Primitive):
    """Elementwise minimum; ties split the gradient evenly."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        w = (x < y).to(g.dtype) + (x == y).to(g.dtype) * 0.5
        return g * w, g * (1 - w)


# in-place operator forms: `x += y` is add_ (they return self)
Tensor.__iadd__ = lambda self, other: self.add_(other)
Tensor.__isub__ = lambda self, other: self.sub_(other)
Tensor.__imul__ = lambda self, other: self.mul_(other)
Tensor.__itruediv__ = lambda self, other: self.div_(other)
Tensor.__ifloordiv__ = lambda self, other: self.floor_divide_(other)
Tensor.__imod__ = lambda self, other: self.remainder_(other)
Tensor.__ipow__ = lambda self, other: self.pow_(other)
