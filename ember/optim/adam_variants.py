"""torch.optim.Adamax, NAdam and RAdam: Adam's relatives (infinity norm, Nesterov momentum, rectification)."""
from .._creation import ones, zeros_like
from .._dtype import float32
from .optimizer import (Optimizer, _check_betas, _check_lr, _check_nonnegative, _closure_loss, _grad_of, _scalar,
                        _as_real, _step_tensor, _use_grad)

__all__ = ["Adamax", "NAdam", "RAdam"]


def _check_adam_like(lr, betas, eps, weight_decay):
    _check_lr(lr)
    _check_nonnegative("eps", eps, "epsilon")
    _check_betas(betas)
    _check_nonnegative("weight_decay", weight_decay)


def _weight_decay(p, grad, lr, wd, decoupled):
    """Apply weight decay: shrink p (decoupled) or add wd*p to the gradient (L2)."""
    if wd == 0:
        return grad
    if decoupled:
        p.mul_(1 - lr * wd)
        return grad
    return grad.add(p, alpha=wd)


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_adam_like(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One Adamax step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _scalar(group["lr"]), group["eps"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = zeros_like(p)
                    state["exp_inf"] = zeros_like(p)
                grad = _weight_decay(p, _grad_of(p, group["maximize"]), lr, group["weight_decay"], False)
                state["step"] += 1
                param, grad, exp_avg, exp_inf = _as_real(p, grad, state["exp_avg"], state["exp_inf"])
                exp_avg.lerp_(grad, 1 - beta1)
                exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs().add_(eps)))
                clr = lr / (1 - beta1 ** state["step"].item())
                param.addcdiv_(exp_avg, exp_inf, value=-clr)
        return loss


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and the momentum-decay schedule of Dozat (2016)."""

    _group_defaults = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                       "decoupled_weight_decay": False}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_adam_like(lr, betas, eps, weight_decay)
        _check_nonnegative("momentum_decay", momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One NAdam step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, decay = _scalar(group["lr"]), group["eps"], group["momentum_decay"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    # NOTE: PyTorch keeps the running product of mu as a float32 tensor; so do we
                    state["mu_product"] = ones((), dtype=float32)
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                grad = _grad_of(p, group["maximize"])
                state["step"] += 1
                t = state["step"].item()
                grad = _weight_decay(p, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
                state["mu_product"] *= mu
                mu_product = state["mu_product"].item()
                param, grad, exp_avg, exp_avg_sq = _as_real(p, grad, state["exp_avg"], state["exp_avg_sq"])
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(1 - beta2 ** t).sqrt().add_(eps)
                param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
                param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1.0 - mu_product * mu_next))
        return loss


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is switched on (rectified) once the variance estimate is tractable."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False,
                       "decoupled_weight_decay": False}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_adam_like(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One RAdam step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps = _scalar(group["lr"]), group["eps"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["exp_avg"] = zeros_like(p)
                    state["exp_avg_sq"] = zeros_like(p)
                grad = _grad_of(p, group["maximize"])
                state["step"] += 1
                t = state["step"].item()
                grad = _weight_decay(p, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])
                param, grad, exp_avg, exp_avg_sq = _as_real(p, grad, state["exp_avg"], state["exp_avg_sq"])
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction2 = 1 - beta2 ** t
                corrected_avg = exp_avg / (1 - beta1 ** t)
                rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive = bias_correction2 ** 0.5 / exp_avg_sq.sqrt().add_(eps)
                    param.add_(corrected_avg * lr * adaptive * rect, alpha=-1.0)
                else:
                    param.add_(corrected_avg * lr, alpha=-1.0)
        return loss
