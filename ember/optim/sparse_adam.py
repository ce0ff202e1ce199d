"""torch.optim.SparseAdam: lazy Adam for sparse gradients (dense gradients are refused, as PyTorch): only
the rows a sparse gradient holds (nn.Embedding(sparse=True): the looked-up rows) have their moments and
values updated; the others keep theirs until a gradient reaches them."""
import math

from .optimizer import Optimizer, _check_betas, _closure_loss

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """SparseAdam: Adam's moments and update on the rows of each sparse gradient."""

    _tensor_step = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        from .._tensor import Tensor
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[gi, pi] for gi, group in enumerate(self.param_groups)
                          for pi, p in enumerate(group["params"]) if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    def step(self, closure=None):
        """One step: for each parameter with a (coalesced) sparse gradient g on rows R, with m and v the
        moments: m[R] += (1 - b1)(g - m[R]); v[R] += (1 - b2)(g^2 - v[R]);
        p[R] -= lr sqrt(1 - b2^t) / (1 - b1^t) m[R] / (sqrt(v[R]) + eps)."""
        from .._creation import zeros_like
        from .._sparse import _make, sparse_mask
        from ..autograd.grad_mode import no_grad
        loss = _closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad
                    if not grad._sparse:
                        raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam "
                                           "instead")
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = zeros_like(p)
                        state["exp_avg_sq"] = zeros_like(p)
                    state["step"] += 1
                    grad = (-grad if group["maximize"] else grad).coalesce()
                    rows, values = grad._idx, grad._vals
                    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                    # NOTE: each moment moves by (1 - b)(new - old) on the gradient's rows, as PyTorch computes it
                    old_avg = sparse_mask(exp_avg, grad)._vals
                    avg_step = (values - old_avg) * (1 - beta1)
                    exp_avg.add_(_make(rows, avg_step, grad.shape, True))
                    old_sq = sparse_mask(exp_avg_sq, grad)._vals
                    sq_step = (values.pow(2) - old_sq) * (1 - beta2)
                    exp_avg_sq.add_(_make(rows, sq_step, grad.shape, True))
                    numerator = avg_step + old_avg
                    denominator = (sq_step + old_sq).sqrt() + group["eps"]
                    step = state["step"]
                    step_size = group["lr"] * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
                    p.add_(_make(rows, -step_size * (numerator / denominator), grad.shape, True))
        return loss
