"""Spread: var, std, var_mean, std_mean, logsumexp. (torch.norm lives in norms.py with torch.linalg;
its specs stay here.)"""
import math
import warnings

from ...autograd.function import Primitive, float32_backward
from .._registry import OpSpec, public, spec, write_out, write_outs
from .reduce import _dims, _quiet, _restore


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _is_float_array(x):
    return x.dtype.kind in "fVc"


class Var(Primitive):
    """Variance over `dims` with `correction` (1: unbiased, Bessel's correction)."""
    batch_rule = ("dim", (0,), 2)
    complex_grad = True
    upcast = True
    node_name = "VarBackward0"
    _label = "var"
    _saves_output = False

    @staticmethod
    def forward(ctx, x, dim, correction, keepdim):
        if not _is_float_array(x) and x.dtype.kind != "c":
            raise RuntimeError("std and var only support floating point and complex dtypes")
        xp = ctx.xp
        dims = _dims(x, dim)
        n = _count(x.shape, dims)
        if n - correction <= 0:
            warnings.warn(f"{ctx._fn._label}(): degrees of freedom is <= 0. Correction should be strictly less "
                          "than the reduction factor (input numel divided by output numel).", UserWarning,
                          stacklevel=4)
        ctx.shape, ctx.dims, ctx.keepdim, ctx.dof = x.shape, dims, keepdim, max(0, n - correction)
        # NOTE: two passes in double precision (PyTorch's CPU kernel accumulates float32 in double);
        # a complex input's spread is that of |x - mean|, a real result.
        acc = x.astype(xp.complex128 if x.dtype.kind == "c" else xp.float64)
        with _quiet(xp):
            centred = acc - xp.mean(acc, axis=dims, keepdims=True)
            if x.dtype.kind == "c":
                centred = centred.real * centred.real + centred.imag * centred.imag
            else:
                centred = centred * centred
            var = xp.sum(centred, axis=dims, keepdims=keepdim) / xp.float64(ctx.dof)
        real = x.real.dtype if x.dtype.kind == "c" else x.dtype
        y = ctx._fn._finish(xp, var).astype(real)
        # NOTE: var's backward reads the input only (saving y would make writing into it fail); std's reads y too
        ctx.save_for_backward(*((x, y) if ctx._fn._saves_output else (x,)))
        return y

    @staticmethod
    def _finish(xp, var):
        return var

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return _var_grad(ctx, x, g)


def _var_grad(ctx, x, g_var):
    centred = x - x.mean(dim=ctx.dims, keepdim=True)
    return _restore(g_var, ctx.shape, ctx.dims, ctx.keepdim) * centred * (2.0 / ctx.dof if ctx.dof else math.inf)


class Std(Var):
    """Standard deviation: the square root of Var; zero spread gets a zero gradient, as in torch."""
    node_name = "StdBackward0"
    _label = "std"
    _saves_output = True

    @staticmethod
    def _finish(xp, var):
        return xp.sqrt(var)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return _var_grad(ctx, x, (g / (2 * y)).masked_fill(y == 0, 0))


def _correction(dim, unbiased, correction, name):
    """torch accepts (dim, unbiased), (unbiased) positionally, or correction= by keyword."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{name}: can't specify both correction and unbiased arguments")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _spread(cls, name):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        dim, c = _correction(dim, unbiased, correction, name)
        result = cls.apply(input, dim, c, keepdim)
        return result if out is None else write_out(out, result, name)
    fn.__name__ = name
    fn.__doc__ = f"{name} over `dim` (all dims if None); unbiased (correction=1) by default."
    return public(fn, method=True)


var = _spread(Var, "var")
std = _spread(Std, "std")


def _with_mean(cls, name):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        dim, c = _correction(dim, unbiased, correction, name)
        spread = cls.apply(input, dim, c, keepdim)
        mean = input.mean(dim=dim, keepdim=keepdim)
        if out is not None:
            return write_outs(out, (spread, mean), name)
        return spread, mean
    fn.__name__ = name
    fn.__doc__ = f"({name[:-5]}, mean) over `dim` in one call."
    return public(fn)


var_mean = _with_mean(Var, "var_mean")
std_mean = _with_mean(Std, "std_mean")

_SPREAD_KW = ({}, {"dim": 0}, {"dim": (0, -1), "keepdim": True, "correction": 0})
spec(OpSpec("var", shapes="reduce", kwargs=_SPREAD_KW),
     OpSpec("std", shapes="reduce", kwargs=_SPREAD_KW),
     OpSpec("var_mean", shapes="reduce", kwargs=({"dim": 1}, {"dim": (0, 1), "unbiased": False})),
     OpSpec("std_mean", shapes="reduce", kwargs=({}, {"dim": -1, "keepdim": True})),
     OpSpec("var", shapes="reduce", dtypes=("float16",), kwargs=({"dim": 1},), grad=False))


spec(OpSpec("norm", shapes="reduce", kwargs=({}, {"dim": 1}, {"p": 1, "dim": (0, -1), "keepdim": True})),
     OpSpec("norm", shapes="reduce", kwargs=({"p": float("inf"), "dim": 0}, {"p": 3, "dim": -1}, {"p": 0.5})),
     OpSpec("norm", shapes=[((3, 4),), ((2, 5, 3),)], kwargs=({"p": "nuc", "dim": (0, 1)}, {"p": 1.5, "dim": 0},
                                                              {"p": "fro", "dim": (0, 1), "keepdim": True}),
            dtypes=("float64",), call=lambda torch, x, **kw: torch.norm(x, **kw)))


# --- logsumexp ------------------------------------------------------------------------------------------
class LogSumExp(Primitive):
    """log(sum(exp(x))) over `dim`, shifted by the max so nothing overflows."""
    batch_rule = ("dim", (0,), 1)
    complex_grad = "holomorphic"
    upcast = True
    node_name = "LogsumexpBackward0"
    promote = "float"

    @staticmethod
    def forward(ctx, x, dim, keepdim=False):
        xp = ctx.xp
        dims = _dims(x, dim)
        acc = x
        with _quiet(xp):
            if x.size:
                m = xp.amax(acc.real, axis=dims, keepdims=True)  # NOTE: complex: shifted by a real max, as torch
                m = xp.where(xp.isfinite(m), m, 0)
            else:
                m = xp.zeros((1,) * x.ndim, dtype=acc.dtype)
            y = xp.log(xp.sum(xp.exp(acc - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            y = y.reshape([s for i, s in enumerate(x.shape) if i not in dims])
        y = y.astype(x.dtype, copy=False)
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        restore = (lambda t: _restore(t, ctx.shape, ctx.dims, ctx.keepdim))
        return restore(g) * (x - restore(y)).exp()


@public(method=True)
def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over `dim`, without overflow."""
    result = LogSumExp.apply(input, dim, keepdim)
    return result if out is None else write_out(out, result, "logsumexp")


spec(OpSpec("logsumexp", shapes="reduce", kwargs=({"dim": 0}, {"dim": (0, -1), "keepdim": True})),
     OpSpec("logsumexp", shapes="reduce", kwargs=({"dim": 1},), call=lambda torch, x, **kw: torch.logsumexp(
         x * 400, **kw)))
