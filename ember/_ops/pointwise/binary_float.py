"""Binary pointwise math: atan2, hypot, xlogy, logaddexp, logaddexp2, copysign, ldexp, heaviside,
float_power."""
import math

from ... import _dtype
from ...autograd.function import Primitive, not_implemented_backward
from ..._tensor import Tensor
from ._binary_checks import BINARY, FLOATS, float_only, same_dtypes, tensor_first, tensors_only
from .._registry import FUNCTIONS, OpSpec, apply_inplace, bind, bind_method, public, register, spec, write_out


def _inplace(name):
    return lambda torch, x, y: getattr(x.clone(), name)(y)


def _specs(name, dtypes=FLOATS + ("int64",), domain=(-3, 3), grad=True, inplace=True):
    """The op's spec, and its in-place form's on float32."""
    specs = [OpSpec(name, **BINARY, dtypes=dtypes, domain=domain, grad=grad)]
    if inplace:
        specs.append(OpSpec(name + "_", **BINARY, dtypes=("float32",), domain=domain, grad=grad,
                            call=_inplace(name + "_")))
    return specs


@register(*_specs("atan2"), OpSpec("arctan2", **BINARY), OpSpec("arctan2_", **BINARY, call=_inplace("arctan2_")),
          torch="atan2", method="atan2", inplace="atan2_")
class Atan2(Primitive):
    """Elementwise arctangent of input / other, in the quadrant of (other, input)."""
    upcast = True
    inputs = 2
    promote = "float"
    check = staticmethod(tensors_only("atan2"))

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return ctx.xp.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        denom = x * x + y * y
        # NOTE: PyTorch's gradient at the origin is 0 (not 0 * inf).
        recip = (1 / denom).masked_fill(denom == 0, 0.0)
        return g * x * recip, g * -y * recip


bind("arctan2", FUNCTIONS["atan2"])
bind_method("arctan2", Tensor.atan2)
bind_method("arctan2_", Tensor.atan2_)


@register(*_specs("hypot", dtypes=FLOATS + ("int64",)), torch="hypot", method="hypot", inplace="hypot_")
class Hypot(Primitive):
    """sqrt(input ** 2 + other ** 2) without overflow."""
    upcast = True
    inputs = 2
    promote = "promote"
    check = staticmethod(tensors_only("hypot"))

    @staticmethod
    def forward(ctx, x, y):
        float_only("hypot_cpu", x, y)
        out = ctx.xp.hypot(x, y)
        need = ctx.needs_input_grad
        ctx.save_for_backward(x if need[0] else None, y if need[1] else None, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved_tensors
        need = ctx.needs_input_grad
        return (g * x / out if need[0] else None), (g * y / out if need[1] else None)


@register(*_specs("xlogy", domain=(0, 3)))
class Xlogy(Primitive):
    """input * log(other), and 0 where input is 0 (unless other is NaN)."""
    inputs = 2
    promote = "float"

    @staticmethod
    def forward(ctx, x, y):
        xp = ctx.xp
        ctx.save_for_backward(x, y)
        out = xp.where(x == 0, xp.zeros((), x.dtype), x * xp.log(y))
        return xp.where(xp.isnan(y), y, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * Xlogy.apply((x != 0).to(x.dtype), y)
        if ctx.needs_input_grad[1]:
            gy = g * x / y
        return gx, gy


class XlogyScalarSelf(Xlogy):
    node_name = "XlogyBackward1"


class XlogyScalarOther(Xlogy):
    node_name = "XlogyBackward2"

    @staticmethod
    def backward(ctx, g):
        # NOTE: with a number `other`, PyTorch's gradient is log(other) everywhere, also where input is 0.
        _, y = ctx.saved_tensors
        return g * y.log(), None


def _xlogy_class(input, other):
    if not isinstance(input, Tensor):
        return XlogyScalarSelf
    return Xlogy if isinstance(other, Tensor) else XlogyScalarOther


@public(method=True)
def xlogy(input, other, *, out=None):
    """input * log(other), and 0 where input is 0 (unless other is NaN)."""
    result = _xlogy_class(input, other).apply(input, other)
    return result if out is None else write_out(out, result, "xlogy")


bind_method("xlogy_", lambda self, other: apply_inplace(_xlogy_class(self, other), self, other))


@register(*_specs("logaddexp", inplace=False), torch="logaddexp", method="logaddexp")
class Logaddexp(Primitive):
    """log(exp(input) + exp(other)), computed without overflow."""
    complex_grad = "holomorphic"
    upcast = True
    inputs = 2
    promote = "promote"
    check = staticmethod(tensors_only("logaddexp"))

    @staticmethod
    def forward(ctx, x, y):
        float_only("logaddexp_cpu", x, y)
        ctx.save_for_backward(x, y)
        xp = ctx.xp
        if x.dtype.kind == "c":  # NOTE: PyTorch's complex form: the larger real part, plus log1p(exp(min - max))
            swap = x.real < y.real
            hi, lo = xp.where(swap, y, x), xp.where(swap, x, y)
            return (hi + xp.log1p(xp.exp(lo - hi))).astype(x.dtype, copy=False)
        out = xp.maximum(x, y) + xp.log1p(xp.exp(-xp.abs(x - y)))
        # NOTE: inf - inf is NaN; equal infinities are their own result.
        return xp.where(xp.isinf(x) & (x == y), x, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g / (1 + (y - x).exp()), g / (1 + (x - y).exp())


@register(*_specs("logaddexp2", inplace=False), torch="logaddexp2", method="logaddexp2")
class Logaddexp2(Primitive):
    """log2(2 ** input + 2 ** other), computed without overflow."""
    complex_grad = "holomorphic"
    upcast = True
    inputs = 2
    promote = "promote"
    check = staticmethod(tensors_only("logaddexp2"))

    @staticmethod
    def forward(ctx, x, y):
        float_only("logaddexp2_cpu", x, y)
        ctx.save_for_backward(x, y)
        xp = ctx.xp
        out = xp.maximum(x, y) + xp.log1p(xp.exp2(-xp.abs(x - y))) / math.log(2)
        return xp.where(xp.isinf(x) & (x == y), x, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g / (1 + 2 ** (y - x)), g / (1 + 2 ** (x - y))


@register(*_specs("copysign"), torch="copysign", method="copysign", inplace="copysign_")
class Copysign(Primitive):
    """|input| with the sign of other (including the sign of zeros)."""
    inputs = 2
    promote = "float"
    check = staticmethod(tensor_first("copysign"))

    @staticmethod
    def forward(ctx, x, y):
        out = ctx.xp.copysign(x, y)
        if ctx.needs_input_grad[0]:  # NOTE: other's gradient is zeros: nothing to save for it
            ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # NOTE: PyTorch's gradient is out / input, 0 where input is 0; other gets zeros, not None.
        gx = None
        if ctx.needs_input_grad[0]:
            x, out = ctx.saved_tensors
            gx = g * (out / x).masked_fill(x == 0, 0.0)
        return gx, g.new_zeros(g.shape)


@register(*_specs("ldexp", domain=(-3, 3)), torch="ldexp", method="ldexp", inplace="ldexp_")
class Ldexp(Primitive):
    """input * 2 ** other."""
    complex_grad = "holomorphic"
    inputs = 2
    promote = "float"
    check = staticmethod(tensors_only("ldexp"))

    @staticmethod
    def forward(ctx, x, y):
        out = x * ctx.xp.exp2(y)
        # NOTE: as PyTorch's input * 2 ** other: other's gradient reads the output, not input
        ctx.save_for_backward(y, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        y, out = ctx.saved_tensors
        gy = g * out * math.log(2) if ctx.needs_input_grad[1] else None
        return g * 2 ** y, gy


def _heaviside_dtypes(a, b):
    return "heaviside is not yet implemented for tensors with different dtypes."


@register(*_specs("heaviside", dtypes=("float32", "int64", "bool"), domain=(-1, 1), grad=False),
          torch="heaviside", method="heaviside", inplace="heaviside_")
class Heaviside(Primitive):
    """Step function: 0 below zero, 1 above, `values` at zero."""
    inputs = 2
    node_name = "NotImplemented"  # NOTE: PyTorch records heaviside, and its backward refuses
    backward = not_implemented_backward("heaviside")

    @staticmethod
    def check(x, values):
        tensors_only("heaviside", ("input", "values"))(x, values)
        same_dtypes(_heaviside_dtypes)(x, values)

    @staticmethod
    def forward(ctx, x, values):
        xp = ctx.xp
        return xp.where(x == 0, values, x > 0).astype(x.dtype)


# --- float_power: composed, as in PyTorch (pow in double precision) ---------------------------------------
def _to_double(value):
    if isinstance(value, Tensor):
        return value.to(_dtype.complex128 if value.is_complex() else _dtype.float64)
    return value


@public(method=True)
def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64 (complex128 for complex operands)."""
    result = _to_double(input) ** _to_double(exponent) if isinstance(input, Tensor) \
        else _to_double(exponent).__rpow__(input)
    return result if out is None else write_out(out, result, "float_power")


def _float_power_(self, exponent):
    """In-place float_power; self must already be float64 (or complex128)."""
    wanted = _dtype.complex128 if self.is_complex() or (isinstance(exponent, Tensor) and exponent.is_complex()) \
        else _dtype.float64
    if self.dtype is not wanted:
        raise RuntimeError(f"the base given to float_power_ has dtype {_dtype.scalar_type_name(self.dtype)} but "
                           f"the operation's result requires dtype {_dtype.scalar_type_name(wanted)}")
    return self.pow_(_to_double(exponent))


bind_method("float_power_", _float_power_)
spec(OpSpec("float_power", **BINARY, dtypes=("float32", "int64"), domain=(0.5, 2)),
     OpSpec("float_power_", **BINARY, dtypes=("float32", "float64"), domain=(0.5, 2),
            call=lambda torch, x, y: x.clone().float_power_(y)),
     OpSpec("float_power_scalar_base", dtypes=("float32", "int64"), domain=(-2, 2),
            call=lambda torch, x: torch.float_power(2, x)))
