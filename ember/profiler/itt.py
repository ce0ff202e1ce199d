"""torch.profiler.itt: Intel ITT annotations. ember has no ITT library: is_available() is False and the
annotations do nothing."""
import contextlib

__all__ = ["is_available", "range_push", "range_pop", "mark", "range"]


def is_available():
    """False: no ITT library is loaded."""
    return False


def range_push(msg):
    """Open an ITT range (nothing to do without ITT)."""


def range_pop():
    """Close an ITT range (nothing to do without ITT)."""


def mark(msg):
    """An instant ITT event (nothing to do without ITT)."""


@contextlib.contextmanager
def range(msg, *args, **kwargs):  # noqa: A001
    """An ITT range around the block (nothing to do without ITT)."""
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
