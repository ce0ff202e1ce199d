"""Shared refusals of the binary pointwise ops (arith, compare, bitwise, binary_float, ternary),
worded as PyTorch words them. Owned by the binary-ops area."""
from ... import _dtype
from ..._tensor import Tensor, broadcast_shapes

# OpSpec keywords shared by the binary ops: two broadcasting inputs, sometimes a Python scalar.
BINARY = dict(arity=2, shapes="binary", scalar=True)
FLOATS = ("float32", "float64")


def not_for(kernel, array):
    """NotImplementedError for a dtype the kernel has no instance for (checked after promotion)."""
    name = _dtype.scalar_type_name(_dtype._BY_NP[array.dtype])
    return NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def kernel_kinds(kernel, kinds, x, *others):
    """Refuse operands whose (promoted) dtype kind is not in `kinds`, as PyTorch's kernels do.

    NOTE: PyTorch checks that the shapes broadcast before it picks a kernel, so that error wins."""
    if x.dtype.kind not in kinds:
        broadcast_shapes(x.shape, *(a.shape for a in others))
        raise not_for(kernel, x)


def float_only(kernel, x, *others):
    """Refuse integer and bool operands (after promotion), as PyTorch's float-only kernels do."""
    kernel_kinds(kernel, "fcV", x, *others)


def _type_name(value):
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def tensors_only(name, argnames=("input", "other")):
    """A `check` refusing Python numbers where PyTorch's signature has only Tensor overloads."""
    def check(*operands):
        for pos, (arg, value) in enumerate(zip(argnames, operands), 1):
            if not isinstance(value, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, "
                                f"not {_type_name(value)}")
    return check


def tensor_first(name):
    """A `check` for ops with (Tensor, Tensor) and (Tensor, Number) overloads: input must be a Tensor."""
    def check(x, *rest):
        if not isinstance(x, Tensor):
            got = ", ".join(_type_name(v) for v in (x,) + rest)
            raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected one "
                            f"of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
                            f" * (Tensor input, Number other, *, Tensor out = None)\n")
    return check


def same_dtypes(message):
    """A `check` for ops that refuse operands of different dtypes; message(first, other) words it."""
    def check(*operands):
        first = operands[0]._dtype
        for t in operands[1:]:
            if isinstance(t, Tensor) and t._dtype is not first:
                raise RuntimeError(message(first, t._dtype))
    return check


def inplace_checked(cls, name):
    """Tensor.<name>: in-place `cls` that refuses an uncastable result dtype before the kernel runs
    (PyTorch's order: `int_tensor &= 2.0` is a cast error, not a missing float kernel)."""
    from ...autograd.function import compute_dtype
    from .._registry import apply_inplace

    def method(self, *args):
        if cls.check is not None:
            cls.check(self, *args[:cls.inputs - 1])
        dt = compute_dtype(cls, (self,) + args[:cls.inputs - 1])
        if not _dtype.can_cast(dt, self._dtype):
            raise RuntimeError(f"result type {_dtype.scalar_type_name(dt)} can't be cast to the desired output "
                               f"type {_dtype.scalar_type_name(self._dtype)}")
        return apply_inplace(cls, self, *args)
    method.__name__ = name
    method.__doc__ = f"In-place version of {name.rstrip('_')}."
    return method
