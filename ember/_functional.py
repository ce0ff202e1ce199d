"""torch.* functions composed from primitives (no backward of their own), and type utilities."""
from . import _dtype, _state
from ._ops._registry import bind_method, public
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
    return _state.is_grad_enabled()


@public(method=True)
def square(input):
    """input ** 2."""
    return input.pow(2)


_ROUNDING_MODES = (None, "floor", "trunc")


def _check_rounding_mode(rounding_mode):
    if rounding_mode not in _ROUNDING_MODES:
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")


@public(name="div", method=True)
def _div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'floor' or 'trunc' rounds the quotient."""
    result = divide(input, other, rounding_mode=rounding_mode)
    if out is None:
        return result
    from ._ops._registry import write_out
    return write_out(out, result, "div")


def _div_(self, other, *, rounding_mode=None):
    """In-place div."""
    from ._ops.pointwise.arith import Div, DivMode
    from ._ops._registry import apply_inplace
    _check_rounding_mode(rounding_mode)
    if rounding_mode is None:
        return apply_inplace(Div, self, other)
    return apply_inplace(DivMode, self, other, rounding_mode)


@public(method=True)
def divide(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'floor' or 'trunc' rounds the quotient."""
    from ._ops.pointwise.arith import Div, DivMode
    _check_rounding_mode(rounding_mode)
    if rounding_mode is None:
        result = Div.apply(input, other)
    else:
        result = DivMode.apply(input, other, rounding_mode)
    if out is None:
        return result
    from ._ops._registry import write_out
    return write_out(out, result, "divide")


@public(method=True)
def true_divide(input, other, *, out=None):
    """input / other (always true division)."""
    return divide(input, other, out=out)


@public(method=True)
def subtract(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    from ._ops.pointwise.arith import Sub
    from ._ops._registry import write_out
    result = Sub.apply(input, other, alpha)
    return result if out is None else write_out(out, result, "subtract")


@public(method=True)
def multiply(input, other, *, out=None):
    """input * other."""
    from ._ops.pointwise.arith import Mul
    from ._ops._registry import write_out
    result = Mul.apply(input, other)
    return result if out is None else write_out(out, result, "multiply")


@public
def rsub(input, other, alpha=1):
    """other - alpha * input (PyTorch has no Tensor.rsub)."""
    from ._ops.pointwise.arith import Sub
    return Sub.apply(other, input, alpha)


bind_method("div_", _div_)
bind_method("divide_", _div_)
bind_method("true_divide_", lambda self, other: _div_(self, other))
bind_method("subtract_", lambda self, other, *, alpha=1: self.sub_(other, alpha=alpha))
bind_method("multiply_", lambda self, other: self.mul_(other))


# --- specs for the generic op test (tests/ops/test_against_torch.py) ------------------------------------------
def _specs():
    from ._ops._registry import OpSpec, spec
    binary = dict(arity=2, shapes="binary", scalar=True)
    modes = ({"rounding_mode": "floor"}, {"rounding_mode": "trunc"})

    def inplace(name):
        return lambda torch, x, y, **kw: getattr(x.clone(), name)(y, **kw)
    spec(OpSpec("div", **binary, dtypes=("float32", "int64"), domain=(0.5, 3), kwargs=modes),
         OpSpec("divide", **binary, dtypes=("float32", "float64", "int64"), domain=(0.5, 3),
                kwargs=({},) + modes),
         OpSpec("divide_", **binary, dtypes=("float32", "int64"), domain=(0.5, 3), kwargs=({},) + modes,
                call=inplace("divide_")),
         OpSpec("true_divide", **binary, dtypes=("float32", "int64", "bool"), domain=(0.5, 3)),
         OpSpec("true_divide_", **binary, dtypes=("float32", "int64"), domain=(0.5, 3), call=inplace("true_divide_")),
         OpSpec("multiply", **binary, dtypes=("float32", "float64", "int64")),
         OpSpec("multiply_", **binary, dtypes=("float32", "int32"), call=inplace("multiply_")),
         # NOTE: a broadcast input's float32 gradient sums thousands of cotangent values; where they cancel, the
         # summation order (NumPy's pairwise, PyTorch's vectorised) moves the small result by ~1e-5
         OpSpec("subtract", **binary, dtypes=("float32", "float64", "int64", "bool"), kwargs=({}, {"alpha": 3}),
                atol=2e-5),
         OpSpec("subtract_", **binary, dtypes=("float32", "int64"), kwargs=({}, {"alpha": 2}),
                call=inplace("subtract_")),
         OpSpec("rsub", **binary, dtypes=("float32", "float64", "int64"), kwargs=({}, {"alpha": 2})))


_specs()
