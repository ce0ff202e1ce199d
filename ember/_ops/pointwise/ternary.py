"""Three-operand pointwise ops: lerp, addcmul, addcdiv (and specs for where with numbers)."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor
from ._binary_checks import FLOATS, not_for, tensors_only
from .._registry import OpSpec, apply_inplace, bind_method, public, spec, write_out

_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
            "uint8": "unsigned char", "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}


# --- lerp -------------------------------------------------------------------------------------------------
def _lerp_values(xp, x, end, w):
    # NOTE: PyTorch's two-sided form: exact at both ends (w = 0 gives x, w = 1 gives end).
    diff = end - x
    return xp.where(xp.abs(w) < 0.5, x + w * diff, end - diff * (1 - w)).astype(x.dtype, copy=False)


class Lerp(Primitive):
    """input + weight * (end - input), with a number weight."""
    complex_grad = "holomorphic"
    upcast = True
    inputs = 2

    @staticmethod
    def forward(ctx, x, end, weight):
        if x.dtype.kind in "iub":
            raise not_for("lerp_kernel_scalar", x)
        ctx.weight = weight
        return _lerp_values(ctx.xp, x, end, x.dtype.type(weight))

    @staticmethod
    def backward(ctx, g):
        w = ctx.weight
        return g * (1 - w), g * w


class LerpTensor(Primitive):
    """input + weight * (end - input), with a tensor weight."""
    complex_grad = "holomorphic"
    upcast = True
    node_name = "LerpBackward1"
    inputs = 3

    @staticmethod
    def forward(ctx, x, end, w):
        if x.dtype.kind in "iub":
            raise not_for("lerp_kernel_tensor", x)
        need = ctx.needs_input_grad
        ctx.save_for_backward(x if need[2] else None, end if need[2] else None, w if need[0] or need[1] else None)
        return _lerp_values(ctx.xp, x, end, w)

    @staticmethod
    def backward(ctx, g):
        x, end, w = ctx.saved_tensors
        need = ctx.needs_input_grad
        gw = g * (end - x) if need[2] else None
        return (g * (1 - w) if need[0] else None), (g * w if need[1] else None), gw


def _lerp_args(input, end, weight):
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        got = ", ".join("Tensor" if isinstance(v, Tensor) else type(v).__name__ for v in (input, end, weight))
        raise TypeError(f"lerp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    want = input.dtype
    if end.dtype is not want:
        raise RuntimeError(f"expected dtype {_C_NAMES[want.name]} for `end` but got dtype {_C_NAMES[end.dtype.name]}")
    if isinstance(weight, Tensor):
        if weight.dim() == 0:
            # NOTE: a 0-d weight is taken as a number of input's dtype, whatever its own dtype.
            return weight.to(want) if weight.dtype is not want else weight
        if weight.dtype is not want:
            raise RuntimeError(f"expected dtype {_C_NAMES[want.name]} for `weight` but got dtype "
                               f"{_C_NAMES[weight.dtype.name]}")
    return weight


def _lerp(input, end, weight):
    weight = _lerp_args(input, end, weight)
    if isinstance(weight, Tensor):
        return LerpTensor.apply(input, end, weight)
    return Lerp.apply(input, end, weight)


@public(method=True)
def lerp(input, end, weight, *, out=None):
    """Linear interpolation input + weight * (end - input); weight is a number or a tensor."""
    result = _lerp(input, end, weight)
    return result if out is None else write_out(out, result, "lerp")


def _lerp_(self, end, weight):
    """In-place lerp."""
    weight = _lerp_args(self, end, weight)
    if isinstance(weight, Tensor):
        return apply_inplace(LerpTensor, self, end, weight)
    return apply_inplace(Lerp, self, end, weight)


bind_method("lerp_", _lerp_)


def _lerp_sample(g):
    """input, end and weight that broadcast together; weight a tensor, a 0-d tensor or a number."""
    shape = g.shape(max_dims=3, min_side=1)
    x = g.values(shape)
    end = g.values(shape[g.integers(0, len(shape)):])
    kind = g.integers(0, 2)
    if kind == 0:
        weight = g.choice([0.0, 0.25, 0.5, 1.0, 1.5, -0.5])
    else:
        weight = g.values(shape[g.integers(0, len(shape)):] if kind == 1 else (), domain=(-0.5, 1.5))
    return (x, end, weight), {}


def _lerp_mixed(g):
    """Operands of different dtypes: PyTorch refuses them (except a 0-d weight)."""
    x = g.values((3,))
    end = g.values((3,), dtype=g.choice(["float32", "float64"]))
    weight = g.values(g.choice([(), (3,)]), dtype=g.choice(["float32", "float64", "int64"]))
    return (x, end, weight), {}


spec(OpSpec("lerp", sample=_lerp_sample, dtypes=FLOATS + ("int64",)),
     OpSpec("lerp_", sample=_lerp_sample, call=lambda torch, x, end, w: x.clone().lerp_(end, w)),
     OpSpec("lerp_mixed_dtypes", sample=_lerp_mixed, dtypes=("float32",), call=lambda torch, *a: torch.lerp(*a)))


# --- addcmul / addcdiv ------------------------------------------------------------------------------------
def _value_for(x, value):
    """value as a number of the result's kind (PyTorch truncates a float value for integer results)."""
    if isinstance(value, Tensor):
        value = value.item()
    if x.dtype.kind in "iu" and not isinstance(value, bool):
        return int(value)
    return value


class Addcmul(Primitive):
    """input + value * tensor1 * tensor2."""
    complex_grad = "holomorphic"
    upcast = True
    inputs = 3
    promote = "promote"
    check = staticmethod(tensors_only("addcmul", ("input", "tensor1", "tensor2")))

    @staticmethod
    def forward(ctx, x, t1, t2, value=1):
        if x.dtype.kind == "b":
            raise not_for("addcmul_cpu_out", x)
        value = _value_for(x, value)
        ctx.value = value
        need = ctx.needs_input_grad
        ctx.save_for_backward(t1 if need[2] else None, t2 if need[1] else None)
        return (x + value * (t1 * t2)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        g1 = g * t2 * v if ctx.needs_input_grad[1] else None
        g2 = g * t1 * v if ctx.needs_input_grad[2] else None
        return g, g1, g2


def _check_addcdiv(x, t1, t2):
    tensors_only("addcdiv", ("input", "tensor1", "tensor2"))(x, t1, t2)
    if t1.dtype.category <= _dtype.INT and t2.dtype.category <= _dtype.INT:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform "
            "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
            "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")


class Addcdiv(Primitive):
    """input + value * tensor1 / tensor2."""
    complex_grad = "holomorphic"
    upcast = True
    inputs = 3
    promote = "promote"
    check = staticmethod(_check_addcdiv)

    @staticmethod
    def forward(ctx, x, t1, t2, value=1):
        value = _value_for(x, value)
        ctx.value = value
        need = ctx.needs_input_grad
        # NOTE: PyTorch keeps tensor2 whichever gradient is needed (writing into it later fails backward)
        ctx.save_for_backward(t1 if need[2] else None, t2)
        return (x + value * (t1 / t2)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        v = ctx.value
        g1 = g * v / t2 if ctx.needs_input_grad[1] else None
        g2 = -g * v * t1 / (t2 * t2) if ctx.needs_input_grad[2] else None
        return g, g1, g2


def _ternary(cls, name):
    def fn(input, tensor1, tensor2, *, value=1, out=None):
        result = cls.apply(input, tensor1, tensor2, value)
        return result if out is None else write_out(out, result, name)

    def inplace(self, tensor1, tensor2, *, value=1):
        return apply_inplace(cls, self, tensor1, tensor2, value)
    fn.__name__, fn.__doc__ = name, cls.__doc__
    inplace.__name__, inplace.__doc__ = name + "_", f"In-place version of {name}."
    public(fn, method=True)
    bind_method(name + "_", inplace)


_ternary(Addcmul, "addcmul")
_ternary(Addcdiv, "addcdiv")

_VALUES = ({}, {"value": 0.5}, {"value": -2})
spec(OpSpec("addcmul", arity=3, shapes="ternary", dtypes=FLOATS + ("int64",), kwargs=_VALUES[:2],
            rtol=1e-4, atol=1e-5),
     OpSpec("addcmul_", arity=3, shapes="ternary", kwargs=_VALUES[1:],
            call=lambda torch, x, a, b, **kw: x.clone().addcmul_(a, b, **kw)),
     OpSpec("addcdiv", arity=3, shapes="ternary", dtypes=FLOATS + ("int64",), domain=(0.5, 3), kwargs=_VALUES),
     OpSpec("addcdiv_", arity=3, shapes="ternary", domain=(0.5, 3), kwargs=_VALUES[2:],
            call=lambda torch, x, a, b, **kw: x.clone().addcdiv_(a, b, **kw)))


# --- where with numbers (where itself lives in indexing/index.py) -------------------------------------------
spec(OpSpec("where_scalar_other", **{"arity": 2, "shapes": "binary"}, dtypes=("float32", "int64"),
            call=lambda torch, x, y: torch.where(x > y, x, 2.5)),
     OpSpec("where_scalar_input", arity=2, shapes="binary", dtypes=("float32", "int32"),
            call=lambda torch, x, y: torch.where(x > y, 1, y)),
     OpSpec("where_scalars", arity=2, shapes="binary", dtypes=("float32",), grad=False,
            call=lambda torch, x, y: torch.where(x > y, 1.0, 0)),
     OpSpec("Tensor.where", arity=2, shapes="binary", dtypes=("float32", "int64"),
            call=lambda torch, x, y: x.where(x > 0, y)))
