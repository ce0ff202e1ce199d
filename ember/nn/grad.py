"""torch.nn.grad: the input and weight gradients of conv1d/2d/3d, as functions of the output gradient.

Each is one of the convolution's own backward primitives (ConvInputGrad, ConvWeightGrad), so the result is
differentiable again, as PyTorch's convolution_backward is."""
from .. import _dtype
from .._ops.nn import conv as _prims
from ._functional_conv import _expand

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def _geom(nd, stride, padding, dilation, groups):
    padding = _expand(padding, nd, "padding")
    return (_expand(stride, nd, "stride"), padding, padding, _expand(dilation, nd, "dilation"), int(groups))


def _same_dtype(expected, found):
    if found.dtype is not expected.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(expected.dtype)} but found "
                           f"{_dtype.scalar_type_name(found.dtype)}")


def _input_grad(nd, input_size, weight, grad_output, stride, padding, dilation, groups):
    input_size = tuple(int(s) for s in input_size)
    if len(input_size) != weight.dim():
        raise RuntimeError(f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
                           f"{list(weight.shape)}, but got {len(input_size)}-dimensional input of size "
                           f"{list(input_size)} instead")
    _same_dtype(grad_output, weight)
    return _prims.ConvInputGrad.apply(grad_output, weight, input_size, _geom(nd, stride, padding, dilation, groups))


def _weight_grad(nd, input, weight_size, grad_output, stride, padding, dilation, groups):
    weight_size = tuple(int(s) for s in weight_size)
    if input.dim() != len(weight_size):
        raise RuntimeError(f"Expected {len(weight_size)}-dimensional input for {len(weight_size)}-dimensional "
                           f"weight {list(weight_size)}, but got {input.dim()}-dimensional input of size "
                           f"{list(input.shape)} instead")
    _same_dtype(input, grad_output)
    return _prims.ConvWeightGrad.apply(input, grad_output, weight_size, _geom(nd, stride, padding, dilation, groups))


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its input (of shape `input_size`)."""
    return _input_grad(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its weight (of shape `weight_size`)."""
    return _weight_grad(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its input (of shape `input_size`)."""
    return _input_grad(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its weight (of shape `weight_size`)."""
    return _weight_grad(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to its input (of shape `input_size`)."""
    return _input_grad(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to its weight (of shape `weight_size`)."""
    return _weight_grad(3, input, weight_size, grad_output, stride, padding, dilation, groups)
