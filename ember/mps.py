"""torch.mps as PyTorch answers without Apple's MPS backend: nothing available; calls that need it raise."""


def is_available():
    """False: ember has no MPS backend."""
    return False


def device_count():
    """0."""
    return 0


def _needs_backend(name, what):
    def fn(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {what}() without MPS backend.")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = "Raises RuntimeError as PyTorch does without MPS."
    return fn


synchronize = _needs_backend("synchronize", "deviceSynchronize")
empty_cache = _needs_backend("empty_cache", "emptyCache")
get_rng_state = _needs_backend("get_rng_state", "getDefaultGenerator")
set_rng_state = _needs_backend("set_rng_state", "getDefaultGenerator")
seed = _needs_backend("seed", "getDefaultGenerator")
current_allocated_memory = _needs_backend("current_allocated_memory", "getCurrentAllocatedMemory")
driver_allocated_memory = _needs_backend("driver_allocated_memory", "getDriverAllocatedMemory")
recommended_max_memory = _needs_backend("recommended_max_memory", "getRecommendedMaxMemory")


def manual_seed(seed):
    """Accepted and ignored (no MPS generator)."""
