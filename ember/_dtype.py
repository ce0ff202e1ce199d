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
        self.is_signed = category != BOOL and not name.startswith("uint")
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
# NOTE: PyTorch's wider unsigned types have "limited support": they store and convert (from_numpy,
# .to), but refuse promotion with other dtypes and most arithmetic kernels.
uint16 = dtype("uint16", np.uint16, INT, "UInt16Tensor")
uint32 = dtype("uint32", np.uint32, INT, "UInt32Tensor")
uint64 = dtype("uint64", np.uint64, INT, "UInt64Tensor")
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

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128,
       uint16, uint32, uint64)
LIMITED = (uint16, uint32, uint64)
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
    np_dtype = np.dtype(np_dtype)
    d = _BY_NP.get(np_dtype)
    if d is None and np_dtype.byteorder not in "=|" and _BY_NP.get(np_dtype.newbyteorder("=")) is not None:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, uint16, "
            "uint8, and bool.")
    return d


# --- promotion -------------------------------------------------------------------------------
# Integer lattice: the smallest signed type holding both. Floats: the wider; float16 with
# bfloat16 meets at float32 (neither holds the other).
_INT_ORDER = {"uint8": 0, "int8": 1, "int16": 2, "int32": 3, "int64": 4}
_FLOAT_ORDER = {"float16": 0, "bfloat16": 0, "float32": 1, "float64": 2}


def astype(array, np_dtype, copy=True):
    """`array` (NumPy or CuPy) cast to `np_dtype` as PyTorch casts.

    NOTE: PyTorch builds Half and BFloat16 from a float, so float64 reaches them through float32: two
    roundings, which differ from NumPy's one in the rare case the first lands exactly halfway."""
    if np_dtype.itemsize == 2 and np_dtype.kind in "fV" and array.dtype.kind == "f" and array.dtype.itemsize == 8:
        return array.astype("float32").astype(np_dtype)
    return array.astype(np_dtype, copy=copy)


def promote_types(a, b):
    """torch.promote_types: the smallest dtype both `a` and `b` cast to safely."""
    if a is b:
        return a
    if a in LIMITED or b in LIMITED:
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                           f"{scalar_type_name(a)} and {scalar_type_name(b)}")
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
    "complex64": "ComplexFloat", "complex128": "ComplexDouble", "uint16": "UInt16", "uint32": "UInt32",
    "uint64": "UInt64",
}


def scalar_type_name(d):
    """The name PyTorch's C++ messages use: Float, Long, Double, ..."""
    return _SCALAR_TYPE_NAMES[d.name]


# --- finfo / iinfo ---------------------------------------------------------------------------------
def _info_type(value, name):
    if value is None:
        from . import _state
        return _state.default_dtype
    if not isinstance(value, dtype):
        raise TypeError(f"{name}(): argument 'type' (position 1) must be torch.dtype, not {type(value).__name__}")
    return value


class finfo:
    """torch.finfo: the numerical limits of a floating point (or complex: its real part's) dtype."""

    __hash__ = None  # NOTE: PyTorch's finfo compares by value and is unhashable

    def __init__(self, type=None):
        d = _info_type(type, "finfo")
        if d.category < FLOAT:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        d = d.to_real()
        info = ml_dtypes.finfo(d.np) if d is bfloat16 else np.finfo(d.np)
        self.bits = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = builtins.float(10.0 ** -builtins.int(info.precision))
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and vars(self) == vars(other)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo: the limits of an integer dtype."""

    __hash__ = None

    def __init__(self, type):
        d = _info_type(type, "iinfo")
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.category != INT:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and vars(self) == vars(other)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
