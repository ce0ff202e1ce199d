"""Exponentials, logarithms and powers of one tensor: exp, exp2, expm1, log, log2, log10, log1p,
sqrt, rsqrt, reciprocal, square. Integer and bool inputs compute in the default float dtype."""
import math

from .._registry import OpSpec, bind, spec
from ._unary_base import FLOATS, pointwise

LN2 = math.log(2.0)
LN10 = math.log(10.0)
WITH_INT = FLOATS + ("int64",)
POSITIVE = (0.1, 5)

Exp = pointwise("exp", lambda xp, x: xp.exp(x), lambda g, y: g * y, save="output", doc="e ** input.",
                dtypes=FLOATS + ("float16", "bfloat16", "int64"), complex_ok=True, complex_domain=(-2, 2))
Exp2 = pointwise("exp2", lambda xp, x: xp.exp2(x), lambda g, y: g * y * LN2, save="output", doc="2 ** input.",
                 dtypes=WITH_INT, complex_ok=True, complex_domain=(-2, 2))
Expm1 = pointwise("expm1", lambda xp, x: xp.expm1(x), lambda g, y: g * (y + 1), save="output",
                  doc="exp(input) - 1, accurate near 0.", complex_ok=True, complex_domain=(-2, 2))
Log = pointwise("log", lambda xp, x: xp.log(x), lambda g, x: g / x, doc="Natural logarithm.",
                domain=POSITIVE, dtypes=WITH_INT + ("float16",), complex_ok=True)
Log2 = pointwise("log2", lambda xp, x: xp.log2(x), lambda g, x: g / (x * LN2), doc="Base-2 logarithm.",
                 domain=POSITIVE, dtypes=WITH_INT, complex_ok=True)
Log10 = pointwise("log10", lambda xp, x: xp.log10(x), lambda g, x: g / (x * LN10), doc="Base-10 logarithm.",
                  domain=POSITIVE, dtypes=WITH_INT, complex_ok=True)
Log1p = pointwise("log1p", lambda xp, x: xp.log1p(x), lambda g, x: g / (x + 1), doc="log(1 + input), accurate near 0.",
                  node="Log1PBackward0", domain=(-0.5, 3), complex_ok=True, complex_domain=(0.1, 3))
Sqrt = pointwise("sqrt", lambda xp, x: xp.sqrt(x), lambda g, y: g / (2 * y), save="output",
                 doc="Square root; its gradient at 0 is inf.", domain=POSITIVE, dtypes=WITH_INT, complex_ok=True)
Rsqrt = pointwise("rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda g, y: -0.5 * g * y * y * y, save="output",
                  doc="1 / sqrt(input).", domain=(0.5, 3), dtypes=WITH_INT, complex_ok=True)
Reciprocal = pointwise("reciprocal", lambda xp, x: 1 / x, lambda g, y: -g * y * y, save="output", doc="1 / input.",
                       domain=(0.5, 3), dtypes=WITH_INT, complex_ok=True)


def _square_(self):
    """In-place input ** 2."""
    return self.pow_(2)


bind("square_", _square_, method=True)
spec(OpSpec("square", dtypes=WITH_INT + ("bool",)),
     OpSpec("square_", dtypes=("float32",), call=lambda torch, x: x.clone().square_()))

# NOTE: holomorphic functions: their real backward formulas serve complex inputs once conjugated
# (see Function.complex_grad); tests/autograd/test_complex_grad.py checks each against PyTorch.
for _op in (Exp, Exp2, Expm1, Log, Log2, Log10, Log1p, Sqrt, Rsqrt, Reciprocal):
    _op.complex_grad = "holomorphic"
