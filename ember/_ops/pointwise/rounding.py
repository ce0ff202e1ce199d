"""Rounding and cleaning of one tensor: ceil, floor, trunc/fix, round (half to even, with decimals),
frac and nan_to_num. Integer inputs keep their dtype; rounding has a zero gradient."""
from ... import _dtype
from ...autograd.function import Primitive
from .._registry import OpSpec, apply_inplace, bind, bind_method, spec, write_out
from ._unary_base import FLOATS, alias, not_implemented, pointwise, refuse

ROUNDING_DTYPES = FLOATS + ("int64", "float16")
HALVES = (-4, 4)  # NOTE: drawn values rarely sit on .5; tests/ops/test_pointwise_unary.py covers ties


def _zero(g, _):
    return g * 0


def _keep_ints(fn):
    return lambda xp, x: getattr(xp, fn)(x) if x.dtype.kind in "fV" or x.dtype.name == "bfloat16" else x.copy()


def _floats_only(kernel, x):
    if x._dtype.category != _dtype.FLOAT:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(x._dtype)}\'')


def _refusal(name):
    return refuse(complex_msg=f"{name} is not supported for complex inputs",
                  bool_msg=f'"{name}_vml_cpu" not implemented for ' + "'{T}'")


Ceil = pointwise("ceil", _keep_ints("ceil"), _zero, save=None, promote=None, doc="Smallest integer >= input.",
                 dtypes=ROUNDING_DTYPES, domain=HALVES, check=_refusal("ceil"))
Floor = pointwise("floor", _keep_ints("floor"), _zero, save=None, promote=None, doc="Largest integer <= input.",
                  dtypes=ROUNDING_DTYPES, domain=HALVES, check=_refusal("floor"))
Trunc = pointwise("trunc", _keep_ints("trunc"), _zero, save=None, promote=None, doc="input rounded toward 0.",
                  dtypes=ROUNDING_DTYPES, domain=HALVES, check=_refusal("trunc"))
alias("fix", "trunc", spec_args=dict(dtypes=("float32", "int64"), domain=HALVES))
Frac = pointwise("frac", lambda xp, x: x - xp.trunc(x), lambda g, _: g, save=None, promote=None,
                 doc="input - trunc(input).", dtypes=FLOATS + ("float16",), domain=HALVES,
                 check=lambda x: _floats_only("frac_cpu", x))


class Round(Primitive):
    """Round half to even."""
    check = staticmethod(not_implemented("round_vml_cpu", bool_=True))

    @staticmethod
    def forward(ctx, x, decimals=0):
        if x.dtype.kind in "iu":
            return x.copy()
        xp = ctx.xp
        if decimals == 0:
            return xp.rint(x)
        # NOTE: PyTorch scales, rounds and unscales in the op's compute type (float for half types)
        work = x.astype(xp.float32) if x.dtype.itemsize < 4 else x
        scale = xp.asarray(10.0 ** abs(decimals), dtype=work.dtype)
        y = xp.rint(work * scale) / scale if decimals > 0 else xp.rint(work / scale) * scale
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * 0


class RoundDecimals(Round):
    node_name = "RoundBackward1"


def _round_class(input, decimals):
    if decimals is None:
        return Round
    d = input._dtype
    if d.category < _dtype.FLOAT or d.is_complex:
        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"  # NOTE: PyTorch's two kernels refuse alike
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(d)}\'')
    return RoundDecimals


def round(input, *, decimals=None, out=None):
    """Round to `decimals` places (default 0), halves to even."""
    result = _round_class(input, decimals).apply(input, decimals or 0)
    return result if out is None else write_out(out, result, "round")


def _round_method(self, *, decimals=None):
    return _round_class(self, decimals).apply(self, decimals or 0)


def _round_inplace(self, *, decimals=None):
    return apply_inplace(_round_class(self, decimals), self, decimals or 0)


bind("round", round)
bind("round_", _round_inplace, method=True)
bind_method("round", _round_method)
spec(OpSpec("round", dtypes=ROUNDING_DTYPES, domain=HALVES, kwargs=({}, {"decimals": 2}, {"decimals": -1})),
     OpSpec("round_", dtypes=("float32",), domain=HALVES, kwargs=({}, {"decimals": 1}),
            call=lambda torch, x, **kw: x.clone().round_(**kw)))


class NanToNum(Primitive):
    """NaN, +inf and -inf replaced by finite numbers (the dtype's extremes by default)."""
    complex_grad = True

    @staticmethod
    def forward(ctx, x, nan=0.0, posinf=None, neginf=None):
        xp = ctx.xp
        if x.dtype.kind not in "fcV" and x.dtype.name != "bfloat16":
            return x.copy()
        ctx.save_for_backward(x)
        if x.dtype.kind == "c":
            parts = [NanToNum.forward(ctx, p, nan, posinf, neginf) for p in (x.real, x.imag)]
            ctx.save_for_backward(x)
            return (parts[0] + 1j * parts[1]).astype(x.dtype)
        info = _dtype.finfo(_dtype._BY_NP[x.dtype])
        hi = info.max if posinf is None else posinf
        lo = info.min if neginf is None else neginf
        y = xp.where(xp.isnan(x), nan, x)
        y = xp.where(x == xp.inf, hi, y)
        return xp.where(x == -xp.inf, lo, y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.isfinite()


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN with `nan`, +inf with `posinf` and -inf with `neginf` (dtype extremes by default)."""
    result = NanToNum.apply(input, nan, posinf, neginf)
    return result if out is None else write_out(out, result, "nan_to_num")


bind("nan_to_num", nan_to_num)
bind("nan_to_num_", lambda self, nan=0.0, posinf=None, neginf=None: apply_inplace(NanToNum, self, nan, posinf, neginf),
     method=True)
bind_method("nan_to_num", lambda self, nan=0.0, posinf=None, neginf=None: nan_to_num(self, nan, posinf, neginf))


def _nan_sample(g):
    x = g.values(g.shape(min_dims=1))
    if x.dtype.kind == "f":
        for i in range(0, x.size, 3):
            x.flat[i] = (float("nan"), float("inf"), -float("inf"))[(i // 3) % 3]
    return [x], {}


spec(OpSpec("nan_to_num", dtypes=FLOATS + ("float16", "int64"), sample=_nan_sample,
            kwargs=({}, {"nan": 1.5, "posinf": 9.0}, {"neginf": -7.0})),
     OpSpec("nan_to_num_", dtypes=("float32",), sample=_nan_sample, kwargs=({"nan": 2.0},),
            call=lambda torch, x, **kw: x.clone().nan_to_num_(**kw)))
