"""torch.optim.Adadelta, Adagrad, RMSprop and Rprop: per-coordinate step sizes from gradient history."""
from .._creation import full_like, zeros_like
from .optimizer import (Optimizer, _as_real, _check_capturable, _check_fused_once, _check_lr, _check_nonnegative,
                        _closure_loss, _grad_of, _scalar, _step_tensor, _to_scalar, _use_grad)

__all__ = ["Adadelta", "Adagrad", "RMSprop", "Rprop"]


def _l2(p, grad, wd):
    return grad.add(p, alpha=wd) if wd != 0 else grad


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012); default lr 1.0, rho 0.9, eps 1e-6."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative("eps", eps, "epsilon")
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One Adadelta step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps = _scalar(group["lr"]), group["rho"], group["eps"]
            params = self._params_with_grad(group)
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = zeros_like(p)
                    state["acc_delta"] = zeros_like(p)
            _check_capturable(group, params, xla=False)
            for p in params:
                state = self.state[p]
                state["step"] += 1
                grad = _l2(p, _grad_of(p, group["maximize"]), group["weight_decay"])
                param, grad, square_avg, acc_delta = _as_real(p, grad, state["square_avg"], state["acc_delta"])
                square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_()
                if group["differentiable"]:
                    delta = delta.clone()  # NOTE: sqrt_'s output is saved for backward; PyTorch clones it too
                delta.div_(std).mul_(grad)
                acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
                param.add_(delta, alpha=-lr)
        return loss


class Adagrad(Optimizer):
    """Adagrad; default lr 1e-2, eps 1e-10, initial_accumulator_value 0."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonnegative("lr_decay", lr_decay)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        _check_nonnegative("eps", eps, "epsilon")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        # NOTE: Adagrad creates its state eagerly, at construction (as PyTorch does)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                init = group["initial_accumulator_value"]
                state["sum"] = full_like(p, complex(init, init) if p.is_complex() else init)

    def share_memory(self):
        """No-op on this backend: state tensors already live in this process's memory."""

    @_use_grad
    def step(self, closure=None):
        """One Adagrad step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, eps = _to_scalar(group["lr"]), group["eps"]
            params = self._params_with_grad(group)
            _check_fused_once(self, group, params)
            if group["fused"] and any(p.is_complex() for p in params):
                raise RuntimeError("`fused` does not support sparse grad or complex param")
            for p in params:
                state = self.state[p]
                state["step"] += 1
                grad = _l2(p, _grad_of(p, group["maximize"]), group["weight_decay"])
                clr = _scalar(lr / (1 + (state["step"].item() - 1) * group["lr_decay"]))
                param, grad, state_sum = _as_real(p, grad, state["sum"])
                state_sum.addcmul_(grad, grad, value=1)
                param.addcdiv_(grad, state_sum.sqrt().add_(eps), value=-clr)
        return loss


class RMSprop(Optimizer):
    """RMSprop; default lr 1e-2, alpha 0.99, eps 1e-8 (added outside the square root)."""

    _group_defaults = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                       "differentiable": False, "capturable": False}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        _check_nonnegative("eps", eps, "epsilon")
        _check_nonnegative("momentum", momentum)
        _check_nonnegative("weight_decay", weight_decay)
        _check_nonnegative("alpha", alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One RMSprop step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps, momentum = _scalar(group["lr"]), group["alpha"], group["eps"], group["momentum"]
            params = self._params_with_grad(group)
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["square_avg"] = zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = zeros_like(p)
            _check_capturable(group, params)
            for p in params:
                state = self.state[p]
                state["step"] += 1
                grad = _l2(p, _grad_of(p, group["maximize"]), group["weight_decay"])
                extra = [state[k] for k in ("grad_avg", "momentum_buffer") if k in state]
                param, grad, square_avg, *extra = _as_real(p, grad, state["square_avg"], *extra)
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if group["centered"]:
                    grad_avg = extra[0]
                    grad_avg.lerp_(grad, 1 - alpha)
                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                else:
                    avg = square_avg.sqrt()
                avg = avg.add_(eps)
                if momentum > 0:
                    buf = extra[-1]
                    buf.mul_(momentum).addcdiv_(grad, avg)
                    param.add_(buf, alpha=-lr)
                else:
                    param.addcdiv_(grad, avg, value=-lr)
        return loss


class Rprop(Optimizer):
    """Rprop: per-coordinate step sizes grown by etas[1] while the gradient's sign holds, shrunk by etas[0]."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """One Rprop step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_min, step_max = group["step_sizes"]
            params = self._params_with_grad(group)
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = zeros_like(p)
                    lr = _scalar(group["lr"])
                    # NOTE: a complex parameter is two independent reals, so the imaginary part gets lr too
                    state["step_size"] = full_like(p, complex(lr, lr) if p.is_complex() else lr)
            _check_capturable(group, params)
            for p in params:
                state = self.state[p]
                state["step"] += 1
                grad = _grad_of(p, group["maximize"])
                param, grad, prev, step_size = _as_real(p, grad, state["prev"], state["step_size"])
                # NOTE: the factor is etaplus where the sign held, etaminus where it flipped, 1 where one was 0
                factor = grad.mul(prev.clone() if group["differentiable"] else prev).sign()
                held, flipped, unknown = factor.gt(0), factor.lt(0), factor.eq(0)
                factor[held] = etaplus
                factor[flipped] = etaminus
                factor[unknown] = 1
                step_size.mul_(factor).clamp_(step_min, step_max)
                grad = grad.clone()
                grad[flipped] = 0
                param.addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
        return loss
