"""The flash-attention implementation registry of torch.nn.attention, as a CPU build of PyTorch answers it:
FA3 and FA4 are registered, and activating either needs its kernel package (absent here)."""
import logging

_logger = logging.getLogger(__name__)

_IMPLS = {}
_ACTIVE = [None]  # NOTE: (name, handle) of the activated implementation, or None for the default (FA2)


def register_flash_attention_impl(impl, *, register_fn):
    """Record `register_fn` as the callable that activates the flash attention implementation `impl`."""
    _IMPLS[impl] = register_fn


def activate_flash_attention_impl(impl):
    """Activate a registered flash attention implementation (restoring the default first)."""
    restore_flash_attention_impl(_raise_warn=False)
    register_fn = _IMPLS.get(impl)
    if register_fn is None:
        raise ValueError(f"Unknown flash attention impl '{impl}'. "
                         f"Available implementations: {list_flash_attention_impls()}")
    handle = register_fn()
    if handle is not None:
        _ACTIVE[0] = (impl, handle)


def list_flash_attention_impls():
    """The names of the registered flash attention implementations, sorted."""
    return sorted(_IMPLS)


def current_flash_attention_impl():
    """The name of the activated flash attention implementation, or None (the default)."""
    return _ACTIVE[0][0] if _ACTIVE[0] is not None else None


def restore_flash_attention_impl(_raise_warn=True):
    """Go back to the default flash attention implementation (FA2)."""
    if _ACTIVE[0] is not None:
        _ACTIVE[0][1].remove()
    elif _raise_warn:
        _logger.warning("Trying to restore default FA2 impl when no custom impl was activated")
    _ACTIVE[0] = None


def _needs(package):
    def register_fn():
        raise ModuleNotFoundError(f"No module named '{package}'", name=package)
    return register_fn


register_flash_attention_impl("FA3", register_fn=_needs("flash_attn_interface"))
register_flash_attention_impl("FA4", register_fn=_needs("flash_attn"))
