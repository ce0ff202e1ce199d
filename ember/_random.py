"""Random numbers: torch.Generator, manual_seed, rand/randn/randint/randperm/normal and friends.

ember draws from NumPy's PCG64, so a seed gives reproducible numbers within ember, not the same
numbers as PyTorch's generator.
"""
import contextlib
import pickle
import time

import numpy as np

from . import _dtype, _state
from ._creation import _size_args, _target_device, from_array
from ._tensor import Tensor, _wrap

DEFAULT_SEED = 67280421310721  # PyTorch's default_generator initial seed


class Generator:
    """A random number generator; pass it as `generator=` to sampling functions."""

    def __init__(self, device="cpu"):
        from ._device import device as _device
        self.device = _device(device)
        self._seed = DEFAULT_SEED
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        """Reseed; returns self."""
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        """Reseed from a non-deterministic source; returns the new seed."""
        s = int(time.time_ns()) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor (ember's own layout)."""
        raw = pickle.dumps((self._seed, self._rng.bit_generator.state))
        return from_array(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        seed, state = pickle.loads(new_state.numpy().tobytes())
        self._seed = seed
        self._rng.bit_generator.state = state
        return self


default_generator = Generator()


def _rng(generator):
    return (generator or default_generator)._rng


def manual_seed(seed):
    """Seed the default generator (and the GPU's); returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **kwargs):
    """Restore the default generator's state on exit."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def _finish(arr, dtype, device, requires_grad, out=None):
    t = from_array(arr.astype(dtype.np, copy=False), device=device, requires_grad=requires_grad)
    if out is not None:
        from ._ops._registry import write_out
        return write_out(out, t, "random")
    return t


def _float_dtype(dtype):
    dtype = dtype or _state.default_dtype
    if dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"\"check_uniform_bounds\" not implemented for '{_dtype.scalar_type_name(dtype)}'")
    return dtype


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """Uniform samples in [0, 1)."""
    dtype = _float_dtype(dtype)
    return _finish(_rng(generator).random(_size_args(size)), dtype, device, requires_grad, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """Standard normal samples."""
    dtype = _float_dtype(dtype)
    return _finish(_rng(generator).standard_normal(_size_args(size)), dtype, device, requires_grad, out)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    """Integers uniform in [low, high); int64 by default."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = _rng(generator).integers(low, high, size=_size_args((size,)))
    return _finish(arr, dtype or _dtype.int64, device, requires_grad, out)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    return _finish(_rng(generator).permutation(int(n)), dtype or _dtype.int64, device, requires_grad, out)


def _like(sampler):
    def like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
        return sampler(*input.shape, dtype=dtype or input._dtype, device=device or input._device,
                       requires_grad=requires_grad)
    like.__name__ = sampler.__name__ + "_like"
    like.__doc__ = f"{sampler.__name__} samples with input's shape, dtype and device."
    return like


rand_like = _like(rand)
randn_like = _like(randn)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    """randint samples with input's shape."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input._dtype, device=device or input._device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Normal samples; mean and std may be tensors (broadcast) or numbers (then `size` is needed)."""
    rng = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if isinstance(std, Tensor) and bool((std._data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        arr = rng.standard_normal(shape) * s + m
        return _finish(np.asarray(arr), ref._dtype, ref._device, requires_grad, out)
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    arr = rng.standard_normal(_size_args((size,))) * std + mean
    return _finish(arr, _float_dtype(dtype), device, requires_grad, out)


def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability input (or p), else 0; same dtype as input."""
    probs = input._data if p is None else p
    arr = (_rng(generator).random(input.shape) < np.asarray(probs)).astype(input._dtype.np)
    return _finish(arr, input._dtype, input._device, False, out)


# --- in-place samplers (used by nn.init) ------------------------------------------------------------
def _fill_random(self, arr):
    if self._device.type != "cpu":
        arr = self._device.backend.asarray(arr)
    self._data[...] = arr.astype(self._dtype.np, copy=False)
    self._vc[0] += 1
    return self


def _uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    from_ = kw.get("a", from_)
    to = kw.get("b", to)
    return _fill_random(self, _rng(generator).uniform(from_, to, self.shape))


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_random(self, _rng(generator).normal(mean, std, self.shape))


def _random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        from_, to = 0, from_ if from_ else 2 ** 24
    return _fill_random(self, _rng(generator).integers(from_, to, self.shape))


def _bernoulli_(self, p=0.5, *, generator=None):
    probs = p._data if isinstance(p, Tensor) else p
    return _fill_random(self, _rng(generator).random(self.shape) < probs)


def _exponential_(self, lambd=1.0, *, generator=None):
    return _fill_random(self, _rng(generator).exponential(1.0 / lambd, self.shape))


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.random_ = _random_
Tensor.bernoulli_ = _bernoulli_
Tensor.exponential_ = _exponential_
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
_ = _wrap
