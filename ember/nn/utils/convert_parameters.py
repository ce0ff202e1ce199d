"""torch.nn.utils.parameters_to_vector / vector_to_parameters."""
from ..._tensor import Tensor


def _check_same_device(param, device):
    if device is None:
        return param.device
    if param.device != device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor."""
    from ... import cat
    device, pieces = None, []
    for p in parameters:
        device = _check_same_device(p, device)
        pieces.append(p.view(-1))
    return cat(pieces)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of `vec` into the parameters' data."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device, offset = None, 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = vec[offset:offset + n].view_as(p).data
        offset += n
