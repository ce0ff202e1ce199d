"""torch.nn.functional's convolutions, unfold/fold, pixel/channel shuffle."""
from .. import _dtype
from .._ops.nn import conv as _prims
from .._ops._registry import bind as _bind
from .._tensor import Tensor as _Tensor
from .._ops.nn.conv_fold import (  # noqa: F401  (re-exported: F.unfold, F.fold, the shuffles)
    unfold, fold, pixel_shuffle, pixel_unshuffle, channel_shuffle, native_channel_shuffle)

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv_tbc", "unfold", "fold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle"]

_SIGNATURE = {
    False: ("Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, tuple of ints padding = 0, "
            "tuple of ints dilation = 1, int groups = 1",
            "Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, str padding = \"valid\", "
            "tuple of ints dilation = 1, int groups = 1"),
    True: ("Tensor input, Tensor weight, Tensor bias = None, tuple of ints stride = 1, tuple of ints padding = 0, "
           "tuple of ints output_padding = 0, int groups = 1, tuple of ints dilation = 1",),
}


def _is_int(v):
    return isinstance(v, int) or (hasattr(v, "__index__") and not isinstance(v, (float, _Tensor)))


def _invalid(name, transposed, args, kwargs):
    """PyTorch's parser TypeError for an argument of the wrong type."""
    def kind(v):
        return "Tensor" if isinstance(v, _Tensor) else type(v).__name__
    got = ", ".join([kind(a) for a in args] + [f"{k}={kind(v)}" for k, v in kwargs.items()])
    options = "".join(f" * ({s})\n" for s in _SIGNATURE[transposed])
    return TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     f"{options}")


def _check_types(name, transposed, input, weight, bias, params, groups):
    bad = not isinstance(input, _Tensor) or not isinstance(weight, _Tensor)
    bad = bad or (bias is not None and not isinstance(bias, _Tensor)) or not _is_int(groups)
    for key, value in params.items():
        if isinstance(value, str) and key == "padding" and not transposed:
            continue
        values = value if isinstance(value, (tuple, list)) else (value,)
        bad = bad or not all(_is_int(v) for v in values)
    if bad:
        args = [input, weight]
        kwargs = {k: v for k, v in params.items() if not isinstance(v, int) or isinstance(v, bool)}
        if bias is not None:
            kwargs = {"bias": bias, **kwargs}
        if not _is_int(groups):
            kwargs["groups"] = groups
        raise _invalid(name, transposed, args, kwargs)


def _expand(value, n, name):
    if _is_int(value):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _dims(sizes):
    return " x ".join(str(s) for s in sizes)


def _check_channels(input, weight, groups, transposed):
    w_shape, x_shape = list(weight.shape), list(input.shape)
    if not transposed and weight.shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {w_shape} instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{w_shape}] instead")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != expected:
        given = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(f"Given {given}, weight of size {w_shape}, expected input{x_shape} to have {expected} "
                           f"channels, but got {input.shape[1]} channels instead")


def _check_bias(bias, weight, out_channels, transposed):
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        given = "transposed=1, weight" if transposed else "weight"
        raise RuntimeError(f"Given {given} of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size {list(bias.shape)} instead")


def _check_dtypes(input, weight, bias):
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(weight.dtype)}")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_ctype(input.dtype)}) and bias type ({_ctype(bias.dtype)}) should be the same")


def _ctype(dt):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}.get(
        str(dt).replace("torch.", ""), str(dt).replace("torch.", ""))


def _with_batch_dim(input, weight, nd, name):
    """input with a batch dim (added when it had none), whether it had none, and the weight's kernel rank."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input "
                           f"of size: {list(input.shape)}")
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    return input, unbatched, weight.dim() - 2


def _common_checks(input, weight, stride, padding, dilation, groups):
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.dim() != input.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
                           f"{list(weight.shape)}, but got {input.dim()}-dimensional input of size "
                           f"{list(input.shape)} instead")


def _same_padding(weight, dilation, stride):
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
    return tuple(t // 2 for t in total), tuple(t - t // 2 for t in total)


def _conv(name, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_types(name, False, input, weight, bias, {"stride": stride, "padding": padding, "dilation": dilation},
                 groups)
    input, unbatched, k = _with_batch_dim(input, weight, nd, name)
    stride = _expand(stride, k, "stride")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        dilation = _expand(dilation, k, "dilation")
        if padding == "valid":
            lo = hi = (0,) * k
        else:
            lo, hi = _same_padding(weight, dilation, stride)
    else:
        lo = hi = _expand(padding, k, "padding")
        dilation = _expand(dilation, k, "dilation")
    groups = int(groups)
    _common_checks(input, weight, stride, lo, dilation, groups)
    _check_channels(input, weight, groups, False)
    _check_bias(bias, weight, weight.shape[0], False)
    padded = [s + a + b for s, a, b in zip(input.shape[2:], lo, hi)]
    kernel = [d * (s - 1) + 1 for d, s in zip(dilation, weight.shape[2:])]
    if any(p < q for p, q in zip(padded, kernel)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_dims(padded)}). Kernel size: "
                           f"({_dims(kernel)}). Kernel size can't be greater than actual input size")
    _check_dtypes(input, weight, bias)
    out = _prims.Convolution.apply(input, weight, bias, (stride, lo, hi, dilation, groups))
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) of input (N, C, L) with weight (O, C / groups, K)."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) of input (N, C, H, W) with weight (O, C / groups, kH, kW)."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution (cross-correlation) of input (N, C, D, H, W) with weight (O, C / groups, kD, kH, kW)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


_AXES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _check_output_padding(output_padding, stride, dilation):
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation)):
        if len(stride) == 1:  # NOTE: PyTorch runs 1-d as 2-d with a unit height, and says so
            output_padding, stride, dilation = (0,) + output_padding, (1,) + stride, (1,) + dilation
        axes = _AXES.get(len(stride), tuple(str(i) for i in range(len(stride))))
        parts = ([f"output_padding_{a}: {p}" for a, p in zip(axes, output_padding)]
                 + [f"stride_{a}: {s}" for a, s in zip(axes, stride)]
                 + [f"dilation_{a}: {d}" for a, d in zip(axes, dilation)])
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))


def _conv_transpose(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    _check_types(name, True, input, weight, bias, {"stride": stride, "padding": padding,
                                                   "output_padding": output_padding, "dilation": dilation}, groups)
    input, unbatched, k = _with_batch_dim(input, weight, nd, name)
    stride = _expand(stride, k, "stride")
    padding = _expand(padding, k, "padding")
    dilation = _expand(dilation, k, "dilation")
    output_padding = _expand(output_padding, k, "output_padding")
    groups = int(groups)
    _common_checks(input, weight, stride, padding, dilation, groups)
    _check_output_padding(output_padding, stride, dilation)
    _check_channels(input, weight, groups, True)
    cout = weight.shape[1] * groups
    _check_bias(bias, weight, cout, True)
    size = [(i - 1) * s - 2 * p + d * (kk - 1) + op + 1 for i, s, p, d, kk, op in
            zip(input.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding)]
    if any(s <= 0 for s in size):
        raise RuntimeError(f"Given input size per channel: ({_dims(input.shape[2:])}). Calculated output size per "
                           f"channel: ({_dims(size)}). Output size is too small")
    _check_dtypes(input, weight, bias)
    out = _prims.ConvTranspose.apply(input, weight, bias, (input.shape[0], cout) + tuple(size),
                                     (stride, padding, padding, dilation, groups))
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution of input (N, C, L) with weight (C, O / groups, K)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution of input (N, C, H, W) with weight (C, O / groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-d transposed convolution of input (N, C, D, H, W) with weight (C, O / groups, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_tbc(input, weight, bias, pad=0):
    """1-d convolution over time-batch-channel input (T, B, C) with weight (K, C, O) and bias (O)."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if bias.shape[0] != weight.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """torch.convolution: the convolution (or transposed convolution) of a batched input, every argument given."""
    if isinstance(input, _Tensor) and isinstance(weight, _Tensor) and input.dim() != weight.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
                           f"{list(weight.shape)}, but got {input.dim()}-dimensional input of size "
                           f"{list(input.shape)} instead")
    nd = weight.dim() - 2
    if transposed:
        return _conv_transpose("convolution", nd, input, weight, bias, stride, padding, output_padding, groups,
                               dilation)
    return _conv("convolution", nd, input, weight, bias, stride, padding, dilation, groups)


_bind("convolution", _convolution)
for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc",
              "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"):
    _bind(_name, globals()[_name])
del _name
