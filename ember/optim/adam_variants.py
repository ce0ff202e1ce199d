"""torch.optim.Adamax, NAdam and RAdam: Adam's relatives (infinity norm, Nesterov momentum, rectification)."""
from .._creation import ones, zeros_like
from .._dtype import float32
from .._ops._registry import FUNCTIONS
from .._tensor import Tensor
from . import _foreach as F
from .optimizer import (Optimizer, _as_real, _check_betas, _check_capturable, _check_lr, _check_nonnegative,
                        _scalar, _step_tensor)

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


def _lr(h):
    """The lr as the step computes with it: PyTorch's foreach Adamax and NAdam take a tensor lr's value."""
    return _scalar(h.lr) if h.foreach else h.lr


def _decay_grads(xp, ps, params, grads, h):
    """The raw-array weight decay of the three: shrink p (decoupled) or add wd*p to a copy of the gradient."""
    if h.weight_decay == 0:
        return grads
    if getattr(h, "decoupled_weight_decay", False):
        F.mul_(ps, _scalar(1 - h.lr * h.weight_decay))
        F.bump(params)
        return grads
    return F.add(xp, grads, ps, h.weight_decay)


def _raw_grads(xp, params, h):
    grads = F.arrays([p.grad for p in params])
    return F.neg(xp, grads) if h.maximize else grads


class _AdamLike(Optimizer):
    """What the three share: their betas as `h.beta1`, `h.beta2`, and a capturable message by foreach."""

    _capturable_what_foreach = "params and state_steps"

    def _check_group_state(self, group, params):
        what = self._capturable_what_foreach if group["foreach"] else self._capturable_what
        _check_capturable(group, params, what, xla=not group["foreach"])

    def _hyperparameters(self, group, foreach):
        h = super()._hyperparameters(group, foreach)
        h.beta1, h.beta2 = group["betas"]
        return h

    def _raw_ok(self, h):
        return not any(isinstance(v, Tensor) for v in (h.lr, h.beta1, h.beta2))

    def _default_foreach(self, group, params):
        # NOTE: PyTorch's defaulted foreach fails on tensor betas (a TypeError inside its foreach kernels); ember
        # takes the for-loop there
        return super()._default_foreach(group, params) and not any(isinstance(b, Tensor) for b in group["betas"])


class Adamax(_AdamLike):
    """Adamax: Adam with the infinity norm of past gradients in place of the second moment."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _loop_is_foreach = True  # NOTE: the two differ only for a tensor lr, which takes `_update`

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_adam_like(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        state["exp_avg"] = zeros_like(p)
        state["exp_inf"] = zeros_like(p)

    def _update(self, p, grad, state, h):
        # m <- lerp(m, g, 1 - b1);  u <- max(b2 u, |g| + eps);  p <- p - lr/(1 - b1^t) m / u
        beta1, beta2 = h.beta1, h.beta2
        lr, eps = _lr(h), h.eps
        grad = _weight_decay(p, grad, lr, h.weight_decay, False)
        param, grad, exp_avg, exp_inf = _as_real(p, grad, state["exp_avg"], state["exp_inf"])
        exp_avg.lerp_(grad, _scalar(1 - beta1))
        if h.differentiable:
            # NOTE: PyTorch's differentiable Adamax takes the max as amax over a stacked pair; its graph (what
            # is saved, and so what a later in-place update invalidates) follows from that
            norm_buf = FUNCTIONS["cat"]([exp_inf.mul_(_scalar(beta2)).unsqueeze(0), grad.abs().add_(eps).unsqueeze_(0)], 0)
            exp_inf.copy_(norm_buf.amax(0, keepdim=False))
        else:
            exp_inf.copy_(exp_inf.mul_(_scalar(beta2)).maximum(grad.abs().add_(eps)))
        clr = lr / (1 - beta1 ** state["step"].item())
        param.addcdiv_(exp_avg, exp_inf, value=_scalar(-clr))

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        ps, grads = F.arrays(params), _raw_grads(xp, params, h)
        grads = _decay_grads(xp, ps, params, grads, h)
        exp_avgs, exp_infs = F.state_arrays(states, "exp_avg"), F.state_arrays(states, "exp_inf")
        F.lerp_(xp, exp_avgs, grads, 1 - h.beta1)
        F.mul_(exp_infs, h.beta2)
        norms = [xp.abs(g) for g in grads]
        F.add_scalar_(norms, h.eps)
        F.maximum_(xp, exp_infs, norms)
        step_sizes = F.per_step([s["step"] for s in states], lambda t: -(h.lr / (1 - h.beta1 ** t)))
        F.addcdiv_(xp, ps, exp_avgs, exp_infs, step_sizes)
        F.bump(params)
        F.bump([s["exp_avg"] for s in states])
        F.bump([s["exp_inf"] for s in states], 2)


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

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        # NOTE: PyTorch keeps the running product of mu as a float32 tensor; so do we
        state["mu_product"] = ones((), dtype=float32)
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)

    def _update(self, p, grad, state, h):
        # mu_t = b1 (1 - 0.96^(t psi) / 2);  m, v as Adam;
        # p <- p - lr (1 - mu_t)/(1 - prod mu) g / d - lr mu_{t+1}/(1 - prod mu * mu_{t+1}) m / d, d = sqrt(v/(1 - b2^t)) + eps
        beta1, beta2 = h.beta1, h.beta2
        lr, eps, decay = _lr(h), h.eps, h.momentum_decay
        tensor_step = h.differentiable or h.capturable
        t = state["step"] if h.capturable else state["step"].item()
        param, grad, exp_avg, exp_avg_sq = _as_real(p, grad, state["exp_avg"], state["exp_avg_sq"])
        bias_correction2 = 1 - beta2 ** t
        grad = _weight_decay(param, grad, lr, h.weight_decay, h.decoupled_weight_decay)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        mu_product = state["mu_product"]
        mu_product *= mu
        exp_avg.lerp_(grad, _scalar(1 - beta1))
        exp_avg_sq.mul_(_scalar(beta2)).addcmul_(grad, grad, value=_scalar(1 - beta2))
        if h.foreach:
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

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        beta1, beta2, lr, decay = h.beta1, h.beta2, h.lr, h.momentum_decay
        ps, grads = F.arrays(params), _raw_grads(xp, params, h)
        grads = _decay_grads(xp, ps, params, grads, h)
        exp_avgs, exp_avg_sqs = F.state_arrays(states, "exp_avg"), F.state_arrays(states, "exp_avg_sq")
        F.lerp_(xp, exp_avgs, grads, 1 - beta1)
        F.mul_(exp_avg_sqs, beta2)
        F.addcmul_(xp, exp_avg_sqs, grads, grads, 1 - beta2)
        denoms = F.sqrt(xp, exp_avg_sqs)
        steps = [s["step"] for s in states]
        mus = F.per_step(steps, lambda t: beta1 * (1.0 - 0.5 * 0.96 ** (t * decay)))
        mu_nexts = F.per_step(steps, lambda t: beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay)))
        mu_products = [s["mu_product"] for s in states]
        F.mul_(F.arrays(mu_products), mus)
        F.bump(mu_products)
        F.div_(denoms, F.per_step(steps, lambda t: (1 - beta2 ** t) ** 0.5))
        F.add_scalar_(denoms, h.eps)
        products = [mu_product.item() for mu_product in mu_products]
        grad_sizes = [-lr * (1.0 - mu) / (1.0 - prod) for mu, prod in zip(mus, products)]
        avg_sizes = [(-lr * mu_next) / (1.0 - prod * mu_next) for mu_next, prod in zip(mu_nexts, products)]
        F.addcdiv_(xp, ps, grads, denoms, grad_sizes)
        F.addcdiv_(xp, ps, exp_avgs, denoms, avg_sizes)
        F.bump(params, 2)
        F.bump([s["exp_avg"] for s in states])
        F.bump([s["exp_avg_sq"] for s in states], 2)


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

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)

    def _update(self, p, grad, state, h):
        # m, v as Adam;  rho_t = rho_inf - 2 t b2^t / (1 - b2^t);  past rho_t > 5 the adaptive step is scaled by
        # the rectification r_t, before it p moves by the bias-corrected momentum alone
        beta1, beta2 = h.beta1, h.beta2
        lr, eps = h.lr, h.eps
        t = state["step"].item()
        param, grad, exp_avg, exp_avg_sq = _as_real(p, grad, state["exp_avg"], state["exp_avg_sq"])
        grad = _weight_decay(param, grad, lr, h.weight_decay, h.decoupled_weight_decay)
        exp_avg.lerp_(grad, _scalar(1 - beta1))
        exp_avg_sq.mul_(_scalar(beta2)).addcmul_(grad, grad, value=_scalar(1 - beta2))
        rect, rho_t = _rectification(t, beta2)
        if h.foreach:
            _radam_foreach_update(param, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps, rect)
            return
        bias_corrected_exp_avg = exp_avg / (1 - beta1 ** t)
        if rho_t > 5.0:
            sqrt = exp_avg_sq.sqrt()
            sqrt = sqrt.add(eps) if h.differentiable else sqrt.add_(eps)
            adaptive = ((1 - beta2 ** t) ** 0.5) / sqrt
            param.add_(bias_corrected_exp_avg * lr * adaptive * rect, alpha=-1.0)
        else:
            param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        beta1, beta2, lr = h.beta1, h.beta2, h.lr
        ps, grads = F.arrays(params), _raw_grads(xp, params, h)
        grads = _decay_grads(xp, ps, params, grads, h)
        exp_avgs, exp_avg_sqs = F.state_arrays(states, "exp_avg"), F.state_arrays(states, "exp_avg_sq")
        F.lerp_(xp, exp_avgs, grads, 1 - beta1)
        F.mul_(exp_avg_sqs, beta2)
        F.addcmul_(xp, exp_avg_sqs, grads, grads, 1 - beta2)
        scales = F.per_step([s["step"] for s in states], lambda t: _radam_scales(t, lr, beta1, beta2))
        buffers = F.sqrt(xp, exp_avg_sqs)
        F.add_scalar_(buffers, h.eps)
        F.div_(buffers, [adaptive for adaptive, _ in scales])
        for buffer, (_, unrectified) in zip(buffers, scales):
            xp.reciprocal(buffer, out=buffer)
            buffer += unrectified
        F.addcmul_(xp, ps, exp_avgs, buffers)
        F.bump(params)
        F.bump([s["exp_avg"] for s in states])
        F.bump([s["exp_avg_sq"] for s in states], 2)


def _rectification(t, beta2):
    """RAdam's r_t (0 while rho_t <= 5) and rho_t."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2 ** t) / (1 - beta2 ** t)
    rect = 0
    if rho_t > 5:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    return rect, rho_t


def _radam_scales(t, lr, beta1, beta2):
    """PyTorch's foreach RAdam: the divisor of sqrt(v) + eps and the unrectified step, both negated."""
    rect, _ = _rectification(t, beta2)
    unrectified = 0 if rect > 0 else 1.0
    bias_correction1 = 1 - beta1 ** t
    unrect_step_size = (lr * unrectified / bias_correction1) * -1
    adaptive = ((1 - beta2 ** t) ** 0.5) * (lr * rect / bias_correction1) * -1
    return _scalar(adaptive), _scalar(unrect_step_size)


def _radam_foreach_update(param, exp_avg, exp_avg_sq, t, lr, beta1, beta2, eps, rect):
    """PyTorch's foreach RAdam folds the rectified and unrectified steps into one buffer, in this order."""
    unrectified = 0 if rect > 0 else 1.0
    bias_correction1 = 1 - beta1 ** t
    unrect_step_size = (lr * unrectified / bias_correction1) * -1
    bias_correction2 = ((1 - beta2 ** t) ** 0.5) * (lr * rect / bias_correction1) * -1
    buffer = exp_avg_sq.sqrt().add_(eps).div_(bias_correction2).reciprocal_().add_(unrect_step_size)
    param.addcmul_(exp_avg, buffer)
