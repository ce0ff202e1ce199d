"""torch.optim.Adam and AdamW (Adam with decoupled weight decay, as PyTorch 2.13 defines it)."""
from .._creation import zeros_like
from .._tensor import Tensor
from . import _foreach as F
from .optimizer import (Optimizer, _as_real, _check_betas, _check_capturable, _check_fused, _check_lr, _check_nonnegative,
                        _scalar, _step_tensor, _to_scalar)

__all__ = ["Adam", "AdamW"]


def _check_tensor_betas(betas, foreach, capturable):
    both_float = isinstance(betas[0], float) and isinstance(betas[1], float)
    both_tensor = isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor)
    if not (both_float or both_tensor):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


def _like_param(value, p):
    """A tensor beta in the parameter's dtype (PyTorch casts beta1 so before `1 - beta1`); numbers unchanged."""
    return value.to(dtype=p.dtype) if isinstance(value, Tensor) else value


class Adam(Optimizer):
    """Adam; eps is added after bias correction, weight decay is L2 unless `decoupled_weight_decay`."""

    _group_defaults = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                       "differentiable": False, "decoupled_weight_decay": False, "fused": None}
    _loop_is_foreach = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_lr(lr)
        _check_nonnegative("eps", eps, "epsilon")
        _check_betas(betas)
        _check_nonnegative("weight_decay", weight_decay)
        _check_tensor_betas(betas, foreach, capturable)
        # NOTE: tensor betas stay tensors (0-d), as in PyTorch: their float32 rounding shows in the updates
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def _init_state(self, p, group, state):
        if group["fused"]:
            _check_fused(p)
        state["step"] = _step_tensor()
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(p)

    def _check_group_state(self, group, params):
        if group["foreach"] and isinstance(group["lr"], Tensor) and not group["capturable"] and params:
            raise RuntimeError("lr as a Tensor is not supported for capturable=False and foreach=True")
        if not group["fused"]:
            _check_capturable(group, params, xla=not group["foreach"])

    def _default_foreach(self, group, params):
        # NOTE: PyTorch's Adam falls back to the for-loop for a tensor lr it would otherwise refuse; ember does so
        # for tensor betas too, which PyTorch's defaulted foreach refuses at the first step
        tensors = isinstance(group["lr"], Tensor) or any(isinstance(b, Tensor) for b in group["betas"])
        return super()._default_foreach(group, params) and not (tensors and not group["capturable"])

    def _hyperparameters(self, group, foreach):
        h = super()._hyperparameters(group, foreach)
        h.beta1, h.beta2 = group["betas"]
        if group["fused"]:
            # NOTE: the fused kernel takes lr and betas as doubles and does its scalar math in double
            h.lr, h.beta1, h.beta2 = _scalar(h.lr), _scalar(h.beta1), _scalar(h.beta2)
        return h

    def _raw_ok(self, h):
        return not isinstance(h.beta1, Tensor) and not isinstance(h.beta2, Tensor)

    def _update(self, p, grad, state, h):
        # m <- lerp(m, g, 1 - b1);  v <- b2 v + (1 - b2) g^2;  p <- p - lr/(1 - b1^t) m / (sqrt(v/(1 - b2^t)) + eps)
        lr, beta1, beta2, wd = h.lr, h.beta1, h.beta2, h.weight_decay
        if wd != 0:
            if h.decoupled_weight_decay:
                p.mul_(_scalar(1 - lr * wd))
            else:
                grad = grad.add(p, alpha=wd)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        max_sq = state.get("max_exp_avg_sq", exp_avg_sq)
        param, grad, exp_avg, exp_avg_sq, max_sq = _as_real(p, grad, exp_avg, exp_avg_sq, max_sq)
        exp_avg.lerp_(grad, _scalar(1 - _like_param(beta1, param)))
        if h.differentiable and isinstance(beta2, Tensor) and beta2.requires_grad:
            exp_avg_sq.lerp_(grad.square(), weight=1 - beta2)
        else:
            exp_avg_sq.mul_(_scalar(beta2)).addcmul_(grad, grad, value=_scalar(1 - beta2))
        if h.amsgrad:
            previous = max_sq.clone() if h.differentiable else max_sq
            max_sq.copy_(previous.maximum(exp_avg_sq))
        if h.differentiable or h.capturable:
            _tensor_step_update(param, exp_avg, max_sq, state["step"], lr, beta1, beta2, h)
            return
        t = state["step"].item()
        step_size = lr / (1 - beta1 ** t)
        bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
        group = h  # NOTE: the hyperparameters read as the group's entries
        denom = (max_sq.sqrt() / bias_correction2_sqrt).add_(group["eps"])
        param.addcdiv_(exp_avg, denom, value=_scalar(-step_size))

    def _update_foreach(self, params, states, h):
        lr, beta1, beta2, wd = h.lr, h.beta1, h.beta2, h.weight_decay
        xp = F.xp_of(params)
        ps, grads = F.arrays(params), F.arrays([p.grad for p in params])
        exp_avgs, exp_avg_sqs = F.state_arrays(states, "exp_avg"), F.state_arrays(states, "exp_avg_sq")
        if h.maximize:
            grads = F.neg(xp, grads)
        if wd != 0:
            if h.decoupled_weight_decay:
                F.mul_(ps, _scalar(1 - lr * wd))
                F.bump(params)
            else:
                grads = F.add(xp, grads, ps, wd)
        F.lerp_(xp, exp_avgs, grads, 1 - beta1)
        F.mul_(exp_avg_sqs, beta2)
        F.addcmul_(xp, exp_avg_sqs, grads, grads, 1 - beta2)
        F.bump([s["exp_avg"] for s in states])
        F.bump([s["exp_avg_sq"] for s in states], 2)
        if h.amsgrad:
            F.maximum_(xp, F.state_arrays(states, "max_exp_avg_sq"), exp_avg_sqs)
            F.bump([s["max_exp_avg_sq"] for s in states])
            exp_avg_sqs = F.state_arrays(states, "max_exp_avg_sq")
        steps = [s["step"] for s in states]
        step_sizes = F.per_step(steps, lambda t: _scalar(-(lr / (1 - beta1 ** t))))
        denoms = F.sqrt(xp, exp_avg_sqs)
        F.div_(denoms, F.per_step(steps, lambda t: (1 - beta2 ** t) ** 0.5))
        F.add_scalar_(denoms, h.eps)
        F.addcdiv_(xp, ps, exp_avgs, denoms, step_sizes)
        F.bump(params)


def _tensor_step_update(param, exp_avg, max_sq, step, lr, beta1, beta2, h):
    """PyTorch's differentiable/capturable branch: bias corrections are tensors computed from the float32
    `step`, and the step size is folded into the denominator (addcdiv's `value` cannot carry a graph)."""
    step_size_neg = (lr / (1 - beta1 ** step)).neg()
    bias_correction2_sqrt = (1 - beta2 ** step).sqrt()
    denom = (max_sq.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(h.eps / step_size_neg)
    param.addcdiv_(exp_avg.clone() if h.differentiable else exp_avg, denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (`p *= 1 - lr*wd`); default weight_decay 0.01."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
