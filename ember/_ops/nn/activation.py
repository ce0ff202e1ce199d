"""Primitives behind torch.nn.functional's activations (elu, leaky_relu, hardtanh, softplus, gelu,
softmax ...). The public names live in ember/nn/functional.py.

NOTE: each one is a primitive rather than a composition for one of three reasons: PyTorch's
gradient at the kinks differs from what composing clamp/where gives (hardtanh, hardswish, shrinks,
threshold), numerical stability (softplus, logsigmoid, log_softmax), or one node instead of several
on the hot path of every network (gelu, silu, softmax).
"""
import math

from ... import _dtype
from ...autograd.function import Primitive, float32_backward
from .._registry import OpSpec, spec
from ..pointwise.unary_special import Erf, Sigmoid
from ..pointwise.unary_trig import Tanh

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_K = 0.044715
ONE_SIXTH_F32 = 0.1666666716337204  # float32(1 / 6)


def float_only(kernel):
    """A `check` raising PyTorch's dispatch error for non-float inputs ('"elu_cpu" not implemented for 'Long'')."""
    def check(x, *rest):
        d = getattr(x, "_dtype", None)
        if d is not None and not d.is_floating_point:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(d)}\'')
    return staticmethod(check)


def _cast(xp, a, like):
    return a.astype(like.dtype, copy=False)


def _select(mask, if_true, if_false, dtype=None):
    """where(mask, if_true, if_false) by arithmetic (if_false a Tensor, or a number with dtype given)."""
    m = mask.to(dtype or if_false.dtype)
    return m * if_true + (1 - m) * if_false


# --- piecewise-linear family: the gradient at each kink as PyTorch defines it -------------------------
class LeakyRelu(Primitive):
    """x if x > 0 else slope * x; the gradient at 0 is the slope."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("leaky_relu_cpu")

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return _cast(ctx.xp, ctx.xp.where(x > 0, x, x * negative_slope), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * _select(x > 0, 1.0, ctx.slope, g.dtype)


class Hardtanh(Primitive):
    """clip(x, min_val, max_val); unlike clamp, the gradient is 0 at the bounds themselves."""
    batch_rule = ("pointwise",)
    upcast = True

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        ctx.save_for_backward(x)
        ctx.bounds = (min_val, max_val)
        return _cast(ctx.xp, ctx.xp.minimum(ctx.xp.maximum(x, min_val), max_val), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return g * ((x > lo) & (x < hi))


class Threshold(Primitive):
    """x if x > threshold else value; the gradient is 0 where x <= threshold."""
    batch_rule = ("pointwise",)
    upcast = True

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return _cast(ctx.xp, ctx.xp.where(x > threshold, x, value), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > ctx.threshold)


@staticmethod
@float32_backward
def _shrink_backward(ctx, g):
    """hardshrink's and softshrink's gradient: 1 outside [-lambd, lambd], 0 inside and at its ends."""
    (x,) = ctx.saved_tensors
    return g * ((x < -ctx.lambd) | (x > ctx.lambd))


class Hardshrink(Primitive):
    """x where |x| > lambd, else 0."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("hardshrink_cpu")

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        return _cast(ctx.xp, ctx.xp.where((x >= -lambd) & (x <= lambd), 0, x), x)

    backward = _shrink_backward


class Softshrink(Primitive):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("softshrink_check")

    @staticmethod
    def forward(ctx, x, lambd=0.5):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        y = xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0))
        return _cast(xp, y, x)

    backward = _shrink_backward


class Hardsigmoid(Primitive):
    """clip(x / 6 + 1/2, 0, 1); the gradient is 1/6 strictly inside (-3, 3)."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("hardsigmoid_cpu")

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return _cast(xp, xp.minimum(xp.maximum(x + 3, 0), 6) / 6, x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # NOTE: PyTorch's kernel multiplies by 1/6 rounded to float32, in every dtype.
        return g * ((x > -3) & (x < 3)) * ONE_SIXTH_F32


class Hardswish(Primitive):
    """x * hardsigmoid(x); the gradient is 0 at -3 and 1 at 3."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("hardswish_cpu")

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return _cast(xp, x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6, x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        middle = (x > -3) & (x < 3)
        return g * ((x / 3 + 0.5) * middle + (x >= 3))


# --- smooth activations -----------------------------------------------------------------------------------
class Elu(Primitive):
    """scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)): elu, selu and celu."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("elu_cpu")

    @staticmethod
    def forward(ctx, x, alpha=1.0, scale=1.0, input_scale=1.0):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.coef = (alpha, scale, input_scale)
        negative = alpha * xp.expm1(xp.minimum(x, 0) * input_scale)
        return _cast(xp, scale * xp.where(x > 0, x, negative), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coef
        negative = (x.clamp_max(0) * input_scale).exp() * (alpha * input_scale)
        return g * _select(x > 0, 1.0, negative) * scale


class Celu(Elu):
    pass


class Softplus(Primitive):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("softplus_cpu")

    @staticmethod
    def forward(ctx, x, beta=1.0, threshold=20.0):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.params = (beta, threshold)
        bx = x * beta
        smooth = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
        return _cast(xp, xp.where(bx > threshold, x, smooth), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.params
        bx = x * beta
        return g * _select(bx > threshold, 1.0, Sigmoid.apply(bx))


class LogSigmoid(Primitive):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("log_sigmoid_cpu")

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return _cast(xp, xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x))), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Sigmoid.apply(-x)


class Silu(Primitive):
    """x * sigmoid(x)."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("silu_cpu")

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        e = xp.exp(-xp.abs(x))
        s = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return _cast(xp, x * s, x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = Sigmoid.apply(x)
        return g * s * (1 + x * (1 - s))


class Mish(Primitive):
    """x * tanh(softplus(x))."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("mish_cpu")

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        sp = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        return _cast(xp, x * xp.tanh(sp), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = Tanh.apply(Softplus.apply(x, 1.0, 20.0))
        return g * (t + x * Sigmoid.apply(x) * (1 - t * t))


class Gelu(Primitive):
    """x * Phi(x) with the normal CDF Phi by erf ('none') or by PyTorch's tanh formula ('tanh')."""
    batch_rule = ("pointwise",)
    upcast = True
    check = float_only("GeluKernelImpl")

    @staticmethod
    def forward(ctx, x, approximate="none"):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = SQRT_2_OVER_PI * (x + GELU_K * x * x * x)
            return _cast(xp, 0.5 * x * (1 + xp.tanh(inner)), x)
        # NOTE: flattened, because the backend's erf cannot take a 0-d array
        erf = ctx.device.backend.special.erf((x * SQRT_HALF).reshape(-1)).reshape(x.shape)
        return _cast(xp, 0.5 * x * (1 + erf), x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            x2 = x * x
            t = Tanh.apply(SQRT_2_OVER_PI * (x + GELU_K * x2 * x))
            d_inner = SQRT_2_OVER_PI * (1 + 3 * GELU_K * x2)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
        cdf = 0.5 * (1 + Erf.apply(x * SQRT_HALF))
        pdf = INV_SQRT_2PI * (-0.5 * x * x).exp()
        return g * (cdf + x * pdf)


# --- softmax family ---------------------------------------------------------------------------------------
class Softmax(Primitive):
    """exp(x - max) / sum(exp(x - max)) along dim."""
    batch_rule = ("dim", (0,), None)
    upcast = True
    check = float_only("softmax_lastdim_kernel_impl")

    @staticmethod
    def forward(ctx, x, dim):
        xp = ctx.xp
        if x.ndim == 0 or x.size == 0:
            y = xp.ones_like(x)
        else:
            e = xp.exp(x - x.max(axis=dim, keepdims=True))
            y = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return _cast(xp, y, x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if y.dim() == 0:
            return g * 0
        gy = g * y
        return gy - y * gy.sum(ctx.dim, keepdim=True)


class LogSoftmax(Primitive):
    """x - max - log(sum(exp(x - max))) along dim."""
    batch_rule = ("dim", (0,), None)
    upcast = True
    check = float_only("log_softmax_lastdim_kernel_impl")

    @staticmethod
    def forward(ctx, x, dim):
        xp = ctx.xp
        if x.ndim == 0 or x.size == 0:
            y = xp.zeros_like(x)
        else:
            shifted = x - x.max(axis=dim, keepdims=True)
            y = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(y)
        ctx.dim = dim
        return _cast(xp, y, x)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        if y.dim() == 0:
            return g * 0
        return g - y.exp() * g.sum(ctx.dim, keepdim=True)


# --- test specs: the generic comparison against PyTorch (tests/ops/test_against_torch.py) -------------
def _f(name):
    return lambda torch, *xs, **kw: getattr(torch.nn.functional, name)(*xs, **kw)


spec(*[OpSpec("nn.functional." + n, call=_f(n), kwargs=kw) for n, kw in (
    ("sigmoid", ({},)), ("tanh", ({},)), ("logsigmoid", ({},)), ("silu", ({},)), ("mish", ({},)),
    ("gelu", ({}, {"approximate": "tanh"})), ("elu", ({}, {"alpha": 0.5})), ("selu", ({},)),
    ("celu", ({"alpha": 2.0},)), ("softplus", ({}, {"beta": 2.0, "threshold": 3.0})),
    ("leaky_relu", ({"negative_slope": 0.1},)), ("hardtanh", ({"min_val": -0.5, "max_val": 2.0},)),
    ("relu6", ({},)), ("hardsigmoid", ({},)), ("hardswish", ({},)), ("hardshrink", ({"lambd": 0.7},)),
    ("softshrink", ({"lambd": 0.7},)), ("softsign", ({},)), ("tanhshrink", ({},)))])
spec(*[OpSpec("nn.functional." + n, call=_f(n), shapes=[((3, 4, 2),), ((2, 5),)], kwargs=({"dim": 1}, {"dim": -1}))
       for n in ("softmax", "log_softmax", "softmin")])
