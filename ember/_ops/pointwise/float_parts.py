"""The parts of a float and its neighbours: angle, frexp, nextafter; and the torch.<op>_ functions PyTorch
binds for in-place ops defined elsewhere (conj_physical_, gcd_, lcm_, ldexp_, xlogy_)."""
import math

from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from ._binary_checks import BINARY, float_only, tensors_only
from .._registry import FUNCTIONS, OpSpec, apply_inplace, bind, bind_method, public, register, spec, write_outs
from ..reduction.reduce import _return_type


# --- angle -----------------------------------------------------------------------------------------------------
@register(OpSpec("angle", dtypes=("float32", "float64", "int64")),
          OpSpec("angle", arity=2, shapes="binary", dtypes=("float32", "float64"),
                 call=lambda torch, a, b: torch.angle(torch.complex(a, b))),
          torch="angle", method="angle")
class Angle(Primitive):
    """The argument of a complex number; 0 for real x >= 0 (and -0.0), pi for x < 0, NaN for NaN."""
    promote = "float"
    complex_grad = True

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        if x.dtype.kind == "c":
            ctx.save_for_backward(x)
            return xp.angle(x)
        # NOTE: not xp.angle: atan2(0, -0.0) is pi, and PyTorch's real angle of -0.0 is 0
        out = xp.where(x < 0, x.dtype.type(math.pi), x.dtype.type(0))
        return xp.where(xp.isnan(x), x, out)

    @staticmethod
    def backward(ctx, g):
        if not ctx.saved_tensors:  # NOTE: a real input's angle is piecewise constant: PyTorch gives zeros
            return g.new_zeros(ctx._in_meta[0][0])
        (z,) = ctx.saved_tensors
        # NOTE: d atan2(y, x) = (x dy - y dx) / |z|^2, which in PyTorch's convention is g * i z / |z|^2
        r2 = (z * z.conj()).real
        safe = r2.masked_fill(r2 == 0, 1.0)
        return (g / safe * 1j * z).masked_fill(z == 0, 0)

    @staticmethod
    def jvp(ctx, t):
        z = ctx.inputs[0]
        if not z.is_complex():
            return t.new_zeros(t.shape).real if t.is_complex() else t.new_zeros(t.shape)
        # NOTE: d atan2(y, x) = (x dy - y dx) / |z|^2 = Im(conj(z) dz) / |z|^2
        r2 = (z * z.conj()).real
        return ((z.conj() * t).imag / r2.masked_fill(r2 == 0, 1.0)).masked_fill(r2 == 0, 0.0)


# --- frexp -----------------------------------------------------------------------------------------------------
FrexpResult = _return_type("frexp", ("mantissa", "exponent"))


class Frexp(Primitive):
    """(mantissa, exponent) with input = mantissa * 2 ** exponent and 0.5 <= |mantissa| < 1."""
    batch_rule = None  # NOTE: two outputs, one of them an integer: vmap runs it per example

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        wide = x.astype(xp.float32) if x.dtype.itemsize < 4 else x  # NOTE: bfloat16 has no frexp ufunc
        mantissa, exponent = xp.frexp(wide)
        exponent = exponent.astype(xp.int32)
        ctx.save_for_backward(exponent)
        ctx.mark_non_differentiable(exponent)
        return mantissa.astype(x.dtype, copy=False), exponent

    @staticmethod
    def backward(ctx, g, _):
        (exponent,) = ctx.saved_tensors
        return g / (2.0 ** exponent.to(g.dtype))


@public(method=True)
def frexp(input, *, out=None):
    """Splits floats into mantissa (input's dtype) and int32 exponent, as a named tuple."""
    if not isinstance(input, Tensor):
        raise TypeError(f"frexp(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input._dtype.category != _dtype.FLOAT:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return write_outs(out, FrexpResult(*Frexp.apply(input)), "frexp")


# --- nextafter -------------------------------------------------------------------------------------------------
@register(OpSpec("nextafter", **BINARY, dtypes=("float32", "float64", "float16", "bfloat16")),
          OpSpec("nextafter_", **BINARY, dtypes=("float32",),
                 call=lambda torch, x, y: x.clone().nextafter_(y)),
          torch="nextafter", method="nextafter", inplace="nextafter_")
class Nextafter(Primitive):
    """The next float after input in the direction of other."""
    inputs = 2
    promote = "promote"
    check = staticmethod(tensors_only("nextafter"))

    @staticmethod
    def forward(ctx, x, y):
        float_only("nextafter_cpu", x, y)
        xp = ctx.xp
        if x.dtype.itemsize == 2:
            return _nextafter_bits(xp, x, y)
        return xp.nextafter(x, y)

    @staticmethod
    def backward(ctx, g):
        # NOTE: PyTorch's gradient: 1 for input, 0 for other
        return g, g.new_zeros(g.shape)


def _nextafter_bits(xp, x, y):
    """nextafter for the 2-byte floats (bfloat16 has no ufunc): one step of the bit pattern."""
    x, y = xp.broadcast_arrays(x, y)
    bits = x.view(xp.uint16).astype(xp.int32)  # NOTE: sign bit 0x8000, then the magnitude's bits
    away = (y > x) == (x > 0)                     # NOTE: a step away from zero adds one to the magnitude
    stepped = xp.where(away, bits + 1, bits - 1)
    # NOTE: from +-0 the next value is the smallest subnormal, with other's sign
    from_zero = xp.where(y > 0, 1, 0x8001)
    out = xp.where(x == 0, from_zero, stepped).astype(xp.uint16).view(x.dtype)
    out = xp.where(x == y, y, out)
    return xp.where(xp.isnan(x) | xp.isnan(y), x + y, out)


# --- torch.<op>_ for in-place ops bound as Tensor methods elsewhere ------------------------------------------------
def _conj_physical_(self):
    """In-place complex conjugate (nothing to do for real tensors)."""
    if not self.is_complex():
        return self
    from .complex import Conj
    return apply_inplace(Conj, self)


bind_method("conj_physical_", _conj_physical_)
for _name in ("conj_physical", "gcd", "lcm", "ldexp", "xlogy"):
    # NOTE: PyTorch binds these in-place forms as functions too: torch.xlogy_(x, y)
    bind(_name + "_", Tensor.__dict__[_name + "_"])
del _name

spec(OpSpec("frexp", dtypes=("float32", "float64", "float16", "bfloat16"),
            call=lambda torch, x: tuple(torch.frexp(x))),
     OpSpec("frexp", dtypes=("float64",), call=lambda torch, x: tuple(x.frexp())),
     OpSpec("conj_physical_", arity=2, shapes="binary", grad=False,
            call=lambda torch, a, b: torch.view_as_real(torch.conj_physical_(torch.complex(a, b)))),
     OpSpec("xlogy_", arity=2, shapes="binary", domain=(0.1, 3), grad=False,
            call=lambda torch, x, y: torch.xlogy_(x.clone(), y)),
     OpSpec("ldexp_", arity=2, shapes="binary", grad=False, call=lambda torch, x, y: torch.ldexp_(x.clone(), y)),
     OpSpec("gcd_", arity=2, shapes="binary", dtypes=("int64",), grad=False, domain=(-12, 12),
            call=lambda torch, x, y: torch.gcd_(x.clone(), y)),
     OpSpec("lcm_", arity=2, shapes="binary", dtypes=("int64",), grad=False, domain=(-12, 12),
            call=lambda torch, x, y: torch.lcm_(x.clone(), y)))
