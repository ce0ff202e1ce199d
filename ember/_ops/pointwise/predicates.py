"""Elementwise tests that return bool tensors: isnan, isinf, isposinf, isneginf, isfinite, isreal,
signbit. Integer and bool inputs are never NaN or infinite."""
from ...autograd.function import Primitive
from .._registry import OpSpec, register
from ._unary_base import refuse

DTYPES = ("float32", "float64", "int64", "bool")


def _is_float(x):
    return x.dtype.kind in "fcV" or x.dtype.name == "bfloat16"


def _sample_with_specials(g):
    x = g.values(g.shape())
    if _is_float(x) and x.size:
        specials = (float("nan"), float("inf"), -float("inf"), -0.0)
        for i in range(0, x.size, 2):
            x.flat[i] = specials[(i // 2) % 4]
    return [x], {}


def predicate(name, fn, *, check=None, dtypes=DTYPES):
    """Register a non-differentiable bool-valued op as torch.<name> and Tensor.<name>."""
    ns = {"__doc__": f"torch.{name}, elementwise.", "differentiable": False,
          "forward": staticmethod(lambda ctx, x: fn(ctx.xp, x))}
    if check is not None:
        ns["check"] = staticmethod(check)
    cls = type(name.capitalize(), (Primitive,), ns)
    return register(OpSpec(name, dtypes=dtypes, grad=False, sample=_sample_with_specials),
                    torch=name, method=name)(cls)


def _falses(xp, x):
    return xp.zeros(x.shape, dtype=bool)


def _isinf_sign(sign):
    def fn(xp, x):
        return x == sign * xp.inf if _is_float(x) else _falses(xp, x)
    return fn


def _signbit(xp, x):
    if _is_float(x):
        return xp.signbit(x)
    return x < 0 if x.dtype.kind == "i" else _falses(xp, x)


Isnan = predicate("isnan", lambda xp, x: xp.isnan(x) if _is_float(x) else _falses(xp, x))
Isinf = predicate("isinf", lambda xp, x: xp.isinf(x) if _is_float(x) else _falses(xp, x))
Isfinite = predicate("isfinite", lambda xp, x: xp.isfinite(x) if _is_float(x) else ~_falses(xp, x))
Isposinf = predicate("isposinf", _isinf_sign(1), check=refuse(
    complex_msg="isposinf does not support complex inputs.", complex_exc=RuntimeError))
Isneginf = predicate("isneginf", _isinf_sign(-1), check=refuse(
    complex_msg="isneginf does not support complex inputs.", complex_exc=RuntimeError))
Isreal = predicate("isreal", lambda xp, x: x.imag == 0 if x.dtype.kind == "c" else ~_falses(xp, x))
Signbit = predicate("signbit", _signbit, check=refuse(complex_msg="signbit is not implemented for complex tensors."))
