"""The long tail of the torch and Tensor namespaces: creation with explicit geometry (empty_strided,
empty_permuted, frombuffer, range), small predicates and utilities (is_same_size, is_set_to, typename,
dim_order, ...), resize_, the legacy Tensor.new, and the methods of backends ember does not have
(kernels PyTorch has for one layout only, and chalf, are in _layout_only.py)."""
import builtins
import warnings

import numpy as np

from . import _dtype, _layout_only, _state  # noqa: F401  (_layout_only binds its Tensor methods)
from ._ops._registry import bind, bind_method, public
from ._tensor import Size, Tensor, _wrap


# --- creation with explicit geometry ----------------------------------------------------------------------
def _device_of(device):
    from ._creation import _target_device
    return _target_device(device)


def _from_array(arr, dev, dtype, requires_grad):
    from ._creation import _requiring_grad
    return _requiring_grad(_wrap(arr, dev, dtype), requires_grad)


def _strided(size, stride, dtype, device, requires_grad):
    from ._creation import as_dtype
    from ._ops._strides import restride, storage_nbytes
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape")
    dtype = as_dtype(dtype, "empty_strided") or _state.default_dtype
    dev = _device_of(device)
    n = storage_nbytes(size, stride, dtype.itemsize, 0) // dtype.itemsize
    xp = dev.backend.xp
    flat = xp.zeros(n, dtype=dtype.np)  # NOTE: ember fills "uninitialised" memory with zeros, as empty does
    arr = restride(xp, flat, size, tuple(st * dtype.itemsize for st in stride))
    return _from_array(arr, dev, dtype, requires_grad)


@public
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised (zero-filled, in ember) tensor with the given sizes and strides."""
    return _strided(size, stride, dtype, device, requires_grad)


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                       pin_memory=False):
    """empty_strided with self's dtype and device unless given."""
    return _strided(size, stride, dtype or self._dtype, device if device is not None else self._device,
                    requires_grad)


bind_method("new_empty_strided", _new_empty_strided)


@public
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised (zero-filled) tensor of `size` whose dims lie in memory in `physical_layout`'s order."""
    from ._creation import as_dtype
    size, order = tuple(int(s) for s in size), tuple(int(d) for d in physical_layout)
    if sorted(order) != list(builtins.range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                           f"or physical_layout is not a permutation")
    dtype = as_dtype(dtype, "empty_permuted") or _state.default_dtype
    dev = _device_of(device)
    physical = dev.backend.xp.zeros(tuple(size[d] for d in order), dtype=dtype.np)
    inverse = [order.index(d) for d in builtins.range(len(order))]
    return _from_array(physical.transpose(inverse), dev, dtype, requires_grad)


_UNWRITABLE_WARNED = []


@public
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over a Python buffer (bytes, bytearray, array.array, memoryview ...), sharing its memory.
    NOTE: a read-only buffer is copied (NumPy, unlike PyTorch, refuses writes into it)."""
    view = memoryview(buffer)
    length = view.nbytes
    item = dtype.itemsize
    if length <= 0 and count == -1 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % item:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a "
                             f"multiple of element size ({item})")
        count = (length - offset) // item
    elif offset + count * item > length:
        raise ValueError(f"requested buffer length ({count} * {item} bytes) after offset ({offset} bytes) must not "
                         f"be greater than actual buffer length ({length} bytes)")
    arr = np.frombuffer(view.cast("B"), dtype=dtype.np, count=count, offset=offset)
    if not arr.flags.writeable:
        if not _UNWRITABLE_WARNED:
            _UNWRITABLE_WARNED.append(True)
            warnings.warn("The given buffer is not writable, and PyTorch does not support non-writable tensors. "
                          "This means you can write to the underlying (supposedly non-writable) buffer using the "
                          "tensor. You may want to copy the buffer to protect its data or make it writable before "
                          "converting it to a tensor. This type of warning will be suppressed for the rest of this "
                          "program.", UserWarning, stacklevel=2)
        arr = arr.copy()
    from ._device import CPU
    return _from_array(arr, CPU, dtype, requires_grad)


_RANGE_WARNING = ("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).")


@public
def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated: values from start to end inclusive, every step (default dtype unless given)."""
    if isinstance(start, bool) or not isinstance(start, (int, float, np.integer, np.floating, Tensor)):
        from ._arguments import type_name
        raise TypeError(f"range(): argument 'start' (position 1) must be Number, not {type_name(start)}")
    warnings.warn(_RANGE_WARNING, UserWarning, stacklevel=2)
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    from ._creation import arange, as_dtype
    n = int((end - start) // step) + 1
    dtype = as_dtype(dtype, "range") or _state.default_dtype
    values = arange(n, dtype=_dtype.float64, device=device) * step + start
    result = values.to(dtype).requires_grad_(requires_grad) if requires_grad else values.to(dtype)
    if out is None:
        return result
    from ._ops._registry import write_out
    return write_out(out, result, "range")


@public
def nonzero_static(input, *, size, fill_value=-1):
    """nonzero's (n, ndim) indices cut or padded with fill_value to exactly `size` rows."""
    size = int(size)
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got size = {size}")
    found = input.nonzero()
    if found.shape[0] >= size:
        return found[:size]
    from ._creation import full
    pad = full((size - found.shape[0], found.shape[1]), fill_value, dtype=_dtype.int64, device=input._device)
    from ._ops.shape.join import cat
    return cat([found, pad])


bind_method("nonzero_static", lambda self, *, size, fill_value=-1: nonzero_static(self, size=size,
                                                                                  fill_value=fill_value))


# --- predicates and small utilities -----------------------------------------------------------------------
@public(method=True)
def is_same_size(input, other):
    """Whether input and other have the same shape."""
    return input._data.shape == other._data.shape


@public(method=True)
def is_neg(input):
    """Whether the negative bit is set: never in ember (negation is always materialised)."""
    return False


@public(method=True)
def resolve_neg(input):
    """input itself: ember has no lazy negation to resolve."""
    return input


def _is_set_to(self, tensor):
    """Whether self and tensor share storage, storage offset, sizes and strides."""
    if self._device != tensor._device or self._dtype is not tensor._dtype:
        return False
    from ._storage import same_storage
    return (same_storage(self, tensor) and self.storage_offset() == tensor.storage_offset()
            and self._data.shape == tensor._data.shape and self.stride() == tensor.stride())


bind_method("is_set_to", _is_set_to)


@public(method=True)
def sum_to_size(input, *size):
    """input summed (keeping dims) down to `size`, which input's shape must expand from."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    size = tuple(int(s) for s in size)
    have = input._data.shape
    lead = len(have) - len(size)
    fits = lead >= 0 and all(s == h or s == 1 for s, h in zip(size, have[lead:]))
    if not fits:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(have)}}}.")
    from ._tensor import sum_to
    return sum_to(input, size)


@public
def fill(input, value):
    """A new tensor like input, full of value."""
    return input.clone().fill_(value)


bind("fill_", lambda input, value: input.fill_(value))
bind("zero_", lambda input: input.zero_())
bind("detach", lambda input: input.detach())
bind("detach_", lambda input: input.detach_())


@public
def is_distributed(input):
    """False: ember tensors are never distributed ones."""
    return False


@public
def get_device(input):
    """The CUDA index of input's device, -1 on the CPU."""
    return input.get_device()


@public
def get_device_module(device=None):
    """The module for a device type: ember.cuda for 'cuda'; ember.cpu is not provided."""
    import sys
    from ._device import device as device_cls
    name = device if isinstance(device, str) else device.type if isinstance(device, device_cls) else "cpu"
    name = name.split(":")[0]
    module = sys.modules.get(f"{__package__}.{name}")
    if module is None or name in ("cpu",):
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as 'torch.{name}'.")
    return module


@public
def typename(obj):
    """The type name of a tensor ('torch.FloatTensor') or any other object ('module.QualName')."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    return f"{module}.{qualname}"


def _dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (by decreasing stride)."""
    strides = self.stride()
    order = builtins.sorted(builtins.range(len(strides)), key=lambda d: -strides[d])
    if ambiguity_check is True or isinstance(ambiguity_check, list):
        shape = self._data.shape
        if any(shape[d] == 1 for d in order) or len(set(strides)) != len(strides):
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to the dim order")
    return tuple(order)


bind_method("dim_order", _dim_order)
bind_method("const_data_ptr", lambda self: self.data_ptr())


def _map_(self, tensor, callable):
    """self[i] = callable(self[i], tensor[i]) for every element, in place (CPU only, as in PyTorch)."""
    return _map_any(self, (tensor,), callable, "map_")


def _map2_(self, x, y, callable):
    """self[i] = callable(self[i], x[i], y[i]) for every element, in place (CPU only)."""
    return _map_any(self, (x, y), callable, "map2_")


def _map_any(self, others, fn, name):
    if self._device.type != "cpu" or any(o._device.type != "cpu" for o in others):
        raise RuntimeError(f"{name} is only implemented on CPU tensors")
    arrays = [o._data for o in others]
    np.broadcast_shapes(self._data.shape, *(a.shape for a in arrays))
    args = [np.broadcast_to(a, self._data.shape) for a in arrays]
    out = np.empty(self._data.shape, dtype=self._data.dtype)
    for idx in np.ndindex(self._data.shape):
        out[idx] = fn(self._data[idx].item(), *(a[idx].item() for a in args))
    from ._creation import from_numpy
    with _no_grad():
        self.copy_(from_numpy(out))
    return self


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


bind_method("map_", _map_)
bind_method("map2_", _map2_)


# --- resize -------------------------------------------------------------------------------------------------
def _sizes_of(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Size)):
        sizes = sizes[0]
    return tuple(int(s) for s in sizes)


def _resize_(self, *sizes, memory_format=None):
    """Give self `sizes` in place: a shrink keeps the first elements (sharing memory when self is
    contiguous), a growth appends new (zero-filled, in ember) elements."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _sizes_of(sizes)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    n = 1
    for s in shape:
        n *= s
    data = self._data
    xp = self._device.backend.xp
    flat = data.reshape(-1)  # NOTE: a view when self is contiguous
    if n <= flat.size:
        new = flat[:n].reshape(shape)
    else:
        new = xp.concatenate([flat, xp.zeros(n - flat.size, dtype=data.dtype)]).reshape(shape)
    self._data = new
    self._vc[0] += 1
    return self


def _resize_as_(self, the_template, memory_format=None):
    """resize_ to the_template's shape."""
    return _resize_(self, the_template.shape)


def _resize_check(self, shape):
    n = 1
    for s in shape:
        n *= s
    if n != self.numel():
        have = "x".join(str(s) for s in self._data.shape)
        raise RuntimeError(f"requested resize to {'x'.join(str(s) for s in shape)} ({n} elements in total), but the "
                           f"given tensor has a size of {have} ({self.numel()} elements). autograd's resize can "
                           "only change the shape of a given tensor, while preserving the number of elements. ")


def _resize(self, *sizes):
    """Deprecated: self reshaped to sizes (same number of elements)."""
    warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
    shape = _sizes_of(sizes)
    _resize_check(self, shape)
    return self.reshape(shape)


def _resize_as(self, tensor):
    """Deprecated: self reshaped to tensor's shape (same number of elements)."""
    warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
    _resize_check(self, tensor._data.shape)
    return self.reshape(tensor.shape)


bind_method("resize_", _resize_)
bind_method("resize_as_", _resize_as_)
bind("resize_as_", Tensor.resize_as_, method=False)
bind_method("resize", _resize)
bind_method("resize_as", _resize_as)


# --- legacy constructors and subclasses -------------------------------------------------------------------
def _new(self, *args, **kwargs):
    """Legacy Tensor.new: sizes give a new (zero-filled) tensor of self's dtype and device, data a copy."""
    from ._compat.legacy import _construct
    kwargs.setdefault("device", self._device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        return _construct(self._dtype, args, {}, "new")
    return _construct(self._dtype, args, kwargs, "new")


bind_method("new", _new)


def _as_subclass(self, cls):
    """A `cls` instance sharing self's data, version counter and place in the autograd graph."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"as_subclass(): argument 'cls' must be a subclass of torch.Tensor")
    obj = object.__new__(cls)._adopt(self)
    obj._grad = None
    obj._accum = None
    obj._retains_grad = False
    return obj


bind_method("as_subclass", _as_subclass)


def _module_load(self, other, assign=False):
    """What load_state_dict stores for self: other detached (assign) or self with other's values copied in."""
    if assign:
        return other.detach()
    return self.copy_(other).detach()


bind_method("module_load", _module_load)


# --- backends ember does not have ---------------------------------------------------------------------------
def _ipu(self, device=None, non_blocking=False, memory_format=None):
    raise RuntimeError("PyTorch is not linked with support for ipu devices")


def _xpu(self, device=None, non_blocking=False, memory_format=None):
    raise AssertionError("Torch not compiled with XPU enabled")


def _mtia(self, device=None, non_blocking=False, memory_format=None):
    raise AssertionError("Torch not compiled with MTIA enabled. Ensure you have `import "
                         "mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and include "
                         "`//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!")


def _record_stream(self, stream):
    """Accepted and ignored: ember's memory is freed by reference counting, not per stream."""
    return None


def _reinforce(self, reward):
    raise RuntimeError("reinforce() was removed.\nUse torch.distributions instead.\n"
                       "See https://pytorch.org/docs/main/distributions.html\n\nInstead of:\n\n"
                       "probs = policy_network(state)\naction = probs.multinomial()\n"
                       "next_state, reward = env.step(action)\naction.reinforce(reward)\naction.backward()\n\n"
                       "Use:\n\nprobs = policy_network(state)\n"
                       "# NOTE: categorical is equivalent to what used to be called multinomial\n"
                       "m = torch.distributions.Categorical(probs)\naction = m.sample()\n"
                       "next_state, reward = env.step(action)\nloss = -m.log_prob(action) * reward\n"
                       "loss.backward()\n")


for _name, _fn in (("ipu", _ipu), ("xpu", _xpu), ("mtia", _mtia), ("record_stream", _record_stream),
                   ("reinforce", _reinforce)):
    _fn.__name__ = _name
    bind_method(_name, _fn)


# NOTE: Tensor.register_post_accumulate_grad_hook lives in _tensor.py (the engine runs it after accumulation)
bind_method("is_distributed", lambda self: False)


@public
def is_vulkan_available(*args, **kwargs):
    """False: ember has no Vulkan backend."""
    return False


# NOTE: torch.addmv_, gcd_, lcm_, ldexp_, xlogy_ and conj_physical_ are bound in _ops/linalg/products_legacy.py
# and _ops/pointwise/float_parts.py
