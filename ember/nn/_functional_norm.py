"""torch.nn.functional's normalisation layers (batch/layer/group/instance/RMS norm, LRN)."""
import math

from .. import _arguments, _creation, _dtype
from .._ops.nn import normalization as _norm
from .._ops._registry import FUNCTIONS as _TORCH, bind as _bind
from .._tensor import Tensor

__all__ = ["layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm"]


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


_HALF = (_dtype.float16, _dtype.bfloat16)


def _check_dtypes(kernel, input, params, kernel_first=False):
    """PyTorch's CPU dtype rules: parameters share the input's dtype, except float32 ones with a
    float16/bfloat16 input; an input that is not floating point has no kernel."""
    def no_kernel():
        if not input.is_floating_point():
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\'')
    if kernel_first:
        no_kernel()
    present = [p for p in params if p is not None]
    if any(p.dtype != input.dtype for p in present):
        if any(p.dtype != _dtype.float32 for p in present):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input.dtype not in _HALF:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    no_kernel()


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
    _check_dtypes("LayerNormKernelImpl", input, (weight, bias))
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


def _check_channels(input, tensors, repeat=1):
    """PyTorch's per-channel size checks; instance norm's tensors are checked repeated per instance."""
    c = input.shape[1] * repeat
    for name, t in tensors:
        if t is not None and t.numel() * repeat != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel() * repeat}")


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
    _check_dtypes("batch_norm", input, (weight, bias, running_mean, running_var), kernel_first=True)
    return _norm.BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                                 0.0 if momentum is None else momentum, eps)


def _torch_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    """torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)."""
    return _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each of `num_groups` channel groups per instance, then a per-channel affine."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {_shape_list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            # NOTE: PyTorch's bias message shows the weight's shape ([0] without weight); kept as is
            shown = t if name == "weight" else weight
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {_shape_list(shown.shape) if shown is not None else '[0]'} "
                               f"and input of shape {_shape_list(input.shape)}")
    _check_dtypes("GroupNormKernelImpl", input, (weight, bias))
    view = (n, num_groups, input.numel() // (n * num_groups) if n * num_groups else 0)
    wshape = (c,) + (1,) * (input.dim() - 2)
    return _norm.GroupNorm.apply(input, weight, bias, view, (2,), wshape, eps)


def _verify_spatial_size(size):
    count = 1
    for s in size[2:]:
        count *= s
    if count == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size!r}")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """Normalise each channel of each instance over its spatial dims; running statistics (if
    given) are updated with the batch's average of the instances' statistics."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    return _instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


def _instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps):
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    if input.dim() < 2:
        input.size(1)
    _check_channels(input, (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                            ("bias", bias)), input.shape[0])
    _check_dtypes("batch_norm", input, (weight, bias, running_mean, running_var), kernel_first=True)
    return _norm.InstanceNorm.apply(input, weight, bias, running_mean, running_var, bool(use_input_stats),
                                    0.0 if momentum is None else momentum, eps)


def _torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                         cudnn_enabled):
    """torch.instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled)."""
    return _instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


def _torch_group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """torch.group_norm(input, num_groups, weight, bias, eps, cudnn_enabled)."""
    return group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2 over the trailing dims) + eps) * weight; eps=None is the float32 (or
    float64) machine epsilon, computed in float32 for half inputs as PyTorch."""
    shape = _int_tuple(normalized_shape, "rms_norm", "normalized_shape", 2)
    k = len(shape)
    if input.dim() < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.dim()}")
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if tuple(input.shape[-k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={_shape_list(shape)}, expected input with shape "
                           f"[*{', '.join(str(s) for s in shape)}], but got input of size{_shape_list(input.shape)}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{_shape_list(weight.shape)} and normalized_shape = {_shape_list(shape)}")
    x = input.float() if input.dtype in (_dtype.float16, _dtype.bfloat16) else input
    if eps is None:
        eps = _dtype.finfo(x.dtype).eps
    dims = tuple(range(-k, 0))
    y = x * (x.square().mean(dims, keepdim=True) + eps).rsqrt()
    y = y.to(input.dtype)
    return y if weight is None else y * weight


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta (zero padded)."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input.mul(input)
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    pad_shape = list(input.shape)
    pad_shape[1] = before
    parts = [_creation.zeros(pad_shape, dtype=sq.dtype, device=sq.device), sq]
    pad_shape[1] = after
    parts.append(_creation.zeros(pad_shape, dtype=sq.dtype, device=sq.device))
    padded = _TORCH["cat"](parts, 1)
    # NOTE: a loop over the window's offsets (size), never over channels or positions
    acc = padded.narrow(1, 0, c)
    for j in range(1, size):
        acc = acc + padded.narrow(1, j, c)
    div = (acc / size).mul(alpha).add(k).pow(beta)
    return input / div


def _torch_layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """torch.layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable)."""
    return layer_norm(input, normalized_shape, weight, bias, eps)


_bind("layer_norm", _torch_layer_norm)
_bind("batch_norm", _torch_batch_norm)
_bind("instance_norm", _torch_instance_norm)
_bind("group_norm", _torch_group_norm)
_bind("rms_norm", rms_norm)
