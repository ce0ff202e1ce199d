"""Scans along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp."""
from ... import _dtype
from ...autograd.function import Primitive, float32_backward
from ..._tensor import norm_dim
from .._registry import OpSpec, apply_inplace, bind_method, public, spec, write_out, write_outs
from .reduce import _as_dtype, _quiet, _return_type

CummaxResult = _return_type("cummax")
CumminResult = _return_type("cummin")
# NOTE: backward's reversed running sums are computed differently from PyTorch's; over 10^5 float32
# values they differ by ~1e-3 of the largest partial sum.
_SCAN_TOL = dict(rtol=1e-3, atol=1e-4)
SCAN = dict(shapes="reduce", kwargs=({"dim": 0}, {"dim": -1}), **_SCAN_TOL)
_NEG_INF = float("-inf")


def _out_dtype(x, dtype):
    """A sum-like scan's result dtype: bool and integers give int64 (as torch) unless `dtype=` was
    given (the public function has cast the input to it already); floats keep theirs."""
    if dtype is None and x.dtype.kind in "biu":
        return _dtype.int64.np
    return x.dtype


def _acc(ctx, x):
    """The dtype PyTorch's CPU scan kernels accumulate in: float32 and complex64 in double precision
    (so 10**6 running sums of 0.1 end at 100000.0); float16/bfloat16 arrive upcast to float32 and
    accumulate there (ctx.low is set), as PyTorch's do."""
    if x.dtype.kind in "fc" and x.dtype.itemsize == (8 if x.dtype.kind == "c" else 4) and ctx.low is None:
        return _dtype.float64.np if x.dtype.kind == "f" else _dtype.complex128.np
    return None


def _flip(xp, a, d, reverse):
    return xp.flip(a, d) if reverse else a


class Cumsum(Primitive):
    """Running sum along `dim` (from the end when `reverse`, which backward needs)."""
    batch_rule = ("dim", (0,), None)
    complex_grad = True
    upcast = True
    node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim, reverse=False, dtype=None):
        xp = ctx.xp
        d = norm_dim(dim, x.ndim)
        out_dt = _out_dtype(x, dtype)
        ctx.dim, ctx.reverse, ctx.in_dtype = d, reverse, x.dtype
        if x.ndim == 0:
            return x.astype(out_dt)
        y = xp.cumsum(_flip(xp, x, d, reverse), axis=d, dtype=_acc(ctx, x) or out_dt)
        return xp.ascontiguousarray(_flip(xp, y, d, reverse)).astype(out_dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        gx = Cumsum.apply(g, ctx.dim, not ctx.reverse, None)
        return gx if gx._dtype.np == ctx.in_dtype else gx.to(_dtype._BY_NP[ctx.in_dtype])


def _rev_cumsum(g, d):
    return Cumsum.apply(g, d, True, None)


@public(method=True)
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along `dim`; bool and integer inputs accumulate in int64."""
    result = Cumsum.apply(_as_dtype(input, dtype), dim, False, dtype)
    return result if out is None else write_out(out, result, "cumsum")


def _cumsum_(self, dim, *, dtype=None):
    """In-place cumsum."""
    return apply_inplace(Cumsum, self, dim, False, dtype)


class Cumprod(Primitive):
    """Running product along `dim`; its gradient is exact with zeros in the input."""
    batch_rule = ("dim", (0,), None)
    complex_grad = "holomorphic"
    upcast = True
    node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim, dtype=None):
        xp = ctx.xp
        d = norm_dim(dim, x.ndim)
        out_dt = _out_dtype(x, dtype)
        ctx.dim, ctx.in_dtype = d, x.dtype
        if x.ndim == 0:
            y = x.astype(out_dt)
        else:
            y = xp.cumprod(x, axis=d, dtype=_acc(ctx, x) or out_dt).astype(out_dt, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if x.dim() == 0:
            return g.to(x.dtype)
        d = ctx.dim
        x = x.to(g.dtype)
        if not bool((x == 0).any()):
            return (_rev_cumsum(g * y, d) / x).to(_dtype._BY_NP[ctx.in_dtype])
        return _cumprod_grad_with_zeros(x, y, g, d).to(_dtype._BY_NP[ctx.in_dtype])


def _cumprod_grad_with_zeros(x, y, g, d):
    """d cumprod: before the first zero, sum_j g_j y_j / x_i; at the first zero, the running
    product with that zero taken out; after it, nothing (every product holds the zero)."""
    from ..indexing.index import where
    zeros_so_far = Cumsum.apply(x == 0, d, False, None)
    before = zeros_so_far == 0
    first = (zeros_so_far * (x == 0)) == 1
    # NOTE: dividing by x is exact before the first zero; masked positions divide by 1, so no nan leaks
    # into double backward.
    before_grad = _rev_cumsum(g * y, d) / x.masked_fill(~before, 1)
    without_zero = Cumprod.apply(x.masked_fill(first, 1), d, None)
    zero_grad = _rev_cumsum(g * without_zero, d)
    return where(before, before_grad, where(first, zero_grad, 0.0))


@public(method=True)
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along `dim`; bool and integer inputs accumulate in int64."""
    result = Cumprod.apply(_as_dtype(input, dtype), dim, dtype)
    return result if out is None else write_out(out, result, "cumprod")


def _cumprod_(self, dim, *, dtype=None):
    """In-place cumprod."""
    return apply_inplace(Cumprod, self, dim, dtype)


bind_method("cumsum_", _cumsum_)
bind_method("cumprod_", _cumprod_)

spec(OpSpec("cumsum", **SCAN, dtypes=("float32", "float64", "int32", "bool")),
     OpSpec("cumsum", shapes="reduce", kwargs=({"dim": 1},), **_SCAN_TOL,
            call=lambda torch, x, **kw: torch.cumsum(x, dtype=torch.float64, **kw)),
     OpSpec("cumsum_", **SCAN, dtypes=("float32", "int64"), call=lambda torch, x, **kw: x.clone().cumsum_(**kw)),
     OpSpec("cumprod", **SCAN, dtypes=("float32", "float64", "int32"), domain=(0.5, 1.5)),
     OpSpec("cumprod", **SCAN, domain=(-2, 2), gradcheck=False,
            call=lambda torch, x, **kw: torch.cumprod(x * (x.abs() > 0.7), **kw)),
     OpSpec("cumprod_", **SCAN, domain=(0.5, 1.5), call=lambda torch, x, **kw: x.clone().cumprod_(**kw)))


# --- cummax / cummin ----------------------------------------------------------------------------------
class Cummax(Primitive):
    """(values, indices) of the running maximum; a tie or a NaN moves the index forward."""
    batch_rule = ("dim", (0,), None)
    node_name = "CummaxBackward0"
    _ufunc = "maximum"

    @staticmethod
    def forward(ctx, x, dim):
        xp = ctx.xp
        d = norm_dim(dim, x.ndim)
        ctx.shape, ctx.dim = x.shape, d
        if x.ndim == 0:
            idx = xp.zeros((), dtype=xp.int64)
            ctx.save_for_backward(idx)
            return x.copy(), idx
        accumulate = ctx.device.backend.accumulate
        values = accumulate(ctx._fn._ufunc, x, d)
        # NOTE: torch moves the index at every element equal to the running value (so ties take the
        # last index) and at every NaN.
        moves = (x == values) | (x != x) if x.dtype.kind in "fcV" else x == values
        steps = xp.arange(x.shape[d], dtype=xp.int64).reshape((-1,) + (1,) * (x.ndim - d - 1))
        idx = accumulate("maximum", xp.where(moves, steps, 0), d)
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        if not ctx.shape:
            return g
        if g.dtype in (_dtype.float16, _dtype.bfloat16):  # NOTE: PyTorch accumulates these in float32
            wide = g.new_zeros(ctx.shape, dtype=_dtype.float32).scatter_add(ctx.dim, idx, g.float())
            return wide.to(g.dtype)
        return g.new_zeros(ctx.shape).scatter_add(ctx.dim, idx, g)


class Cummin(Cummax):
    """(values, indices) of the running minimum."""
    node_name = "CumminBackward0"
    _ufunc = "minimum"


def _cum_extreme(cls, result_type, name):
    def fn(input, dim, *, out=None):
        values, indices = cls.apply(input, dim)
        if out is not None:
            return write_outs(out, result_type(values, indices), name)
        return result_type(values, indices)
    fn.__name__ = name
    fn.__doc__ = f"(values, indices) of the running {name[3:]}imum along `dim`."
    return public(fn, method=True)


cummax = _cum_extreme(Cummax, CummaxResult, "cummax")
cummin = _cum_extreme(Cummin, CumminResult, "cummin")
spec(OpSpec("cummax", **SCAN, dtypes=("float32", "float64", "int32")),
     OpSpec("cummin", **SCAN, dtypes=("float32", "float64", "int32")))


# --- logcumsumexp -----------------------------------------------------------------------------------------
def _complex_logcumsumexp(xp, z, axis):
    """NOTE: NumPy's logaddexp has no complex loop: PyTorch's step (the larger real part, plus
    log1p(exp(min - max))) one position at a time, so the imaginary parts keep PyTorch's branch."""
    moved = xp.moveaxis(z, axis, 0)
    out = xp.empty_like(moved)
    total = out[0] = moved[0]
    for k in range(1, moved.shape[0]):
        new = moved[k]
        swap = new.real < total.real
        hi, lo = xp.where(swap, total, new), xp.where(swap, new, total)
        with _quiet(xp):
            step = hi + xp.log1p(xp.exp(lo - hi))
        total = out[k] = xp.where(xp.isneginf(lo.real) & (lo.real == hi.real), lo, step)
    return xp.moveaxis(out, 0, axis)


class LogCumSumExp(Primitive):
    """log(cumsum(exp(x))) along `dim`, computed without overflow (from the end when `reverse`)."""
    batch_rule = ("dim", (0,), None)
    upcast = True
    node_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, dim, reverse=False):
        xp = ctx.xp
        if x.dtype.kind not in "fcV":
            raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                      f"'{_dtype.scalar_type_name(_dtype._BY_NP[x.dtype])}'")
        d = norm_dim(dim, x.ndim)
        ctx.dim, ctx.reverse = d, reverse
        if x.ndim == 0:
            y = x.copy()
        else:
            acc = x.astype(_acc(ctx, x) or x.dtype, copy=False)
            if x.dtype.kind == "c":
                y = _complex_logcumsumexp(xp, _flip(xp, acc, d, reverse), d)
            else:
                y = ctx.device.backend.accumulate("logaddexp", _flip(xp, acc, d, reverse), d)
            y = xp.ascontiguousarray(_flip(xp, y, d, reverse)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d, back = ctx.dim, not ctx.reverse
        # NOTE: grad_i = sum_{j>=i} g_j exp(x_i - y_j); summed in log space, positive and negative
        # cotangents apart, so neither exp(x) nor exp(-y) overflows.
        log_g = g.abs().masked_fill(g == 0, 1).log()
        pos = LogCumSumExp.apply(log_g.masked_fill(g <= 0, _NEG_INF) - y, d, back)
        neg = LogCumSumExp.apply(log_g.masked_fill(g >= 0, _NEG_INF) - y, d, back)
        return (pos + x).exp() - (neg + x).exp()


@public(method=True)
def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along `dim`, without overflow."""
    result = LogCumSumExp.apply(input, dim, False)
    return result if out is None else write_out(out, result, "logcumsumexp")


spec(OpSpec("logcumsumexp", **SCAN, dtypes=("float32", "float64")),
     # NOTE: no large inputs here: over 10^4 steps the backward's positive and negative parts cancel and
     # ember's error is up to 3x PyTorch's (a strict xfail in tests/ops/test_low_precision.py says so)
     OpSpec("logcumsumexp", shapes="reduce", kwargs=({"dim": 1},), **_SCAN_TOL, large=False,
            call=lambda torch, x, **kw: torch.logcumsumexp(
         x * 300, **kw)))
