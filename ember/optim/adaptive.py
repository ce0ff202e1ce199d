"""torch.optim.Adadelta, Adagrad, RMSprop and Rprop: per-coordinate step sizes from gradient history."""
from .._creation import full_like, zeros_like
from .._tensor import Tensor
from . import _foreach as F
from .optimizer import Optimizer, _as_real, _check_fused_once, _check_lr, _check_nonnegative, _scalar, _step_tensor

__all__ = ["Adadelta", "Adagrad", "RMSprop", "Rprop"]


def _l2(p, grad, wd):
    return grad.add(p, alpha=wd) if wd != 0 else grad


def _raw_grads(xp, params, h):
    """The gradients as raw arrays, negated under maximize and with L2 weight decay added (new arrays then)."""
    ps, grads = F.arrays(params), F.arrays([p.grad for p in params])
    if h.maximize:
        grads = F.neg(xp, grads)
    weight_decay = getattr(h, "weight_decay", 0)
    return ps, (F.add(xp, grads, ps, weight_decay) if weight_decay != 0 else grads)


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012); default lr 1.0, rho 0.9, eps 1e-6."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _capturable_xla = False
    _loop_is_foreach = True

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

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        state["square_avg"] = zeros_like(p)
        state["acc_delta"] = zeros_like(p)

    def _hyperparameters(self, group, foreach):
        h = super()._hyperparameters(group, foreach)
        h.lr = _scalar(group["lr"])
        return h

    def _update(self, p, grad, state, h):
        # v <- rho v + (1 - rho) g^2;  d <- sqrt(u + eps) / sqrt(v + eps) g;  u <- rho u + (1 - rho) d^2;  p <- p - lr d
        rho, eps = h.rho, h.eps
        grad = _l2(p, grad, h.weight_decay)
        param, grad, square_avg, acc_delta = _as_real(p, grad, state["square_avg"], state["acc_delta"])
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        if h.differentiable:
            delta = delta.clone()  # NOTE: sqrt_'s output is saved for backward; PyTorch clones it too
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-h.lr)

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        rho, eps = h.rho, h.eps
        ps, grads = _raw_grads(xp, params, h)
        square_avgs, acc_deltas = F.state_arrays(states, "square_avg"), F.state_arrays(states, "acc_delta")
        F.mul_(square_avgs, rho)
        F.addcmul_(xp, square_avgs, grads, grads, 1 - rho)
        stds = [xp.add(v, eps) for v in square_avgs]
        F.sqrt_(xp, stds)
        deltas = [xp.add(u, eps) for u in acc_deltas]
        F.sqrt_(xp, deltas)
        for delta, std, grad in zip(deltas, stds, grads):
            delta /= std
            delta *= grad
        F.mul_(acc_deltas, rho)
        F.addcmul_(xp, acc_deltas, deltas, deltas, 1 - rho)
        F.add_(xp, ps, deltas, -h.lr)
        F.bump(params)
        F.bump([s["square_avg"] for s in states], 2)
        F.bump([s["acc_delta"] for s in states], 2)


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
                self._init_state(p, group, self.state[p])

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        init = group["initial_accumulator_value"]
        state["sum"] = full_like(p, complex(init, init) if p.is_complex() else init)

    def share_memory(self):
        """Move the state sums into shared memory (Tensor.share_memory_), for Hogwild-style training."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def _check_group(self, group, params):
        _check_fused_once(self, group, params)
        if group["fused"] and any(p.is_complex() for p in params):
            raise RuntimeError("`fused` does not support sparse grad or complex param")

    def _check_group_state(self, group, params):
        pass

    def _raw_ok(self, h):
        return not isinstance(h.lr, Tensor)

    def _update(self, p, grad, state, h):
        # s <- s + g^2;  p <- p - lr / (1 + (t - 1) lr_decay) g / (sqrt(s) + eps)
        if grad._sparse:
            return self._update_sparse(p, grad, state, h)
        grad = _l2(p, grad, h.weight_decay)
        clr = _scalar(h.lr / (1 + (state["step"].item() - 1) * h.lr_decay))
        param, grad, state_sum = _as_real(p, grad, state["sum"])
        state_sum.addcmul_(grad, grad, value=1)
        param.addcdiv_(grad, state_sum.sqrt().add_(h.eps), value=-clr)

    def _update_sparse(self, p, grad, state, h):
        # the same update on the rows the sparse gradient has (coalesced): s[rows] += g^2; p[rows] -= clr g / (sqrt(s[rows]) + eps)
        if h.weight_decay != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        from .._sparse import _make, sparse_mask
        clr = _scalar(h.lr / (1 + (state["step"].item() - 1) * h.lr_decay))
        grad = grad.coalesce()
        values = grad._vals
        state["sum"].add_(_make(grad._idx, values.pow(2), grad.shape, True))
        std = sparse_mask(state["sum"], grad)._vals.sqrt().add_(h.eps)
        p.add_(_make(grad._idx, values / std, grad.shape, True), alpha=-clr)

    def _update_foreach(self, params, states, h):
        # NOTE: PyTorch's foreach Adagrad scales the gradient by -clr before the division (the loop after it)
        xp = F.xp_of(params)
        ps, grads = _raw_grads(xp, params, h)
        minus_clr = F.per_step([s["step"] for s in states], lambda t: -h.lr / (1 + (t - 1) * h.lr_decay))
        sums = F.state_arrays(states, "sum")
        F.addcmul_(xp, sums, grads, grads, 1)
        stds = F.sqrt(xp, sums)
        F.add_scalar_(stds, h.eps)
        numerators = [xp.multiply(g, c) for g, c in zip(grads, minus_clr)]
        F.addcdiv_(xp, ps, numerators, stds)
        F.bump(params)
        F.bump([s["sum"] for s in states])


class RMSprop(Optimizer):
    """RMSprop; default lr 1e-2, alpha 0.99, eps 1e-8 (added outside the square root)."""

    _group_defaults = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                       "differentiable": False, "capturable": False}
    _loop_is_foreach = True

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

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        state["square_avg"] = zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)

    def _check_group_state(self, group, params):
        super()._check_group_state(dict(group, foreach=False), params)

    def _hyperparameters(self, group, foreach):
        h = super()._hyperparameters(group, foreach)
        h.lr = _scalar(group["lr"])
        return h

    def _update(self, p, grad, state, h):
        # v <- a v + (1 - a) g^2;  centered: m <- lerp(m, g, 1 - a), v~ = v - m^2;
        # b <- mu b + g / (sqrt(v~) + eps), p <- p - lr b  (without momentum p <- p - lr g / (sqrt(v~) + eps))
        alpha, eps, momentum = h.alpha, h.eps, h.momentum
        grad = _l2(p, grad, h.weight_decay)
        extra = [state[k] for k in ("grad_avg", "momentum_buffer") if k in state]
        param, grad, square_avg, *extra = _as_real(p, grad, state["square_avg"], *extra)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if h.centered:
            grad_avg = extra[0]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = extra[-1]
            buf.mul_(momentum).addcdiv_(grad, avg)
            param.add_(buf, alpha=-h.lr)
        else:
            param.addcdiv_(grad, avg, value=-h.lr)

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        alpha = h.alpha
        ps, grads = _raw_grads(xp, params, h)
        square_avgs = F.state_arrays(states, "square_avg")
        F.mul_(square_avgs, alpha)
        F.addcmul_(xp, square_avgs, grads, grads, 1 - alpha)
        F.bump([s["square_avg"] for s in states], 2)
        if h.centered:
            grad_avgs = F.state_arrays(states, "grad_avg")
            F.lerp_(xp, grad_avgs, grads, 1 - alpha)
            F.bump([s["grad_avg"] for s in states])
            avgs = [xp.copy(v) for v in square_avgs]
            F.addcmul_(xp, avgs, grad_avgs, grad_avgs, -1)
            F.sqrt_(xp, avgs)
        else:
            avgs = F.sqrt(xp, square_avgs)
        F.add_scalar_(avgs, h.eps)
        if h.momentum > 0:
            bufs = F.state_arrays(states, "momentum_buffer")
            F.mul_(bufs, h.momentum)
            F.addcdiv_(xp, bufs, grads, avgs)
            F.bump([s["momentum_buffer"] for s in states], 2)
            F.add_(xp, ps, bufs, -h.lr)
        else:
            F.addcdiv_(xp, ps, grads, avgs, -h.lr)
        F.bump(params)


class Rprop(Optimizer):
    """Rprop: per-coordinate step sizes grown by etas[1] while the gradient's sign holds, shrunk by etas[0]."""

    _group_defaults = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _loop_is_foreach = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        state["prev"] = zeros_like(p)
        lr = _scalar(group["lr"])
        # NOTE: a complex parameter is two independent reals, so the imaginary part gets lr too
        state["step_size"] = full_like(p, complex(lr, lr) if p.is_complex() else lr)

    def _check_group_state(self, group, params):
        super()._check_group_state(dict(group, foreach=False), params)

    def _update(self, p, grad, state, h):
        # s <- clamp(s * (eta+ where g g_prev > 0, eta- where < 0, else 1));  g <- 0 where the sign flipped;
        # p <- p - sign(g) s;  g_prev <- g
        etaminus, etaplus = h.etas
        step_min, step_max = h.step_sizes
        param, grad, prev, step_size = _as_real(p, grad, state["prev"], state["step_size"])
        # NOTE: the factor is etaplus where the sign held, etaminus where it flipped, 1 where one was 0
        factor = grad.mul(prev.clone() if h.differentiable else prev).sign()
        held, flipped, unknown = factor.gt(0), factor.lt(0), factor.eq(0)
        factor[held] = etaplus
        factor[flipped] = etaminus
        factor[unknown] = 1
        step_size.mul_(factor).clamp_(step_min, step_max)
        grad = grad.clone()
        grad[flipped] = 0
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)

    def _update_foreach(self, params, states, h):
        xp = F.xp_of(params)
        etaminus, etaplus = h.etas
        step_min, step_max = h.step_sizes
        ps, grads = _raw_grads(xp, params, h)
        for p, grad, state in zip(ps, grads, states):
            prev, step_size = state["prev"]._data, state["step_size"]._data
            signs = xp.sign(xp.multiply(grad, prev))
            factor = xp.where(signs > 0, etaplus, xp.where(signs < 0, etaminus, 1.0)).astype(p.dtype, copy=False)
            step_size *= factor
            xp.clip(step_size, step_min, step_max, out=step_size)
            grad = xp.where(signs < 0, p.dtype.type(0), grad)
            term = xp.sign(grad)
            term *= step_size
            p -= term
            prev[...] = grad
        F.bump(params)
        F.bump([s["step_size"] for s in states], 2)
        # NOTE: PyTorch's foreach Rprop writes prev by copy_, a neg_ under maximize, then the flipped zeros
        F.bump([s["prev"] for s in states], (2 + h.maximize) if h.foreach else 1)
