"""torch.optim.SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from .optimizer import Optimizer, _check_fused_once, _check_lr, _closure_loss, _grad_of, _scalar, _use_grad

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum); default lr 1e-3 as PyTorch 2.x."""

    _group_defaults = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                       "fused": False}

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

    @_use_grad
    def step(self, closure=None):
        """One SGD step; returns the closure's loss when given one."""
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr, wd = _scalar(group["lr"]), _scalar(group["weight_decay"])
            momentum, dampening = group["momentum"], group["dampening"]
            params = self._params_with_grad(group)
            _check_fused_once(self, group, params)
            complex_params = [p for p in params if group["fused"] and p.is_complex()]
            if complex_params:
                # NOTE: the fused kernel refuses complex parameters before it updates any parameter
                name = _KERNEL_NAMES[str(complex_params[0].dtype)]
                raise NotImplementedError(f'"fused_sgd_kernel" not implemented for \'{name}\'')
            for p in params:
                grad = _grad_of(p, group["maximize"])
                if wd != 0:
                    grad = grad.add(p, alpha=wd)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        # NOTE: the first step stores the grad itself, without dampening (as PyTorch)
                        buf = grad.detach().clone()
                        state["momentum_buffer"] = buf
                    else:
                        buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
                p.add_(grad, alpha=-lr)
        return loss


_KERNEL_NAMES = {"torch.complex64": "ComplexFloat", "torch.complex128": "ComplexDouble", "torch.complex32": "ComplexHalf"}

