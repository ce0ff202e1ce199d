"""torch.cuda.random: seeds and states. ember's GPU tensors draw from the one host generator
(ember/_random.py), so with a GPU these calls act on it; without one they do what PyTorch's CPU-only
build does (seeding is queued and never runs, so the host generator is left alone)."""
from .. import _random
from ._lazy import available, require


def manual_seed(seed):
    """Seed the GPU's generator: the shared host generator (with a GPU), or nothing (without)."""
    if available():
        _random.manual_seed(seed)


def manual_seed_all(seed):
    """As manual_seed: every device shares one generator."""
    manual_seed(seed)


def seed():
    """Reseed from a non-deterministic source (the shared host generator, with a GPU)."""
    if available():
        _random.seed()


def seed_all():
    seed()


def initial_seed():
    """The shared host generator's seed."""
    require()
    return _random.initial_seed()


def get_rng_state(device="cuda"):
    """The shared host generator's state (PyTorch's CPU layout, not its CUDA one)."""
    require()
    return _random.get_rng_state()


def set_rng_state(new_state, device="cuda"):
    if available():
        _random.set_rng_state(new_state)


def get_rng_state_all():
    """One state per device; all of them are the shared host generator's."""
    if not available():
        return []
    return [get_rng_state() for _ in range(require().device_count())]


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)
