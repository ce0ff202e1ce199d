"""torch.optim.ASGD: averaged stochastic gradient descent (Polyak and Juditsky 1992)."""
from .._creation import as_tensor, ones, zeros, zeros_like
from .._dtype import float32
from .optimizer import Optimizer, _as_real, _check_lr, _check_nonnegative, _closure_loss, _grad_of, _scalar, _use_grad

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

    @_use_grad
    def step(self, closure=None):
        """One ASGD step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = _scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            wd = group["weight_decay"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    # NOTE: step, eta and mu are float32 0-d tensors in PyTorch; eta's rounding shows in p
                    state["step"] = zeros((), dtype=float32)
                    state["eta"] = as_tensor(lr, dtype=float32).clone().detach()
                    state["mu"] = ones((), dtype=float32)
                    state["ax"] = zeros_like(p)
                grad = _grad_of(p, group["maximize"])
                state["step"] += 1
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
                t = state["step"].item()
                state["eta"].copy_(as_tensor(lr / ((1 + lambd * lr * t) ** alpha)))
                state["mu"].copy_(as_tensor(1 / max(1, t - t0)))
        return loss
