"""torch.cuda.FloatTensor and the other legacy GPU tensor types."""
from .. import _dtype
from .._tensor import Tensor
from ._lazy import available


def _typed(name, dtype):
    class Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj._dtype is dtype and obj._device.type == "cuda"

        def __call__(cls, *args, **kwargs):
            if not available():
                raise TypeError(f"type torch.cuda.{name} not available. Torch not compiled with CUDA enabled.")
            from .._compat.legacy import _construct
            kwargs.setdefault("device", "cuda")
            return _construct(dtype, args, kwargs, name)
    return Meta(name, (), {"_legacy_dtype": dtype, "dtype": dtype, "is_cuda": True, "is_sparse": False,
                           "__module__": "torch.cuda", "__doc__": f"Legacy constructor for {dtype} GPU tensors."})


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
