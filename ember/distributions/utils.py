"""torch.distributions.utils: broadcasting parameters, probs <-> logits, and the lazy parameter property."""
import numbers

from .._tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values):
    """Broadcast tensors and Python numbers to one shape; numbers take the dtype and device of the first tensor
    (else the default dtype), so `Normal(0., 1.)` and `Normal(t, 1.)` both get tensor parameters."""
    from .. import broadcast_shapes, get_default_dtype, tensor
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        options = (dict(dtype=like.dtype, device=like.device) if like is not None
                   else dict(dtype=get_default_dtype()))
        values = [v if isinstance(v, Tensor) else tensor(v, **options) for v in values]
    # NOTE: a tensor already of the broadcast shape comes back itself (no Expand node), as in PyTorch, so a
    # leaf parameter stays a leaf in reprs and messages.
    shape = broadcast_shapes(*(v.shape for v in values))
    return tuple(v if v.shape == shape else v.expand(shape) for v in values)


def _standard_normal(shape, dtype, device):
    from .. import randn
    return randn(shape, dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    """Sum out the `dim` rightmost dims (an event's log-densities into one)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Sigmoid of binary logits, else softmax over the last dim."""
    from ..nn import functional as F
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamp into [eps, 1 - eps] of the dtype, so logs stay finite."""
    from .. import finfo
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log p (or the binary log-odds log p - log(1 - p)) of clamped probabilities."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed once on first access and stored on the instance (probs from logits or back).
    NOTE: computed with grad enabled, as PyTorch does, so a parameter derived inside no_grad still links
    to its source when used later."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        from .. import enable_grad
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What a lazy_property reads as on the class: a property too, so documentation tools see it."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat, diag=0):
    """The lower triangle (from diagonal `diag`) of the last two dims, row by row, as a vector."""
    from .. import arange
    n = mat.shape[-1]
    if not (-n <= diag < n):
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows = arange(n, device=mat.device)
    return mat[..., rows < rows.view(-1, 1) + (diag + 1)]


def vec_to_tril_matrix(vec, diag=0):
    """Inverse of tril_matrix_to_vec: fill the lower triangle of a square matrix row by row from the vector."""
    from .. import arange, finfo, zeros
    length = vec.shape[-1]
    # NOTE: n is the positive root of n**2 + (1 + 2 diag) n - |diag| (diag + 1) - 2 length = 0.
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * length + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {length} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    n = round(n)
    out = zeros(tuple(vec.shape[:-1]) + (n, n), dtype=vec.dtype, device=vec.device)
    rows = arange(n, device=vec.device)
    out[..., rows < rows.view(-1, 1) + (diag + 1)] = vec
    return out
