"""torch.nn.functional's normalisation layers (batch/layer/group/instance/RMS norm, LRN)."""
import math

from .. import _arguments
from .._ops import nn_norm as _norm
from .._ops._registry import FUNCTIONS as _TORCH
from .._tensor import Tensor

__all__ = ["layer_norm", "batch_norm"]


def _shape_list(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _int_tuple(value, fn, arg, position):
    """PyTorch's int[] parsing of a shape argument: a tuple of ints (an int only where it says so)."""
    if isinstance(value, Tensor) or not isinstance(value, (tuple, list)):
        if _arguments._is_int(value) and not isinstance(value, Tensor):
            raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be tuple of ints, not int")
        raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be tuple of ints, "
                        f"not {_arguments.type_name(value)}")
    _arguments.check_dim(tuple(value), fn, arg)
    return tuple(int(v) for v in value)


def _check_layer_norm(input, shape, weight, bias, what="normalized_shape"):
    if not shape:
        raise RuntimeError(f"Expected {what} to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got {what} = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as {what}, but got {name} of shape "
                               f"{_shape_list(t.shape)} and {what} = {_shape_list(shape)}")
    k = len(shape)
    if input.dim() < k or tuple(input.shape[-k:]) != shape:
        raise RuntimeError(f"Given {what}={_shape_list(shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
                           f"{_shape_list(input.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing `normalized_shape` dims (biased variance), then scale and shift."""
    shape = _int_tuple(normalized_shape, "layer_norm", "normalized_shape", 2)
    _check_layer_norm(input, shape, weight, bias)
    k = len(shape)
    lead = tuple(input.shape[:-k])
    view = lead + (math.prod(shape),)
    return _norm.LayerNorm.apply(input, weight, bias, view, (len(lead),), None, eps)


def _verify_batch_size(size):
    count = size[0]
    for s in size[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size!r}")


def _check_channels(input, tensors):
    c = input.shape[1]
    for name, t in tensors:
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-05):
    """Per-channel normalisation (dim 1) with batch statistics in training (running statistics
    updated in place) or the running statistics in eval."""
    if training:
        _verify_batch_size(input.size())
    return _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    if input.dim() < 2:
        input.size(1)  # NOTE: PyTorch's IndexError for a dim out of range
    if not training:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
    _check_channels(input, (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                            ("bias", bias)))
    return _norm.BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                                 0.0 if momentum is None else momentum, eps)


def _torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)."""
    return _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def _torch_layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """torch.layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable)."""
    return layer_norm(input, normalized_shape, weight, bias, eps)


_TORCH.setdefault("layer_norm", _torch_layer_norm)
_TORCH.setdefault("batch_norm", _torch_batch_norm)
