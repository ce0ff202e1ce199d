"""sigmoid, logit, erf, erfc, erfinv, lgamma, digamma and polygamma. The error and gamma functions
come from the backend (`backend.special`): NumPy has none, so ember carries its own."""
import math

from ... import _backends
from ...autograd.function import Primitive
from .._registry import OpSpec, apply_inplace, bind, bind_method, register
from ._unary_base import FLOATS, not_implemented, pointwise, unary

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
WITH_INT = FLOATS + ("int64",)


@unary("sigmoid", dtypes=FLOATS + ("float16", "bfloat16", "int64"), complex_ok=True)
class Sigmoid(Primitive):
    """1 / (1 + exp(-input)), computed without overflow."""
    upcast = True
    complex_grad = "holomorphic"  # NOTE: see Function.complex_grad
    promote = "float"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        if x.dtype.kind == "c":
            y = 1 / (1 + xp.exp(-x))
        else:
            # NOTE: exp of -|x| never overflows; both branches are exact where they are used.
            e = xp.exp(-xp.abs(x))
            y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


@unary("logit", domain=(0.05, 0.95), dtypes=WITH_INT, kwargs=({}, {"eps": 0.2}), nondiff=(0.2, 0.8))
class Logit(Primitive):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    upcast = True
    promote = "float"
    check = staticmethod(not_implemented("logit_cpu"))

    @staticmethod
    def forward(ctx, x, eps=None):
        xp = ctx.xp
        ctx.eps = eps
        ctx.save_for_backward(x)
        p = x if eps is None else xp.clip(x, eps, 1 - eps).astype(x.dtype, copy=False)
        return xp.log(p / (1 - p))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = g / (x * (1 - x))
        if ctx.eps is None:
            return d.masked_fill((x < 0) | (x > 1), math.nan)
        # NOTE: clamped values get no gradient; the bounds themselves still pass it, as in PyTorch.
        return d.masked_fill((x < ctx.eps) | (x > 1 - ctx.eps), 0)


def _special(name):
    return lambda xp, x: getattr(_backends.of_array(x).special, name)(x)


_ERF_DTYPES = FLOATS + ("float16", "int64")
Erf = pointwise("erf", _special("erf"), lambda g, x: g * (-(x * x)).exp() * TWO_OVER_SQRT_PI,
                doc="The error function.", dtypes=_ERF_DTYPES, check=not_implemented("erf_vml_cpu"))
Erfc = pointwise("erfc", _special("erfc"), lambda g, x: g * (-(x * x)).exp() * -TWO_OVER_SQRT_PI,
                 doc="1 - erf(input), accurate where it is tiny.", dtypes=WITH_INT, domain=(-3, 8),
                 check=not_implemented("erfc_vml_cpu"))
Erfinv = pointwise("erfinv", _special("erfinv"), lambda g, y: g * (y * y).exp() * (math.sqrt(math.pi) / 2),
                   save="output", doc="The inverse error function.", dtypes=WITH_INT, domain=(-0.95, 0.95),
                   check=not_implemented("erfinv_vml_cpu"))
Lgamma = pointwise("lgamma", _special("lgamma"), lambda g, x: g * x.digamma(), doc="log |Gamma(input)|.",
                   dtypes=WITH_INT, domain=(-4.5, 6), check=not_implemented("lgamma_vml_cpu"))
# NOTE: ember's digamma/polygamma series agree with PyTorch's to ~5e-10 in float64.
SERIES64 = {"rtol": {"float64": 1e-8}, "atol": {"float64": 1e-10}}
Digamma = pointwise("digamma", _special("digamma"), lambda g, x: g * x.polygamma(1),
                    doc="d/dx lgamma(input); -inf at 0.", dtypes=WITH_INT, domain=(0.1, 6), **SERIES64,
                    check=not_implemented("digamma"))


@register(OpSpec("polygamma", dtypes=FLOATS, domain=(0.2, 5), call=lambda torch, x, n: torch.polygamma(n, x),
                 kwargs=({"n": 1}, {"n": 2}), **SERIES64),
          OpSpec("polygamma", dtypes=FLOATS, domain=(-1.95, -1.05), call=lambda torch, x, n: torch.polygamma(n, x),
                 kwargs=({"n": 1}, {"n": 3}), grad=False, rtol={"float32": 1e-2, "float64": 1e-8},
                 atol={"float32": 1e-4, "float64": 1e-10}))
# NOTE: the negative-argument spec stays 0.05 from the poles: within 1e-5 of -1 PyTorch's float32 trigamma
# (computed in float32) is off by >1% from the exact value, which ember (computing in float64) returns.
class Polygamma(Primitive):
    """The n-th derivative of digamma."""
    upcast = True
    promote = "float"
    check = staticmethod(not_implemented("polygamma"))

    @staticmethod
    def forward(ctx, x, n):
        ctx.n = n
        ctx.save_for_backward(x)
        if n == 0:
            return _backends.of_array(x).special.digamma(x)
        return _backends.of_array(x).special.polygamma(n, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Polygamma.apply(x, ctx.n + 1)


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma at input (n >= 0)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    result = Polygamma.apply(input, n)
    if out is None:
        return result
    from .._registry import write_out
    return write_out(out, result, "polygamma")


bind("polygamma", polygamma)
bind_method("polygamma", lambda self, n: polygamma(n, self))
bind_method("polygamma_", lambda self, n: apply_inplace(Polygamma, self, n))
