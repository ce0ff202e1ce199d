"""torch.compiler: the controls of PyTorch's graph compiler. ember compiles nothing (torch.compile returns
its model unchanged), so these return their functions unchanged and report that nothing is compiling."""
import contextlib

from ._compile import compile

__all__ = ["compile", "assume_constant_result", "reset", "allow_in_graph", "substitute_in_graph", "list_backends",
           "disable", "set_stance", "cudagraph_mark_step_begin", "wrap_numpy", "is_compiling",
           "is_dynamo_compiling", "is_exporting", "nested_compile_region", "set_default_backend",
           "get_default_backend"]

_default_backend = ["inductor"]


def disable(fn=None, recursive=True, *, reason=None):
    """`fn` unchanged (nothing is compiled); without `fn`, a decorator that returns its function unchanged."""
    if fn is None:
        return lambda f: f
    return fn


def reset():
    """Clear compilation caches (ember keeps none)."""


def allow_in_graph(fn):
    """`fn` unchanged."""
    return fn


def assume_constant_result(fn):
    """`fn` unchanged."""
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through=False, skip_signature_check=False):
    """A decorator that returns its function unchanged."""
    return lambda fn: fn


def wrap_numpy(fn):
    """`fn` unchanged."""
    return fn


def nested_compile_region(fn=None, *, options=None, max_reuse_entries=8, reuse_hash_fn=None):
    """`fn` unchanged (or a decorator that returns its function unchanged)."""
    if fn is None:
        return lambda f: f
    return fn


def list_backends(exclude_tags=("debug", "experimental")):
    """The backend names torch.compile accepts (ember runs every one eagerly)."""
    return ["cudagraphs", "inductor", "openxla", "tvm"]


def set_default_backend(backend):
    """Set torch.compile's default backend name (ember runs eagerly whatever it is)."""
    _default_backend[0] = backend


def get_default_backend():
    """torch.compile's default backend name."""
    return _default_backend[0]


class set_stance(contextlib.ContextDecorator):
    """Set how compiled functions run (a no-op in ember); usable as a call, a context manager or a decorator."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        self.stance = stance
        self.skip_guard_eval_unsafe = skip_guard_eval_unsafe
        self.force_backend = force_backend

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        return None


def cudagraph_mark_step_begin():
    """Mark the start of a CUDA-graph step (nothing to do in ember)."""


def is_compiling():
    """False: ember never traces a program."""
    return False


def is_dynamo_compiling():
    """False: ember never traces a program."""
    return False


def is_exporting():
    """False: ember never exports a program."""
    return False
