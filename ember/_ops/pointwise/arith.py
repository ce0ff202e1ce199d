"""Binary arithmetic and comparisons: + - * / // % ** and ==, <, ... with broadcasting.

Backward returns gradients in the broadcast shape; the engine sums them back to each input's
shape with `sum_to`, as PyTorch's validate_outputs does.
"""
from ... import _dtype
from ...autograd.function import Primitive, not_implemented_backward
from ...autograd.function import Primitive, float32_backward
from ..._tensor import Tensor
from ._binary_checks import BINARY, not_for, tensor_first
from .._registry import OpSpec, apply_inplace, bind_method, public, register, spec, write_out

ALL_REAL = ("float32", "float64", "int64", "int32", "uint8", "bool")


def _int_kind(x):
    return x.dtype.kind in "iub"


def _round_to(low, value):
    """alpha as PyTorch reads it for a float16/bfloat16 input: rounded to that dtype."""
    return value if low is None or isinstance(value, bool) else float(low.np.type(value))


def _conj(t):
    """t.conj(): the conjugate for complex tensors, t itself for the real ones most gradients are (without
    the public method's argument handling)."""
    return t.conj() if t._dtype.category == _dtype.COMPLEX else t


def _check_alpha(x, alpha):
    # NOTE: x is the operand after promotion, so its dtype is the result's.
    if isinstance(alpha, bool):
        if x.dtype.kind != "b":
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
    elif isinstance(alpha, float) and x.dtype.kind in "iub":
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")


@register(OpSpec("add", **BINARY, dtypes=ALL_REAL + ("float16", "bfloat16")),
          OpSpec("add", **BINARY, kwargs=({"alpha": 2},)),
          torch="add", method="add", inplace="add_", operator=("__add__",), reflected=("__radd__",))
class Add(Primitive):
    """input + alpha * other."""
    complex_grad = "holomorphic"
    upcast = True
    upcast_scalars = False  # NOTE: PyTorch rounds a scalar other (and alpha) to a half input's dtype
    ufunc = "add"
    inputs = 2
    promote = "promote"
    linear = True  # forward AD: the tangent is tx + alpha * ty

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        _check_alpha(x, alpha)
        ctx.alpha = alpha
        if alpha is not True and alpha != 1:
            y = y * (_round_to(ctx.low, alpha))
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
    complex_grad = "holomorphic"
    upcast = True
    upcast_scalars = False
    ufunc = "subtract"
    inputs = 2
    promote = "promote"
    linear = True
    check = staticmethod(_no_bool_sub)

    @staticmethod
    def forward(ctx, x, y, alpha=1):
        _check_alpha(x, alpha)
        ctx.alpha = alpha
        return x - (y if alpha == 1 else y * _round_to(ctx.low, alpha))

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else g * -ctx.alpha)


class RSub(Sub):
    """other - input (the reflected `-`)."""
    complex_grad = "holomorphic"
    node_name = "RsubBackward1"
    ufunc = None  # NOTE: other - input: not Sub's ufunc order

    @staticmethod
    def forward(ctx, x, y):
        ctx.alpha = 1
        return y - x

    @staticmethod
    def backward(ctx, g):
        return -g, g


def _rsub(self, other):
    return RSub.apply(self, other)


bind_method("__rsub__", _rsub)


@register(OpSpec("mul", **BINARY, dtypes=ALL_REAL + ("float16", "bfloat16")),
          torch="mul", method="mul", inplace="mul_", operator=("__mul__",), reflected=("__rmul__",))
class Mul(Primitive):
    """input * other."""
    complex_grad = True
    upcast = True
    ufunc = "multiply"
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        need = ctx.needs_input_grad  # NOTE: each factor is saved only for the other's gradient
        ctx.save_for_backward(x if need[1] else None, y if need[0] else None)
        if x.dtype.kind == "b":
            return ctx.xp.logical_and(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        # NOTE: for complex inputs PyTorch's gradient is grad * conj(d out / d input).
        return (g * _conj(y) if ctx.needs_input_grad[0] else None), (g * _conj(x) if ctx.needs_input_grad[1] else None)

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.inputs
        return _sum_terms(None if tx is None else tx * y, None if ty is None else x * ty)


@register(OpSpec("div", **BINARY, domain=(0.5, 3)), OpSpec("div", **BINARY, dtypes=("int64",), grad=False),
          operator=("__truediv__",))
class Div(Primitive):
    """True division; integer inputs give the default float dtype."""
    _public_name = "div"  # NOTE: ember.div, Tensor.div and div_ are bound in _functional.py (rounding_mode)
    complex_grad = True
    upcast = True
    ufunc = "true_divide"
    inputs = 2
    promote = "float"

    @staticmethod
    def forward(ctx, x, y):
        need = ctx.needs_input_grad
        ctx.save_for_backward(x if need[1] else None, y if need[0] or need[1] else None)
        return x / y

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g / _conj(y) if ctx.needs_input_grad[0] else None
        gy = -g * _conj(x / (y * y)) if ctx.needs_input_grad[1] else None
        return gx, gy

    @staticmethod
    def jvp(ctx, tx, ty):
        y = ctx.inputs[1]
        return _sum_terms(None if tx is None else tx / y, None if ty is None else -ty * ctx.outputs[0] / y)


def _sum_terms(*terms):
    """The sum of the terms that are not None (the tangent contributions of the operands that have one)."""
    total = None
    for t in terms:
        if t is not None:
            total = t if total is None else total + t
    return total


# NOTE: number / x is reciprocal(x) * number, as in PyTorch: the same rounding, and reciprocal saves
# its output, not x, so writing into x afterwards leaves backward valid.
bind_method("__rtruediv__", lambda self, other: self.reciprocal() * other)


def _check_int_zero(ctx, x, y, kernel):
    if y.dtype.kind == "b":
        raise not_for(kernel, y)
    # NOTE: an empty input makes an empty result: no division happens, and PyTorch does not raise
    if _int_kind(y) and x.size:
        # NOTE: deferred on a device (PyTorch's CUDA kernels do not check at all)
        ctx.device.backend.check((y == 0).any(), lambda: RuntimeError("ZeroDivisionError"))


@register(OpSpec("floor_divide", **BINARY, dtypes=("float32", "float64", "int64"), domain=(1, 5), grad=False),
          torch="floor_divide", method="floor_divide", inplace="floor_divide_", operator=("__floordiv__",))
class FloorDivide(Primitive):
    """Division rounded toward negative infinity (Python's //)."""
    inputs = 2
    promote = "promote"
    node_name = "NotImplemented"  # NOTE: PyTorch records floor_divide, and its backward refuses
    backward = not_implemented_backward("floor_divide")

    @staticmethod
    def forward(ctx, x, y):
        _check_int_zero(ctx, x, y, "div_floor_cpu")
        return ctx.xp.floor_divide(x, y)


bind_method("__rfloordiv__", lambda self, other: FloorDivide.apply(other, self))


def _trunc_divide(xp, x, y):
    if x.dtype.kind in "iu":
        # NOTE: integer quotients stay exact (no detour through float), as in PyTorch.
        q = xp.floor_divide(x, y)
        inexact = (xp.remainder(x, y) != 0) & ((x < 0) != (y < 0))
        return xp.where(inexact, q + 1, q).astype(x.dtype, copy=False)
    return xp.trunc(x / y)


class DivMode(Primitive):
    """input / other rounded by rounding_mode ('floor' or 'trunc'); its gradient is zero, as in PyTorch."""
    node_name = "DivBackward2"
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y, rounding_mode):
        if rounding_mode == "floor":
            _check_int_zero(ctx, x, y, "div_floor_cpu")
            return ctx.xp.floor_divide(x, y)
        _check_int_zero(ctx, x, y, "div_trunc_cpu")
        return _trunc_divide(ctx.xp, x, y)

    @staticmethod
    def backward(ctx, g):
        zero = g * 0
        return zero, zero


@register(OpSpec("remainder", **BINARY, dtypes=("float32", "float64", "int64"), domain=(1, 5)))
class Remainder(Primitive):
    """Python's %: the result takes the divisor's sign."""
    inputs = 2
    promote = "promote"

    @staticmethod
    def forward(ctx, x, y):
        _check_int_zero(ctx, x, y, "remainder_cpu")
        if ctx.needs_input_grad[1]:  # NOTE: input's gradient is grad itself: nothing to save for it
            ctx.save_for_backward(x, y)
        xp = ctx.xp
        if x.dtype.kind in "iu":
            return xp.remainder(x, y)
        # NOTE: PyTorch's float form: fmod, moved into the divisor's sign; an exact zero keeps the
        # dividend's sign (-2.0 % 2.0 is -0.0, where NumPy gives 0.0).
        mod = xp.fmod(x, y)
        return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        if not ctx.needs_input_grad[1]:
            return g, None
        x, y = ctx.saved_tensors
        return g, -g * DivMode.apply(x, y, "floor")


class RemainderScalarSelf(Remainder):
    """`number % tensor`: PyTorch's remainder(Scalar, Tensor) overload has no derivative."""
    node_name = "NotImplemented"

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::remainder is not implemented")


bind_method("__rmod__", lambda self, other: (RemainderScalarSelf if not isinstance(other, Tensor) else Remainder).apply(
    other, self))


@register(OpSpec("fmod", **BINARY, dtypes=("float32", "float64", "int64"), domain=(1, 5)))
class Fmod(Primitive):
    """C's fmod: the result takes the dividend's sign."""
    inputs = 2
    promote = "promote"
    check = staticmethod(tensor_first("fmod"))

    @staticmethod
    def forward(ctx, x, y):
        _check_int_zero(ctx, x, y, "fmod_cpu")
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(x, y)
        return ctx.xp.fmod(x, y)

    @staticmethod
    def backward(ctx, g):
        if not ctx.needs_input_grad[1]:
            return g, None
        x, y = ctx.saved_tensors
        return g, -g * DivMode.apply(x, y, "trunc")


class RemainderTensor(Remainder):
    node_name = "RemainderBackward1"


class FmodTensor(Fmod):
    node_name = "FmodBackward1"


def _by_other(name, scalar_cls, tensor_cls, dunder=None):
    """Bind torch.<name>, Tensor.<name> and Tensor.<name>_ to the class PyTorch's overload implies:
    its nodes are named ...Backward0 for a number `other` and ...Backward1 for a tensor."""
    def pick(other):
        return tensor_cls if isinstance(other, Tensor) else scalar_cls

    def fn(input, other, *, out=None):
        result = pick(other).apply(input, other)
        return result if out is None else write_out(out, result, name)

    def method(self, other):
        return pick(other).apply(self, other)

    def inplace(self, other):
        return apply_inplace(pick(other), self, other)
    fn.__name__, fn.__doc__ = name, scalar_cls.__doc__
    method.__name__, method.__doc__ = name, scalar_cls.__doc__
    inplace.__name__, inplace.__doc__ = name + "_", f"In-place version of {name}."
    public(fn, name=name)
    bind_method(name, method)
    bind_method(name + "_", inplace)
    if dunder:
        bind_method(dunder, method)


_by_other("remainder", Remainder, RemainderTensor, "__mod__")
_by_other("fmod", Fmod, FmodTensor)


_C_INT_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int"}


def _check_pow_scalar(x, y):
    """PyTorch's refusals of a number exponent for an integer tensor base."""
    if not isinstance(x, Tensor) or x._dtype.category > _dtype.INT or not isinstance(y, int) or isinstance(y, bool):
        return
    # NOTE: a tensor of exponents may hold negatives (2 ** -1 is then 0); a negative number may not.
    if y < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    c_name = _C_INT_NAMES.get(x._dtype.name)
    if c_name is not None:
        info = x._device.backend.xp.iinfo(x._dtype.np)
        if y > info.max:
            raise RuntimeError(f"value cannot be converted to type {c_name} without overflow")


# NOTE: PyTorch's CPU pow on float32/float16 rounds the double result once, except for the exponents its kernel
# special-cases (x*x*x for 3, 1/(x*x) for -2, 1/sqrt(x) for -0.5); NumPy's float32 powf differs in about a
# fifth of the cases, which shows in e.g. an optimizer's `beta ** step` with a float32 tensor beta.
_POW_SPECIAL = {3: lambda xp, x: x * x * x, -2: lambda xp, x: 1 / (x * x), -0.5: lambda xp, x: 1 / xp.sqrt(x)}


def _float_power(xp, x, y, number_exponent, number=None):
    out = xp.power(x, y)
    if out.dtype not in (xp.float32, xp.float16) or getattr(x, "dtype", None) is None:
        return out
    # NOTE: the Python number itself where given: reading y back would wait for the device
    exponent = (float(number) if number is not None else float(y)) if number_exponent and y.dtype.kind != "c" else None
    if exponent == 2:
        return out
    if exponent in _POW_SPECIAL and x.dtype == out.dtype:
        return _POW_SPECIAL[exponent](xp, x).astype(out.dtype, copy=False)
    return xp.power(xp.asarray(x, dtype=xp.float64), xp.asarray(y, dtype=xp.float64)).astype(out.dtype)


def _int_power(xp, x, y, cheap_reads=True):
    """Integer power where negative exponents give 1, -1 or 0 (truncated 1 / x**-y), as in PyTorch."""
    neg = y < 0
    out = xp.power(x, xp.where(neg, 0, y))
    if not cheap_reads or bool(neg.any()):
        odd = (xp.abs(y) % 2) == 1
        inverse = xp.where(x == 1, 1, xp.where(x == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
        out = xp.where(neg, inverse, out)
    return out


class Pow(Primitive):
    """input ** exponent, where exponent is a number."""
    upcast = True
    complex_grad = "holomorphic"  # NOTE: see Function.complex_grad
    inputs = 2
    promote = "promote"
    check = staticmethod(_check_pow_scalar)

    @staticmethod
    def forward(ctx, x, y, number=None):
        return _pow_forward(ctx, x, y, number_exponent=True, number=number)

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


def _pow_forward(ctx, x, y, number_exponent, number=None):
    if x.dtype.kind == "b":
        # NOTE: PyTorch keeps bool for a bool tensor to a bool number (x ** False is all True).
        out = x.copy() if bool(y) else ctx.xp.ones_like(x)
    elif _int_kind(x) and _int_kind(y):
        out = _int_power(ctx.xp, x, y, ctx.device.backend.cheap_reads)
    else:
        out = _float_power(ctx.xp, x, y, number_exponent, number)
    ctx.save_for_backward(x, y, out if ctx.needs_input_grad[1] else None)
    return out


def _no_bool_pow(ctx, x, y):
    if x.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return _pow_forward(ctx, x, y, number_exponent=False)


class PowTensor(Pow):
    """input ** exponent, where exponent is a tensor."""
    node_name = "PowBackward1"
    forward = staticmethod(_no_bool_pow)


class PowScalarBase(Pow):
    """number ** exponent."""
    node_name = "PowBackward2"
    check = None
    forward = staticmethod(_no_bool_pow)


spec(OpSpec("pow", **BINARY, domain=(0.5, 2)),
     OpSpec("pow", **BINARY, dtypes=("int64", "bool"), domain=(0, 3), grad=False),
     OpSpec("pow_", **BINARY, domain=(0.5, 2), call=lambda torch, x, y: x.clone().pow_(y)),
     OpSpec("__rpow__", arity=1, domain=(0.5, 2), call=lambda torch, x: 2.5 ** x),
     OpSpec("pow_scalar_base", arity=1, dtypes=("float32", "int64"), domain=(-2, 3),
            call=lambda torch, x: torch.pow(2, x)))


def _pow_class(base, exponent):
    # NOTE: PyTorch names the node by overload: tensor ** number, tensor ** tensor, number ** tensor.
    if not isinstance(base, Tensor):
        return PowScalarBase
    return PowTensor if isinstance(exponent, Tensor) else Pow


def _pow_args(base, exponent):
    """Pow's arguments: a number exponent also travels as itself, so forward need not read it back."""
    return (base, exponent, exponent) if _pow_class(base, exponent) is Pow else (base, exponent)


@public(method=True)
def pow(input, exponent, *, out=None):
    """input ** exponent (either may be a number)."""
    result = _pow_class(input, exponent).apply(*_pow_args(input, exponent))
    return result if out is None else write_out(out, result, "pow")


bind_method("__pow__", lambda self, exponent: _pow_class(self, exponent).apply(*_pow_args(self, exponent)))
bind_method("__rpow__", lambda self, other: PowScalarBase.apply(other, self))
bind_method("pow_", lambda self, exponent: apply_inplace(_pow_class(self, exponent), *_pow_args(self, exponent)))


# in-place operator forms: `x += y` is add_ (they return self)
bind_method("__iadd__", lambda self, other: self.add_(other))
bind_method("__isub__", lambda self, other: self.sub_(other))
bind_method("__imul__", lambda self, other: self.mul_(other))
bind_method("__itruediv__", lambda self, other: self.div_(other))
bind_method("__ifloordiv__", lambda self, other: self.floor_divide_(other))
bind_method("__imod__", lambda self, other: self.remainder_(other))
bind_method("__ipow__", lambda self, other: self.pow_(other))


def _inplace(name):
    return lambda torch, x, y, **kw: getattr(x.clone(), name)(y, **kw)


# NOTE: in-place forms run on a clone so gradients still reach the drawn leaf; a broadcast that
# would grow `self`, or a result dtype `self` cannot hold, must raise as in PyTorch.
spec(OpSpec("add_", **BINARY, dtypes=("float32", "int64"), kwargs=({}, {"alpha": 2}), call=_inplace("add_")),
     OpSpec("sub_", **BINARY, dtypes=("float32", "int64"), kwargs=({}, {"alpha": 2}), call=_inplace("sub_")),
     OpSpec("mul_", **BINARY, dtypes=("float32", "int64", "bool"), call=_inplace("mul_")),
     OpSpec("div_", **BINARY, domain=(0.5, 3), dtypes=("float32", "int64"), call=_inplace("div_")),
     OpSpec("floor_divide_", **BINARY, dtypes=("float32", "int64"), domain=(1, 5), grad=False,
            call=_inplace("floor_divide_")),
     OpSpec("remainder_", **BINARY, dtypes=("float32", "int64"), domain=(1, 5), call=_inplace("remainder_")),
     OpSpec("fmod_", **BINARY, dtypes=("float32", "int64"), domain=(1, 5), call=_inplace("fmod_")),
     OpSpec("__rsub__", **BINARY, dtypes=("float32", "int64"), call=lambda torch, x, y: y - x),
     OpSpec("__rtruediv__", **BINARY, domain=(0.5, 3), dtypes=("float32", "int64"), call=lambda torch, x, y: y / x),
     OpSpec("__rfloordiv__", **BINARY, dtypes=("float32", "int64"), domain=(1, 5), grad=False,
            call=lambda torch, x, y: y // x),
     OpSpec("__rmod__", **BINARY, dtypes=("float32", "int64"), domain=(1, 5), call=lambda torch, x, y: y % x))
