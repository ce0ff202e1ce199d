"""Creation ops: tensor, as_tensor, from_numpy, zeros/ones/empty/full (+ _like), arange, linspace, eye."""
import builtins
import math

import numpy as np

from . import _dtype, _state
from ._device import CPU, as_device
from ._tensor import Size, Tensor, _wrap


def _target_device(device):
    d = as_device(device)
    if d is None:
        d = as_device(_state.default_device) or CPU
    return d


def from_array(array, dtype=None, device=None, requires_grad=False, copy=False):
    """Wrap a NumPy array (moved to `device`, cast to `dtype`) as a Tensor."""
    dev = _target_device(device)
    if dtype is not None and array.dtype != dtype.np:
        array = array.astype(dtype.np)
        copy = False
    d = _dtype.from_numpy_dtype(array.dtype)
    if dev.type != "cpu":
        array = dev.backend.asarray(array, index=dev.index)
    elif copy:
        array = array.copy()
    t = _wrap(array, dev, d)
    if requires_grad:
        t.requires_grad_(True) if d.category >= _dtype.FLOAT else _no_grad_dtype()
    return t


def _no_grad_dtype():
    raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


def _infer_numpy(data):
    """NumPy array of `data` with the dtype PyTorch would infer for it."""
    if isinstance(data, Tensor):
        return data.detach().cpu()._data, data._dtype
    if isinstance(data, np.ndarray):
        return data, _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        return np.asarray(data), _dtype.from_numpy_dtype(data.dtype)
    if isinstance(data, (list, tuple)):
        _check_ragged(data)
        flat = _flatten_leaves(data)
        if any(isinstance(x, Tensor) for x in flat):
            data = _tensors_to_lists(data)
            flat = _flatten_leaves(data)
        kind = _kind_of(flat)
        arr = np.asarray(data, dtype=object if kind == "object" else None) if flat else np.asarray(data, dtype=np.float32)
        return arr, _dtype_for_kind(kind, flat, arr)
    if isinstance(data, (builtins.bool, builtins.int, builtins.float, builtins.complex)):
        kind = _kind_of([data])
        return np.asarray(data), _dtype_for_kind(kind, [data], None)
    if hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
        arr = np.asarray(data)
        return arr, _dtype.from_numpy_dtype(arr.dtype)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _check_ragged(data, dim=0):
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    if isinstance(first, (list, tuple)):
        n = len(first)
        for item in data:
            if not isinstance(item, (list, tuple)):
                raise TypeError(f"not a sequence")
            if len(item) != n:
                raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {len(item)})")
        for item in data:
            _check_ragged(item, dim + 1)


def _flatten_leaves(data):
    out = []
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        else:
            out.append(x)
    return out


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        return data.detach().cpu()._data.tolist() if data._dtype is not _dtype.bfloat16 else data.tolist()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


def _kind_of(flat):
    kinds = set()
    for x in flat:
        if isinstance(x, (builtins.bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(x, (builtins.int, np.integer)):
            kinds.add("int")
        elif isinstance(x, (builtins.float, np.floating)):
            kinds.add("float")
        elif isinstance(x, (builtins.complex, np.complexfloating)):
            kinds.add("complex")
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    for k in ("complex", "float", "int", "bool"):
        if k in kinds:
            return k
    return "float"


def _dtype_for_kind(kind, flat, arr):
    # NumPy scalars keep their own dtype, as in PyTorch (torch.tensor([np.float32(1)]) is float32).
    np_types = {x.dtype for x in flat if isinstance(x, np.generic)}
    if np_types and len(np_types) == 1 and len(flat) == builtins.sum(isinstance(x, np.generic) for x in flat):
        return _dtype.from_numpy_dtype(np_types.pop())
    if kind == "bool":
        return _dtype.bool
    if kind == "int":
        return _dtype.int64
    if kind == "complex":
        return _dtype.complex128 if _state.default_dtype is _dtype.float64 else _dtype.complex64
    return _state.default_dtype


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (list, number, NumPy array or tensor)."""
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() or "
                      "sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    arr, inferred = _infer_numpy(data)
    dtype = dtype or inferred
    if arr.dtype == object:
        arr = arr.astype(np.float64)
    if arr.dtype != dtype.np:
        arr = arr.astype(dtype.np)
    elif arr is data or isinstance(data, Tensor) or isinstance(data, np.generic):
        arr = arr.copy()
    if not arr.flags.c_contiguous:
        arr = np.array(arr, order="C")
    return from_array(arr, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor, sharing memory when it already is one (or a NumPy array) of that dtype."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray):
        d = _dtype.from_numpy_dtype(data.dtype)
        if (dtype is None or dtype is d) and _target_device(device).type == "cpu":
            return _wrap(data, CPU, d)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A CPU tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return _wrap(ndarray, CPU, _dtype.from_numpy_dtype(ndarray.dtype))


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (builtins.int, np.integer)) and not (isinstance(s, Tensor) and s.numel() == 1):
            raise TypeError(f"expected a sequence of integers or a single integer, got '{s}'")
    out = tuple(builtins.int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: [{', '.join(map(str, out))}]")
    return out


def _filled(fill, size, dtype, device, requires_grad, out=None):
    dtype = dtype or _state.default_dtype
    dev = _target_device(device)
    arr = fill(dev.backend.xp, size, dtype.np)
    t = _wrap(arr, dev, dtype)
    if requires_grad:
        t.requires_grad_(True)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "creation")
    return t


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros of the given size."""
    return _filled(lambda xp, s, d: xp.zeros(s, dtype=d), _size_args(size), dtype, device, requires_grad, out)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ones of the given size."""
    return _filled(lambda xp, s, d: xp.ones(s, dtype=d), _size_args(size), dtype, device, requires_grad, out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor (ember fills it with zeros, so programs stay deterministic)."""
    return zeros(*size, out=out, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value`; the dtype follows the value (bool, int64, float)."""
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value, _state.default_dtype)
    return _filled(lambda xp, s, d: xp.full(s, fill_value, dtype=d), _size_args((size,)), dtype, device,
                   requires_grad, out)


def _like(maker):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        return maker(input.shape, dtype=dtype or input._dtype, device=device or input._device,
                     requires_grad=requires_grad)
    like.__name__ = maker.__name__ + "_like"
    like.__doc__ = f"{maker.__name__} with the shape (and by default dtype and device) of input."
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """A tensor like input filled with fill_value."""
    return full(input.shape, fill_value, dtype=dtype or input._dtype, device=device or input._device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 when all are integers."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, (builtins.int, np.integer)) and not isinstance(v, builtins.bool) for v in vals)
        dtype = _dtype.int64 if is_int else _state.default_dtype
    n = builtins.max(0, math.ceil((end - start) / step))
    arr = (start + np.arange(n, dtype=np.float64) * step) if dtype.category >= _dtype.FLOAT else \
        np.arange(start, start + n * step, step)[:n]
    return from_array(arr.astype(dtype.np), device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive."""
    dtype = dtype or _state.default_dtype
    arr = np.linspace(float(start), float(end), int(steps))
    if dtype.category < _dtype.FLOAT:
        arr = np.trunc(arr)
    return from_array(arr.astype(dtype.np), device=device, requires_grad=requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    dtype = dtype or _state.default_dtype
    arr = np.power(base, np.linspace(float(start), float(end), int(steps)))
    return from_array(arr.astype(dtype.np), device=device, requires_grad=requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The n x m identity matrix."""
    dtype = dtype or _state.default_dtype
    return from_array(np.eye(n, n if m is None else m, dtype=dtype.np), device=device, requires_grad=requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding s (default float dtype)."""
    return tensor(s, dtype=dtype or _state.default_dtype, device=device, requires_grad=requires_grad)


def _new(maker):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        if maker is full:
            size, value = size
            return full(size, value, dtype=dtype or self._dtype, device=device or self._device,
                        requires_grad=requires_grad)
        return maker(*size, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)
    method.__name__ = "new_" + maker.__name__
    return method


Tensor.new_zeros = _new(zeros)
Tensor.new_ones = _new(ones)
Tensor.new_empty = _new(empty)
Tensor.new_full = _new(full)
