"""torch.optim.Adamax, NAdam and RAdam: Adam's relatives (infinity norm, Nesterov momentum, rectification)."""
from .._creation import ones, zeros_like
from .._dtype import float32
from .._ops._registry import FUNCTIONS
from .optimizer import (Optimizer, _as_real, _check_betas, _check_capturable, _check_lr, _check_nonnegative,
                        _closure_loss, _grad_of, _scalar, _step_tensor, _to_scalar, _use_grad)

__all__ = ["Adamax", "NAdam", "RAdam"]

# NOTE: hyperparameters stay as given (a tensor lr or beta stays a 0-d tensor) and the scalar arithmetic
# follows PyTorch's expression order, so a float32 tensor lr rounds where PyTorch's does; `_scalar` turns the
# result into the number an update's `value=`/`alpha=` receives.


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
        p.mul_(_scalar(1 - lr * wd))
        return grad
    return grad.add(p, alpha=wd)


def _lr(group):
    """The lr as the step computes with it: PyTorch's foreach Adamax and NAdam take a tensor lr's value."""
    return _scalar(group["lr"]) if group["foreach"] else _to_scalar(group["lr"])


class _AdamLike(Optimizer):
    """The step loop shared by the three: states made for every parameter first, then the capturable check."""

    _capturable_what = _capturable_what_foreach = "params and state_steps"

    @_use_grad
    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params = self._params_with_grad(group)
            states = [self._init_state(p) for p in params]
            what = self._capturable_what_foreach if group["foreach"] else self._capturable_what
            _check_capturable(group, params, what, xla=not group["foreach"])
            for p, state in zip(params, states):
                state["step"] += 1
                self._update(p, state, group, _grad_of(p, group["maximize"]))
        return loss


class Adamax(_AdamLike):
    """Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_adam_like(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["exp_avg"] = zeros_like(p)
            state["exp_inf"] = zeros_like(p)
        return state

    def _update(self, p, state, group, grad):
        beta1, beta2 = group["betas"]
        lr, eps = _lr(group), group["eps"]
        grad = _weight_decay(p, grad, lr, group["weight_decay"], False)
        param, grad, exp_avg, exp_inf = _as_real(p, grad, state["exp_avg"], state["exp_inf"])
        exp_avg.lerp_(grad, _scalar(1 - beta1))
        if group["differentiable"]:
            # NOTE: PyTorch's differentiable Adamax takes the max as amax over a stacked pair; its graph (what
            # is saved, and so what a later in-place update invalidates) follows from that
            norm_buf = FUNCTIONS["cat"]([exp_inf.mul_(_scalar(beta2)).unsqueeze(0), grad.abs().add_(eps).unsqueeze_(0)], 0)
            exp_inf.copy_(norm_buf.amax(0, keepdim=False))
        else:
            exp_inf.copy_(exp_inf.mul_(_scalar(beta2)).maximum(grad.abs().add_(eps)))
        clr = lr / (1 - beta1 ** state["step"].item())
        param.addcdiv_(exp_avg, exp_inf, value=_scalar(-clr))


class NAdam(_AdamLike):
    """NAdam: Adam with Nesterov momentum and the momentum-decay schedule of Dozat (2016)."""

    _group_defaults = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                       "decoupled_weight_decay": False}
    _capturable_what = "params, mu_products and state_steps"
    _capturable_what_foreach = "params, mu_products, and state_steps"

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

    def _init_state(self, p):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            # NOTE: PyTorch keeps the running product of mu as a float32 tensor; so do we
            state["mu_product"] = ones((), dtype=float32)
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
        return state

    def _update(self, p, state, group, grad):
        beta1, beta2 = group["betas"]
        lr, eps, decay = _lr(group), group["eps"], group["momentum_decay"]
        tensor_step = group["differentiable"] or group["capturable"]
        t = state["step"] if group["capturable"] else state["step"].item()
        param, grad, exp_avg, exp_avg_sq = _as_real(p, grad, state["exp_avg"], state["exp_avg_sq"])
        bias_correction2 = 1 - beta2 ** t
        grad = _weight_decay(param, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        mu_product = state["mu_product"]
        mu_product *= mu
        exp_avg.lerp_(grad, _scalar(1 - beta1))
        exp_avg_sq.mul_(_scalar(beta2)).addcmul_(grad, grad, value=_scalar(1 - beta2))
        if group["foreach"]:
            denom = exp_avg_sq.sqrt().div_(_scalar(bias_correction2 ** 0.5))
        else:
            denom = exp_avg_sq.div(bias_correction2).sqrt()
        if tensor_step:
            # NOTE: PyTorch's differentiable branch scales grad and exp_avg by 0-d float32 tensors
            denom = denom.add(eps)
            mu_product_next = mu_product * mu_next
            param.addcdiv_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product)), denom)
            param.addcdiv_(exp_avg * (-lr * mu_next / (1.0 - mu_product_next)), denom)
            return
        mu_product_next = mu_product.item() * mu_next
        denom.add_(eps)
        param.addcdiv_(grad, denom, value=_scalar(-lr * (1.0 - mu) / (1.0 - mu_product.item())))
        param.addcdiv_(exp_avg, denom, value=_scalar((-lr * mu_next) / (1.0 - mu_product_next)))


class RAdam(_AdamLike):
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

    def _init_state(self, p):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
        return state

    def _update(self, p, state, group, grad):
        beta1, beta2 = group["betas"]
        lr, eps = _to_scalar(group["lr"]), group["eps"]
        t = state["step"].item()
        param, grad, exp_avg, exp_avg_sq = _as_real(p, grad, state["exp_avg"], state["exp_avg_sq"])
        grad = _weight_decay(param, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])
        exp_avg.lerp_(grad, _scalar(1 - beta1))
        exp_avg_sq.mul_(_scalar(beta2)).addcmul_(grad, grad, value=_scalar(1 - beta2))
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / (1 - beta2 ** t)
        rect = 0
        if rho_t > 5:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        if group["foreach"]:
            _radam_foreach_update(param, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps, rect)
            return
        bias_corrected_exp_avg = exp_avg / (1 - beta1 ** t)
        if rho_t > 5.0:
            sqrt = exp_avg_sq.sqrt()
            sqrt = sqrt.add(eps) if group["differentiable"] else sqrt.add_(eps)
            adaptive = ((1 - beta2 ** t) ** 0.5) / sqrt
            param.add_(bias_corrected_exp_avg * lr * adaptive * rect, alpha=-1.0)
        else:
            param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)


def _radam_foreach_update(param, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps, rect):
    """PyTorch's foreach RAdam folds the rectified and unrectified steps into one buffer, in this order."""
    unrectified = 0 if rect > 0 else 1.0
    bias_correction1 = 1 - beta1 ** t
    unrect_step_size = (lr * unrectified / bias_correction1) * -1
    bias_correction2 = ((1 - beta2 ** t) ** 0.5) * (lr * rect / bias_correction1) * -1
    buffer = exp_avg_sq.sqrt().add_(eps).div_(bias_correction2).reciprocal_().add_(unrect_step_size)
    param.addcmul_(exp_avg, buffer)
