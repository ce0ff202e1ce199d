"""The cross-rank check before each collective: did every rank call the same collective on tensors of the
same shape and dtype? A mismatch raises the same clear RuntimeError on every rank instead of a hang or
silently wrong data.

NOTE: the check is one allreduce of a few int64s on the host; bench/distributed.py measured it between two
processes at about 7 us (an 8-byte all_reduce: 0.011 ms with it, 0.004 ms without; 1 MB: 0.156 and 0.145 ms). It is on by default; set
EMBER_DISTRIBUTED_CHECK=0 to skip it (then a mismatch is undefined behaviour, as in PyTorch)."""
import os

import numpy as np

from ._work import wait_for

_KINDS = ("all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor", "gather", "scatter",
          "reduce_scatter", "reduce_scatter_tensor", "all_to_all", "all_to_all_single")
_MIX = (1 << 61) - 1


def enabled():
    return os.environ.get("EMBER_DISTRIBUTED_CHECK", "1") != "0"


def _shape_code(shape):
    code = len(shape)
    for s in shape:
        code = (code * 1000003 + s + 1) % _MIX
    return code


def _dtype_code(dtype):
    code = 0
    for ch in str(dtype):
        code = (code * 131 + ord(ch)) % _MIX
    return code


def _describe(name, tensors, op, root, shapes):
    parts = [f"{name}"] + [f"{t.dtype} {list(t.shape)}" if shapes else f"{t.dtype}" for t in tensors]
    if op is not None:
        parts.append(f"op={op}")
    if root is not None:
        parts.append(f"root={root}")
    return " ".join(parts)


def agree(pg, name, tensors, op=None, root=None, shapes=True):
    """Raise RuntimeError on every rank when the ranks' calls differ (collective, op, root, dtypes, and shapes
    unless shapes=False)."""
    if pg.size() == 1 or not enabled():
        return
    sig = [_KINDS.index(name), -1 if op is None else int(op), -1 if root is None else root]
    for t in tensors:
        sig += [_dtype_code(t.dtype), _shape_code(tuple(t.shape)) if shapes else 0]
    low, high = _minmax(pg, name, sig)
    if (low == high).all():
        return
    seen = pg._control.objects("allgather", _describe(name, tensors, op, root, shapes))
    lines = "; ".join(f"rank {pg._ranks[i]}: {s}" for i, s in enumerate(seen))
    raise RuntimeError(f"{name}: the ranks' calls do not match (every rank must call the same collective with "
                       f"tensors of the same shape and dtype): {lines}")


def agree_counts(pg, name, send_counts, recv_counts):
    """all_to_all: what each rank sends to this one must be what this one expects from it (on every rank)."""
    if pg.size() == 1 or not enabled():
        return
    request, arriving = pg._control.exchange_counts(send_counts)
    _wait(pg, request, name)
    arriving = arriving.tolist()
    bad = [i for i, (a, b) in enumerate(zip(arriving, recv_counts)) if a != b]
    low, high = _minmax(pg, name, [len(bad)])
    if high[0] == 0:
        return
    seen = pg._control.objects("allgather", [(pg._ranks[i], arriving[i], recv_counts[i]) for i in bad])
    lines = "; ".join(f"rank {pg._ranks[r]} expects {want} elements from rank {src}, which sends {got}"
                      for r, items in enumerate(seen) for src, got, want in items)
    raise RuntimeError(f"{name}: the ranks' split sizes do not match: {lines}")


def _wait(pg, request, name):
    try:
        wait_for(request, pg.deadline(), name, pg)
    except BaseException as error:
        pg._broken = error
        raise


def _minmax(pg, name, values):
    request, both = pg._control.agree(np.array(values, dtype=np.int64))
    _wait(pg, request, name)
    n = len(values)
    return -both[n:], both[:n]
