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


def _report_at_exit():
    """With EMBER_STANDIN_REPORT set, a program run on the stand-in prints its transfer counts to stderr at
    exit (how a subprocess test knows the program really ran on the device)."""
    import atexit
    import os
    import sys
    if os.environ.get("EMBER_STANDIN_REPORT"):
        atexit.register(lambda: print(f"standin-counts: {counts()}", file=sys.stderr))


_report_at_exit()
