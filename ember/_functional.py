"""torch.* functions composed from primitives (no backward of their own), and type utilities."""
from . import _dtype, _state
from ._ops._registry import public
from ._tensor import Tensor


def is_tensor(obj):
    """True for ember tensors."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    """The dtype an arithmetic op on these operands (tensors or numbers) produces."""
    from .autograd.function import Primitive, compute_dtype

    class _Probe(Primitive):
        promote = "promote"
    return compute_dtype(_Probe, (tensor1, tensor2))


def promote_types(type1, type2):
    """The smallest dtype both cast to safely."""
    return _dtype.promote_types(type1, type2)


def can_cast(from_, to):
    """Whether casting from_ to `to` is allowed by PyTorch's casting rules."""
    return _dtype.can_cast(from_, to)


def get_default_dtype():
    return _state.default_dtype


def set_default_dtype(d):
    """Set the dtype of float tensors created without one (float32 or float64 in practice)."""
    _state.set_default_dtype(d)


def is_grad_enabled():
    return _state.local.grad_enabled


@public(method=True)
def square(input):
    """input ** 2."""
    return input.pow(2)


@public(method=True)
def rsub(input, other, alpha=1):
    """other - alpha * input."""
    return other - input * alpha if alpha != 1 else other - input


@public(method=True)
def true_divide(input, other):
    """input / other (always true division)."""
    return input / other


@public(method=True)
def subtract(input, other, *, alpha=1):
    return input.sub(other, alpha=alpha)


@public(method=True)
def multiply(input, other):
    return input * other


@public(name="div", method=True)
def _div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'floor' or 'trunc' rounds the quotient."""
    result = divide(input, other, rounding_mode=rounding_mode)
    if out is None:
        return result
    from ._ops._registry import write_out
    return write_out(out, result, "div")


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        from ._ops.arith import Div
        from ._ops._registry import apply_inplace
        return apply_inplace(Div, self, other)
    result = divide(self, other, rounding_mode=rounding_mode)
    if not can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {_dtype.scalar_type_name(result.dtype)} can't be cast to the desired "
                           f"output type {_dtype.scalar_type_name(self.dtype)}")
    return self.copy_(result)


Tensor.div_ = _div_


@public(method=True)
def divide(input, other, *, rounding_mode=None):
    """input / other; rounding_mode 'floor' or 'trunc' rounds the quotient."""
    if rounding_mode is None:
        return input / other
    if rounding_mode == "floor":
        return input // other
    if rounding_mode == "trunc":
        q = (input / other).trunc()
        dt = result_type(input, other)  # integer inputs keep an integer result, as in PyTorch
        return q if dt.is_floating_point else q.to(dt)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")

