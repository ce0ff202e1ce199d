"""torch.nn.attention: the SDPBackend enum, the sdpa_kernel context manager and the flash attention registry.

ember has one attention implementation (the math composition); sdpa_kernel sets the torch.backends.cuda sdp
switches, and scaled_dot_product_attention refuses, as PyTorch does, when no backend usable on the
input's device is left enabled (on the CPU: math or flash)."""
import contextlib
import enum

from ...backends import _flags
from ._registry import (activate_flash_attention_impl, current_flash_attention_impl,  # noqa: F401
                        list_flash_attention_impls, register_flash_attention_impl, restore_flash_attention_impl)

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS", "register_flash_attention_impl",
           "activate_flash_attention_impl", "list_flash_attention_impls", "current_flash_attention_impl",
           "restore_flash_attention_impl"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The scaled dot product attention backends (int(b) is PyTorch's number for each)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value

    def __index__(self):
        return self.value


SDPBackend.__qualname__ = "_SDPBackend"  # NOTE: PyTorch's pybind enum is named so in its annotations

# NOTE: the order in which PyTorch lists the enabled backends (its flag names, each to its enum member)
_FLAG_OF = {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION,
            "mem_efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH,
            "overrideable": SDPBackend.OVERRIDEABLE}


def _cur_sdpa_kernel_backends(with_priority=False):
    backends = [b for name, b in _FLAG_OF.items() if _flags.get(f"cuda.sdp.{name}")]
    if with_priority:
        order = _flags.get("cuda.sdp.priority_order")
        backends.sort(key=lambda b: order.index(int(b)))
    return backends


def _sdpa_kernel(backends, set_priority=False):
    for name, backend in _FLAG_OF.items():
        _flags.flags[f"cuda.sdp.{name}"] = backend in backends
    if set_priority:
        order = [int(b) for b in backends]
        order += [b for b in _flags.get("cuda.sdp.priority_order") if b not in order]
        _flags.flags["cuda.sdp.priority_order"] = tuple(order)


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Enable only `backends` (an SDPBackend or a list of them) for scaled_dot_product_attention inside the
    block; with set_priority, their order is also the order of preference. The switches are restored after."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _cur_sdpa_kernel_backends(with_priority=set_priority)
    previous_order = _flags.get("cuda.sdp.priority_order")
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous, set_priority)
        _flags.flags["cuda.sdp.priority_order"] = previous_order


def _causal_bias_mask(query, attn_mask, is_causal):
    """The attn_mask scaled_dot_product_attention should use: a CausalBias becomes its plain mask on the
    query's device (and may not be combined with is_causal)."""
    from .bias import CausalBias
    if isinstance(attn_mask, CausalBias):
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        attn_mask = attn_mask._materialize(query.device)
    return attn_mask


def _refuse_when_disabled(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Raise as PyTorch does when no backend enabled by the switches can take these inputs.

    NOTE: on the CPU PyTorch has the math kernel (takes everything) and the flash kernel (takes what
    _flash_takes accepts); on CUDA ember runs its one math implementation for whichever backend is enabled."""
    if query.device.type != "cpu":
        usable = any(_flags.get(f"cuda.sdp.{name}") for name in ("math", "flash", "mem_efficient", "cudnn"))
    elif _flags.get("cuda.sdp.math"):
        usable = True
    elif _flags.get("cuda.sdp.flash"):
        if not _flash_takes(query, key, value, attn_mask, dropout_p, enable_gqa):
            raise RuntimeError("No available kernel.  Aborting execution.")
        usable = True
    else:
        usable = False
    if not usable:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels.")


def _flash_takes(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Whether PyTorch's CPU flash attention kernel accepts these inputs (dense 4-d, no dropout, one head size,
    matching batch and heads, unit last-dim strides, a 2-d or 4-d mask)."""
    qkv = (query, key, value)
    if dropout_p > 0.0 or any(t.dim() != 4 for t in qkv):
        return False
    if attn_mask is not None and attn_mask.dim() not in (2, 4):
        return False
    if len({t.shape[0] for t in qkv}) != 1 or len({t.shape[-1] for t in qkv}) != 1:
        return False
    heads_q, heads_k, heads_v = (t.shape[1] for t in qkv)
    if enable_gqa:
        if heads_k != heads_v or heads_q % heads_k:
            return False
    elif not heads_q == heads_k == heads_v:
        return False
    return all(t.stride(-1) == 1 or t.shape[-1] == 1 for t in qkv)
