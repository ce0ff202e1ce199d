"""torch.cuda.FloatTensor and the other legacy GPU tensor types."""
from .._compat.legacy import legacy_types
from ._lazy import available


def _on_cuda(name, kwargs):
    """Before a torch.cuda.<name>(...) call: PyTorch's error without CUDA; the tensor goes to the GPU."""
    if not available():
        raise TypeError(f"type torch.cuda.{name} not available. Torch not compiled with CUDA enabled.")
    kwargs.setdefault("device", "cuda")


(FloatTensor, DoubleTensor, HalfTensor, BFloat16Tensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor,
 BoolTensor) = legacy_types("cuda", "torch.cuda", _on_cuda)
