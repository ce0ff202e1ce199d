"""Type queries and small tensor utilities: torch.memory_format and torch.layout objects,
is_signed, is_storage, is_nonzero, Tensor.cfloat/cdouble/apply_."""
import builtins

import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap


class _NamedConstant(str):
    """A named torch constant (`torch.contiguous_format`) that prints as PyTorch prints it.

    NOTE: a str subclass so that ember's internals, which compare these to their bare names
    ("preserve_format"), accept both forms."""

    def __repr__(self):
        return "torch." + str.__str__(self)

    __str__ = __repr__

    def __format__(self, spec):
        return format(repr(self), spec)

    def __reduce__(self):
        return (_constant, (type(self).__name__, str.__str__(self)))


class memory_format(_NamedConstant):
    """torch.memory_format: how a tensor's dims are laid out in memory."""


class layout(_NamedConstant):
    """torch.layout: strided (dense), sparse_coo, and the compressed sparse_csr, sparse_csc, sparse_bsr, sparse_bsc."""


def _constant(kind, name):
    return {"memory_format": MEMORY_FORMATS, "layout": LAYOUTS}[kind][name]


MEMORY_FORMATS = {n: memory_format(n) for n in
                  ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d")}
LAYOUTS = {n: layout(n) for n in ("strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr",
                                  "sparse_bsc", "_mkldnn", "jagged")}


def _require_tensor(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def is_signed(input):
    """True when input's dtype is signed (floats and complex count as signed)."""
    _require_tensor(input, "is_signed")
    return input._dtype.is_signed


def is_storage(obj):
    """Whether obj is a storage (Tensor.storage() or untyped_storage())."""
    from ._storage import TypedStorage, UntypedStorage
    return isinstance(obj, (TypedStorage, UntypedStorage))


def is_nonzero(input):
    """The truth value of a one-element tensor; RuntimeError for empty or larger ones."""
    _require_tensor(input, "is_nonzero")
    return builtins.bool(input)


def _apply_(self, callable):
    """Call `callable` on every element (a Python number) and store the results in place (CPU only)."""
    if self.requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() "
                           "instead.")
    if self._device.type != "cpu":
        raise TypeError("apply_ is only implemented on CPU tensors")
    convert = _PY_TYPES[self._dtype.category]
    flat = [convert(callable(v)) for v in _flat_values(self)] if self._data.size else []
    values = np.asarray(flat, dtype=np.float32 if self._dtype is _dtype.bfloat16 else self._dtype.np)
    self._data[...] = values.reshape(self._data.shape).astype(self._dtype.np)
    self._vc[0] += 1
    return self


def _as_float(v):
    if isinstance(v, str) or not isinstance(v, (builtins.int, builtins.float, np.number, builtins.bool)):
        raise TypeError(f"must be real number, not {type(v).__name__}")
    return builtins.float(v)


def _as_int(v):
    return builtins.int(_as_float(v)) if not isinstance(v, (builtins.int, np.integer)) else builtins.int(v)


_PY_TYPES = {_dtype.BOOL: builtins.bool, _dtype.INT: _as_int, _dtype.FLOAT: _as_float,
             _dtype.COMPLEX: builtins.complex}


def _flat_values(self):
    return _wrap(self._data.reshape(-1), self._device, self._dtype).tolist()


from ._ops._registry import bind_method  # noqa: E402
bind_method("apply_", _apply_)
bind_method("is_signed", lambda self: self._dtype.is_signed)
bind_method("is_nonzero", is_nonzero)
bind_method("cfloat", lambda self, memory_format=None: self.to(_dtype.complex64))
bind_method("cdouble", lambda self, memory_format=None: self.to(_dtype.complex128))


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """obj as a tensor, sharing memory with a tensor or NumPy array when dtype and device allow;
    copy=True always copies, copy=False refuses to."""
    from ._creation import from_numpy, tensor
    if isinstance(obj, np.generic):
        obj = np.asarray(obj)
    if not isinstance(obj, (Tensor, np.ndarray)):
        return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)
    src = obj if isinstance(obj, Tensor) else from_numpy(obj)
    from ._device import as_device
    dev = as_device(device)
    moves = (dtype is not None and dtype is not src._dtype) or (dev is not None and dev != src._device)
    if copy is False and moves:
        if dtype is not None and dtype is not src._dtype:
            raise ValueError(f"can't alias tensor with dtype '{_dtype.scalar_type_name(src._dtype)}' into dtype "
                             f"'{_dtype.scalar_type_name(dtype)}'.")
        raise ValueError(f"can't alias tensor on device '{src._device}' into device '{dev}'.")
    if copy or moves:
        result = src.detach().to(dtype=dtype or src._dtype, device=dev or src._device, copy=True)
    elif requires_grad or src is not obj:
        result = src.detach() if src is obj else src
    else:
        return src
    return result.requires_grad_(True) if requires_grad else result


# --- specs for the generic comparison with PyTorch ----------------------------------------------
def _register_specs():
    from ._ops._registry import OpSpec, spec

    def cast(name, dtypes=("float32", "int64")):
        return OpSpec(name, method=True, dtypes=dtypes, call=lambda torch, x: getattr(x, name)(), gradcheck=False)

    def query(name, call, dtypes=("float32", "int64", "bool")):
        return OpSpec(name, dtypes=dtypes, grad=False, call=call)

    spec(OpSpec("half", call=lambda torch, x: x.half().float(), gradcheck=False),
         OpSpec("bfloat16", call=lambda torch, x: x.bfloat16().double(), gradcheck=False),
         cast("half", ("int64", "bool")), cast("bfloat16", ("int64",)), cast("long", ("float64", "bool")), cast("int"), cast("short"),
         cast("char"), cast("byte", ("int64", "bool")), cast("bool"),
         OpSpec("cfloat", call=lambda torch, x: torch.view_as_real(x.cfloat()), dtypes=("float64", "int64"),
                gradcheck=False),
         OpSpec("cdouble", call=lambda torch, x: torch.view_as_real(x.cdouble()) * 2),
         OpSpec("to", dtypes=("float32", "int32"), kwargs=({"dtype": "float64"}, {"dtype": "int64"}),
                call=lambda torch, x, dtype: x.to(getattr(torch, dtype))),
         OpSpec("to", arity=2, shapes="binary", call=lambda torch, x, y: x.to(y.double()) * y.double()),
         OpSpec("to", call=lambda torch, x: x.to("cpu", torch.float64)),
         OpSpec("type", dtypes=("float32", "int64"), kwargs=({"dtype": "torch.DoubleTensor"}, {"dtype": "torch.IntTensor"}),
                call=lambda torch, x, dtype: x.type(dtype)),
         OpSpec("type", dtypes=("float32", "int64", "bool"), grad=False,
                call=lambda torch, x: torch.tensor([ord(c) for c in x.type()])),
         OpSpec("type_as", arity=2, shapes="binary", dtypes=("float32", "float64"),
                call=lambda torch, x, y: x.type_as(y.double())),
         OpSpec("apply_", dtypes=("float32", "int64", "bool"), grad=False,
                call=lambda torch, x: x.clone().apply_(lambda v: v * 2 + 1)),
         query("is_nonzero", lambda torch, x: torch.is_nonzero(x)),
         query("is_signed", lambda torch, x: torch.is_signed(x), ("float32", "uint8", "bool")),
         query("is_floating_point", lambda torch, x: torch.is_floating_point(x)),
         query("is_complex", lambda torch, x: torch.is_complex(x)),
         query("is_tensor", lambda torch, x: torch.is_tensor(x) and not torch.is_tensor(x.tolist())),
         query("is_storage", lambda torch, x: torch.is_storage(x)),
         query("numel", lambda torch, x: torch.numel(x)),
         query("element_size", lambda torch, x: x.element_size(), ("float32", "int16", "bool")),
         query("nbytes", lambda torch, x: x.nbytes, ("float64", "uint8")),
         query("itemsize", lambda torch, x: x.itemsize, ("float16", "int32")),
         OpSpec("asarray", dtypes=("float32", "int64"), call=lambda torch, x: torch.asarray(x) * 2),
         OpSpec("asarray", dtypes=("float32", "int64"), grad=False,
                call=lambda torch, x: torch.asarray(x.tolist(), dtype=torch.float64)))


_register_specs()
