"""Transfer accounting: counts(), reset(), forbid_host_transfers()."""
import contextlib

from ._core import COUNTS, FORBID


def counts():
    """{'to_device': n, 'to_host': n, 'peer': n} since the last reset()."""
    return dict(COUNTS)


def reset():
    for k in COUNTS:
        COUNTS[k] = 0


@contextlib.contextmanager
def forbid_host_transfers():
    """Any device->host transfer inside raises AssertionError."""
    FORBID[0] += 1
    try:
        yield
    finally:
        FORBID[0] -= 1
