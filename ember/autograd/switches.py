"""torch.autograd's engine switches: set_multithreading_enabled, enforce_grad_layout_policy and the queries
beside them (is_multithreading_enabled, is_view_replay_enabled).

NOTE: ember's engine always runs backward on the calling thread, and its gradients are NumPy/CuPy arrays with
no layout contract to enforce: both switches are kept (per thread, as in PyTorch) and reported, so that code
that sets and reads them runs, but they change nothing ember computes.
"""
from .. import _state
from .grad_mode import _decorate


def is_multithreading_enabled():
    """Whether multithreaded backward is on (the switch set_multithreading_enabled sets; default True)."""
    return _state.local.multithreading_enabled


def is_view_replay_enabled():
    """Whether views are rebuilt by replaying their view ops (PyTorch's `_force_original_view_tracking`):
    False, PyTorch's default. NOTE: ember replays views internally but names the result as PyTorch's as_strided
    path does (AsStridedBackward0), so the reported mode is the default one."""
    return False


class _Switch:
    """A switch set at construction, restored when its `with` block exits; usable as a decorator."""

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        self._set(self.prev)
        return False

    def __call__(self, fn):
        return _decorate(self.clone, fn)

    def clone(self):
        """A copy of this switch (sets the same mode again)."""
        return type(self)(self.mode)


class set_multithreading_enabled(_Switch):
    """Enable or disable multithreaded backward: at once, and until the `with` block exits (thread-local).
    NOTE: reported only; ember's backward always runs on the calling thread."""

    def __init__(self, mode):
        self.prev = _state.local.multithreading_enabled
        self._set(mode)
        self.mode = mode

    @staticmethod
    def _set(mode):
        _state.local.multithreading_enabled = bool(mode)


class enforce_grad_layout_policy(_Switch):
    """Enforce (True, default) or relax the gradient layout contract, until the `with` block exits
    (thread-local). NOTE: reported only; ember's gradients have no strides for the contract to fix."""

    def __init__(self, enable=True):
        self.prev = _state.local.grad_layout_enforced
        self._set(enable)
        self.mode = enable

    @staticmethod
    def _set(mode):
        _state.local.grad_layout_enforced = bool(mode)

    def __call__(self, fn):
        # NOTE: as in PyTorch, used as a decorator the switch is not left set: each call sets it for its duration
        self._set(self.prev)
        return super().__call__(fn)
