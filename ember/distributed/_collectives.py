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


def _member(group, name, stacklevel=3):
    """The group to run on, or None (with PyTorch's warning) where this rank is not in it."""
    pg = _world.resolve(group)
    if pg is None or (group is not None and pg.rank() < 0):
        warnings.warn(f"Running {name} on global rank {_world._default()._control.rank} which does not belong to "
                      "the given group.", stacklevel=stacklevel)
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


class _Call:
    """One collective on this rank, along the path every collective takes: its arguments checked, its group
    resolved (pg is None where this rank is outside the group: the collective then returns None), its root
    found, the engine chosen once the ranks agree, and the operation waited for or handed back as a Work.
    Each collective states only what differs: its arguments, its own checks, its buffers and engine call."""

    __slots__ = ("name", "pg", "op", "root", "is_root")

    def __init__(self, name, group, op=None, **arguments):
        self.name, self.root, self.is_root = name, None, False
        # NOTE: in the order given, as PyTorch checks them; a parameter named *_list is a list of tensors
        for param, value in arguments.items():
            (check_tensor_list if param.endswith("_list") else check_tensor)(value, param)
        self.op = None if op is None else red_op_type(op, name)
        self.pg = _member(group, name, stacklevel=4)  # NOTE: the warning points at the caller's line

    def set_root(self, rank, group_rank):
        """The root (src/dst or group_src/group_dst) as a group rank, and whether this rank is it."""
        self.root = _root(self.pg, rank, group_rank, self.name)
        self.is_root = self.pg.rank() == self.root

    def engine(self, tensors, agreed, shapes=True):
        """The engine for `tensors`' device, once every rank agrees on this call (op, root and `agreed`)."""
        engine = _engine(self.pg, tensors)
        agree(self.pg, self.name, agreed, op=self.op, root=self.root, shapes=shapes)
        return engine

    def run(self, request, finish, outputs, async_op, timeout=None):
        return _run(self.pg, request, finish, outputs, async_op, self.name, timeout)


# --- reductions ---------------------------------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over the group in place: every rank gets the result (SUM, AVG, PRODUCT, MIN, MAX, BAND,
    BOR, BXOR). float16/bfloat16 are summed in float32 and rounded once. Unlike PyTorch, the tensor's version
    counter is bumped (autograd sees the write)."""
    call = _Call("all_reduce", group, op, tensor=tensor)
    return None if call.pg is None else _reduce(call, tensor, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` over the group into rank `dst`'s tensor (the others' tensors are left unchanged)."""
    call = _Call("reduce", group, op, tensor=tensor)
    if call.pg is None:
        return None
    call.set_root(dst, group_dst)
    return _reduce(call, tensor, async_op)


def _reduce(call, tensor, async_op):
    """all_reduce (no root: every rank gets the result) or reduce (only the root's tensor is written)."""
    plan = reduction_plan(tensor, call.op, call.name)
    engine = call.engine([tensor], [tensor])
    everyone = call.root is None
    buf = Buffer(tensor, engine, plan.work, plan.view, write=everyone or call.is_root)
    if everyone:
        request = engine.allreduce(buf.array, plan.op)
    else:
        request = engine.reduce(buf.array, plan.op, call.root)
    finish = _reduced(plan, buf, call.pg) if everyone or call.is_root else None
    return call.run(request, finish, [tensor], async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce input_list[i] over the group into rank i's `output`."""
    call = _Call("reduce_scatter", group, op, output=output, input_list=input_list)
    if call.pg is None:
        return None
    _check_list_length(input_list, call.pg.size(), "reduce_scatter", "input")
    _same_shapes(input_list, output, "reduce_scatter")
    return _reduce_scatter(call, output, input_list, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `input` (the group's size times output's elements) over the group; rank i gets block i."""
    call = _Call("reduce_scatter_tensor", group, op, output=output, input=input)
    if call.pg is None:
        return None
    _same_dtype([output, input])
    if input.numel() != output.numel() * call.pg.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    return _reduce_scatter(call, output, [input], async_op)


def _reduce_scatter(call, output, inputs, async_op):
    plan = reduction_plan(output, call.op, call.name)
    engine = call.engine([output] + list(inputs), inputs + [output])
    send = concat(engine, inputs, plan.work)
    recv = Buffer(output, engine, plan.work, read=False, write=True)
    if plan.view is not None:
        send = send.view(plan.view)
        recv.array = recv.array.view(plan.view)
    request = engine.reduce_scatter(send, recv.array, plan.op)
    return call.run(request, _reduced(plan, recv, call.pg), [output], async_op)


def _reduced(plan, buf, pg):
    """The finish of a reduction: the plan's last step (AVG's division, rounding back) and the store."""
    def finish():
        plan.finish(buf.array, pg.size())
        buf.store()
    return finish


# --- data movement ------------------------------------------------------------------------------------------
def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s tensor into every rank's tensor (in place)."""
    call = _Call("broadcast", group, tensor=tensor)
    if call.pg is None:
        return None
    call.set_root(src, group_src)
    engine = call.engine([tensor], [tensor])
    buf = Buffer(tensor, engine, read=call.is_root, write=not call.is_root)
    request = engine.broadcast(buf.array, call.root)
    return call.run(request, None if call.is_root else buf.store, [tensor], async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] := rank i's tensor, on every rank."""
    call = _Call("all_gather", group, tensor_list=tensor_list, tensor=tensor)
    if call.pg is None:
        return None
    _same_dtype(list(tensor_list) + [tensor])
    _check_list_length(tensor_list, call.pg.size(), "all_gather", "output")
    _same_shapes(tensor_list, tensor, "all_gather")
    engine = call.engine(list(tensor_list) + [tensor], [tensor])
    send = Buffer(tensor, engine).array
    recv = empty_like_flat(engine, tensor, send.size * call.pg.size())
    request = engine.allgather(send, recv)
    return call.run(request, _splitter(recv, tensor_list), tensor_list, async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor := the ranks' input tensors end to end along dim 0 (or stacked, for a (size, ...) output)."""
    call = _Call("all_gather_into_tensor", group, output_tensor=output_tensor, input_tensor=input_tensor)
    if call.pg is None:
        return None
    _same_dtype([output_tensor, input_tensor])
    if output_tensor.numel() != input_tensor.numel() * call.pg.size():
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    engine = call.engine([output_tensor, input_tensor], [input_tensor])
    send = Buffer(input_tensor, engine).array
    recv = Buffer(output_tensor, engine, read=False, write=True)
    request = engine.allgather(send, recv.array)
    return call.run(request, recv.store, [output_tensor], async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """gather_list[i] := rank i's tensor, on rank `dst` only."""
    call = _Call("gather", group, tensor=tensor)
    if call.pg is None:
        return None
    call.set_root(dst, group_dst)
    _check_root_list(call, gather_list, tensor, "gather_list", "output", "destination")
    engine = call.engine([tensor], [tensor])
    send = Buffer(tensor, engine).array
    recv = empty_like_flat(engine, tensor, send.size * call.pg.size()) if call.is_root else None
    request = engine.gather(send, recv, call.root)
    return call.run(request, _splitter(recv, gather_list) if call.is_root else None, gather_list or [], async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """tensor := scatter_list[i] of rank `src`, on rank i."""
    call = _Call("scatter", group, tensor=tensor)
    if call.pg is None:
        return None
    call.set_root(src, group_src)
    _check_root_list(call, scatter_list, tensor, "scatter_list", "input", "source")
    engine = call.engine([tensor], [tensor])
    send = concat(engine, scatter_list) if call.is_root else None
    recv = Buffer(tensor, engine, read=False, write=True)
    request = engine.scatter(send, recv.array, call.root)
    return call.run(request, recv.store, [tensor], async_op)


def _check_root_list(call, tensors, like, param, which, role):
    """gather's/scatter's list: on the root, the group's size of tensors like `like`; elsewhere none."""
    if call.is_root:
        if not tensors:
            raise ValueError(f"Argument ``{param}`` must be specified on {role} rank.")
        check_tensor_list(tensors, param)
        _check_list_length(tensors, call.pg.size(), call.name, which)
        _same_dtype(list(tensors) + [like])
        _same_shapes(tensors, like, call.name)
    elif tensors:
        raise ValueError(f"Argument ``{param}`` must NOT be specified on non-{role} ranks.")


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """output_tensor_list[i] := rank i's input_tensor_list[this rank]; the tensors' sizes may differ per pair."""
    call = _Call("all_to_all", group, output_tensor_list=output_tensor_list, input_tensor_list=input_tensor_list)
    if call.pg is None:
        return None
    _check_list_length(output_tensor_list, call.pg.size(), "all_to_all", "output")
    _check_list_length(input_tensor_list, call.pg.size(), "all_to_all", "input")
    _same_dtype(list(output_tensor_list) + list(input_tensor_list))
    send_counts = [t.numel() for t in input_tensor_list]
    recv_counts = [t.numel() for t in output_tensor_list]
    engine = _agreed_counts(call, list(output_tensor_list) + list(input_tensor_list), input_tensor_list[:1],
                            send_counts, recv_counts)
    send = concat(engine, input_tensor_list)
    recv = empty_like_flat(engine, output_tensor_list[0], sum(recv_counts))
    request = engine.alltoall(send, send_counts, recv, recv_counts)
    return call.run(request, _splitter(recv, output_tensor_list), output_tensor_list, async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Split `input` along dim 0 (input_split_sizes, or equally), send block i to rank i, and concatenate what
    arrives into `output` (output_split_sizes, or equally)."""
    call = _Call("all_to_all_single", group, output=output, input=input)
    if call.pg is None:
        return None
    _same_dtype([output, input])
    send_counts = _split_counts(input, input_split_sizes, call.pg.size())
    recv_counts = _split_counts(output, output_split_sizes, call.pg.size())
    engine = _agreed_counts(call, [output, input], [input], send_counts, recv_counts)
    send = Buffer(input, engine).array
    recv = Buffer(output, engine, read=False, write=True)
    request = engine.alltoall(send, send_counts, recv.array, recv_counts)
    return call.run(request, recv.store, [output], async_op)


def _agreed_counts(call, tensors, agreed, send_counts, recv_counts):
    """An all-to-all's engine, once the ranks agree on the call (dtype only) and on who sends whom how much."""
    engine = call.engine(tensors, agreed, shapes=False)
    agree_counts(call.pg, call.name, send_counts, recv_counts)
    return engine


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has reached this call (within `timeout`, default the group's)."""
    call = _Call("barrier", group)
    if call.pg is None:
        return None
    return call.run(call.pg._control.barrier(), None, [], async_op, timeout)


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
    pg = _Call("isend", group, tensor=tensor).pg
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "isend")
    engine = _engine(pg, [tensor])
    request = engine.send(Buffer(tensor, engine).array, peer, tag)
    return Work(request, None, [tensor], pg.deadline(), "isend", pg)


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from rank `src` (None: any rank) without waiting; returns a Work."""
    pg = _Call("irecv", group, tensor=tensor).pg
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


def _splitter(flat, tensors):
    """The finish of a gather into a list: the received elements, end to end, written into `tensors`."""
    def finish():
        start = 0
        for t in tensors:
            n = t.numel()
            write(t, flat[start:start + n])
            start += n
    return finish
