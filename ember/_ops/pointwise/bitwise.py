"""Logical and bitwise binary ops: logical_and/or/xor, bitwise_and/or/xor (& | ^), shifts (<< >>),
gcd and lcm. None of them is differentiable."""
from ...autograd.function import Primitive
from ..._tensor import Tensor
from ._binary_checks import BINARY, inplace_checked, kernel_kinds, tensors_only
from .._registry import OpSpec, bind_method, register, spec


def _inplace(name):
    return lambda torch, x, y: getattr(x.clone(), name)(y)


def _logical(name, dunder=None, rdunder=None):
    bitwise = name.startswith("bitwise")

    def forward(ctx, x, y):
        if bitwise:
            kernel_kinds(name + "_cpu", "iub", x, y)
        return getattr(ctx.xp, name)(x, y)
    cls = type("".join(p.capitalize() for p in name.split("_")), (Primitive,), {
        "__doc__": f"Elementwise {name.replace('_', ' ')}.",
        "inputs": 2, "promote": "promote", "differentiable": False, "forward": staticmethod(forward),
        # NOTE: logical_* take only tensors; bitwise_* also take numbers, on either side.
        "check": None if bitwise else staticmethod(tensors_only(name))})
    dtypes = ("bool", "int64", "uint8") if bitwise else ("bool", "int64", "float32")
    reg = register(OpSpec(name, **BINARY, dtypes=dtypes, grad=False),
                   OpSpec(name + "_", **BINARY, dtypes=("bool", "int64"), grad=False, call=_inplace(name + "_")),
                   torch=name, method=name, inplace=None if bitwise else name + "_",
                   operator=(dunder,) if dunder else (), reflected=(rdunder,) if rdunder else ())
    cls = reg(cls)
    if bitwise:  # NOTE: logical_* give bool, which every dtype can hold
        bind_method(name + "_", inplace_checked(cls, name + "_"))
    return cls


LogicalAnd = _logical("logical_and")
LogicalOr = _logical("logical_or")
LogicalXor = _logical("logical_xor")
BitwiseAnd = _logical("bitwise_and", "__and__", "__rand__")
BitwiseOr = _logical("bitwise_or", "__or__", "__ror__")
BitwiseXor = _logical("bitwise_xor", "__xor__", "__rxor__")
bind_method("__iand__", lambda self, other: self.bitwise_and_(other))
bind_method("__ior__", lambda self, other: self.bitwise_or_(other))
bind_method("__ixor__", lambda self, other: self.bitwise_xor_(other))

spec(OpSpec("__and__", **BINARY, dtypes=("bool", "int32"), grad=False, call=lambda torch, x, y: x & y),
     OpSpec("__ror__", **BINARY, dtypes=("bool", "int64"), grad=False, call=lambda torch, x, y: y | x),
     OpSpec("__ixor__", **BINARY, dtypes=("bool", "int64"), grad=False, call=lambda torch, x, y: x.clone().__ixor__(y)),
     OpSpec("logical_not_", dtypes=("bool", "float32", "int64"), grad=False,
            call=lambda torch, x: x.clone().logical_not_()),
     OpSpec("bitwise_not_", dtypes=("bool", "int64"), grad=False, call=lambda torch, x: x.clone().bitwise_not_()),
     OpSpec("__invert__", dtypes=("bool", "uint8", "int32"), grad=False, call=lambda torch, x: ~x))


# --- shifts -----------------------------------------------------------------------------------------------
def _shift_counts(xp, x, y, kernel):
    """Check dtypes; return the counts that shift within the type's width, and where they do."""
    kernel_kinds(kernel, "iu", x, y)
    in_range = (y >= 0) & (y < x.dtype.itemsize * 8)
    return xp.where(in_range, y, 0).astype(x.dtype), in_range


class BitwiseLeftShift(Primitive):
    """input << other; counts outside [0, bits) give 0, as in PyTorch."""
    inputs = 2
    promote = "promote"
    differentiable = False

    @staticmethod
    def forward(ctx, x, y):
        xp = ctx.xp
        counts, in_range = _shift_counts(xp, x, y, "lshift_cpu")
        return xp.where(in_range, xp.left_shift(x, counts), 0).astype(x.dtype)


class BitwiseRightShift(Primitive):
    """input >> other (arithmetic); counts outside [0, bits) give 0 or -1 by the sign, as in PyTorch."""
    inputs = 2
    promote = "promote"
    differentiable = False

    @staticmethod
    def forward(ctx, x, y):
        xp = ctx.xp
        counts, in_range = _shift_counts(xp, x, y, "rshift_cpu")
        fill = xp.where(x < 0, -1, 0).astype(x.dtype)
        return xp.where(in_range, xp.right_shift(x, counts), fill).astype(x.dtype)


for _cls, _name, _op in ((BitwiseLeftShift, "bitwise_left_shift", "lshift"),
                         (BitwiseRightShift, "bitwise_right_shift", "rshift")):
    register(OpSpec(_name, **BINARY, dtypes=("int64", "int32", "uint8"), domain=(-4, 70), grad=False),
             OpSpec(_name + "_", **BINARY, dtypes=("int64", "uint8"), domain=(-2, 9), grad=False,
                    call=_inplace(_name + "_")),
             torch=_name, method=_name, operator=(f"__{_op}__",),
             reflected=(f"__r{_op}__",))(_cls)
    bind_method(_name + "_", inplace_checked(_cls, _name + "_"))
bind_method("__ilshift__", Tensor.bitwise_left_shift_)
bind_method("__irshift__", Tensor.bitwise_right_shift_)
spec(OpSpec("__lshift__", **BINARY, dtypes=("int64", "int8"), domain=(-9, 9), grad=False,
            call=lambda torch, x, y: x << y),
     OpSpec("__rrshift__", **BINARY, dtypes=("int64",), domain=(-3, 66), grad=False,
            call=lambda torch, x, y: y >> x),
     OpSpec("__irshift__", **BINARY, dtypes=("int64", "uint8"), domain=(0, 9), grad=False,
            call=lambda torch, x, y: x.clone().__irshift__(y)),
     OpSpec("__ilshift__", **BINARY, dtypes=("int32",), domain=(0, 40), grad=False,
            call=lambda torch, x, y: x.clone().__ilshift__(y)))


# --- gcd / lcm --------------------------------------------------------------------------------------------
def _integer_op(name, doc):
    def forward(ctx, x, y):
        kernel_kinds(name + "_cpu", "iu", x, y)
        return getattr(ctx.xp, name)(x, y)
    cls = type(name.capitalize(), (Primitive,), {
        "__doc__": doc, "inputs": 2, "promote": "promote", "differentiable": False,
        "check": staticmethod(tensors_only(name)), "forward": staticmethod(forward)})
    return register(OpSpec(name, **BINARY, dtypes=("int64", "int32", "float32", "bool"), domain=(-12, 12), grad=False),
                    OpSpec(name + "_", **BINARY, dtypes=("int64",), domain=(-12, 12), grad=False,
                           call=_inplace(name + "_")),
                    torch=name, method=name, inplace=name + "_")(cls)


Gcd = _integer_op("gcd", "Greatest common divisor, elementwise (non-negative; gcd(0, 0) = 0).")
Lcm = _integer_op("lcm", "Least common multiple, elementwise (non-negative).")
