"""torch.nn.functional: the layers' computations as functions (linear, activations, losses, ...)."""
import math as _math
import warnings as _warnings

from .. import _arguments, _creation, _dtype, _random
from .. import _ops  # noqa: F401  (every op registered before the functions below use them)
from .._ops.nn import activation as _act
from .._ops._registry import FUNCTIONS as _TORCH, apply_inplace as _apply_inplace, bind as _bind
from .._ops.nn.linear import linear_primitive as _linear_primitive
from .._tensor import Tensor as _Tensor, _norm_dim


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias."""
    if isinstance(bias, _Tensor) and isinstance(input, _Tensor) and isinstance(weight, _Tensor):
        op = _linear_primitive(input, weight, bias)
        if op is not None:
            return op.apply(input, weight.t(), bias)
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    """y_k = input1 @ weight[k] @ input2 + bias_k over the last dims."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} "
                           f"and {list(input2.shape[:-1])}")
    left = input1.unsqueeze(-2).unsqueeze(-3).matmul(weight)  # (..., K, 1, J)
    out = (left.squeeze(-2) * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


# === activations ==================================================================================
# NOTE: the primitives live in ember/_ops/nn/activation.py; here are PyTorch's signatures, the
# in-place forms (run out of place, then written back, as every ember in-place op) and argument checks.


def _run(cls, input, inplace, *params):
    if inplace:
        return _apply_inplace(cls, input, *params)
    return cls.apply(input, *params)


def relu(input, inplace=False):
    """max(input, 0)."""
    return input.relu_() if inplace else input.relu()


def relu_(input):
    """In-place relu."""
    return input.relu_()


def relu6(input, inplace=False):
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where positive, negative_slope * input elsewhere."""
    return _run(_act.LeakyRelu, input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clipped to [min_val, max_val]; the gradient is 0 at the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run(_act.Hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def elu(input, alpha=1.0, inplace=False):
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    return _run(_act.Elu, input, inplace, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    """In-place elu."""
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(input, alpha) with SELU's fixed constants."""
    return _run(_act.Elu, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    """In-place selu."""
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _run(_act.Celu, input, inplace, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    """In-place celu."""
    return celu(input, alpha, True)


def gelu(input, approximate="none"):
    """input * Phi(input), Phi the normal CDF (approximate='tanh': PyTorch's tanh formula)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _act.Gelu.apply(input, approximate)


def silu(input, inplace=False):
    """input * sigmoid(input)."""
    return _run(_act.Silu, input, inplace)


def mish(input, inplace=False):
    """input * tanh(softplus(input))."""
    return _run(_act.Mish, input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta; linear where beta * input > threshold."""
    return _act.Softplus.apply(input, beta, threshold)


def softsign(input):
    """input / (1 + |input|)."""
    return input / (input.abs() + 1)


def softshrink(input, lambd=0.5):
    """input -/+ lambd outside [-lambd, lambd], 0 inside."""
    if lambd < 0:
        top = "3.40282e+38" if input.dtype == _dtype.float32 else "1.79769e+308"
        raise RuntimeError(f"lambda must be in range [0, {top}] for input dtype "
                           f"{_dtype.scalar_type_name(input.dtype)}, but found {lambd:g}")
    return _act.Softshrink.apply(input, lambd)


def hardshrink(input, lambd=0.5):
    """input outside [-lambd, lambd], 0 inside."""
    return _act.Hardshrink.apply(input, lambd)


def tanhshrink(input):
    """input - tanh(input)."""
    return input - input.tanh()


def hardsigmoid(input, inplace=False):
    """relu6(input + 3) / 6."""
    return _run(_act.Hardsigmoid, input, inplace)


def hardswish(input, inplace=False):
    """input * relu6(input + 3) / 6."""
    return _run(_act.Hardswish, input, inplace)


def sigmoid(input):
    """1 / (1 + exp(-input))."""
    return input.sigmoid()


def tanh(input):
    """Hyperbolic tangent."""
    return input.tanh()


def logsigmoid(input):
    """log(sigmoid(input)), computed stably."""
    return _act.LogSigmoid.apply(input)


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, value elsewhere."""
    return _run(_act.Threshold, input, inplace, threshold, value)


def threshold_(input, threshold, value):
    """In-place threshold."""
    return _run(_act.Threshold, input, True, threshold, value)


def prelu(input, weight):
    """input where positive, weight * input elsewhere; weight has one value or one per channel (dim 1)."""
    n = weight.numel()
    if input.dim() == 0 and n != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    channels = input.shape[1] if input.dim() >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{n} and channel size = {channels}.")
    if n != 1 and input.dim() >= 2:
        weight = weight.reshape((n,) + (1,) * (input.dim() - 2))
    elif n == 1:
        weight = weight.reshape(())
    return input.where(input > 0, weight * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a slope drawn from U(lower, upper) per element in training, (lower + upper) / 2 in eval."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = _creation.empty_like(input).uniform_(lower, upper)
    noise = (input > 0).to(input.dtype)
    noise = noise + (1 - noise) * slopes
    if inplace:
        return input.mul_(noise)
    return input * noise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, True)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the halves of input along dim."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not input.is_floating_point():
        raise NotImplementedError(f'"glu_cpu" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\'')
    d = _norm_dim(dim, input.dim())
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = input.split(size // 2, d)
    return a * b.sigmoid()


def _softmax_dim(name, ndim, stacklevel):
    _warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                   "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_like(cls, name, input, dim, stacklevel, dtype, negate=False):
    if dim is None:
        dim = _softmax_dim(name, input.dim(), stacklevel + 1)
    if dtype is not None:
        input = input.to(dtype)
    dim = _norm_dim(dim, input.dim())
    if not input.is_floating_point():
        kernel = ("log_" if cls is _act.LogSoftmax else "") + "softmax_" + \
            ("lastdim_" if dim == input.dim() - 1 else "") + "kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(input.dtype)}\'')
    if negate:
        input = -input
    return cls.apply(input, dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(input) / sum(exp(input)) along dim (computed in `dtype` when given)."""
    return _softmax_like(_act.Softmax, "softmax", input, dim, _stacklevel, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along dim."""
    return _softmax_like(_act.Softmax, "softmin", input, dim, _stacklevel, dtype, negate=True)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)), computed stably."""
    return _softmax_like(_act.LogSoftmax, "log_softmax", input, dim, _stacklevel, dtype)


# === tensor utilities: one_hot, normalize, distances, pad ========================================
def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of num_classes (inferred as max + 1 when -1)."""
    if tensor.dtype != _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return _creation.zeros(tuple(tensor.shape) + (num_classes,), dtype=_dtype.int64, device=tensor.device)
    backend = tensor._device.backend
    if num_classes == -1 or backend.cheap_reads:
        if int(tensor.min()) < 0:  # NOTE: PyTorch reads here too when it must infer num_classes (or on the CPU)
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(tensor.max()) + 1
        elif int(tensor.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    else:  # NOTE: on a GPU with num_classes given, PyTorch checks on the device (no synchronisation)
        data = tensor._data
        backend.check((data < 0).any(), lambda: RuntimeError("Class values must be non-negative."))
        backend.check((data >= num_classes).any(),
                      lambda: RuntimeError("Class values must be smaller than num_classes."))
    classes = _creation.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return _TORCH["div"](input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along dim, after broadcasting."""
    x1, x2 = _TORCH["broadcast_tensors"](x1, x2)
    # NOTE: as ATen's cosine_similarity: each vector is normalised by its clamped norm, then summed.
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim."""
    diff = x1 - x2 + eps
    dim = -1 if max(x1.dim(), x2.dim()) > 0 else 0
    if diff.dim() == 0:
        return diff.abs() if not keepdim else diff.abs()
    return diff.norm(p, dim, keepdim=keepdim)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")
_PAD_SUPPORT = ("Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims: pad = (last_left, last_right, 2nd_last_left, ...); negative crops."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode == "constant":
        return _pad_constant(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    n = len(pad) // 2
    if input.dim() not in (n + 1, n + 2) or n > 3:
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
                                  + _PAD_SUPPORT)
    out = input
    for i in range(n):
        dim = input.dim() - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        out = out.index_select(dim, _pad_index(mode, input, dim, left, right, i))
    return out


def _pad_constant(input, pad, value):
    out = input
    for i in range(len(pad) // 2):
        dim = input.dim() - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        size = out.shape[dim]
        if left < 0 or right < 0:
            start, stop = max(-left, 0), size - max(-right, 0)
            if stop - start < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            out = out.narrow(dim, start, stop - start)
        parts = []
        for width, where in ((left, 0), (right, 1)):
            if width > 0:
                shape = list(out.shape)
                shape[dim] = width
                parts.append((where, _creation.full(tuple(shape), value, dtype=out.dtype, device=out.device)))
        if parts:
            pieces = [p for w, p in parts if w == 0] + [out] + [p for w, p in parts if w == 1]
            out = _TORCH["cat"](pieces, dim)
    return out


def _pad_index(mode, input, dim, left, right, i):
    """The source index of each output position along dim, for reflect, replicate or circular padding."""
    size = input.shape[dim]
    if mode == "circular":
        if left > size or right > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
    elif size == 0 or any(input.shape[d] == 0 for d in range(1, input.dim())):
        ndim = input.dim()
        raise RuntimeError(f"Expected {ndim - 1}D or {ndim}D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(input.shape)}")
    if mode == "reflect" and (left >= size or right >= size):
        raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                           f"dimension, but got: padding ({left}, {right}) at dimension {dim} of input "
                           f"{list(input.shape)}")
    if mode == "circular":
        # NOTE: as PyTorch, a negative pad crops first; the other side then wraps around the cropped extent
        start, stop = max(-left, 0), size - max(-right, 0)
        width, lead = stop - start, max(left, 0)
        index = [start + (j - lead) % width for j in range(lead + width + max(right, 0))] if width > 0 else []
        return _creation.tensor(index, dtype=_dtype.int64, device=input.device)
    index = []
    for j in range(-left, size + right):
        if mode == "reflect":
            k = -j if j < 0 else (2 * (size - 1) - j if j >= size else j)
        elif mode == "replicate":
            k = min(max(j, 0), size - 1)
        else:
            k = j % size
        index.append(k)
    return _creation.tensor(index, dtype=_dtype.int64, device=input.device)


# === dropout ======================================================================================
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p, training, inplace, alpha=False, feature=False):
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        mask_shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    else:
        mask_shape = tuple(input.shape)
    if p == 1:
        return input.mul_(0) if inplace else input * _creation.zeros(mask_shape, dtype=input.dtype,
                                                                     device=input.device)
    # NOTE: an out-of-place draw (not empty(...).bernoulli_(1 - p)), so that under vmap(randomness='different')
    # each example draws its own mask (an in-place draw into an unbatched tensor is refused there, as in
    # PyTorch); the same numbers are drawn either way, and a number p needs no read of device memory.
    keep = _random.bernoulli(_creation.empty(mask_shape, dtype=input.dtype, device=input.device), 1 - p)
    if not alpha:
        scale = keep / (1 - p)
        return input.mul_(scale) if inplace else input * scale
    # NOTE: alpha dropout drops to SELU's negative saturation value and then restores mean and variance:
    # out = a * (x * keep + alpha' * (1 - keep)) + b, folded into one multiply and one add.
    sat = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / _math.sqrt((sat * sat * p + 1) * (1 - p))
    shift = (keep - 1) * (sat * a) + sat * a * p
    scale = keep * a
    if inplace:
        return input.mul_(scale).add_(shift)
    return input * scale + shift


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (identity when not training)."""
    return _dropout(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance."""
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1)."""
    return _dropout(input, p, training, inplace, alpha=True, feature=True)


def _channel_note(name, spatial):
    lo, hi = spatial + 1, spatial + 2
    return (f"Note that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial "
            f"dimension{'s' if spatial > 1 else ''}, a channel dimension, and an optional batch dimension "
            f"(i.e. {lo}D or {hi}D inputs).")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input."""
    _check_p(p)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. "
                           + _channel_note("dropout1d", 1))
    if input.dim() == 3:
        return _dropout(input, p, training, inplace, feature=True)
    out = _dropout(input.unsqueeze(0), p, training, inplace, feature=True)
    return input if out is input else out.squeeze(0)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        _warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will result in "
                       "an error in a future release. To retain the behavior and silence this warning, please use "
                       "dropout instead. " + _channel_note("dropout2d", 2), stacklevel=2)
    if ndim == 3:
        _warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                       "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                       "This behavior will change in a future release to interpret the input as one without a "
                       "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                       "please switch to using dropout1d instead.", stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    _check_p(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        _warnings.warn(f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will result in "
                       "an error in a future release. To retain the behavior and silence this warning, please use "
                       "dropout instead. " + _channel_note("dropout3d", 3), stacklevel=2)
    if ndim == 5:
        return _dropout(input, p, training, inplace, feature=True)
    out = _dropout(input.unsqueeze(0), p, training, inplace, feature=True)
    return input if out is input else out.squeeze(0)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); hard=True returns one-hot samples with the soft gradient."""
    if eps != 1e-10:
        _warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_creation.empty_like(logits).exponential_().log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot_sample = _creation.zeros_like(logits).scatter_(dim, index, 1.0)
    # NOTE: the straight-through estimator: forward is the one-hot sample, backward the soft gradient.
    return one_hot_sample - soft.detach() + soft


# === losses (ember/nn/_functional_losses.py) ======================================================
from ._functional_losses import (  # noqa: E402
    _legacy_reduction, l1_loss, mse_loss, smooth_l1_loss, huber_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, nll_loss, cross_entropy, kl_div, poisson_nll_loss, gaussian_nll_loss,
    margin_ranking_loss, hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss, multilabel_margin_loss,
    multi_margin_loss, cosine_embedding_loss, triplet_margin_loss, triplet_margin_with_distance_loss,
)


# === the torch.* and Tensor names PyTorch also gives some of these =================================
from .._tensor import Tensor as _Tensor  # noqa: E402


def _dim_required(fn, name, position):
    """torch.softmax / Tensor.softmax (and log_softmax): unlike F.softmax, dim is required, an int
    (PyTorch's TypeError names its position: 2 for the function, 1 for the method)."""
    def wrapper(input, dim, dtype=None):
        if dim is None or isinstance(dim, bool) or not _arguments._is_int(dim):
            raise TypeError(f"{name}(): argument 'dim' (position {position}) must be int, not "
                            f"{_arguments.type_name(dim)}")
        return fn(input, dim, dtype=dtype)
    wrapper.__name__, wrapper.__doc__ = name, f"{name} over `dim` (required)."
    return wrapper


_torch_softmax, _tensor_softmax = _dim_required(softmax, "softmax", 2), _dim_required(softmax, "softmax", 1)
_torch_log_softmax = _dim_required(log_softmax, "log_softmax", 2)
_tensor_log_softmax = _dim_required(log_softmax, "log_softmax", 1)


def _torch_dropout(input, p, train):
    """torch.dropout(input, p, train)."""
    return dropout(input, p, train)


def _torch_dropout_(input, p, train):
    return dropout(input, p, train, inplace=True)


for _name, _fn in {"softmax": _torch_softmax, "log_softmax": _torch_log_softmax, "hardshrink": hardshrink,
                   "prelu": prelu}.items():
    _bind(_name, _fn)
    _bind(_name, {"softmax": _tensor_softmax, "log_softmax": _tensor_log_softmax}.get(_name, _fn), function=False,
          method=True)
for _name, _fn in {"selu": selu, "selu_": selu_, "celu": celu, "celu_": celu_, "threshold": threshold,
                   "threshold_": threshold_, "rrelu": rrelu, "rrelu_": rrelu_, "dropout": _torch_dropout,
                   "dropout_": _torch_dropout_, "alpha_dropout": alpha_dropout,
                   "feature_alpha_dropout": feature_alpha_dropout, "pairwise_distance": pairwise_distance,
                   "cosine_similarity": cosine_similarity}.items():
    _bind(_name, _fn)
del _name, _fn

# === the layers' functions, one private module per family =====================================
from ._functional_conv import *  # noqa: E402,F401,F403
from ._functional_pool import *  # noqa: E402,F401,F403
from ._functional_norm import *  # noqa: E402,F401,F403
from ._functional_sparse import *  # noqa: E402,F401,F403
from ._functional_attention import *  # noqa: E402,F401,F403
from ._functional_dispatch import *  # noqa: E402,F401,F403



def _guard_layer_functions():
    """The layer families' functions behind the same check as torch.*'s composed functions (_guards.py): a
    tensor argument that is not a Tensor raises PyTorch's TypeError naming the function and the argument,
    instead of an AttributeError from inside it.

    NOTE: not embedding (its own check words PyTorch's message, which names `indices`), nor the older
    functions above, whose warnings count their stack levels from the caller's frame."""
    from .._ops._guards import checked_function
    from . import _functional_attention, _functional_conv, _functional_norm, _functional_pool
    namespace = globals()
    for family in (_functional_attention, _functional_conv, _functional_norm, _functional_pool):
        for name in family.__all__:
            namespace[name] = checked_function(namespace[name], name)


_guard_layer_functions()
