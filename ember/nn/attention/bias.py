"""torch.nn.attention.bias: causal attention masks that scaled_dot_product_attention recognises.

Differs from PyTorch: a CausalBias holds its materialised bool mask (seq_len_q, seq_len_kv) as its tensor data
(PyTorch's holds unused storage); scaled_dot_product_attention uses that mask, which gives PyTorch's results
(rows with nothing to attend give zeros)."""
from enum import IntEnum, auto
from warnings import warn

from ... import _creation, _dtype
from ..._tensor import Tensor

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """UPPER_LEFT: query i attends to keys 0..i; LOWER_RIGHT: the diagonal ends at the bottom right corner."""

    UPPER_LEFT = auto()
    LOWER_RIGHT = auto()


def _mask(variant, seq_len_q, seq_len_kv, device):
    ones = _creation.ones(seq_len_q, seq_len_kv, dtype=_dtype.bool, device=device)
    if variant == CausalVariant.UPPER_LEFT:
        return ones.tril()
    return ones.tril(diagonal=seq_len_kv - seq_len_q)


class CausalBias(Tensor):
    """A causal mask of one of the CausalVariant kinds, for scaled_dot_product_attention's attn_mask."""

    def __new__(cls, variant, seq_len_q, seq_len_kv):
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        return object.__new__(cls)._adopt(_mask(variant, seq_len_q, seq_len_kv, None))

    def __init__(self, variant, seq_len_q, seq_len_kv):
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            warn("Lower right causal bias will produce NaNs in the output when seq_len_q > seq_len_kv!",
                 stacklevel=2)

    def _materialize(self, device=None):
        """The bool mask as a plain tensor on `device` (default cpu)."""
        return _mask(self.variant, self.seq_len_q, self.seq_len_kv, device or "cpu")

    def __repr__(self):
        return repr(self._materialize())


def causal_upper_left(*size):
    """The upper-left causal mask of (seq_len_q, seq_len_kv)."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    return CausalBias(CausalVariant.UPPER_LEFT, *size)


def causal_lower_right(*size):
    """The lower-right causal mask of (seq_len_q, seq_len_kv)."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    return CausalBias(CausalVariant.LOWER_RIGHT, *size)
