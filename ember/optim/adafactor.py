"""torch.optim.Adafactor: Adam-like steps with a factored (row x column) second-moment estimate."""
from .._creation import zeros, zeros_like
from .._dtype import finfo
from .optimizer import Optimizer, _scalar, _step_tensor

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern 2018) as PyTorch 2.13 implements it: lr caps the relative step size and
    scales decoupled weight decay; eps1 defaults to the dtype's machine epsilon."""

    _group_defaults = {"foreach": None}

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        from .._tensor import Tensor
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _check_group(self, group, params):
        # NOTE: PyTorch refuses a complex parameter while it initialises the group, before any update
        if any(p.is_complex() for p in params):
            raise RuntimeError("Adafactor does not support complex parameters")

    def _check_group_state(self, group, params):
        pass

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        shape = list(p.grad.shape)
        if p.grad.dim() > 1:
            state["row_var"] = zeros(shape[:-1] + [1], dtype=p.grad.dtype, device=p.grad.device)
            state["col_var"] = zeros(shape[:-2] + [1, shape[-1]], dtype=p.grad.dtype, device=p.grad.device)
        else:
            state["variance"] = zeros_like(p.grad)

    def _update(self, p, grad, state, h):
        # NOTE: PyTorch's foreach Adafactor is the same math; this per-parameter form serves both
        # beta2_t = 1 - t^decay;  factored second moment (row and column means of g^2), or a full one for vectors;
        # u = g / sqrt(v^) clipped to RMS d;  p <- p (1 - lr wd) - max(eps2, RMS(p)) min(lr, 1/sqrt t) u
        lr, d, wd = h.lr, h.d, h.weight_decay
        eps1, eps2 = h.eps
        e1 = finfo(p.dtype).eps if eps1 is None else eps1
        t = state["step"].item()
        one_minus_beta2 = t ** h.beta2_decay
        rho = min(lr, 1 / t ** 0.5)
        alpha = max(eps2, p.norm(2).item() / p.numel() ** 0.5) * rho
        if wd != 0:
            p.mul_(_scalar(1 - lr * wd))
        if grad.dim() > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)), one_minus_beta2)
            col_var.lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)), one_minus_beta2)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=e1))
        else:
            state["variance"].lerp_(grad * grad, one_minus_beta2)
            var_estimate = state["variance"].clone()
        update = var_estimate.clamp_(min=e1 * e1).rsqrt_().mul_(grad)
        denom = max(1.0, update.norm(2).item() / (update.numel() ** 0.5 * d))
        p.add_(update, alpha=_scalar(-alpha / denom))
