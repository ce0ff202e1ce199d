"""no_grad, enable_grad, set_grad_enabled, inference_mode: context managers and decorators."""
import functools

from .. import _state


class _GradMode:
    """Base: a context manager that sets grad mode, usable as a decorator too."""

    _mode = True

    def __enter__(self):
        self._prev = _state.local.grad_enabled
        _state.local.grad_enabled = self._mode

    def __exit__(self, *exc):
        _state.local.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)._fresh(self):
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        return type(self)()

    def clone(self):
        return self._fresh()


class no_grad(_GradMode):
    """Ops inside record no graph; their outputs do not require grad."""
    _mode = False

    def __init__(self, orig_func=None):
        self._orig = orig_func

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):  # used as @no_grad without parentheses
            self.__init__()
            return self(orig_func)
        return self


class enable_grad(_GradMode):
    """Turn grad recording back on inside a no_grad region."""
    _mode = True

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if callable(orig_func):
            return self(orig_func)
        return self


class set_grad_enabled(_GradMode):
    """Set grad mode to `mode`; takes effect at once, and as a context manager restores it after."""

    def __init__(self, mode):
        self._mode = bool(mode)
        self._prev = _state.local.grad_enabled
        _state.local.grad_enabled = self._mode

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.local.grad_enabled = self._prev
        return False

    def _fresh(self):
        return _Setter(self._mode)

    def __call__(self, fn):
        _state.local.grad_enabled = self._prev
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Setter(mode):
                return fn(*args, **kwargs)
        return wrapper


class _Setter(_GradMode):
    def __init__(self, mode):
        self._mode = mode


class inference_mode(_GradMode):
    """Like no_grad (ember keeps no separate inference tensors)."""

    def __init__(self, mode=True):
        self._mode = not mode

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            self.__init__(True)
            return self(mode)
        return self

    def _fresh(self):
        return inference_mode(not self._mode)


def is_grad_enabled():
    """Whether ops currently record the graph."""
    return _state.local.grad_enabled


def is_inference_mode_enabled():
    return not _state.local.grad_enabled and False
