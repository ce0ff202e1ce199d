"""The legacy constructors: torch.Tensor(5, 3), torch.Tensor([1, 2]), torch.FloatTensor(...), Variable."""
import numpy as np

from .. import _dtype, _state
from .._tensor import Tensor


def _invalid(args, kwargs):
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    return TypeError(f"new() received an invalid combination of arguments - got ({', '.join(got)}), but expected "
                     "one of:\n * (*, torch.device device = None)\n * (torch.Storage storage)\n * (Tensor other)\n"
                     " * (tuple of ints size, *, torch.device device = None)\n * (object data, *, torch.device "
                     "device = None)\n")


def _is_int(a):
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def _construct(dtype, args, kwargs, name, any_dtype=False):
    """The legacy `new()`: sizes give a (zero-filled) tensor, data gives a copy, a tensor an alias."""
    from .._creation import _size_args, empty, tensor
    from .._tensor import Size
    device = kwargs.pop("device", None)
    if kwargs:
        raise _invalid(args, kwargs)
    if not args:
        return empty(0, dtype=dtype, device=device)
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if first._dtype is not dtype and not any_dtype:
            raise TypeError(f"expected TensorOptions(dtype={_OPTION_NAMES.get(dtype.name, dtype.name)}, device=cpu, "
                            "layout=Strided, requires_grad=false (default), pinned_memory=false (default), "
                            "memory_format=(nullopt)) (got TensorOptions(dtype="
                            f"{_OPTION_NAMES.get(first._dtype.name, first._dtype.name)}, device=cpu, layout=Strided, "
                            "requires_grad=false (default), pinned_memory=false (default), memory_format=(nullopt)))")
        alias = first.detach()
        alias._requires_grad = first._requires_grad and first._grad_fn is None
        return alias
    if isinstance(first, Size) or _is_int(first):
        # torch.Tensor(5, 3), torch.Tensor(torch.Size([5, 3])): a tensor of that size
        size = tuple(first) if isinstance(first, Size) else args
        if isinstance(first, Size) and len(args) > 1:
            raise _invalid(args, {})
        return empty(*_size_args(size, "new"), dtype=dtype, device=device)
    if len(args) > 1:
        raise _invalid(args, {})
    if isinstance(first, str):
        raise TypeError(f"new(): invalid data type '{type(first).__name__}'")
    if not isinstance(first, (list, tuple, range, np.ndarray)) and not hasattr(first, "__len__"):
        module = type(first).__module__
        qual = type(first).__name__ if module == "builtins" else f"{module.split('.')[0]}.{type(first).__name__}"
        raise TypeError(f"new(): data must be a sequence (got {qual})")
    return tensor(first, dtype=dtype, device=device)


_OPTION_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                 "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool"}


def legacy_new(cls, *args, **kwargs):
    """torch.Tensor(...): default dtype; sizes give a (zero-filled) tensor, data gives a copy."""
    if cls is not Tensor:
        # a subclass (nn.Parameter or a user's): build a Tensor and let the subclass adopt it
        t = _construct(_state.default_dtype, args[:1] if args and isinstance(args[0], Tensor) else (), {}, "new",
                       any_dtype=True)
        return object.__new__(cls)._adopt(t)
    return _construct(_state.default_dtype, args, kwargs, "new", any_dtype=True)


_LEGACY_DTYPES = (("FloatTensor", _dtype.float32), ("DoubleTensor", _dtype.float64), ("HalfTensor", _dtype.float16),
                  ("BFloat16Tensor", _dtype.bfloat16), ("LongTensor", _dtype.int64), ("IntTensor", _dtype.int32),
                  ("ShortTensor", _dtype.int16), ("CharTensor", _dtype.int8), ("ByteTensor", _dtype.uint8),
                  ("BoolTensor", _dtype.bool))


def legacy_types(device_type, module, prepare=None):
    """The ten legacy tensor types of a device type (torch.FloatTensor ..., torch.cuda.FloatTensor ...), in
    _LEGACY_DTYPES's order: isinstance holds for a tensor of that dtype on that device type, and a call
    constructs one, after `prepare(name, kwargs)` where given."""
    return tuple(_typed(name, dtype, device_type, module, prepare) for name, dtype in _LEGACY_DTYPES)


def _typed(name, dtype, device_type, module, prepare):
    class Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj._dtype is dtype and obj._device.type == device_type

        def __call__(cls, *args, **kwargs):
            if prepare is not None:
                prepare(name, kwargs)
            return _construct(dtype, args, kwargs, name)
    gpu = " GPU" if device_type == "cuda" else ""
    return Meta(name, (), {"_legacy_dtype": dtype, "dtype": dtype, "is_cuda": device_type == "cuda",
                           "is_sparse": False, "__module__": module,
                           "__doc__": f"Legacy constructor for {dtype}{gpu} tensors."})


_CPU_TYPES = legacy_types("cpu", "torch")
(FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
 BoolTensor) = _CPU_TYPES
LEGACY = {c.__name__: c for c in _CPU_TYPES}


def dtype_of_type_name(name):
    """'torch.FloatTensor' (or 'torch.cuda.FloatTensor') -> torch.float32."""
    short = name.rsplit(".", 1)[-1]
    if short not in LEGACY:
        raise ValueError(f"invalid type: '{name}'")
    return LEGACY[short]._legacy_dtype


def variable(data, requires_grad):
    """autograd.Variable(t, requires_grad=...): a new leaf sharing t's memory and version counter (as
    t.detach()); t itself is left as it was."""
    if data is None:
        from .._creation import tensor
        data = tensor([])
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    out = data.detach()
    if requires_grad:
        if out._dtype.category < _dtype.FLOAT:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        out._requires_grad = True
    return out
