"""torch.nn.functional's losses (re-exported by ember/nn/functional.py, which holds the rest).

Each is composed from ember ops, except binary_cross_entropy's clamped primitive (ember/_ops/nn/loss.py).
"""
import math as _math
import warnings as _warnings

from .. import _creation, _dtype, _state
from .._ops.nn import loss as _loss
from .._ops._registry import FUNCTIONS as _TORCH
from .._tensor import broadcast_shapes as _broadcast_shapes
from ..func._batching.tensor import is_batched
# NOTE: functional.py imports this module at its end, so these are already defined there.
from .functional import log_softmax, logsigmoid, pairwise_distance



def _legacy_reduction(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else ("sum" if reduce else "none")
    _warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                   stacklevel=3)
    return result


def _reduction(size_average, reduce, reduction):
    """The reduction to use: the legacy size_average/reduce pair wins when either is given."""
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    return reduction


def _check_reduction(reduction):
    if reduction == "elementwise_mean":
        _warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                       stacklevel=4)
    elif reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _warn_size(input, target):
    if target.shape != input.shape:
        _warnings.warn(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                       "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                       "same size.", stacklevel=3)


def _regression_reduction(size_average, reduce, reduction, weight):
    if weight is None:
        return _reduction(size_average, reduce, reduction)
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    return reduction


def _weighted(errors, input, reduction, weight, mean_by_weight=True):
    """A regression loss from its elementwise errors; with weight, 'mean' divides by the sum of the weights."""
    if weight is None:
        return _reduce(errors, reduction)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    weighted = errors * weight
    if reduction == "mean" and mean_by_weight:
        return weighted.sum() / weight.sum()
    return _reduce(weighted, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean (or sum) of |input - target|."""
    _warn_size(input, target)
    reduction = _regression_reduction(size_average, reduce, reduction, weight)
    input, target = _TORCH["broadcast_tensors"](input, target)
    return _weighted((input - target).abs(), input, reduction, weight)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean (or sum) of (input - target) ** 2."""
    _warn_size(input, target)
    reduction = _regression_reduction(size_average, reduce, reduction, weight)
    input, target = _TORCH["broadcast_tensors"](input, target)
    diff = input - target
    return _weighted(diff * diff, input, reduction, weight)


def _smooth_l1(diff, beta):
    absolute = diff.abs()
    if beta == 0:
        return absolute
    return (absolute * absolute * (0.5 / beta)).where(absolute < beta, absolute - 0.5 * beta)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d**2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = input - target)."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    input, target = _TORCH["broadcast_tensors"](input, target)
    return _reduce(_smooth_l1(input - target, beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d**2 where |d| < delta, delta * (|d| - delta / 2) elsewhere (d = input - target)."""
    _warn_size(input, target)
    if weight is None:
        _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    input, target = _TORCH["broadcast_tensors"](input, target)
    diff = input - target
    absolute = diff.abs()
    errors = (0.5 * diff * diff).where(absolute < delta, delta * (absolute - 0.5 * delta))
    return _weighted(errors, input, reduction, weight, mean_by_weight=False)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) with each log clamped at -100; input must lie in [0, 1]."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    loss = _loss.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _expand_weight(weight, target)
    return _reduce(loss, reduction)


def _expand_weight(weight, target):
    """weight broadcast to target's shape (PyTorch's expand error when it cannot be)."""
    for i in range(1, weight.dim() + 1):
        w = weight.shape[-i]
        t = target.shape[-i] if i <= target.dim() else 1
        if w != 1 and w != t:
            raise RuntimeError(f"Attempting to broadcast a dimension of length {w} at {-i}! Mismatching argument at "
                               f"index 1 had {weight.size()}; but expected shape should be broadcastable to "
                               f"{list(target.shape)}")
    return weight.expand(_broadcast_shapes(target.shape, weight.shape))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) in one stable expression; pos_weight scales the positive terms."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is not None and t.requires_grad and _state.local.grad_enabled:
            raise RuntimeError(f"The function 'binary_cross_entropy_with_logits' is not differentiable with "
                               f"respect to argument '{name}'. This input cannot have requires_grad True.")
    loss = _loss.BinaryCrossEntropyWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _nll_shapes(input, target):
    """PyTorch's checks of nll_loss's input and target shapes."""
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if input.dim() == 1:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(f"Expected input batch_size (1) to match target batch_size ({target.shape[0]}).")
        return
    if target.dim() == 0 or target.shape[0] != input.shape[0]:
        got = target.shape[0] if target.dim() else 1
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({got}).")
    if input.dim() == 2:
        if target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    if input.dim() == 4:
        if target.dim() != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {target.dim()}")
        if tuple(target.shape[1:]) != tuple(input.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
        return
    expected = [input.shape[0]] + list(input.shape[2:])
    if list(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")


def _check_target_dtype(target):
    if target.dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype.scalar_type_name(target.dtype)}")


def _check_class_weight(weight, n_classes, input):
    if weight is None:
        return
    if weight.dim() != 1 or weight.numel() != n_classes:
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(weight.dtype)}")


def _class_picks(input, target, weight, ignore_index):
    """For each target: the input's entry at its class (class dim 1, or 0 for (C,) input), and its weight
    (0 where ignored)."""
    class_dim = 1 if input.dim() > 1 else 0
    n_classes = input.shape[class_dim]
    target = target.long()
    if input.dim() == 1:
        target = target.reshape(())  # NOTE: (C,) input gives a 0-d loss even for a (1,) target, as PyTorch
    valid = target != ignore_index
    safe = target.where(valid, 0)
    bad = (safe < 0) | (safe >= n_classes)
    backend = target._device.backend
    if not is_batched(bad):  # NOTE: inside vmap the gather below checks the targets' bounds (its own message)
        backend.check(bad.any()._data,
                      lambda safe=safe: IndexError(f"Target {int(safe[bad].flatten()[0])} is out of bounds."))
    if not backend.cheap_reads:
        safe = target.where(valid & bad.logical_not(), 0)  # NOTE: the check is deferred: gather in bounds
    if input.dim() == 1:
        picked = input.gather(0, safe.reshape(1)).reshape(target.shape)
    else:
        picked = input.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(input.dtype)
    if weight is not None:
        w = weight.index_select(0, safe.flatten()).reshape(safe.shape) * w
    return picked, w, valid


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[n, target[n]] * weight[target[n]]; 'mean' divides by the sum of the weights of the targets used."""
    reduction = _reduction(size_average, reduce, reduction)
    _nll_shapes(input, target)
    _check_target_dtype(target)
    _check_class_weight(weight, input.shape[1 if input.dim() > 1 else 0], input)
    picked, w, _ = _class_picks(input, target, weight, ignore_index)
    loss = -picked * w
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """nll_loss(log_softmax(input, class dim), target) for class indices; for class probabilities of input's
    shape, -sum(target * log_softmax(input)) over the class dim."""
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing:g}")
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    class_dim = 1 if input.dim() > 1 else 0
    n_classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    class_shape = [1] * input.dim()
    class_shape[class_dim] = n_classes
    if target.shape == input.shape:
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, class_dim, class_shape)
    _nll_shapes(input, target)
    _check_target_dtype(target)
    _check_class_weight(weight, n_classes, input)
    picked, w, valid = _class_picks(logp, target, weight, ignore_index)
    nll = -picked * w
    if label_smoothing == 0:
        return _reduce_nll(nll, w, reduction)
    # NOTE: PyTorch mixes the class-index loss with a uniform target: (1 - e) * nll + e / C * smooth, where
    # smooth is -sum_c weight_c * logp_c; both are averaged by the same sum of target weights.
    terms = logp if weight is None else logp * weight.reshape(class_shape)
    smooth = -terms.sum(class_dim) * valid.to(logp.dtype)
    return (1 - label_smoothing) * _reduce_nll(nll, w, reduction) + \
        _reduce_nll(smooth, w, reduction) * (label_smoothing / n_classes)


def _reduce_nll(loss, w, reduction):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, class_dim, class_shape):
    if not target.is_floating_point():
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_dtype.scalar_type_name(target.dtype)}")
    n_classes = class_shape[class_dim]
    if weight is not None:
        _check_class_weight(weight, n_classes, logp)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * weight.reshape(class_shape)
    loss = -terms.sum(class_dim)
    if reduction == "mean":
        return loss.sum() / (logp.numel() // n_classes if n_classes else 0)
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log target - input), input being log-probabilities."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        _warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                       "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                       "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                       stacklevel=2)
    elif reduction != "batchmean":
        _check_reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        zero = target == 0
        # NOTE: 0 * log(0) counts as 0 (xlogy); a negative target gives nan, as in PyTorch.
        tlogt = (target * target.where(zero.logical_not(), 1).log()).where(zero.logical_not(), 0)
        loss = tlogt - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.dim() else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input (log_input) or input - target * log(input + eps); full adds Stirling's term."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        safe = target.where(target > 1, 1)
        stirling = safe * safe.log() - safe + 0.5 * (2 * _math.pi * safe).log()
        loss = loss + stirling.where(target > 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 * (log(var) + (input - target) ** 2 / var), var clamped below at eps (without stopping its gradient)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _creation.ones_like(input) * var
    elif not hasattr(var, "dim"):
        raise TypeError(f"any() received an invalid combination of arguments - got ({type(var < 0).__name__})")
    elif bool((var < 0).any()):  # NOTE: PyTorch reads here too (functional.py: `elif torch.any(var < 0):`)
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.dim() == var.dim() and
                  sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    from ..autograd.grad_mode import no_grad
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * _math.log(2 * _math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.dim() == input2.dim() == target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target is 1, max(0, margin - input) where target is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros = _creation.zeros_like(input)
    margin_part = (margin - input).clamp_min(0).where(target != 1, zeros)
    self_part = input.where(target != -1, zeros)
    return _reduce(margin_part + self_part, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input))."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per sample: the mean over classes of -(t log sigmoid(x) + (1 - t) log sigmoid(-x)), optionally weighted."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def _check_margin_input(input):
    ok = input.dim() == 0 or (input.dim() <= 2 and input.shape[-1] != 0)
    if not ok:
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes k of max(0, 1 - (x[j] - x[k])) / C; target lists class
    indices, ended by the first -1."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.dtype != _dtype.int64:
        raise RuntimeError(f"expected scalar type Long but found {_dtype.scalar_type_name(target.dtype)}")
    _check_margin_input(input)
    if input.dim() <= 1 and target.dim() <= 1:
        if target.numel() != input.numel():
            raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                               f"{list(input.shape)}")
        x, t, batched = input.reshape(1, -1), target.reshape(1, -1), False
    else:
        if input.dim() != 2 or target.shape != input.shape:
            raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                               f"{list(input.shape)}")
        x, t, batched = input, target, True
    n_classes = x.shape[1]
    active = (t != -1).long().cumprod(1).bool()  # the targets before the first -1
    bad = (t < -1) | (t >= n_classes)
    backend = t._device.backend
    backend.check(bad.any()._data, lambda: RuntimeError("argument #2 'target' is out of range"))
    if not backend.cheap_reads:
        active = active & bad.logical_not()  # NOTE: the check is deferred (a device assert in PyTorch): stay in bounds
    safe = t.where(active, 0)
    is_target = _creation.zeros(x.shape, dtype=_dtype.int64, device=x.device).scatter_add(1, safe, active.long()) > 0
    x_target = x.gather(1, safe)  # (N, C): the score of each listed target
    margins = (1 - x_target.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, j, k)
    mask = active.unsqueeze(2) & is_target.logical_not().unsqueeze(1)
    loss = (margins * mask).sum((1, 2)) / n_classes
    if not batched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over classes j != y of max(0, margin - x[y] + x[j]) ** p * weight[y] / C."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_input(input)
    x = input.reshape(1, -1) if input.dim() < 2 else input
    t = target.reshape(-1)
    if target.dtype != _dtype.int64:
        raise RuntimeError(f"expected scalar type Long but found {_dtype.scalar_type_name(target.dtype)}")
    n_classes = x.shape[1]
    if target.dim() > 1 or t.numel() != x.shape[0]:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{x.shape[0]}], but got "
                           f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    bad = (t < 0) | (t >= n_classes)
    backend = t._device.backend
    backend.check(bad.any()._data, lambda: RuntimeError("target out of range"))
    if not backend.cheap_reads:
        t = t.where(bad.logical_not(), 0)  # NOTE: the check is deferred (a device assert in PyTorch): stay in bounds
    x_target = x.gather(1, t.unsqueeze(1))
    terms = (margin - x_target + x).clamp_min(0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * weight.index_select(0, t).unsqueeze(1)
    not_target = _creation.arange(n_classes, device=t.device) != t.unsqueeze(1)  # NOTE: one_hot reads its bounds
    loss = (terms * not_target).sum(1) / n_classes
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    sizes = f"{list(input1.shape)} and {list(input2.shape)}."
    if target.dim() == 1:
        if input1.dim() != 2 or input2.dim() != 2:
            raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with sizes " + sizes)
    elif target.dim() == 0:
        if input1.dim() != 1 or input2.dim() != 1:
            raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with sizes " + sizes)
    else:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    dim = input1.dim() - 1
    eps = 1e-12
    dot = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = dot / (mag1 * mag2).sqrt()
    zeros = _creation.zeros_like(cos)
    where = _TORCH["where"]
    positive = where(target == 1, 1 - cos, zeros)
    negative = where(target == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(positive + negative, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm pairwise distance."""
    reduction = _reduction(size_average, reduce, reduction)
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = d_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance d (pairwise_distance by default)."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pos, neg = anchor.dim(), positive.dim(), negative.dim()
    if not a == pos == neg:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {pos}D, and negative {neg}D inputs")
    distance = distance_function if distance_function is not None else pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)
