"""torch.optim.ASGD: averaged stochastic gradient descent (Polyak and Juditsky 1992)."""
from .._creation import as_tensor, ones, zeros, zeros_like
from .._dtype import float32
from .optimizer import (Optimizer, _as_real, _check_capturable, _check_lr, _check_nonnegative, _closure_loss,
                        _grad_of, _to_scalar, _use_grad)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD; the running average of the iterates is kept in `state[p]['ax']`."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonnegative("weight_decay", weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            # NOTE: step, eta and mu are float32 0-d tensors in PyTorch; eta's rounding shows in p
            state["step"] = zeros((), dtype=float32)
            state["eta"] = as_tensor(_to_scalar(group["lr"]), dtype=float32).clone().detach()
            state["mu"] = ones((), dtype=float32)
            state["ax"] = zeros_like(p)
        return state

    @_use_grad
    def step(self, closure=None):
        """One ASGD step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            params = self._params_with_grad(group)
            states = [self._init_state(p, group) for p in params]
            _check_capturable(group, params, "params, mus, etas, and state_steps", xla=not group["foreach"])
            update = _foreach_update if group["foreach"] else _single_update
            for p, state in zip(params, states):
                state["step"] += 1
                update(p, state, group, _grad_of(p, group["maximize"]))
        return loss


def _single_update(p, state, group, grad):
    """PyTorch's per-parameter ASGD: decay, step by eta, then average (a copy until t0 is passed)."""
    lambd, wd = group["lambd"], group["weight_decay"]
    if wd != 0:
        grad = grad.add(p, alpha=wd)
    param, grad, ax = _as_real(p, grad, state["ax"])
    eta = state["eta"].item()
    param.mul_(1 - lambd * eta)
    param.add_(grad, alpha=-eta)
    if state["mu"].item() != 1:
        ax.add_(param.sub(ax).mul_(state["mu"]))
    else:
        ax.copy_(param)
    _next_eta_mu(state, group, state["step"].item())


def _foreach_update(p, state, group, grad):
    """PyTorch's foreach ASGD: p -= eta * (grad + (wd + lambd) p) as one addcmul, ax always by addcmul with mu,
    and the next eta from the float32 step tensor."""
    lambd, wd = group["lambd"], group["weight_decay"]
    param, grad, ax = _as_real(p, grad, state["ax"])
    intermediate = grad.add(param, alpha=wd) if wd != 0 else grad
    intermediate = intermediate.add(param, alpha=lambd)
    param.addcmul_(intermediate, state["eta"], value=-1)
    ax.addcmul_(param.sub(ax), state["mu"])
    _next_eta_mu(state, group, state["step"])


def _next_eta_mu(state, group, step):
    lr, lambd, alpha, t0 = _to_scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
    state["eta"].copy_(as_tensor(lr / ((1 + lambd * lr * step) ** alpha)))
    step = step.item() if hasattr(step, "item") else step
    state["mu"].copy_(as_tensor(1 / max(1, step - t0)))
