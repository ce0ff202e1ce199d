"""torch.optim.Muon: momentum whose update is orthogonalised by a Newton-Schulz iteration (2-D parameters)."""
import math

from .._functional import is_complex
from .optimizer import Optimizer, _scalar

__all__ = ["Muon"]

NS_COEFFICIENTS = (3.4445, -4.775, 2.0315)


def _orthogonalise(update, coefficients, steps, eps):
    """k steps of the quintic Newton-Schulz iteration X <- aX + (bA + cA^2)X, A = XX^T, in bfloat16 as PyTorch,
    on the matrix turned so that it is wide (rows <= columns), after scaling it to Frobenius norm <= 1."""
    if steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if update.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = coefficients
    tall = update.size(0) > update.size(1)
    x = update.bfloat16()
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(steps):
        gram = x @ x.T
        # NOTE: addmm as PyTorch: each product and its sum round to bfloat16 once
        x = x.addmm(gram.addmm(gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def _lr_ratio(adjust_lr_fn, shape):
    """The factor on lr that keeps the update's RMS alike across rectangular shapes."""
    rows, cols = shape[:2]
    if adjust_lr_fn in (None, "original"):
        return math.sqrt(max(1, rows / cols))  # Keller Jordan's scaling
    return 0.2 * math.sqrt(max(rows, cols))  # "match_rms_adamw": Moonshot's, to reuse AdamW's lr


class Muon(Optimizer):
    """Muon as PyTorch 2.13 implements it: B <- lerp(B, g, 1 - momentum); the update (g lerped toward B by
    momentum with nesterov, else B) is orthogonalised in bfloat16; decoupled weight decay scaled by lr."""

    _tensor_step = _counts_steps = False

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=NS_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        from .._tensor import Tensor
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
                    "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps,
                    "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def _check_group(self, group, params):
        for p in params:
            if is_complex(p):
                raise RuntimeError("Muon does not support complex parameters")
            if p.grad.is_sparse:
                raise RuntimeError("Muon does not support sparse gradients")

    def _init_state(self, p, group, state):
        from .._creation import zeros_like
        state["momentum_buffer"] = zeros_like(p.grad)

    def _update(self, p, grad, state, h):
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        buf = state["momentum_buffer"]
        buf.lerp_(grad, 1 - h.momentum)
        update = grad.lerp(buf, h.momentum) if h.nesterov else buf
        update = _orthogonalise(update, h.ns_coefficients, h.ns_steps, h.eps)
        p.mul_(_scalar(1 - h.lr * h.weight_decay))
        p.add_(update, alpha=_scalar(-h.lr * _lr_ratio(h.adjust_lr_fn, p.shape)))
