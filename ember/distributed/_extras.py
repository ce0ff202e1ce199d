"""torch.distributed's smaller names built on the collectives and groups: the coalesced and *_single
collectives, subgroups, the backend config, the debug level, breakpoint, and type names."""
import contextlib
import datetime
import enum
import os
import warnings
from typing import NewType

from . import _collectives, _world
from ._types import Backend, ReduceOp

timedelta = datetime.timedelta
GroupName = NewType("GroupName", str)
RankType = int  # NOTE: PyTorch's is int | torch.SymInt; ember has no SymInt


# --- collectives -------------------------------------------------------------------------------------------
def all_reduce_coalesced(tensors, op=ReduceOp.SUM, group=None, async_op=False):
    """Deprecated in PyTorch: all_reduce each tensor of `tensors` (one message: they are flattened together)."""
    warnings.warn("torch.distributed.all_reduce_coalesced will be deprecated. If you must use it, please revisit "
                  "our documentation later at https://pytorch.org/docs/main/distributed.html#collective-functions",
                  FutureWarning, stacklevel=2)
    if isinstance(tensors, _tensor_type()):
        tensors = [tensors]
    if not tensors:
        return None
    from .. import cat
    flat = cat([t.detach().reshape(-1) for t in tensors])
    work = _collectives.all_reduce(flat, op=op, group=group, async_op=async_op)
    if _world.get_rank(group) < 0:
        return None

    def scatter_back():
        offset = 0
        for t in tensors:
            t.data.copy_(flat[offset:offset + t.numel()].view(t.shape))
            offset += t.numel()
    if async_op:
        return _Then(work, scatter_back)
    scatter_back()
    return None


def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None, async_op=False):
    """Deprecated in PyTorch: output_tensor_lists[i][j] := rank i's input_tensor_list[j]."""
    warnings.warn("torch.distributed.all_gather_coalesced will be deprecated. If you must use it, please revisit "
                  "our documentation later at https://pytorch.org/docs/main/distributed.html#collective-functions",
                  FutureWarning, stacklevel=2)
    if not input_tensor_list:
        return None
    from .. import cat
    flat = cat([t.detach().reshape(-1) for t in input_tensor_list])
    size = _world.get_world_size(group)
    if size < 0:
        return None
    gathered = [flat.new_empty(flat.shape) for _ in range(size)]
    work = _collectives.all_gather(gathered, flat, group=group, async_op=async_op)

    def scatter_back():
        for rank_out, got in zip(output_tensor_lists, gathered):
            offset = 0
            for out, like in zip(rank_out, input_tensor_list):
                out.data.copy_(got[offset:offset + like.numel()].view(out.shape))
                offset += like.numel()
    if async_op:
        return _Then(work, scatter_back)
    scatter_back()
    return None


def all_gather_single(output_tensor, input_tensor, group=None, async_op=False):
    """all_gather_into_tensor under its newer name."""
    return _collectives.all_gather_into_tensor(output_tensor, input_tensor, group=group, async_op=async_op)


def reduce_scatter_single(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """reduce_scatter_tensor under its newer name."""
    return _collectives.reduce_scatter_tensor(output, input, op=op, group=group, async_op=async_op)


def _tensor_type():
    from .._tensor import Tensor
    return Tensor


class _Then:
    """A Work whose wait() also runs `after` (once) when the wrapped one completes."""

    def __init__(self, work, after):
        self._work, self._after, self._ran = work, after, False

    def wait(self, timeout=None):
        self._work.wait(timeout)
        if not self._ran:
            self._ran = True
            self._after()
        return True

    def is_completed(self):
        if self._work.is_completed():
            self.wait()
            return True
        return False

    def __getattr__(self, name):
        return getattr(self._work, name)


def supports_complex(reduceOp):
    """Whether a reduction applies to complex tensors (SUM, AVG; not MAX, MIN, PRODUCT or the bitwise ones)."""
    return reduceOp not in (ReduceOp.MAX, ReduceOp.MIN, ReduceOp.PRODUCT, ReduceOp.BAND, ReduceOp.BOR,
                            ReduceOp.BXOR)


# --- groups ------------------------------------------------------------------------------------------------
def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None, group_desc=None):
    """Split the group (the default one) into subgroups of `group_size` consecutive ranks; returns (this rank's
    subgroup, every subgroup). Every rank of the default group calls it."""
    if group_size is None:
        from .. import cuda
        if not cuda.is_available():
            raise ValueError("Default group size only takes effect when CUDA is available. If your subgroup using a "
                             "backend that does not depend on CUDA, please specify group_size.")
        group_size = cuda.device_count()
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    ranks = list(range(_world.get_world_size())) if group is None else _world.get_process_group_ranks(group)
    if len(ranks) % group_size != 0:
        raise ValueError(f"The world size ({len(ranks)}) must be divisible by 'group_size={group_size}'")
    split = [ranks[i:i + group_size] for i in range(0, len(ranks), group_size)]
    return new_subgroups_by_enumeration(split, timeout=timeout, backend=backend, pg_options=pg_options,
                                        group_desc=group_desc)


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None, pg_options=None,
                                 group_desc=None):
    """One subgroup per list of global ranks; returns (this rank's subgroup or None, every subgroup)."""
    if not ranks_per_subgroup_list:
        raise ValueError("The arg 'ranks_per_subgroup_list' cannot be empty")
    owner = {}
    for i, ranks in enumerate(ranks_per_subgroup_list):
        for rank in ranks:
            if rank in owner:
                raise ValueError(f"Rank {rank} has appeared in both subgroup {ranks_per_subgroup_list[owner[rank]]} "
                                 f"and {ranks}")
            owner[rank] = i
    me = _world.get_rank()
    mine = None
    subgroups = []
    for ranks in ranks_per_subgroup_list:
        pg = _world.new_group(ranks=ranks, timeout=timeout, backend=backend, pg_options=pg_options,
                              group_desc=group_desc)
        subgroups.append(pg)
        if me in ranks:
            mine = pg
    return mine, subgroups


def split_group(parent_pg=None, split_ranks=None, timeout=None, pg_options=None, group_desc=None, backend=None):
    """Split `parent_pg` (the default group) into the groups of global ranks `split_ranks` (disjoint lists);
    returns this rank's group, or None where it is in none. Every rank of the default group calls it.

    PyTorch's needs NCCL; ember's splits any group."""
    if split_ranks is None or len(split_ranks) == 0:
        raise ValueError("split_ranks cannot be None or empty")
    parent = set(_world.get_process_group_ranks(parent_pg if parent_pg is not None else _world.group.WORLD))
    for ranks in split_ranks:
        if not set(ranks) <= parent:
            raise ValueError(f"split_ranks {ranks} are not all in the parent group")
    mine, _ = new_subgroups_by_enumeration(split_ranks, timeout=timeout, backend=backend, pg_options=pg_options,
                                           group_desc=group_desc)
    return mine


# --- backends ----------------------------------------------------------------------------------------------
def get_default_backend_for_device(device):
    """The backend a device type uses by default: 'gloo' for cpu, 'nccl' for cuda."""
    from .._device import device as make_device
    kind = device.type if hasattr(device, "type") else make_device(device).type
    backend = Backend.default_device_backend_map.get(kind)
    if backend is None:
        raise ValueError(f"Default backend not registered for device : {device}")
    return backend


_CAPABILITY = {"gloo": ("cpu", "cuda"), "nccl": ("cuda",), "mpi": ("cpu", "cuda"), "ucc": ("cpu", "cuda"),
               "xccl": ("xpu",)}


class BackendConfig:
    """Which backend each device type uses, parsed from a backend string ('gloo', 'cpu:gloo,cuda:nccl')."""

    def __init__(self, backend):
        text = str(backend).lower()
        if text == Backend.UNDEFINED:
            self.device_backend_map = dict(Backend.default_device_backend_map)
        elif ":" not in text:
            name = str(Backend(text))
            # NOTE: as PyTorch: a backend serves the device types it is capable of
            devices = _CAPABILITY.get(name, ("cpu", "cuda"))
            self.device_backend_map = {device: name for device in devices}
        else:
            self.device_backend_map = {}
            for pair in text.split(","):
                if ":" not in pair:
                    raise ValueError(f"Invalid backend string argument: {backend}")
                device, name = (part.strip() for part in pair.split(":", 1))
                self.device_backend_map[device] = str(Backend(name))

    def __repr__(self):
        return ",".join(f"{device}:{name}" for device, name in self.device_backend_map.items())

    def get_device_backend_map(self):
        """{device type: backend name}."""
        return self.device_backend_map


def get_backend_config(group=None):
    """The group's backend config as a string ('cpu:gloo,cuda:gloo')."""
    return str(BackendConfig(_world.get_backend(group)))


def is_ucc_available():
    """ember has no UCC backend."""
    return False


def is_xccl_available():
    """ember has no XCCL (Intel GPU) backend."""
    return False


# --- debug level -------------------------------------------------------------------------------------------
class DebugLevel(enum.IntEnum):
    """TORCH_DISTRIBUTED_DEBUG's levels (ember's checks do not depend on it)."""

    OFF = 0
    INFO = 1
    DETAIL = 2

    def __str__(self):
        return f"DebugLevel.{self.name}"


_debug_level = [DebugLevel.OFF]


def get_debug_level():
    """The debug level (set_debug_level, or TORCH_DISTRIBUTED_DEBUG through set_debug_level_from_env)."""
    return _debug_level[0]


def set_debug_level(level):
    """Set the debug level (recorded; ember's checks run at every level)."""
    _debug_level[0] = DebugLevel(level)


def set_debug_level_from_env():
    """Read the debug level from TORCH_DISTRIBUTED_DEBUG (OFF, INFO or DETAIL)."""
    value = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if value not in DebugLevel.__members__:
        raise ValueError(f"The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL, but it is {value}.")
    _debug_level[0] = DebugLevel[value]


if os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper() in DebugLevel.__members__:
    set_debug_level_from_env()  # NOTE: as PyTorch, read once at import (a bad value is reported when asked)


class BuiltinCommHookType(enum.Enum):
    """PyTorch's C++ DDP hooks, by name: ember runs the Python hooks of the same names for them."""

    ALLREDUCE = 1
    FP16_COMPRESS = 2


def breakpoint(rank=0, skip=0, timeout_s=3600):
    """Stop in pdb on one rank while the others wait at a barrier (skip: let the first `skip` calls pass)."""
    if skip > 0:
        key = id(breakpoint)
        counts = _BREAKPOINT_CALLS
        counts[key] = counts.get(key, 0) + 1
        if counts[key] <= skip:
            return
    if _world.get_rank() == rank:
        import pdb
        pdb.Pdb().set_trace()
    _collectives.barrier(timeout=datetime.timedelta(seconds=timeout_s))


_BREAKPOINT_CALLS = {}


_comm_name = [None]


@contextlib.contextmanager
def record_comm(name):
    """Name the collectives issued inside the block for the profiler (ember's profiler does not record
    collectives: the name is only kept while the block runs)."""
    previous, _comm_name[0] = _comm_name[0], name
    try:
        yield
    finally:
        _comm_name[0] = previous
