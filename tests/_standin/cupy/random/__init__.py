"""cupy.random: NumPy's generators with their results on the current device."""
import numpy as _np

from .._core import current, un, un_kw, wrap

_NAMES = ("rand randn uniform normal randint permutation choice random random_sample standard_normal "
          "integers exponential beta binomial gamma poisson bernoulli multinomial laplace lognormal "
          "geometric standard_cauchy standard_gamma standard_exponential").split()


def _wrapped(fn):
    def f(*args, **kwargs):
        dev = current()
        return wrap(fn(*un(args, dev), **un_kw(kwargs, dev)), dev)
    f.__name__ = getattr(fn, "__name__", "f")
    return f


class _Wrapped:
    """A NumPy generator whose draws land on the current device."""

    def __init__(self, gen):
        self._g = gen

    def __getattr__(self, name):
        fn = getattr(self._g, name)
        return _wrapped(fn) if callable(fn) else fn

    def shuffle(self, x, axis=0):
        dev = current()
        self._g.shuffle(un(x, dev), *(() if axis == 0 else (axis,)))


class RandomState(_Wrapped):
    def __init__(self, seed=None):
        super().__init__(_np.random.RandomState(seed))

    def seed(self, seed=None):
        self._g.seed(seed)


class Generator(_Wrapped):
    pass


def default_rng(seed=None):
    return Generator(_np.random.default_rng(seed))


_state = RandomState()


def get_random_state():
    return _state


def seed(seed=None):
    _state.seed(seed)


def shuffle(a):
    _state.shuffle(a)


def __getattr__(name):
    if name in _NAMES:
        return getattr(_state, name)
    raise AttributeError(f"module 'cupy.random' has no attribute '{name}'")
