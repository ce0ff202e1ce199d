"""torch.nn.parameter: Parameter, a Tensor that a Module registers as one of its parameters."""
from .._creation import empty
from .._tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that modules list in `parameters()`; requires grad by default."""

    __slots__ = ()
    _is_parameter = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        if requires_grad and not (data.is_floating_point() or data.is_complex()):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        p = object.__new__(cls)._adopt(data.detach())
        p._vc = data._vc  # NOTE: PyTorch's Parameter shares the data (and its version) with `data`
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self._requires_grad))


class Buffer(Tensor):
    """torch.nn.Buffer: a tensor that, assigned to a Module attribute, registers as a buffer."""

    __slots__ = ("persistent",)

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        b = object.__new__(cls)._adopt(data.detach())
        b._vc = data._vc
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass
