"""Creation ops: tensor, as_tensor, from_numpy, zeros/ones/empty/full (+ _like), arange, linspace, eye."""
import builtins
import math

import numpy as np

from . import _dtype, _state
from ._device import CPU, as_device, current as _current
from ._arguments import as_dtype
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
        array = _dtype.astype(array, dtype.np)
        copy = False
    d = _dtype.from_numpy_dtype(array.dtype)
    array = dev.backend.asarray(array, index=dev.index, copy=copy)
    return _requiring_grad(_wrap(array, dev, d), requires_grad)


def _requiring_grad(t, requires_grad):
    """Set a new tensor's requires_grad= argument (a factory's own message for integer dtypes)."""
    if requires_grad:
        if t._dtype.category < _dtype.FLOAT:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


# --- torch.tensor(data): sizes, dtype, values ------------------------------------------------------
# PyTorch reads nested data in three passes, and its errors follow from the pass that fails:
# the sizes come from the first element at each depth; the dtype is promoted over every leaf
# (Python numbers count as their "default" dtype, NumPy scalars and tensor leaves as their own);
# then every level is checked against the sizes while the values are stored.

def _is_sequence(x):
    return isinstance(x, (list, tuple, range, np.ndarray, str)) or (
        not isinstance(x, (Tensor, dict, bytes)) and hasattr(x, "__len__") and hasattr(x, "__getitem__"))


def _sizes_of(data):
    sizes = []
    seq = data
    while _is_sequence(seq):
        if isinstance(seq, str):
            raise ValueError("too many dimensions 'str'")
        n = len(seq)  # a 0-d ndarray raises "len() of unsized object", as in PyTorch
        sizes.append(n)
        if n == 0:
            break
        seq = seq[0]
    return tuple(sizes)


def _leaf_dtype(x):
    if isinstance(x, Tensor):
        return x._dtype
    if isinstance(x, np.generic):
        return _dtype.from_numpy_dtype(x.dtype)
    if isinstance(x, builtins.bool):
        return _dtype.bool
    if isinstance(x, builtins.int):
        return _dtype.int64
    if isinstance(x, builtins.float):
        return _state.default_dtype
    if isinstance(x, builtins.complex):
        return _dtype.complex128 if _state.default_dtype is _dtype.float64 else _dtype.complex64
    if isinstance(x, str):
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


_PY_NUMBERS = (builtins.bool, builtins.int, builtins.float, builtins.complex)


def _infer_dtype(data):
    """The promoted dtype of every leaf; an empty sequence counts as the default dtype."""
    if isinstance(data, np.ndarray):
        return _dtype.from_numpy_dtype(data.dtype)
    if not _is_sequence(data) or isinstance(data, str):
        return _leaf_dtype(data)
    if len(data) == 0:
        return _state.default_dtype
    result = None
    # NOTE: rows are long and their leaves mostly of one Python type: promote over the distinct
    # types first, and walk item by item only where an item's dtype is its own (tensors, sequences).
    for tp in set(map(type, data)):
        if tp in _PY_NUMBERS or issubclass(tp, np.generic):
            dts = (_leaf_dtype(next(x for x in data if type(x) is tp)),)
        else:
            dts = [_infer_dtype(x) for x in data if type(x) is tp]
        for d in dts:
            result = d if result is None else _dtype.promote_types(result, d)
    return result


def _leaf_value(x, dtype):
    if isinstance(x, Tensor):
        # NOTE: PyTorch converts a tensor leaf as a Python number of the target kind, hence its errors.
        if dtype.category <= _dtype.INT:
            return x.__index__() if x._dtype.category <= _dtype.INT else builtins.int(x.__float__())
        return x.__complex__() if dtype.category == _dtype.COMPLEX else x.__float__()
    if _is_sequence(x):
        if dtype.category <= _dtype.INT:
            raise TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
        raise TypeError(f"must be real number, not {type(x).__name__}")
    return x


def _store(data, sizes, dim, out, dtype):
    if dim == len(sizes):
        out.append(_leaf_value(data, dtype))
        return
    if not _is_sequence(data):
        raise TypeError("not a sequence")
    if len(data) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(data)})")
    if dim == len(sizes) - 1 and all(tp in _PY_NUMBERS or issubclass(tp, np.generic) for tp in set(map(type, data))):
        out.extend(data)  # a row of plain numbers: no per-item work
        return
    for item in data:
        _store(item, sizes, dim + 1, out, dtype)


def _values_array(flat, sizes, dtype):
    """The leaves as a NumPy array of `dtype` and shape `sizes` (integers wrap like a C cast)."""
    try:
        arr = np.array(flat)
    except (OverflowError, ValueError):
        arr = np.array(flat, dtype=object)
    if arr.dtype == object:
        for v in flat:
            if isinstance(v, builtins.int) and not -2 ** 63 <= v < 2 ** 64:
                raise RuntimeError("Overflow when unpacking long")
        arr = arr.astype(np.float64 if dtype.category >= _dtype.FLOAT else np.int64)
    if dtype.category == _dtype.INT:
        _check_int_leaves(arr, dtype)
    return _cast(arr, dtype).reshape(sizes)


def _check_int_leaves(arr, dtype):
    """torch.tensor(numbers, dtype=<int>) refuses values the dtype cannot hold (NaN, 300 for uint8);
    negative integers wrap into unsigned types down to -max, as in a C cast."""
    if arr.dtype.kind not in "fiu" or arr.size == 0:
        return
    if arr.dtype == np.uint64 and (arr > np.iinfo(np.int64).max).any():
        raise ValueError("Overflow when unpacking long long")
    info = np.iinfo(dtype.np)
    lo = info.min if arr.dtype.kind == "f" or info.min < 0 else -builtins.int(info.max)
    with np.errstate(invalid="ignore"):
        ok = (arr >= lo) & (arr <= info.max)
    if not ok.all():
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")


def _cast(arr, dtype):
    if arr.dtype == dtype.np:
        return arr
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN to int and complex to real behave as a C cast, quietly
        if arr.dtype.kind == "f" and dtype.np.kind in "iu" and dtype.np.itemsize < 8:
            arr = arr.astype(np.int64)  # PyTorch truncates to int64, then wraps
        return _dtype.astype(arr, dtype.np)


def _tensor_array(data, dtype):
    """(array, dtype) for torch.tensor(data, dtype=dtype)."""
    if isinstance(data, Tensor):
        arr = data.detach().cpu()._data
        return (arr.copy() if dtype is None else _cast(arr, dtype)), dtype or data._dtype
    if isinstance(data, np.ndarray):
        src = _numpy_dtype(data)
        return np.array(_cast(data, dtype) if dtype is not None else data, copy=True, order="C"), dtype or src
    if isinstance(data, str):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not _is_sequence(data) and hasattr(data, "__array__") and not isinstance(data, np.generic):
        return _tensor_array(np.asarray(data), dtype)
    sizes = _sizes_of(data)
    target = dtype or _infer_dtype(data)
    if not sizes:
        return _values_array([_leaf_value(data, target)], (), target), target
    if 0 in sizes:
        return np.zeros(sizes, dtype=target.np), target
    flat = []
    _store(data, sizes, 0, flat, target)
    return _values_array(flat, sizes, target), target


def _numpy_dtype(arr):
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    return _dtype.from_numpy_dtype(arr.dtype)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (list, number, NumPy array or tensor)."""
    dtype = as_dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() or "
                      "sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    arr, dtype = _tensor_array(data, dtype)
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return from_array(arr, dtype=dtype, device=device, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor, sharing memory when it already is one (or a NumPy array) of that dtype."""
    dtype = as_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray):
        d = _numpy_dtype(data)
        if (dtype is None or dtype is d) and _target_device(device).type == "cpu":
            return _wrap(CPU.backend.share(data), CPU, d)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A CPU tensor sharing memory with `ndarray`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    # NOTE: the tensor shares the memory, not the array object: setting `ndarray.shape` or `.dtype`
    # afterwards leaves the tensor as it was; its storage is exactly ndarray's memory, as in PyTorch.
    return _wrap(CPU.backend.share(ndarray), CPU, _numpy_dtype(ndarray))


# --- sizes ------------------------------------------------------------------------------------------
def _is_int(s):
    return isinstance(s, (builtins.int, np.integer)) or (isinstance(s, Tensor) and s._data.ndim == 0
                                                          and s._dtype.category <= _dtype.INT)


def _size_args(size, name="empty", negative=None):
    """The shape from `f(2, 3)`, `f((2, 3))` or `f(torch.Size([2, 3]))`, with PyTorch's errors."""
    sizes = size[0] if len(size) == 1 and type(size[0]) in (tuple, Size) else size
    for s in sizes:  # NOTE: the common case, plain non-negative ints, decided in one pass
        if type(s) is not builtins.int or s < 0:
            break
    else:
        return tuple(sizes)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    elif len(size) == 1 and not _is_int(size[0]):
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size[0]).__name__}")
    for i, s in enumerate(size):
        if not _is_int(s):
            raise TypeError(f"{name}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                            f"\"type must be tuple of ints,but got {type(s).__name__}\"")
    out = tuple(builtins.int(s) for s in size)
    for s in out:
        if s < 0:
            raise RuntimeError(negative or f"Trying to create tensor with negative dimension {s}: "
                                           f"[{', '.join(map(str, out))}]")
    return out


def _sizes(size, kw, name, negative=None):
    if "size" in kw:  # zeros(size=(2, 3))
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kw.pop("size"),)
    elif not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if kw:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kw))}'")
    return _size_args(size, name, negative)


def _out_dtype(dtype, out):
    """With out=, the dtype defaults to out's; an explicit different one is PyTorch's error."""
    if out is None:
        return dtype or _state.default_dtype
    if dtype is not None and dtype is not out._dtype:
        raise RuntimeError(f"dtype {_dtype.scalar_type_name(dtype)} does not match dtype of out parameter "
                           f"({_dtype.scalar_type_name(out._dtype)})")
    return out._dtype


def _filled(fill, size, dtype, device, requires_grad, out=None):
    dtype = _out_dtype(dtype, out)
    dev = _target_device(device if device is not None or out is None else out._device)
    try:
        if dev.backend.activate is None:
            arr = fill(dev.backend.xp, size, dtype.np)
        else:
            with _current(dev):
                arr = fill(dev.backend.xp, size, dtype.np)
    except MemoryError as e:
        from .autograd.function import out_of_memory
        raise out_of_memory(e, dev) from None
    if arr.size == 0:
        arr = _with_contiguous_strides(dev.backend, arr)
    t = _requiring_grad(_wrap(arr, dev, dtype), requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "creation")
    return t


def _with_contiguous_strides(backend, arr):
    """An empty array given PyTorch's contiguous strides (NumPy allocates it with zeros), so its
    transposes and slices report the strides PyTorch's would."""
    strides, acc = [], arr.itemsize
    for size in reversed(arr.shape):
        strides.append(acc)
        acc *= builtins.max(size, 1)
    return backend.strided_view(arr, arr.shape, tuple(reversed(strides)))


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, **kw):
    """A tensor of zeros of the given size."""
    dtype = as_dtype(dtype, "zeros")
    size = _sizes(size, kw, "zeros", "zeros: Dimension size must be non-negative.")
    return _filled(lambda xp, s, d: xp.zeros(s, dtype=d), size, dtype, device, requires_grad, out)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, **kw):
    """A tensor of ones of the given size."""
    dtype = as_dtype(dtype, "ones")
    return _filled(lambda xp, s, d: xp.ones(s, dtype=d), _sizes(size, kw, "ones"), dtype, device, requires_grad,
                   out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None, **kw):
    """An uninitialised tensor (ember fills it with zeros, so programs stay deterministic)."""
    dtype = as_dtype(dtype, "empty")
    return _filled(lambda xp, s, d: xp.zeros(s, dtype=d), _sizes(size, kw, "empty"), dtype, device,
                   requires_grad, out)


_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def checked_fill_value(value, dtype, float_range=True, unpack=False):
    """`value` as stored in `dtype`, or PyTorch's overflow error (full, fill_, masked_fill, index_fill,
    item assignment): integers must fit (negative ones wrap into unsigned types down to -max), NaN
    and infinities never fit an integer type, a finite float must fit a float type (unless
    `float_range` is False) and a complex number with an imaginary part fits only a complex type.
    `unpack`: the number is read as a C long long first (item assignment): past int64 is a ValueError."""
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, (builtins.bool, np.bool_)):
        return value
    if unpack and isinstance(value, builtins.int) and not -2 ** 63 <= value < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    name = _C_NAMES.get(dtype.name)
    if name is None:
        return value
    overflow = RuntimeError(f"value cannot be converted to type {name} without overflow")
    if isinstance(value, (builtins.complex, np.complexfloating)):
        if dtype.category == _dtype.COMPLEX:
            limit = np.finfo(dtype.np).max
            if any(math.isfinite(v) and abs(v) > limit for v in (value.real, value.imag)):
                raise overflow
            return value
        if value.imag != 0:
            raise overflow
        value = value.real
    if dtype.category == _dtype.COMPLEX:
        if math.isfinite(value) and abs(value) > np.finfo(dtype.np).max:
            raise overflow
        return value
    if dtype.category == _dtype.INT:
        info = np.iinfo(dtype.np)
        if isinstance(value, (builtins.float, np.floating)):
            if not info.min <= value <= info.max:  # NaN fails too
                raise overflow
            return builtins.int(value)
        lo = -builtins.int(info.max) if info.min == 0 else builtins.int(info.min)
        if not lo <= value <= info.max:
            raise overflow
        return builtins.int(value) % (builtins.int(info.max) + 1) if value < 0 and info.min == 0 else value
    if float_range and math.isfinite(value) and abs(value) > float(np.finfo(dtype.np).max):
        raise overflow
    return value


def check_number_operand(t, value, float_range=True):
    """A Python number beside tensor `t` in an op whose result keeps t's dtype (where, clamp): PyTorch
    checks that it fits t's dtype (clamp(uint8, 0, 300) raises); a float beside an integer tensor
    promotes instead, so it is not checked."""
    if isinstance(t, Tensor) and type(value) in (builtins.int, builtins.float) and (
            t._dtype.category == _dtype.INT and type(value) is builtins.int or t._dtype.category == _dtype.FLOAT):
        checked_fill_value(value, t._dtype, float_range=float_range)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of `size` filled with `fill_value`; the dtype follows the value (bool, int64, float)."""
    dtype = as_dtype(dtype, "full")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}")
    if isinstance(fill_value, Tensor):
        if fill_value._data.ndim:
            raise TypeError("full(): argument 'fill_value' (position 2) must be Number, not Tensor")
        fill_value = fill_value.item()
    if dtype is None and out is None:
        dtype = _dtype.scalar_dtype(fill_value, _state.default_dtype)
    value = checked_fill_value(fill_value, _out_dtype(dtype, out))
    return _filled(lambda xp, s, d: xp.full(s, value, dtype=d), _size_args((size,), "full"), dtype, device,
                   requires_grad, out)


def _like_layout(input, make):
    """A new array shaped like input whose strides follow input's dim order (preserve_format).

    NOTE: PyTorch keeps a permuted (e.g. transposed) input's layout; with broadcast (stride 0)
    dims the order is ambiguous and the result is contiguous, as here."""
    shape, strides = input._data.shape, input.stride()
    dims = [d for d in range(len(shape)) if shape[d] != 1]
    if any(strides[d] == 0 for d in dims) or all(strides[a] >= strides[b] for a, b in zip(dims, dims[1:])):
        return make(shape)
    order = _stable_order(shape, strides)
    arr = make(tuple(shape[d] for d in order))
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    return arr.transpose(inverse)


def _stable_order(shape, strides):
    """Dims from outermost to innermost by stride; size-1 dims stay where they are."""
    order = list(range(len(shape)))
    movable = [d for d in order if shape[d] != 1]
    ranked = sorted(movable, key=lambda d: -strides[d])  # sorted() is stable: ties keep dim order
    it = iter(ranked)
    return [d if shape[d] == 1 else next(it) for d in order]


def _like(name, fill):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        dtype = as_dtype(dtype, name + "_like") or input._dtype
        dev = _target_device(device or input._device)
        xp = dev.backend.xp
        with _current(dev):
            if memory_format in (None, "preserve_format"):
                arr = _like_layout(input, lambda shape: fill(xp, shape, dtype.np))
            else:
                arr = fill(xp, input._data.shape, dtype.np)
        return _requiring_grad(_wrap(arr, dev, dtype), requires_grad)
    like.__name__ = name + "_like"
    like.__doc__ = f"{name} with the shape (and by default dtype, device and layout) of input."
    return like


zeros_like = _like("zeros", lambda xp, s, d: xp.zeros(s, dtype=d))
ones_like = _like("ones", lambda xp, s, d: xp.ones(s, dtype=d))
empty_like = _like("empty", lambda xp, s, d: xp.zeros(s, dtype=d))


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """A tensor like input filled with fill_value."""
    dtype = as_dtype(dtype, "full_like")
    dtype = dtype or input._dtype
    value = checked_fill_value(fill_value, dtype)
    t = _like("full", lambda xp, s, d: xp.full(s, value, dtype=d))
    return t(input, dtype=dtype, device=device, requires_grad=requires_grad, memory_format=memory_format)


def _number(v, name, position):
    if isinstance(v, Tensor):
        if v._data.ndim:
            raise TypeError(f"arange(): argument '{name}' (position {position}) must be Number, not Tensor")
        return v.item()
    return v


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from start to end (exclusive) by step; int64 when all are integers."""
    dtype = as_dtype(dtype, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = _number(start, "start", 1), _number(end, "end", 2), _number(step, "step", 3)
    vals = (start, end, step)
    if dtype is None:
        if out is not None:
            dtype = out._dtype
        elif all(isinstance(v, (builtins.int, np.integer, np.bool_)) for v in vals):  # bools count as ints
            dtype = _dtype.int64
        else:
            dtype = _state.default_dtype
    if dtype is _dtype.bool:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    for v in (start, end):
        if isinstance(v, (builtins.float, np.floating)) and not math.isfinite(v):
            raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:  # NOTE: checked on the values as given, before any truncation
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype.category == _dtype.INT:
        # NOTE: for integer dtypes PyTorch truncates the bounds and step first: arange(0, 3.5) has 3 values.
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
    n = builtins.max(0, math.ceil((end - start) / step)) if dtype.category != _dtype.INT else \
        builtins.max(0, -((start - end) // step))
    if dtype.category == _dtype.INT:
        arr = np.arange(n, dtype=np.int64) * step + start
    else:
        arr = start + np.arange(n, dtype=np.float64) * step
    t = from_array(_cast(arr, dtype), device=device, requires_grad=requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "arange")
    return t


def linspace(start, end, steps=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end inclusive."""
    dtype = as_dtype(dtype, "linspace")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if isinstance(steps, builtins.bool) or not isinstance(steps, (builtins.int, np.integer)):
        got = ", ".join(type(v).__name__ for v in (start, end, steps) if v is not None)
        raise TypeError(f"linspace() received an invalid combination of arguments - got ({got}), but expected "
                        "(Number start, Number end, int steps, *, Tensor out = None, torch.dtype dtype = None, "
                        "torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
                        "bool requires_grad = False)")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = _out_dtype(dtype, out)
    if dtype is _dtype.bool:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    t = from_array(_spaced(start, end, builtins.int(steps), dtype), device=device, requires_grad=requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "linspace")
    return t


def _spaced(start, end, steps, dtype):
    """PyTorch's linspace: the first half counts up from start, the second half down from end."""
    # NOTE: float types are computed in their own precision (float16 gives 0.667 where rounding the
    # float64 value would give 0.6665); integer types in float64, then truncated.
    work = dtype.np if dtype.category == _dtype.FLOAT else np.dtype(np.float64)
    if steps == 0:
        return np.zeros(0, dtype=dtype.np)
    if steps == 1:
        return _cast(np.array([start], dtype=work), dtype)
    i = np.arange(steps)
    if dtype.category < _dtype.FLOAT:
        # NOTE: PyTorch converts the bounds to the integer type first: floats truncate (and must fit),
        # integers wrap (-7 is 249 in uint8).
        start, end = checked_fill_value(start, dtype), checked_fill_value(end, dtype)
    s, e = np.asarray(start, dtype=work), np.asarray(end, dtype=work)
    step = (e - s) / np.asarray(steps - 1, dtype=work)
    half = steps // 2
    up = s + step * i[:half].astype(work)
    down = e - step * (steps - 1 - i[half:]).astype(work)
    arr = np.concatenate([up, down]).astype(work)
    if dtype.category < _dtype.FLOAT:
        arr = np.trunc(arr)
    return _cast(arr, dtype)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """`steps` values from base**start to base**end, evenly spaced in the exponent."""
    dtype = as_dtype(dtype, "logspace")
    dtype = _out_dtype(dtype, out)
    arr = np.power(base, _spaced(start, end, builtins.int(steps), _dtype.float64))
    t = from_array(_cast(arr, dtype), device=device, requires_grad=requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "logspace")
    return t


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The n x m identity matrix."""
    dtype = as_dtype(dtype, "eye")
    for name, v, pos in (("n", n, 1), ("m", m, 2)):
        if v is None:
            continue
        if isinstance(v, builtins.bool) or not isinstance(v, (builtins.int, np.integer)):
            raise TypeError(f"eye(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}")
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    dtype = _out_dtype(dtype, out)
    t = from_array(np.eye(n, n if m is None else m, dtype=dtype.np), device=device, requires_grad=requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "eye")
    return t


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


from ._ops._registry import bind_method  # noqa: E402
bind_method("new_zeros", _new(zeros))
bind_method("new_ones", _new(ones))
bind_method("new_empty", _new(empty))
bind_method("new_full", _new(full))
