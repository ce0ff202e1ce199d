"""Process groups: the default group made by init_process_group, subgroups from new_group, and rank lookups.

NOTE: the state here (the default group and the groups made from it) is the process's connection to its
peers, an external resource like the GPU; it lives in this module, not in ember/_state.py, because nothing
outside ember.distributed reads it."""
import datetime
import os
import sys
import time

from . import _mpi, _rendezvous
from ._types import Backend, default_pg_timeout

NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class ProcessGroup:
    """A set of ranks that communicate: one engine per device type (MPI for the CPU, NCCL for CUDA)."""

    def __init__(self, ranks, engines, backend, timeout, name):
        self._ranks = list(ranks)
        self._engines = engines
        self._control = engines["control"]
        self._backend = Backend(backend) if "," not in backend else backend
        self._timeout = timeout
        self._name = name
        self._broken = None

    def rank(self):
        return self._control.rank

    def size(self):
        return self._control.size

    def name(self):
        return self._backend

    @property
    def group_name(self):
        return self._name

    def engine(self, device_type):
        """The engine that moves tensors of this device type; PyTorch's error where the backend has none."""
        engine = self._engines.get(device_type)
        if engine is None:
            raise RuntimeError(f"No backend type associated with device type {device_type}")
        return engine

    def deadline(self, timeout=None):
        t = self._timeout if timeout is None else timeout
        return time.monotonic() + (t.total_seconds() if hasattr(t, "total_seconds") else float(t))

    def __repr__(self):
        return f"<ember.distributed.ProcessGroup {self._name!r} ranks={self._ranks} backend={self._backend!r}>"


class _WorldAttr(type):
    @property
    def WORLD(cls):
        return _WORLD.default


class group(metaclass=_WorldAttr):
    """group.WORLD: the default process group (None before init_process_group)."""


class GroupMember(metaclass=_WorldAttr):
    """GroupMember.WORLD (the default group) and NON_GROUP_MEMBER (what new_group returns on other ranks)."""
    NON_GROUP_MEMBER = -100


class _World:
    def __init__(self):
        self.default = None
        self.groups = []  # every live group, the default one first


_WORLD = _World()


def is_available():
    """Whether ember.distributed can run: True when mpi4py is installed (pip install ember[distributed])."""
    return _mpi.available()


def is_mpi_available():
    """Whether the MPI engine is installed (mpi4py)."""
    return _mpi.available()


def is_gloo_available():
    """ember serves 'gloo' with its MPI engine: True when mpi4py is installed."""
    return _mpi.available()


def is_nccl_available():
    """Whether NCCL is reachable (CuPy with cupy.cuda.nccl)."""
    from . import _nccl
    return _nccl.available()


def is_backend_available(backend):
    """Whether a backend name can be used here."""
    name = Backend(backend)
    if name in ("gloo", "mpi"):
        return is_mpi_available()
    if name == "nccl":
        return is_nccl_available()
    return False


def is_torchelastic_launched():
    """Whether this process was started by a torchrun-style launcher (ember.distributed.run sets the same
    TORCHELASTIC_RUN_ID variable)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def is_initialized():
    """Whether init_process_group has run (and destroy_process_group has not)."""
    return _WORLD.default is not None


def _default():
    if _WORLD.default is None:
        raise ValueError(NOT_INITIALIZED)
    return _WORLD.default


def resolve(group):
    """The process group a call names (None: the default); ValueError before init_process_group."""
    world = _default()
    if group is None or group is GroupMember.WORLD:
        return world
    if group == GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, not {type(group).__name__}")
    if group not in _WORLD.groups:
        raise ValueError("Invalid process group specified (it was destroyed)")
    return group


def _parse_backend(backend):
    """{device type: engine kind} for a backend string: 'gloo'/'mpi' (MPI for CPU tensors, and for CUDA tensors
    through host copies, as gloo does), 'nccl' (CUDA tensors only), 'cpu:gloo,cuda:nccl', or None (both)."""
    from . import _nccl
    if backend is None or backend == Backend.UNDEFINED:
        cuda = "nccl" if _nccl.available() else "mpi"
        return {"cpu": "mpi", "cuda": cuda}, ("cpu:gloo,cuda:nccl" if cuda == "nccl" else "gloo")
    if not isinstance(backend, str):
        raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(backend)}")
    kinds = {}
    for part in backend.lower().split(","):
        device, _, name = part.rpartition(":")
        name = name.strip()
        if name not in ("gloo", "mpi", "nccl"):
            raise ValueError(f"Invalid backend: '{name}' (ember serves 'gloo' and 'mpi' with MPI, 'nccl' with NCCL)")
        devices = [device.strip()] if device else (["cuda"] if name == "nccl" else ["cpu", "cuda"])
        for d in devices:
            kinds[d] = "nccl" if name == "nccl" else "mpi"
    name = backend.lower() if "," in backend or ":" in backend else Backend(backend)
    return kinds, name


def _env_int(name):
    value = os.environ.get(name)
    return None if value in (None, "") else int(value)


def _launch_hint(n):
    return (f"start the {n} ranks with `python -m ember.distributed.run --nproc-per-node {n} script.py` or "
            f"`mpiexec -n {n} python script.py` (ember's process groups run on MPI)")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the default process group.

    Differences from PyTorch: the ranks talk through MPI. Processes started by `mpiexec` or
    `python -m ember.distributed.run` take MPI's world (RANK/WORLD_SIZE, where given, are checked against it).
    Processes started any other way (mp.spawn, multiprocessing.Process, torchrun, a shell loop) meet through
    init_method as in PyTorch ('env://' with MASTER_ADDR/MASTER_PORT, 'tcp://host:port', 'file://path'): rank 0
    serves MPI's process-manager protocol on that address and MPI_Init finds the peers through it; a rank
    outside [0, world_size) raises DistError at once (PyTorch times out). `store` is not used. 'gloo' and 'mpi'
    both run on the MPI engine (mpi4py); 'nccl' on NCCL through CuPy."""
    if _WORLD.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if not _mpi.available():
        raise RuntimeError("ember.distributed needs mpi4py: pip install ember[distributed] (mpi4py and mpich)")
    kinds, name = _parse_backend(backend)
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}")
    if not _rendezvous.launched_by_mpi():
        meeting = _rendezvous.plan(init_method, rank, world_size)
        if meeting is not None:
            _mpi.init_through(_rendezvous.join(meeting, timeout.total_seconds()))
    size, mpi_rank = _mpi.launched_size()
    want_size = world_size if world_size != -1 else _env_int("WORLD_SIZE")
    want_rank = rank if rank != -1 else _env_int("RANK")
    if want_size is not None and want_size != size:
        raise ValueError(f"init_process_group: world_size is {want_size} but MPI started {size} process(es): "
                         + _launch_hint(want_size))
    if want_rank is not None and want_rank != mpi_rank:
        raise ValueError(f"init_process_group: rank is {want_rank} but MPI gave this process rank {mpi_rank}: "
                         + _launch_hint(size))
    control = _mpi.world()
    engines = _make_engines(kinds, control, device_id)
    pg = ProcessGroup(range(size), engines, name, timeout, group_name or "0")
    _WORLD.default = pg
    _WORLD.groups = [pg]
    if size > 1:
        _mpi.start_lifeline()
        _abort_on_uncaught_exception(control)


def _make_engines(kinds, control, device_id=None):
    engines = {"control": control}
    for device, kind in kinds.items():
        if kind == "mpi":
            engines[device] = control
        else:
            from . import _nccl
            engines[device] = _nccl.NCCLEngine.create(control, device_id)
    return engines


def _abort_on_uncaught_exception(control):
    """An exception that ends one rank ends the job (MPI_Abort) instead of leaving its peers waiting forever.

    NOTE: without it the failed rank would sit in MPI_Finalize (which waits for every rank) while the others
    wait in a collective for it: the job would hang until the timeout. mpiexec reports the abort with a
    non-zero exit status."""
    previous = sys.excepthook
    if getattr(previous, "_ember_abort", False):
        return

    def hook(kind, value, tb):
        previous(kind, value, tb)
        if _WORLD.default is not None:
            sys.stderr.flush()
            sys.stdout.flush()
            control.abort(1)

    hook._ember_abort = True
    sys.excepthook = hook


def destroy_process_group(group=None):
    """Leave a group (None: every group, and the default one; init_process_group may then run again)."""
    if group is None or group is GroupMember.WORLD:
        pg = _default()
        for g in _WORLD.groups:
            _free(g)
        _WORLD.groups = []
        _WORLD.default = None
        return
    if group == GroupMember.NON_GROUP_MEMBER:
        return
    pg = resolve(group)
    _free(pg)
    _WORLD.groups.remove(pg)


def _free(pg):
    seen = set()
    for engine in pg._engines.values():
        if id(engine) not in seen:
            seen.add(id(engine))
            engine.free()


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A process group of some ranks; every rank of the default group must call it (the others get
    GroupMember.NON_GROUP_MEMBER)."""
    world = _default()
    size = world.size()
    ranks = list(range(size)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError(f"Invalid rank {r} in new_group: the world has {size} ranks")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct, got {ranks}")
    if backend is None:
        kinds = {d: ("mpi" if e is world._control else "nccl") for d, e in world._engines.items() if d != "control"}
        name = world._backend
    else:
        kinds, name = _parse_backend(backend)
    control = world._control.split(ranks)
    if control is None:
        return GroupMember.NON_GROUP_MEMBER
    engines = _make_engines(kinds, control, device_id)
    pg = ProcessGroup(ranks, engines, name, timeout or world._timeout, str(len(_WORLD.groups)))
    _WORLD.groups.append(pg)
    return pg


def get_rank(group=None):
    """This process's rank in a group (-1 where it is not a member)."""
    pg = resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    """The number of ranks in a group (-1 where this process is not a member)."""
    pg = resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None):
    """The backend's name of a group."""
    pg = resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_process_group_ranks(group):
    """The global ranks of a group's members, in group-rank order."""
    pg = resolve(group)
    return list(pg._ranks)


def get_global_rank(group, group_rank):
    """The global rank of `group_rank` in `group`."""
    pg = resolve(group)
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg._ranks[group_rank]


def get_group_rank(group, global_rank):
    """The rank in `group` of the process with global rank `global_rank`."""
    pg = resolve(group)
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


def get_pg_count():
    """How many process groups are live."""
    return len(_WORLD.groups)


def get_node_local_rank(fallback_rank=None):
    """LOCAL_RANK from the environment (set by the launcher), else fallback_rank."""
    value = _env_int("LOCAL_RANK")
    if value is not None:
        return value
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")
