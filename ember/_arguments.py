"""Argument checks at the op boundary, worded as PyTorch's argument parser words them.

`check_arguments` runs from `Primitive.apply` only when an operand is not a Tensor or the op has
parameters to check (dtype=, dim=): what PyTorch's signature refuses becomes its TypeError naming
the op and the argument, and what it accepts (a Python type as dtype) is turned into ember's own
value, so no internal AttributeError or NumPy error reaches the user.
"""
import builtins
import inspect
import numbers

from . import _dtype
from ._tensor import Tensor

# NOTE: PyTorch accepts the Python number types as dtypes: float is float64 whatever the default
# dtype, complex is complex128 (torch.zeros(2, dtype=float).dtype == torch.float64).
_PY_DTYPES = {builtins.float: _dtype.float64, builtins.int: _dtype.int64, builtins.bool: _dtype.bool,
              builtins.complex: _dtype.complex128}
_GENERIC = {0: ("x", "a", "input", "self"), 1: ("y", "b", "other", "x")}


def type_name(value):
    """The name PyTorch's messages give a value's type: list, NoneType, numpy.ndarray, Tensor."""
    if isinstance(value, Tensor):
        return "Tensor"
    tp = type(value)
    mod = tp.__module__
    return tp.__name__ if mod == "builtins" else f"{mod.split('.')[0]}.{tp.__name__}"


_PLAIN_NUMBERS = frozenset((builtins.int, builtins.float, builtins.bool, builtins.complex))


def is_number(value):
    """A Python or NumPy number: what PyTorch's Scalar arguments accept."""
    if type(value) in _PLAIN_NUMBERS:
        return True
    return isinstance(value, numbers.Number) and not isinstance(value, Tensor) or type(value).__name__ == "bool_"


def as_dtype(value, fn="op", arg="dtype"):
    """A torch dtype from what a user passes as `dtype=`: a dtype, None or a Python number type."""
    if value is None or isinstance(value, _dtype.dtype):
        return value
    d = _PY_DTYPES.get(value) if isinstance(value, type) else None
    if d is None:
        raise TypeError(f"{fn}(): argument '{arg}' must be torch.dtype, not {type_name(value)}")
    return d


def op_name(cls):
    """The public name of a primitive, for messages: its registered name, else its node's name."""
    name = cls.__dict__.get("_public_name")
    if name:
        return name
    node = cls._node_cls.__name__
    for suffix in ("Backward0", "Backward1", "Backward2", "Backward"):
        if node.endswith(suffix):
            node = node[:-len(suffix)]
            break
    return node.lower()


class _Spec:
    """What the boundary checks for one primitive class: operand names, which may be None, and
    the indices of its dtype= and dim= parameters."""

    __slots__ = ("forward", "names", "optional", "dtypes", "dims")

    def __init__(self, cls):
        self.forward = cls.forward
        try:
            params = list(inspect.signature(cls.forward).parameters.values())[1:]
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            params = []
        ops, rest = params[:cls.inputs], params[cls.inputs:]
        self.names = tuple(_operand_name(i, p.name) for i, p in enumerate(ops))
        # NOTE: an operand may be None when forward defaults it to None, or, for ops reached only
        # through a composed function that passes its own defaults (bincount's weights) and do not
        # promote their operands as values, anywhere after the input.
        internal = not cls.__dict__.get("_public_name")
        self.optional = frozenset(i for i, p in enumerate(ops) if p.default is None or (
            i and internal and cls.promote is None))
        self.dtypes = tuple(i for i, p in enumerate(rest) if p.name == "dtype")
        self.dims = tuple((i, p.name) for i, p in enumerate(rest) if p.name in ("dim", "dims"))


def _operand_name(i, name):
    if i == 0 or name in _GENERIC.get(i, ()):  # NOTE: PyTorch calls the first operand input
        return "input" if i == 0 else "other"
    return name


def _spec(cls):
    spec = cls.__dict__.get("_arg_spec")
    if spec is None or spec.forward is not cls.forward:
        spec = _Spec(cls)
        cls._arg_spec = spec
        cls._checks_params = bool(spec.dtypes or spec.dims)
    return spec


def check_arguments(cls, operands, params, n_tensors):
    """PyTorch's TypeError for an operand or parameter of the wrong type; returns the parameters
    with Python types given as dtype turned into torch dtypes."""
    spec = _spec(cls)
    if n_tensors != len(operands):
        _check_operands(cls, spec, operands, n_tensors)
    if spec.dtypes or spec.dims:
        params = _check_params(cls, spec, params)
    return params


def _check_operands(cls, spec, operands, n_tensors):
    for i, a in enumerate(operands):
        if type(a) in _PLAIN_NUMBERS and n_tensors:
            continue
        if isinstance(a, Tensor) or (a is None and i in spec.optional):
            continue
        if is_number(a) and n_tensors:
            continue
        _refuse(cls, spec, i, a)
    if not n_tensors:
        for i, a in enumerate(operands):
            if a is not None:
                _refuse(cls, spec, i, a)
        raise TypeError(f"{op_name(cls)}(): expected a Tensor argument, got none")


def _refuse(cls, spec, i, value):
    name = spec.names[i] if i < len(spec.names) else f"arg{i}"
    raise TypeError(f"{op_name(cls)}(): argument '{name}' (position {i + 1}) must be Tensor, "
                    f"not {type_name(value)}")


def _check_params(cls, spec, params):
    fixed = None
    n = len(params)
    for i in spec.dtypes:
        if i < n:
            v = params[i]
            if v is not None and type(v) is not _dtype.dtype:
                fixed = list(params) if fixed is None else fixed
                fixed[i] = as_dtype(v, op_name(cls))
    for i, name in spec.dims:
        if i < n:
            v = params[i]
            if v is not None and type(v) is not builtins.int:
                check_dim(v, cls, name)
    return params if fixed is None else tuple(fixed)


def _is_int(v):
    return isinstance(v, builtins.int) or (hasattr(v, "__index__") and not isinstance(v, builtins.float) and not (
        isinstance(v, Tensor) and v._dtype.category > _dtype.INT))


def check_dim(value, fn, arg="dim"):
    """TypeError unless `value` is None, an int or a sequence of ints (PyTorch's int[] parsing).
    `fn`: the op's name, or its primitive class."""
    if value is None or _is_int(value):
        return
    if isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        return
    if isinstance(fn, type):
        fn = op_name(fn)
    if isinstance(value, (tuple, list)):
        for v in value:
            if not _is_int(v):
                raise TypeError(f"{fn}(): argument '{arg}' must be tuple of ints, but found element of type "
                                f"{type_name(v)} at pos {value.index(v)}")
        return
    raise TypeError(f"{fn}(): argument '{arg}' must be int, not {type_name(value)}")
