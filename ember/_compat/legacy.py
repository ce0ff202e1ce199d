"""The legacy constructors: torch.Tensor(5, 3), torch.Tensor([1, 2]), torch.FloatTensor(...), Variable."""
from .. import _dtype, _state
from .._tensor import Tensor


def _construct(dtype, args, kwargs):
    from .._creation import tensor, zeros
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got unexpected keyword "
                        f"{next(iter(kwargs))}")
    if not args:
        return zeros(0, dtype=dtype, device=device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if src._dtype is not dtype:
            raise TypeError(f"expected {dtype} (got {src._dtype})")
        return src.detach()
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args) or (
            len(args) == 1 and type(args[0]).__name__ == "Size"):
        size = tuple(args[0]) if len(args) == 1 and not isinstance(args[0], int) else args
        return zeros(*size, dtype=dtype, device=device)
    if len(args) == 1:
        return tensor(args[0], dtype=dtype, device=device)
    raise TypeError(f"new() received an invalid combination of arguments - got ({', '.join(type(a).__name__ for a in args)})")


def legacy_new(cls, *args, **kwargs):
    """torch.Tensor(...): default dtype; sizes give a (zero-filled) tensor, data gives a copy."""
    if cls is not Tensor:
        # a subclass (nn.Parameter or a user's): build a Tensor and let the subclass adopt it
        t = _construct(_state.default_dtype, args[:1] if args and isinstance(args[0], Tensor) else (), {})
        return object.__new__(cls)._adopt(t)
    return _construct(_state.default_dtype, args, kwargs)


def _typed(name, dtype):
    class Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj._dtype is dtype and obj._device.type == "cpu"

        def __call__(cls, *args, **kwargs):
            return _construct(dtype, args, kwargs)
    return Meta(name, (), {"_legacy_dtype": dtype, "__doc__": f"Legacy constructor for {dtype} tensors."})


FloatTensor = _typed("FloatTensor", _dtype.float32)
DoubleTensor = _typed("DoubleTensor", _dtype.float64)
HalfTensor = _typed("HalfTensor", _dtype.float16)
BFloat16Tensor = _typed("BFloat16Tensor", _dtype.bfloat16)
LongTensor = _typed("LongTensor", _dtype.int64)
IntTensor = _typed("IntTensor", _dtype.int32)
ShortTensor = _typed("ShortTensor", _dtype.int16)
CharTensor = _typed("CharTensor", _dtype.int8)
ByteTensor = _typed("ByteTensor", _dtype.uint8)
BoolTensor = _typed("BoolTensor", _dtype.bool)

LEGACY = {c.__name__: c for c in (FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor,
                                  ShortTensor, CharTensor, ByteTensor, BoolTensor)}


def dtype_of_type_name(name):
    """'torch.FloatTensor' (or 'torch.cuda.FloatTensor') -> torch.float32."""
    short = name.rsplit(".", 1)[-1]
    if short not in LEGACY:
        raise ValueError(f"invalid type: '{name}'")
    return LEGACY[short]._legacy_dtype


def variable(data, requires_grad):
    """autograd.Variable(t, requires_grad=...) is t itself in modern PyTorch."""
    if data is None:
        from .._creation import tensor
        data = tensor([])
    if not isinstance(data, Tensor):
        raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
    if requires_grad:
        data.requires_grad_(True)
    return data
