"""torch.autograd.grad_mode: no_grad, enable_grad, set_grad_enabled, inference_mode (context managers and decorators)."""
import functools
import inspect
import threading

from .. import _state, _tensor


class _GradMode:
    """Base: a context manager that sets grad mode, usable as a decorator too."""

    _mode = True

    def __enter__(self):
        self._prev = _save_mode()
        _set_mode(self._mode)

    def __exit__(self, *exc):
        _restore_mode(self._prev)
        return False

    def __call__(self, fn):
        return _decorate(self._fresh, fn)

    def _fresh(self):
        return type(self)()

    def clone(self):
        return self._fresh()


def _save_mode():
    local = _state.local
    return local.grad_enabled, local.grad_shown


def _restore_mode(prev):
    _state.local.grad_enabled, _state.local.grad_shown = prev


def _set_mode(mode):
    """Set grad mode; inside inference_mode only the reported mode changes (nothing is recorded there, as PyTorch)."""
    local = _state.local
    if local.inference:
        local.grad_shown = mode
    else:
        local.grad_enabled = mode


def _decorate(make_ctx, fn):
    """Run fn under a fresh context from make_ctx(); a generator function gets it on every resumption."""
    if inspect.isgeneratorfunction(fn):
        return _decorate_generator(make_ctx, fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_ctx():
            return fn(*args, **kwargs)
    return wrapper


def _decorate_generator(make_ctx, fn):
    # NOTE: as in PyTorch, the mode applies to the generator's own code only, not to the caller
    # between two items; so each send/throw/close into it is wrapped separately.
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        gen = fn(*args, **kwargs)
        try:
            with make_ctx():
                item = gen.send(None)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    with make_ctx():
                        gen.close()
                    raise
                except BaseException as exc:  # noqa: BLE001 - forwarded into the generator
                    with make_ctx():
                        item = gen.throw(exc)
                else:
                    with make_ctx():
                        item = gen.send(sent)
        except StopIteration as stop:
            return stop.value
    return wrapper


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
        self._prev = _save_mode()
        _set_mode(self._mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _restore_mode(self._prev)
        return False

    def _fresh(self):
        return _Setter(self._mode)

    def __call__(self, fn):
        _restore_mode(self._prev)
        mode = self._mode
        return _decorate(lambda: _Setter(mode), fn)


class _Setter(_GradMode):
    def __init__(self, mode):
        self._mode = mode


_count_lock = threading.Lock()  # NOTE: `+= 1` on a module global is not atomic across threads


class inference_mode(_GradMode):
    """No graph is recorded inside (as no_grad), and the tensors made inside are inference tensors
    (`Tensor.is_inference()`): they keep no version counter, and outside the mode they may not be written
    in place, saved for backward, or made to require grad. `inference_mode(False)` turns it off inside.

    NOTE: PyTorch's inference mode exists to skip autograd's bookkeeping; ember's only bookkeeping is
    the version counter (see InferenceVersion in ember/_tensor.py), so here it is about the refusals."""

    def __init__(self, mode=True):
        self.mode = mode

    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):  # used as @inference_mode without parentheses
            self.__init__(True)
            return self(mode)
        return self

    def _fresh(self):
        return inference_mode(self.mode)

    def __enter__(self):
        local = _state.local
        self._prev = (local.grad_enabled, local.inference, local.grad_shown)
        local.grad_enabled = local.grad_shown = not self.mode
        local.inference = bool(self.mode)
        if self.mode:
            with _count_lock:
                _tensor._inference_blocks += 1

    def __exit__(self, *exc):
        if self.mode:
            with _count_lock:
                _tensor._inference_blocks -= 1
        _state.local.grad_enabled, _state.local.inference, _state.local.grad_shown = self._prev
        return False


def is_grad_enabled():
    """Whether grad mode is on (inside inference_mode it may be, under enable_grad, yet nothing is recorded)."""
    return _state.is_grad_enabled()


def is_inference_mode_enabled():
    """Whether inference mode is on (an inference_mode() block is open, not turned off by inference_mode(False))."""
    return _state.local.inference


def is_inference(input):
    """torch.is_inference: whether `input` is an inference tensor."""
    return input.is_inference()
