"""Collectives on picklable Python objects (broadcast_object_list, all_gather_object, gather_object,
scatter_object_list, send/recv_object_list).

NOTE: they go through the group's MPI engine whatever the tensors' backend (mpi4py pickles and sizes the
messages itself), as PyTorch's do through the group's own backend; they are blocking calls without a timeout.
Like PyTorch's they unpickle what peers send: use them only with ranks you trust."""
from ._collectives import _member, _root


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """object_list[:] := rank src's object_list (every rank passes a list of the same length)."""
    pg = _member(group, "broadcast_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "broadcast_object_list")
    got = pg._control.objects("bcast", list(object_list) if pg.rank() == root else None, root)
    object_list[:len(got)] = got


def all_gather_object(object_list, obj, group=None):
    """object_list[i] := rank i's obj, on every rank (object_list has the group's size)."""
    pg = _member(group, "all_gather_object")
    if pg is None:
        return
    got = pg._control.objects("allgather", obj)
    object_list[:len(got)] = got


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """object_gather_list[i] := rank i's obj, on rank dst only."""
    pg = _member(group, "gather_object")
    if pg is None:
        return
    root = _root(pg, dst, group_dst, "gather_object")
    is_root = pg.rank() == root
    if is_root and object_gather_list is None:
        raise ValueError("Argument ``object_gather_list`` must be specified on destination rank.")
    if not is_root and object_gather_list:
        raise ValueError("Argument ``object_gather_list`` must NOT be specified on non-destination ranks.")
    got = pg._control.objects("gather", obj, root)
    if is_root:
        object_gather_list[:len(got)] = got


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """scatter_object_output_list[0] := rank src's scatter_object_input_list[i], on rank i."""
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    pg = _member(group, "scatter_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "scatter_object_list")
    items = None
    if pg.rank() == root:
        items = list(scatter_object_input_list or [])
        if len(items) != pg.size():
            raise ValueError(f"scatter_object_list: the input list must have one object per rank ({pg.size()}), "
                             f"got {len(items)}")
    scatter_object_output_list[0] = pg._control.objects("scatter", items, root)


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None, use_batch=False):
    """Send a list of objects to rank dst (the receiver passes a list of the same length)."""
    pg = _member(group, "send_object_list")
    if pg is None:
        return
    pg._control.send_object(list(object_list), _root(pg, dst, group_dst, "send_object_list"))


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None, use_batch=False):
    """Receive a list of objects from rank src (None: any rank) into object_list; returns the sender's rank."""
    pg = _member(group, "recv_object_list")
    if pg is None:
        return -1
    peer = None if src is None and group_src is None else _root(pg, src, group_src, "recv_object_list")
    got, source = pg._control.recv_object(peer)
    object_list[:len(got)] = got
    return pg._ranks[source]
