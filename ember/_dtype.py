"""torch dtypes and PyTorch's type-promotion rules (stands in for the dtype half of `torch`)."""
import builtins

import ml_dtypes
import numpy as np

# Categories order the kinds of numbers: a higher category wins in promotion.
BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


class dtype:
    """A torch dtype: `torch.float32`, `torch.int64`, ... Wraps the NumPy dtype that stores it."""

    __slots__ = ("name", "np", "category", "itemsize", "is_signed", "_legacy")

    def __init__(self, name, np_dtype, category, legacy):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.is_signed = category != BOOL and name != "uint8"
        self._legacy = legacy  # the legacy tensor-type name: FloatTensor, LongTensor, ...

    @property
    def is_floating_point(self):
        return self.category == FLOAT

    @property
    def is_complex(self):
        return self.category == COMPLEX

    def to_real(self):
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        return {"float64": complex128}.get(self.name, complex64)

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


def _by_name(name):
    return _BY_NAME[name]


bool = dtype("bool", np.bool_, BOOL, "BoolTensor")
uint8 = dtype("uint8", np.uint8, INT, "ByteTensor")
int8 = dtype("int8", np.int8, INT, "CharTensor")
int16 = dtype("int16", np.int16, INT, "ShortTensor")
int32 = dtype("int32", np.int32, INT, "IntTensor")
int64 = dtype("int64", np.int64, INT, "LongTensor")
float16 = dtype("float16", np.float16, FLOAT, "HalfTensor")
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, FLOAT, "BFloat16Tensor")
float32 = dtype("float32", np.float32, FLOAT, "FloatTensor")
float64 = dtype("float64", np.float64, FLOAT, "DoubleTensor")
complex64 = dtype("complex64", np.complex64, COMPLEX, "ComplexFloatTensor")
complex128 = dtype("complex128", np.complex128, COMPLEX, "ComplexDoubleTensor")

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL}

# torch's aliases
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

ALIASES = dict(half=half, float=float, double=double, short=short, int=int, long=long,
               cfloat=cfloat, cdouble=cdouble)


def from_numpy_dtype(np_dtype):
    """The torch dtype that stores `np_dtype`; TypeError for dtypes torch has no equivalent of."""
    d = _BY_NP.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")
    return d


# --- promotion -------------------------------------------------------------------------------
# Integer lattice: the smallest signed type holding both. Floats: the wider; float16 with
# bfloat16 meets at float32 (neither holds the other).
_INT_ORDER = {"uint8": 0, "int8": 1, "int16": 2, "int32": 3, "int64": 4}
_FLOAT_ORDER = {"float16": 0, "bfloat16": 0, "float32": 1, "float64": 2}


def promote_types(a, b):
    """torch.promote_types: the smallest dtype both `a` and `b` cast to safely."""
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.category == COMPLEX and lo.category == FLOAT:
            return complex128 if float64 in (lo, hi.to_real()) else hi
        return hi
    cat = a.category
    if cat == INT:
        if {a.name, b.name} == {"uint8", "int8"}:
            return int16
        return a if _INT_ORDER[a.name] > _INT_ORDER[b.name] else b
    if cat == FLOAT:
        ra, rb = _FLOAT_ORDER[a.name], _FLOAT_ORDER[b.name]
        if ra == rb:
            return float32  # float16 with bfloat16
        return a if ra > rb else b
    if cat == COMPLEX:
        return complex128
    return a


def _combine(higher, lower):
    # Mirrors how torch lets a higher-priority group (dimensioned tensors over 0-d tensors over
    # Python scalars) keep its dtype unless a lower group brings a higher category.
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == COMPLEX:
        return higher
    if lower.category == COMPLEX:
        return higher.to_complex() if higher.category == FLOAT else lower
    if higher.category == FLOAT:
        return higher
    if higher is bool or lower.category == FLOAT:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value, default_float):
    """The dtype a Python scalar takes part in promotion with (a 'wrapped number')."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating)):
        return default_float
    if isinstance(value, (builtins.complex, np.complexfloating)):
        return complex128 if default_float is float64 else complex64
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def result_dtype(dim_dtypes, zero_dim_dtypes, scalar_dtypes):
    """torch.result_type over three priority groups of already-classified operands."""
    groups = []
    for group in (dim_dtypes, zero_dim_dtypes, scalar_dtypes):
        r = None
        for d in group:
            r = d if r is None else promote_types(r, d)
        groups.append(r)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def can_cast(from_, to):
    """torch.can_cast: whether an in-place op may store a `from_` result in a `to` tensor."""
    return from_.category <= to.category


def category_name(d):
    return {BOOL: "Bool", INT: "Long", FLOAT: "Float", COMPLEX: "ComplexFloat"}[d.category]


_SCALAR_TYPE_NAMES = {
    "bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
    "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
    "complex64": "ComplexFloat", "complex128": "ComplexDouble",
}


def scalar_type_name(d):
    """The name PyTorch's C++ messages use: Float, Long, Double, ..."""
    return _SCALAR_TYPE_NAMES[d.name]
