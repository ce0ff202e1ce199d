"""torch.optim.ASGD: averaged stochastic gradient descent (Polyak and Juditsky 1992)."""
from .._creation import as_tensor, ones, zeros, zeros_like
from .._dtype import float32
from .optimizer import Optimizer, _as_real, _check_lr, _check_nonnegative, _to_scalar

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

    def _init_state(self, p, group, state):
        # NOTE: step, eta and mu are float32 0-d tensors in PyTorch; eta's rounding shows in p
        state["step"] = zeros((), dtype=float32)
        state["eta"] = as_tensor(_to_scalar(group["lr"]), dtype=float32).clone().detach()
        state["mu"] = ones((), dtype=float32)
        state["ax"] = zeros_like(p)

    _capturable_what = "params, mus, etas, and state_steps"

    def _update(self, p, grad, state, h):
        (_foreach_update if h.foreach else _single_update)(p, state, h, grad)


def _single_update(p, state, h, grad):
    """PyTorch's per-parameter ASGD: decay, step by eta, then average (a copy until t0 is passed)."""
    lambd, wd = h.lambd, h.weight_decay
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
    _next_eta_mu(state, h, state["step"].item())


def _foreach_update(p, state, h, grad):
    """PyTorch's foreach ASGD: p -= eta * (grad + (wd + lambd) p) as one addcmul, ax always by addcmul with mu,
    and the next eta from the float32 step tensor."""
    lambd, wd = h.lambd, h.weight_decay
    param, grad, ax = _as_real(p, grad, state["ax"])
    intermediate = grad.add(param, alpha=wd) if wd != 0 else grad
    intermediate = intermediate.add(param, alpha=lambd)
    param.addcmul_(intermediate, state["eta"], value=-1)
    ax.addcmul_(param.sub(ax), state["mu"])
    _next_eta_mu(state, h, state["step"])


def _next_eta_mu(state, h, step):
    lr, lambd, alpha, t0 = h.lr, h.lambd, h.alpha, h.t0
    state["eta"].copy_(as_tensor(lr / ((1 + lambd * lr * step) ** alpha)))
    step = step.item() if hasattr(step, "item") else step
    state["mu"].copy_(as_tensor(1 / max(1, step - t0)))
