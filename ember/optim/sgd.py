"""torch.optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from . import _foreach as F
from .optimizer import Optimizer, _check_fused_once, _check_lr, _scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum); default lr 1e-3 as PyTorch 2.x."""

    _group_defaults = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                       "fused": False}
    _tensor_step = _counts_steps = False
    _loop_is_foreach = True

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def _check_group(self, group, params):
        _check_fused_once(self, group, params)
        complex_params = [p for p in params if group["fused"] and p.is_complex()]
        if complex_params:
            # NOTE: the fused kernel refuses complex parameters before it updates any parameter
            name = _KERNEL_NAMES[str(complex_params[0].dtype)]
            raise NotImplementedError(f'"fused_sgd_kernel" not implemented for \'{name}\'')

    def _check_group_state(self, group, params):
        pass

    def _state_of(self, p, group):
        # NOTE: plain SGD keeps no state at all (PyTorch's state_dict stays empty)
        return self.state[p] if group["momentum"] != 0 else {}

    def _hyperparameters(self, group, foreach):
        h = super()._hyperparameters(group, foreach)
        h.lr, h.weight_decay = _scalar(group["lr"]), _scalar(group["weight_decay"])
        return h

    def _update(self, p, grad, state, h):
        # g <- g + wd p;  b <- mu b + (1 - dampening) g (b = g at first);  g <- g + mu b (Nesterov) or b;  p <- p - lr g
        if h.weight_decay != 0:
            grad = grad.add(p, alpha=h.weight_decay)
        momentum, dampening = h.momentum, h.dampening
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # NOTE: the first step stores the grad itself, without dampening (as PyTorch)
                buf = grad.detach().clone()
                state["momentum_buffer"] = buf
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            grad = grad.add(buf, alpha=momentum) if h.nesterov else buf
        p.add_(grad, alpha=-h.lr)

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        ps, grads = F.arrays(params), F.arrays([p.grad for p in params])
        if h.maximize:
            grads = F.neg(xp, grads)
        if h.weight_decay != 0:
            grads = F.add(xp, grads, ps, h.weight_decay)
        if h.momentum != 0:
            bufs = []
            for p, g, state in zip(params, grads, states):
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = F.new_state(p, g.copy())
                    bufs.append(state["momentum_buffer"]._data)
                else:
                    F.mul_([buf._data], h.momentum)
                    F.add_(xp, [buf._data], [g], 1 - h.dampening)
                    F.bump([buf], 2)
                    bufs.append(buf._data)
            grads = F.add(xp, grads, bufs, h.momentum) if h.nesterov else bufs
        F.add_(xp, ps, grads, -h.lr)
        F.bump(params)


_KERNEL_NAMES = {"torch.complex64": "ComplexFloat", "torch.complex128": "ComplexDouble", "torch.complex32": "ComplexHalf"}
