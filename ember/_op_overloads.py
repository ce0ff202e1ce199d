"""torch.ops: the operator namespace (torch.ops.aten.mm.default), and the name each ember primitive call has there.

ember's ops are its own Primitive classes, not ATen's operators. What programs do with torch.ops.aten is mostly
name an operator (a selective-checkpoint policy, a profiler filter) and sometimes call one; so an OpOverload here
is a name (namespace, op, overload) that compares by identity, as PyTorch's do, and calls the ember function of
that name. `op_for_call` names a primitive call as ATen would name the operator it dispatches to.
"""
import re

__all__ = ["ops"]


class OpOverload:
    """One overload of an operator: torch.ops.aten.mm.default."""

    def __init__(self, packet, overload):
        self.overloadpacket = packet
        self._overloadname = overload
        self.namespace = packet._qualified_op_name.split("::")[0]
        self.__name__ = f"{packet.__name__}.{overload}"

    def name(self):
        return self.overloadpacket._qualified_op_name

    def __repr__(self):
        return f"<OpOverload(op='{self.namespace}.{self.overloadpacket.__name__}', overload='{self._overloadname}')>"

    def __str__(self):
        return f"{self.namespace}.{self.overloadpacket.__name__}.{self._overloadname}"

    def __hash__(self):
        return id(self)

    def __call__(self, *args, **kwargs):
        return self.overloadpacket(*args, **kwargs)


class OpOverloadPacket:
    """An operator with its overloads as attributes: torch.ops.aten.mm (call it, or take .default)."""

    def __init__(self, namespace, name):
        self._qualified_op_name = f"{namespace}::{name}"
        self.__name__ = name
        self._overloads = {}

    def __getattr__(self, overload):
        if overload.startswith("__"):
            raise AttributeError(overload)
        op = self._overloads.get(overload)
        if op is None:
            op = self._overloads[overload] = OpOverload(self, overload)
        return op

    def overloads(self):
        return list(self._overloads)

    def __repr__(self):
        ns, name = self._qualified_op_name.split("::")
        return f"<OpOverloadPacket(op='{ns}.{name}')>"

    def __str__(self):
        return self._qualified_op_name.replace("::", ".")

    def __call__(self, *args, **kwargs):
        import ember
        name = _CALLS.get(self.__name__, self.__name__)
        fn = getattr(ember, name, None) or getattr(ember.nn.functional, name, None)
        if fn is None:
            fn = getattr(ember.Tensor, name, None)
        if fn is None:
            raise NotImplementedError(f"ember has no function for {self._qualified_op_name}")
        return fn(*args, **kwargs)


class _OpNamespace:
    def __init__(self, name):
        self.name = name
        self._packets = {}

    def __getattr__(self, op):
        if op.startswith("__"):
            raise AttributeError(op)
        packet = self._packets.get(op)
        if packet is None:
            packet = self._packets[op] = OpOverloadPacket(self.name, op)
        return packet


class _Ops:
    """torch.ops: torch.ops.<namespace>.<op>.<overload>."""

    def __init__(self):
        self._namespaces = {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        ns = self._namespaces.get(name)
        if ns is None:
            ns = self._namespaces[name] = _OpNamespace(name)
        return ns


ops = _Ops()

# --- naming a primitive call ---------------------------------------------------------------------------
# NOTE: ember class name -> ATen operator where the snake_case of the class name is not it
_NAMES = {"Softmax": "_softmax", "LogSoftmax": "_log_softmax", "LayerNorm": "native_layer_norm",
          "T": "t", "_UndifferentiableBernoulli": "bernoulli", "BatchNorm": "native_batch_norm",
          "GroupNorm": "native_group_norm", "Convolution": "convolution", "RSub": "rsub", "ToCopy": "_to_copy",
          "ScaledDotProductAttention": "_scaled_dot_product_flash_attention_for_cpu", "LinearBatched": "addmm",
          "AddmmLow": "addmm", "MaxAll": "max", "MinAll": "min", "MedianAll": "median", "ClampTensor": "clamp",
          "FmodTensor": "fmod", "RemainderTensor": "remainder", "PowTensor": "pow", "PowScalarBase": "pow",
          "LerpTensor": "lerp", "DivMode": "div", "Slice": "slice", "Select": "select", "SqueezeDim": "squeeze",
          "LogSumExp": "logsumexp", "Isclose": "isclose", "IsClose": "isclose", "NonZero": "nonzero"}
# NOTE: (ATen name, overload) for the classes whose overload is fixed by the class
_FIXED = {"SumDim": ("sum", "dim_IntList"), "MeanDim": ("mean", "dim"), "MaxDim": ("max", "dim"),
          "MinDim": ("min", "dim"), "ProdDim": ("prod", "dim_int"), "MedianDim": ("median", "dim"),
          "NanmedianDim": ("nanmedian", "dim"), "Transpose": ("transpose", "int"), "Select": ("select", "int"),
          "Slice": ("slice", "Tensor"), "SqueezeDim": ("squeeze", "dim"), "DivMode": ("div", "Tensor_mode"),
          "ClampTensor": ("clamp", "Tensor"), "PowScalarBase": ("pow", "Scalar"), "PowTensor": ("pow", "Tensor_Tensor"),
          "Std": ("std", "correction"), "Var": ("var", "correction"), "Cat": ("cat", "default"),
          "Gelu": ("gelu", "default"), "Where": ("where", "self"), "Clone": ("clone", "default")}
# NOTE: ATen's ops taking (Tensor, Tensor or Scalar): a Python number is wrapped into a tensor, so .Tensor
_TENSOR_OVERLOAD = {"add", "sub", "mul", "div", "rsub", "true_divide", "floor_divide", "remainder", "fmod", "atan2",
                    "bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or", "logical_xor"}
_COMPARISON = {"eq", "ne", "lt", "le", "gt", "ge"}
_DIM_OVERLOAD = {"sum": "dim_IntList", "mean": "dim"}
_CALLS = {"_softmax": "softmax", "_log_softmax": "log_softmax", "native_layer_norm": "layer_norm", "t": "t"}


def _snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def op_for_call(cls, args):
    """The aten OpOverload a call of primitive `cls` with `args` stands for."""
    from ._tensor import Tensor
    cname = cls.__name__
    fixed = _FIXED.get(cname)
    if fixed is not None:
        return getattr(getattr(ops.aten, fixed[0]), fixed[1])
    name = _NAMES.get(cname)
    if name is None:
        name = _snake(cname)
    overload = "default"
    if cname == "Linear":
        name = "addmm" if len(args) > 2 and args[2] is not None else "mm"
    elif name in _TENSOR_OVERLOAD:
        overload = "Tensor"
    elif name in _COMPARISON:
        overload = "Tensor" if len(args) > 1 and isinstance(args[1], Tensor) else "Scalar"
    elif name == "pow":
        base, exp = args[0], args[1] if len(args) > 1 else None
        overload = "Tensor_Tensor" if isinstance(base, Tensor) and isinstance(exp, Tensor) else \
            "Tensor_Scalar" if isinstance(base, Tensor) else "Scalar"
    elif name in _DIM_OVERLOAD:
        overload = _DIM_OVERLOAD[name] if len(args) > 1 and args[1] is not None else "default"
    return getattr(getattr(ops.aten, name), overload)
