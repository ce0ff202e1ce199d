"""torch.nn.utils.clip_grad_norm_ / clip_grads_with_norm_ / clip_grad_value_: rescale or clamp gradients in place."""
import math
import warnings

from ... import _creation
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(t, p):
    if t._sparse:  # NOTE: as PyTorch's linalg.vector_norm, which has no sparse kernel
        from ...sparse._surface import not_implemented
        raise not_implemented("linalg_vector_norm", t)
    a = t.abs()
    if p == math.inf:
        return a.max() if a.numel() else a.sum()
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (a != 0).sum().to(t.dtype)
    return (a ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (as if they were concatenated into one vector)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    p = float(norm_type)
    if not tensors:
        return _creation.tensor(0.0)
    with no_grad():
        norms = [_vector_norm(t, p) for t in tensors]
        if p in (math.inf, -math.inf):
            total = norms[0]
            for n in norms[1:]:
                total = total.maximum(n) if p > 0 else total.minimum(n)
        elif p == 0:  # the 0-"norm" of the norms: how many tensors have a nonzero entry
            total = sum(((n != 0).to(n.dtype) for n in norms[1:]), (norms[0] != 0).to(norms[0].dtype))
        else:
            # NOTE: ||(n_1, ..., n_k)||_p computed as (sum n_i^p)^(1/p): one pass, same value as stacking.
            total = sum((n ** p for n in norms[1:]), norms[0] ** p) ** (1.0 / p)
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients so their total norm is at most max_norm; returns the total norm before."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)  # NOTE: read twice (norm, then scaling): a generator would be spent
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale all gradients by min(1, max_norm / (total_norm + 1e-6)), given their precomputed total norm."""
    grads = _grads(parameters)
    if not grads:
        return
    with no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of clip_grad_norm_."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-clip_value, max=clip_value)
