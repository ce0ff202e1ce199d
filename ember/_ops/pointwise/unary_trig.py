"""Trigonometric and hyperbolic functions of one tensor, their inverses (and the NumPy-style
arc* aliases), sinc, deg2rad and rad2deg. Integer and bool inputs compute in the default float dtype."""
import math

from ._unary_base import FLOATS, alias, pointwise, refuse

WITH_INT = FLOATS + ("int64",)
UNIT = (-0.95, 0.95)  # NOTE: asin, acos and atanh have infinite slopes at +-1

Sin = pointwise("sin", lambda xp, x: xp.sin(x), lambda g, x: g * x.cos(), doc="Sine.", dtypes=WITH_INT,
                complex_ok=True)
Cos = pointwise("cos", lambda xp, x: xp.cos(x), lambda g, x: -g * x.sin(), doc="Cosine.", dtypes=WITH_INT,
                complex_ok=True)
Tan = pointwise("tan", lambda xp, x: xp.tan(x), lambda g, y: g * (1 + y * y), save="output", doc="Tangent.",
                domain=(-1.3, 1.3), dtypes=WITH_INT, complex_ok=True, complex_domain=(-1, 1))
Asin = pointwise("asin", lambda xp, x: xp.arcsin(x), lambda g, x: g * (1 - x * x).rsqrt(), doc="Inverse sine.",
                 domain=UNIT, complex_ok=True)
Acos = pointwise("acos", lambda xp, x: xp.arccos(x), lambda g, x: -g * (1 - x * x).rsqrt(), doc="Inverse cosine.",
                 domain=UNIT, complex_ok=True)
Atan = pointwise("atan", lambda xp, x: xp.arctan(x), lambda g, x: g / (1 + x * x), doc="Inverse tangent.",
                 dtypes=WITH_INT, complex_ok=True, complex_domain=(-0.9, 0.9))
Sinh = pointwise("sinh", lambda xp, x: xp.sinh(x), lambda g, x: g * x.cosh(), doc="Hyperbolic sine.",
                 dtypes=WITH_INT, complex_ok=True)
Cosh = pointwise("cosh", lambda xp, x: xp.cosh(x), lambda g, x: g * x.sinh(), doc="Hyperbolic cosine.",
                 dtypes=WITH_INT, complex_ok=True)
Tanh = pointwise("tanh", lambda xp, x: xp.tanh(x), lambda g, y: g * (1 - y * y), save="output",
                 doc="Hyperbolic tangent.", dtypes=FLOATS + ("float16", "bfloat16"), complex_ok=True,
                 complex_domain=(-1, 1))
Asinh = pointwise("asinh", lambda xp, x: xp.arcsinh(x), lambda g, x: g * (x * x + 1).rsqrt(),
                  doc="Inverse hyperbolic sine.", dtypes=WITH_INT, complex_ok=True)
Acosh = pointwise("acosh", lambda xp, x: xp.arccosh(x), lambda g, x: g * (x * x - 1).rsqrt(),
                  doc="Inverse hyperbolic cosine.", domain=(1.1, 4), complex_ok=True)
Atanh = pointwise("atanh", lambda xp, x: xp.arctanh(x), lambda g, x: g / (1 - x * x),
                  doc="Inverse hyperbolic tangent.", domain=UNIT, complex_ok=True)

for _alias, _name in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"), ("arcsinh", "asinh"),
                      ("arccosh", "acosh"), ("arctanh", "atanh")):
    alias(_alias, _name, spec_args=dict(domain=(1.1, 4) if _name == "acosh" else UNIT))


def _sinc(xp, x):
    px = x * math.pi
    safe = xp.where(x == 0, 1, px)
    return xp.where(x == 0, 1, xp.sin(safe) / safe).astype(x.dtype, copy=False)


def _sinc_grad(g, x):
    px = x * math.pi
    d = (px * px.cos() - px.sin()) / (px * x)
    return g * d.masked_fill(x == 0, 0)  # NOTE: sinc is flat at 0, where the formula is 0/0


# NOTE: sinc's gradient (pi x cos(pi x) - sin(pi x)) / (pi x^2) cancels near 0: in float32, for |x| < 1e-3
# PyTorch's value and ember's (same formula) are both rounding noise of up to ~1e-3 (true value -pi^2 x / 3),
# and their noise differs now and then: float32 rtol 2e-4, atol 2e-3.
Sinc = pointwise("sinc", _sinc, _sinc_grad, doc="sin(pi x) / (pi x), 1 at 0.", dtypes=WITH_INT, complex_ok=True,
                 rtol=2e-4, atol=2e-3)

_NO_COMPLEX = "{} is not supported for complex tensors."
Deg2rad = pointwise("deg2rad", lambda xp, x: x * (math.pi / 180), lambda g, _: g * (math.pi / 180), save=None,
                    doc="Degrees to radians.", node="Deg2RadBackward0", dtypes=WITH_INT, domain=(-400, 400),
                    check=refuse(complex_msg=_NO_COMPLEX.format("deg2rad"), complex_exc=RuntimeError))
Rad2deg = pointwise("rad2deg", lambda xp, x: x * (180 / math.pi), lambda g, _: g * (180 / math.pi), save=None,
                    doc="Radians to degrees.", node="Rad2DegBackward0", dtypes=WITH_INT,
                    check=refuse(complex_msg=_NO_COMPLEX.format("rad2deg"), complex_exc=RuntimeError))

# NOTE: holomorphic functions: their real backward formulas serve complex inputs once conjugated
# (see Function.complex_grad); tests/autograd/test_complex_grad.py checks each against PyTorch.
for _op in (Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Tanh, Asinh, Acosh, Atanh, Sinc):
    _op.complex_grad = "holomorphic"
