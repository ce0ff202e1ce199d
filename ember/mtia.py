"""torch.mtia as PyTorch answers without an MTIA backend: nothing available; calls that need it raise."""


def is_available():
    """False: ember has no MTIA backend."""
    return False


def device_count():
    """0."""
    return 0


def is_initialized():
    """False."""
    return False


def _needs_backend(name, what):
    def fn(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {what}() without MTIA backend.")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = "Raises RuntimeError as PyTorch does without MTIA."
    return fn


def _not_compiled(name):
    def fn(*args, **kwargs):
        raise AssertionError("Torch not compiled with MTIA enabled. Ensure you have `import "
                             "mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and include "
                             "`//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = "Raises AssertionError as PyTorch does without MTIA."
    return fn


current_device = _needs_backend("current_device", "getCurrentDevice")
synchronize = _needs_backend("synchronize", "getCurrentDevice")
current_stream = _needs_backend("current_stream", "getCurrentDevice")
set_device = _needs_backend("set_device", "setCurrentDevice")
empty_cache = _needs_backend("empty_cache", "emptyCache")
init = _not_compiled("init")
get_rng_state = _not_compiled("get_rng_state")
initial_seed = _not_compiled("initial_seed")


def manual_seed(seed):
    """Accepted and ignored."""


def seed():
    """Accepted and ignored."""


def memory_allocated(device=None):
    """0."""
    return 0


def is_bf16_supported(including_emulation=True):
    """True, as PyTorch answers without a device."""
    return True
