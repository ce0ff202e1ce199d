"""torch.xpu as PyTorch answers without Intel GPU support: nothing available; calls that need a device raise."""


def _lazy():
    raise AssertionError("Torch not compiled with XPU enabled")


def is_available():
    """False: ember has no XPU backend."""
    return False


def device_count():
    """0."""
    return 0


def is_initialized():
    """False."""
    return False


def is_bf16_supported(including_emulation=True):
    """False."""
    return False


def _needs_device(name, doc):
    def fn(*args, **kwargs):
        _lazy()
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


for _name in ("init", "current_device", "synchronize", "get_device_name", "get_device_properties",
              "get_device_capability", "set_device", "current_stream", "get_rng_state", "set_rng_state",
              "initial_seed", "get_rng_state_all", "set_rng_state_all", "set_stream"):
    globals()[_name] = _needs_device(_name, "Raises as PyTorch does without XPU: AssertionError.")


def manual_seed(seed):
    """Accepted and ignored (PyTorch queues it until a device exists)."""


def manual_seed_all(seed):
    """Accepted and ignored."""


def seed():
    """Accepted and ignored."""


def seed_all():
    """Accepted and ignored."""


def empty_cache():
    """Nothing cached."""


def memory_allocated(device=None):
    """0."""
    return 0


def max_memory_allocated(device=None):
    """0."""
    return 0


def memory_reserved(device=None):
    """0."""
    return 0


def max_memory_reserved(device=None):
    """0."""
    return 0
