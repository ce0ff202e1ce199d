"""Primitives behind torch.nn.functional's losses; the losses themselves are composed in
ember/nn/functional.py.

NOTE: binary_cross_entropy earns a primitive: PyTorch clamps each log term at -100 in forward and
the denominator x(1 - x) at 1e-12 in backward, which no composition of log and clamp reproduces
(clamp's own gradient would zero the clamped terms instead).
"""
from ... import _dtype
from ...autograd.function import Primitive, float32_backward
from .._registry import OpSpec, spec

LOG_FLOOR = -100.0
DENOM_FLOOR = 1e-12


class BinaryCrossEntropy(Primitive):
    """-(t * max(log x, -100) + (1 - t) * max(log(1 - x), -100)), elementwise."""
    upcast = True
    inputs = 2

    @staticmethod
    def check(x, t):
        if t._dtype is not x._dtype:
            raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(t._dtype)} but expected "
                               f"{_dtype.scalar_type_name(x._dtype)}")

    @staticmethod
    def forward(ctx, x, t):
        xp = ctx.xp
        check = ctx.device.backend.check  # NOTE: NaN counts as out of range, as in PyTorch's check
        if x.size:
            check(((x < 0) | (x > 1) | (x != x)).any(),
                  lambda: RuntimeError("all elements of input should be between 0 and 1"))
        if t.size:
            check(((t < 0) | (t > 1) | (t != t)).any(),
                  lambda: RuntimeError("all elements of target should be between 0 and 1"))
        log_x = xp.maximum(xp.log(x), LOG_FLOOR)
        log_1mx = xp.maximum(xp.log1p(-x), LOG_FLOOR)
        ctx.save_for_backward(x, t)
        return (-(t * log_x + (1 - t) * log_1mx)).astype(x.dtype, copy=False)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / ((1 - x) * x).clamp_min(DENOM_FLOOR)
        if ctx.needs_input_grad[1]:
            gt = g * ((-x).log1p().clamp_min(LOG_FLOOR) - x.log().clamp_min(LOG_FLOOR))
        return gx, gt


def _bce_sample(g):
    shape = g.shape(min_dims=1)
    x = g.values(shape, domain=(0.05, 0.95))
    t = g.values(shape, domain=(0.0, 1.0))
    return [x, t], {}



class BinaryCrossEntropyWithLogits(Primitive):
    """(1 - t) * x - w * logsigmoid(x) elementwise, w = (pos_weight - 1) * t + 1 (1 without pos_weight).

    NOTE: a primitive for its gradient: PyTorch's is w * sigmoid(x) - pos_weight * t, computed as
    such; the composed form's (1 - t) - w * sigmoid(-x) cancels (1e-5 relative in float32)."""
    upcast = True
    inputs = 3
    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, t, pos_weight=None):
        xp = ctx.xp
        softplus_neg = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # -logsigmoid(x), without overflow
        w = 1 if pos_weight is None else (pos_weight - 1) * t + 1
        ctx.save_for_backward(x, t, pos_weight)
        return ((1 - t) * x + w * softplus_neg).astype(x.dtype, copy=False)

    @staticmethod
    @float32_backward
    def backward(ctx, g):
        x, t, pw = ctx.saved_tensors  # NOTE: pos_weight never needs a gradient (the function refuses it)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            sig = x.sigmoid()
            gx = g * (sig - t if pw is None else ((pw - 1) * t + 1) * sig - pw * t)
        if ctx.needs_input_grad[1]:
            log_sig = -((-x.abs()).exp().log1p() + (-x).clamp(min=0))
            gt = g * (-x if pw is None else -x - (pw - 1) * log_sig)
        return gx, gt, None

spec(OpSpec("nn.functional.binary_cross_entropy", sample=_bce_sample,
            call=lambda torch, x, t: torch.nn.functional.binary_cross_entropy(x, t, reduction="none")))
