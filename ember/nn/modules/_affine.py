"""The per-feature affine `weight`/`bias` pair that the normalisation layers share."""
from ... import _creation
from .. import init
from ..parameter import Parameter


def register_affine(module, shape, affine, bias, device=None, dtype=None):
    """Register `weight` and `bias` as empty Parameters of `shape` (None when off); bias=None registers no bias."""
    def make(enabled):
        return Parameter(_creation.empty(shape, device=device, dtype=dtype)) if enabled else None
    module.register_parameter("weight", make(affine))
    if bias is not None:
        module.register_parameter("bias", make(affine and bias))


def reset_affine(module):
    """Weight to ones and bias to zeros, where the module has them."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)
