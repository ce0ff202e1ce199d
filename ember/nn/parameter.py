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


class _UninitializedMixin:
    """What UninitializedParameter and UninitializedBuffer share: a placeholder of no shape yet,
    given one by `materialize`, which also turns it into `cls_to_become`."""

    __slots__ = ()
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor `shape` (uninitialised values) and make it a `cls_to_become`, in place."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self.data = empty(shape, device=device, dtype=dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self._requires_grad, self.device, self.dtype)
        memo[id(self)] = result
        return result


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A parameter whose shape is not known yet (lazy modules); `materialize` makes it a Parameter.
    Unlike PyTorch, ops on it are not refused one by one: it holds an empty tensor until then."""

    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __reduce_ex__(self, protocol):
        return (UninitializedParameter, (self._requires_grad,))


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer whose shape is not known yet (lazy modules); `materialize` makes it a Tensor."""

    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        b = object.__new__(cls)._adopt(empty(0, device=device, dtype=dtype))
        b.requires_grad_(requires_grad)
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass


def is_lazy(param):
    """Whether `param` is an uninitialised parameter or buffer (of a lazy module)."""
    return isinstance(param, _UninitializedMixin)
