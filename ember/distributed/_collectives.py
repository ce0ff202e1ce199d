"""Collectives on tensors, in place as torch.distributed's: all_reduce, broadcast, reduce, the gathers and
scatters, all_to_all, and point-to-point send/recv.

Each call checks its arguments, agrees with its peers that they called the same collective on tensors of the
same shape and dtype (the `_agree` check below), posts the engine's operation and either waits for it (with
the group's timeout) or returns a Work."""
import warnings

from . import _world
from ._buffers import (Buffer, check_tensor, check_tensor_list, concat, empty_like_flat, reduction_plan, write)
from ._check import agree, agree_counts
from ._types import ReduceOp, red_op_type
from ._work import Work, wait_for


def _member(group, name):
    """The group to run on, or None (with PyTorch's warning) where this rank is not in it."""
    pg = _world.resolve(group)
    if pg is None or (group is not None and pg.rank() < 0):
        warnings.warn(f"Running {name} on global rank {_world._default()._control.rank} which does not belong to "
                      "the given group.", stacklevel=3)
        return None
    if pg._broken is not None:
        raise RuntimeError(f"{name}: the process group is unusable after an earlier failure: {pg._broken}")
    return pg


def _root(pg, rank, group_rank, name):
    """The group rank of a collective's root from src/dst (a global rank) or group_src/group_dst."""
    if rank is None and group_rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    if rank is not None and group_rank is not None:
        raise ValueError("Can only specify global_rank or group_rank")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
        return group_rank
    if pg is _world._WORLD.default:
        if not 0 <= rank < pg.size():
            raise RuntimeError(f"{name}: invalid root rank: {rank}")
        return rank
    if rank not in pg._ranks:
        raise ValueError(f"Global rank {rank} is not part of group {pg}")
    return pg._ranks.index(rank)


def _run(pg, request, finish, tensors, async_op, name, timeout=None):
    deadline = pg.deadline(timeout)
    if async_op:
        return Work(request, finish, tensors, deadline, name, pg)
    try:
        wait_for(request, deadline, name, pg)
    except BaseException as error:
        pg._broken = error
        raise
    if finish is not None:
        finish()
    return None


def _engine(pg, tensors):
    device_type = tensors[0]._device.type
    for t in tensors[1:]:
        if t._device.type != device_type:
            raise ValueError(f"Tensors must be on the same device type, got {device_type} and {t._device.type}")
    return pg.engine(device_type)


def _same_dtype(tensors):
    first = tensors[0]._dtype
    for t in tensors[1:]:
        if t._dtype is not first:
            raise ValueError(f"Invalid usage of tensors with different dtypesFound {first} and  {t._dtype}")


# --- reductions ---------------------------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over the group in place: every rank gets the result (SUM, AVG, PRODUCT, MIN, MAX, BAND,
    BOR, BXOR). float16/bfloat16 are summed in float32 and rounded once. Unlike PyTorch, the tensor's version
    counter is bumped (autograd sees the write)."""
    check_tensor(tensor, "tensor")
    op = red_op_type(op, "all_reduce")
    pg = _member(group, "all_reduce")
    if pg is None:
        return None
    plan = reduction_plan(tensor, op, "all_reduce")
    engine = _engine(pg, [tensor])
    agree(pg, "all_reduce", [tensor], op=op)
    buf = Buffer(tensor, engine, plan.work, plan.view, write=True)
    request = engine.allreduce(buf.array, plan.op)

    def finish():
        plan.finish(buf.array, pg.size())
        buf.store()
    return _run(pg, request, finish, [tensor], async_op, "all_reduce")


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` over the group into rank `dst`'s tensor (the others' tensors are left unchanged)."""
    check_tensor(tensor, "tensor")
    op = red_op_type(op, "reduce")
    pg = _member(group, "reduce")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "reduce")
    plan = reduction_plan(tensor, op, "reduce")
    engine = _engine(pg, [tensor])
    agree(pg, "reduce", [tensor], op=op, root=root)
    is_root = pg.rank() == root
    buf = Buffer(tensor, engine, plan.work, plan.view, write=is_root)
    request = engine.reduce(buf.array, plan.op, root)

    def finish():
        if is_root:
            plan.finish(buf.array, pg.size())
            buf.store()
    return _run(pg, request, finish, [tensor], async_op, "reduce")


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce input_list[i] over the group into rank i's `output`."""
    check_tensor(output, "output")
    check_tensor_list(input_list, "input_list")
    op = red_op_type(op, "reduce_scatter")
    pg = _member(group, "reduce_scatter")
    if pg is None:
        return None
    _check_list_length(input_list, pg.size(), "reduce_scatter", "input")
    _same_shapes(input_list, output, "reduce_scatter")
    return _reduce_scatter(pg, output, input_list, op, async_op, "reduce_scatter")


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` (the group's size times output's elements) over the group; rank i gets block i."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    op = red_op_type(op, "reduce_scatter_tensor")
    pg = _member(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    _same_dtype([output, input])
    if input.numel() != output.numel() * pg.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    return _reduce_scatter(pg, output, [input], op, async_op, "reduce_scatter_tensor")


def _reduce_scatter(pg, output, inputs, op, async_op, name):
    plan = reduction_plan(output, op, name)
    engine = _engine(pg, [output] + list(inputs))
    agree(pg, name, inputs + [output], op=op)
    send = concat(engine, inputs, plan.work)
    recv = Buffer(output, engine, plan.work, read=False, write=True)
    if plan.view is not None:
        send = send.view(plan.view)
        recv.array = recv.array.view(plan.view)
    request = engine.reduce_scatter(send, recv.array, plan.op)

    def finish():
        plan.finish(recv.array, pg.size())
        recv.store()
    return _run(pg, request, finish, [output], async_op, name)


# --- data movement ------------------------------------------------------------------------------------------
def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s tensor into every rank's tensor (in place)."""
    check_tensor(tensor, "tensor")
    pg = _member(group, "broadcast")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "broadcast")
    engine = _engine(pg, [tensor])
    agree(pg, "broadcast", [tensor], root=root)
    is_root = pg.rank() == root
    buf = Buffer(tensor, engine, read=is_root, write=not is_root)
    request = engine.broadcast(buf.array, root)
    return _run(pg, request, None if is_root else buf.store, [tensor], async_op, "broadcast")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] := rank i's tensor, on every rank."""
    check_tensor_list(tensor_list, "tensor_list")
    check_tensor(tensor, "tensor")
    pg = _member(group, "all_gather")
    if pg is None:
        return None
    _same_dtype(list(tensor_list) + [tensor])
    _check_list_length(tensor_list, pg.size(), "all_gather", "output")
    _same_shapes(tensor_list, tensor, "all_gather")
    engine = _engine(pg, list(tensor_list) + [tensor])
    agree(pg, "all_gather", [tensor])
    send = Buffer(tensor, engine).array
    recv = empty_like_flat(engine, tensor, send.size * pg.size())
    request = engine.allgather(send, recv)

    def finish():
        _split_into(recv, tensor_list)
    return _run(pg, request, finish, tensor_list, async_op, "all_gather")


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor := the ranks' input tensors end to end along dim 0 (or stacked, for a (size, ...) output)."""
    check_tensor(output_tensor, "output_tensor")
    check_tensor(input_tensor, "input_tensor")
    pg = _member(group, "all_gather_into_tensor")
    if pg is None:
        return None
    _same_dtype([output_tensor, input_tensor])
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    engine = _engine(pg, [output_tensor, input_tensor])
    agree(pg, "all_gather_into_tensor", [input_tensor])
    send = Buffer(input_tensor, engine).array
    recv = Buffer(output_tensor, engine, read=False, write=True)
    request = engine.allgather(send, recv.array)
    return _run(pg, request, recv.store, [output_tensor], async_op, "all_gather_into_tensor")


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """gather_list[i] := rank i's tensor, on rank `dst` only."""
    check_tensor(tensor, "tensor")
    pg = _member(group, "gather")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "gather")
    is_root = pg.rank() == root
    if is_root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        check_tensor_list(gather_list, "gather_list")
        _check_list_length(gather_list, pg.size(), "gather", "output")
        _same_dtype(list(gather_list) + [tensor])
        _same_shapes(gather_list, tensor, "gather")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    engine = _engine(pg, [tensor])
    agree(pg, "gather", [tensor], root=root)
    send = Buffer(tensor, engine).array
    recv = empty_like_flat(engine, tensor, send.size * pg.size()) if is_root else None
    request = engine.gather(send, recv, root)

    def finish():
        if is_root:
            _split_into(recv, gather_list)
    return _run(pg, request, finish, gather_list or [], async_op, "gather")


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """tensor := scatter_list[i] of rank `src`, on rank i."""
    check_tensor(tensor, "tensor")
    pg = _member(group, "scatter")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "scatter")
    is_root = pg.rank() == root
    if is_root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        check_tensor_list(scatter_list, "scatter_list")
        _check_list_length(scatter_list, pg.size(), "scatter", "input")
        _same_dtype(list(scatter_list) + [tensor])
        _same_shapes(scatter_list, tensor, "scatter")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    engine = _engine(pg, [tensor])
    agree(pg, "scatter", [tensor], root=root)
    send = concat(engine, scatter_list) if is_root else None
    recv = Buffer(tensor, engine, read=False, write=True)
    request = engine.scatter(send, recv.array, root)
    return _run(pg, request, recv.store, [tensor], async_op, "scatter")


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """output_tensor_list[i] := rank i's input_tensor_list[this rank]; the tensors' sizes may differ per pair."""
    check_tensor_list(output_tensor_list, "output_tensor_list")
    check_tensor_list(input_tensor_list, "input_tensor_list")
    pg = _member(group, "all_to_all")
    if pg is None:
        return None
    _check_list_length(output_tensor_list, pg.size(), "all_to_all", "output")
    _check_list_length(input_tensor_list, pg.size(), "all_to_all", "input")
    _same_dtype(list(output_tensor_list) + list(input_tensor_list))
    engine = _engine(pg, list(output_tensor_list) + list(input_tensor_list))
    send_counts = [t.numel() for t in input_tensor_list]
    recv_counts = [t.numel() for t in output_tensor_list]
    agree(pg, "all_to_all", input_tensor_list[:1], shapes=False)
    agree_counts(pg, "all_to_all", send_counts, recv_counts)
    send = concat(engine, input_tensor_list)
    recv = empty_like_flat(engine, output_tensor_list[0], sum(recv_counts))
    request = engine.alltoall(send, send_counts, recv, recv_counts)

    def finish():
        _split_into(recv, output_tensor_list)
    return _run(pg, request, finish, output_tensor_list, async_op, "all_to_all")


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Split `input` along dim 0 (input_split_sizes, or equally), send block i to rank i, and concatenate what
    arrives into `output` (output_split_sizes, or equally)."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    pg = _member(group, "all_to_all_single")
    if pg is None:
        return None
    _same_dtype([output, input])
    n = pg.size()
    send_counts = _split_counts(input, input_split_sizes, n)
    recv_counts = _split_counts(output, output_split_sizes, n)
    engine = _engine(pg, [output, input])
    agree(pg, "all_to_all_single", [input], shapes=False)
    agree_counts(pg, "all_to_all_single", send_counts, recv_counts)
    send = Buffer(input, engine).array
    recv = Buffer(output, engine, read=False, write=True)
    request = engine.alltoall(send, send_counts, recv.array, recv_counts)
    return _run(pg, request, recv.store, [output], async_op, "all_to_all_single")


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has reached this call (within `timeout`, default the group's)."""
    pg = _member(group, "barrier")
    if pg is None:
        return None
    request = pg._control.barrier()
    return _run(pg, request, None, [], async_op, "barrier", timeout)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier with a timeout (ember's barriers all honour one; this one does not name the missing ranks)."""
    return barrier(group, timeout=timeout)


# --- point to point -----------------------------------------------------------------------------------------
def _peer(pg, rank, group_rank, name):
    peer = _root(pg, rank, group_rank, name)
    if peer == pg.rank():
        raise ValueError(f"Invalid {'destination' if name in ('send', 'isend') else 'source'} rank: "
                         f"{'destination' if name in ('send', 'isend') else 'source'} rank should not be the same "
                         "as the rank of the current process.")
    return peer


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank `dst` without waiting; returns a Work."""
    check_tensor(tensor, "tensor")
    pg = _member(group, "isend")
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "isend")
    engine = _engine(pg, [tensor])
    request = engine.send(Buffer(tensor, engine).array, peer, tag)
    return Work(request, None, [tensor], pg.deadline(), "isend", pg)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from rank `src` (None: any rank) without waiting; returns a Work."""
    check_tensor(tensor, "tensor")
    pg = _member(group, "irecv")
    if pg is None:
        return None
    peer = None if src is None and group_src is None else _peer(pg, src, group_src, "irecv")
    engine = _engine(pg, [tensor])
    buf = Buffer(tensor, engine, read=False, write=True)
    request = engine.recv(buf.array, peer, tag)

    def finish():
        got = request.count()
        if got != buf.array.nbytes:
            raise RuntimeError(f"recv: the message has {got} bytes but the tensor holds {buf.array.nbytes} "
                               "(sender and receiver must use tensors of the same size and dtype)")
        buf.store()
    work = Work(request, finish, [tensor], pg.deadline(), "irecv", pg)
    work._group_ranks = pg._ranks
    return work


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank `dst` and wait until it is sent."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from rank `src` (None: any rank); returns the sender's global rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work._group_ranks[work._request.source()]


class P2POp:
    """One point-to-point operation for batch_isend_irecv: P2POp(isend or irecv, tensor, peer)."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        check_tensor(tensor, "tensor")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, group_peer


def batch_isend_irecv(p2p_op_list):
    """Post every P2POp; returns their Works."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


# --- helpers ------------------------------------------------------------------------------------------------
def _check_list_length(tensors, size, name, which):
    if len(tensors) != size:
        raise RuntimeError(f"{name}: invalid {which} tensor list (expected length {size}, got {len(tensors)})")


def _same_shapes(tensors, like, name):
    for i, t in enumerate(tensors):
        if t.shape != like.shape:
            raise RuntimeError(f"{name}: invalid tensor size at index {i} (expected {tuple(like.shape)}, "
                               f"got {tuple(t.shape)})")


def _split_counts(tensor, splits, n):
    """Elements per rank for all_to_all_single's split of `tensor` along dim 0."""
    rows = tensor.shape[0] if tensor.dim() else 1
    per_row = tensor.numel() // rows if rows else 0
    if splits is None or len(splits) == 0:
        if rows % n:
            raise ValueError(f"Tensor's dim 0 does not divide equally across group size {n}")
        return [rows // n * per_row] * n
    splits = [int(s) for s in splits]
    if len(splits) != n:
        raise ValueError(f"Split sizes must have one entry per rank ({n}), got {len(splits)}")
    if sum(splits) != rows:
        raise ValueError(f"Split sizes sum to {sum(splits)} but the tensor's dim 0 is {rows}")
    return [s * per_row for s in splits]


def _split_into(flat, tensors):
    start = 0
    for t in tensors:
        n = t.numel()
        write(t, flat[start:start + n])
        start += n
