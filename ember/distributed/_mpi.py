"""The MPI engine (mpi4py): collectives on contiguous 1-D host arrays over one communicator.

Every method posts a non-blocking MPI operation and returns a request (test(), source()); the process-group
layer decides how to wait (with a deadline) and what to do with the result. Data movement goes as bytes, so
every dtype travels unchanged; reductions get typed arrays the MPI library knows (the layer above widens
float16/bfloat16 and maps bool before calling)."""
import importlib.util
import os

import numpy as np

from ._types import ReduceOp


def available():
    """Whether mpi4py is installed (without initialising MPI, which importing mpi4py.MPI does)."""
    return importlib.util.find_spec("mpi4py") is not None


def _mpi():
    from mpi4py import MPI  # NOTE: imported on first use: importing it initialises MPI
    return MPI


def init_through(env):
    """Initialise MPI with the given PMI variables set (ember's rendezvous: ranks not started by mpiexec).

    NOTE: MPICH reads them once, in MPI_Init; they are removed again so that processes this rank starts
    later (DataLoader workers, subprocesses) do not take themselves for ranks of this job."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        _mpi()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def world():
    """A private duplicate of MPI_COMM_WORLD (so a program's own MPI traffic cannot match ember's)."""
    return MPIEngine(_mpi().COMM_WORLD.Dup())


def launched_size():
    """The size and rank of MPI_COMM_WORLD."""
    comm = _mpi().COMM_WORLD
    return comm.Get_size(), comm.Get_rank()


class _Request:
    __slots__ = ("req", "keep", "status")

    def __init__(self, req, keep, status=None):
        self.req, self.keep, self.status = req, keep, status

    def test(self):
        return self.req.Test(self.status) if self.status is not None else self.req.Test()

    def source(self):
        return self.status.Get_source() if self.status is not None else -1

    def count(self):
        """Bytes received (a receive's request)."""
        return self.status.Get_count(_mpi().BYTE)


def _bytes(array):
    return array.view(np.uint8)


class MPIEngine:
    """Collectives over one MPI communicator on host arrays (1-D, C-contiguous)."""

    on_host = True
    name = "mpi"

    def __init__(self, comm):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        MPI = _mpi()
        self._ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                     ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}
        self._in_place = MPI.IN_PLACE
        self._byte = MPI.BYTE

    # --- reductions (typed) ---------------------------------------------------------------------------
    def allreduce(self, buf, op):
        return _Request(self.comm.Iallreduce(self._in_place, buf, self._ops[op]), buf)

    def reduce(self, buf, op, root):
        if self.rank == root:
            return _Request(self.comm.Ireduce(self._in_place, buf, self._ops[op], root), buf)
        return _Request(self.comm.Ireduce(buf, None, self._ops[op], root), buf)

    def reduce_scatter(self, send, recv, op):
        return _Request(self.comm.Ireduce_scatter_block(send, recv, self._ops[op]), (send, recv))

    # --- data movement (bytes) -------------------------------------------------------------------------
    def broadcast(self, buf, root):
        return _Request(self.comm.Ibcast(_bytes(buf), root), buf)

    def allgather(self, send, recv):
        return _Request(self.comm.Iallgather(_bytes(send), _bytes(recv)), (send, recv))

    def gather(self, send, recv, root):
        return _Request(self.comm.Igather(_bytes(send), None if recv is None else _bytes(recv), root), (send, recv))

    def scatter(self, send, recv, root):
        return _Request(self.comm.Iscatter(None if send is None else _bytes(send), _bytes(recv), root), (send, recv))

    def alltoall(self, send, send_counts, recv, recv_counts):
        """Counts in elements of the arrays' dtype; blocks laid out in rank order."""
        item = send.itemsize
        sc = [c * item for c in send_counts]
        rc = [c * item for c in recv_counts]
        req = self.comm.Ialltoallv([_bytes(send), (sc, _offsets(sc)), self._byte],
                                   [_bytes(recv), (rc, _offsets(rc)), self._byte])
        return _Request(req, (send, recv))

    def send(self, buf, peer, tag):
        return _Request(self.comm.Isend(_bytes(buf), peer, tag), buf)

    def recv(self, buf, peer, tag):
        MPI = _mpi()
        source = MPI.ANY_SOURCE if peer is None else peer
        return _Request(self.comm.Irecv(_bytes(buf), source, tag), buf, MPI.Status())

    def barrier(self):
        return _Request(self.comm.Ibarrier(), None)

    # --- small blocking helpers -------------------------------------------------------------------------
    def agree(self, values):
        """Post the element-wise max of [values, -values] (int64) over the ranks: one small allreduce.
        Returns (request, array); once done, array[:n] is the max and -array[n:] the min."""
        both = np.concatenate([values, -values]).astype(np.int64)
        return _Request(self.comm.Iallreduce(self._in_place, both, _mpi().MAX), both), both

    def objects(self, kind, obj=None, root=0):
        """Python objects through mpi4py's pickling collectives: 'bcast', 'allgather', 'gather', 'scatter'."""
        comm = self.comm
        if kind == "bcast":
            return comm.bcast(obj, root)
        if kind == "allgather":
            return comm.allgather(obj)
        if kind == "gather":
            return comm.gather(obj, root)
        return comm.scatter(obj, root)

    _OBJECT_TAG = 0x5EB

    def send_object(self, obj, peer):
        self.comm.send(obj, dest=peer, tag=self._OBJECT_TAG)

    def recv_object(self, peer):
        """(object, source rank) from `peer` (None: any rank)."""
        MPI = _mpi()
        status = MPI.Status()
        obj = self.comm.recv(source=MPI.ANY_SOURCE if peer is None else peer, tag=self._OBJECT_TAG, status=status)
        return obj, status.Get_source()

    def exchange_counts(self, counts):
        """Post counts[i] to rank i: (request, array of what each rank sent here) (one small all-to-all)."""
        send = np.asarray(counts, dtype=np.int64)
        recv = np.empty_like(send)
        return _Request(self.comm.Ialltoall(send, recv), send), recv

    def split(self, ranks):
        """The engine over `ranks` (this engine's ranks, in that order), None where this rank is not in it."""
        MPI = _mpi()
        member = self.rank in ranks
        sub = self.comm.Split(0 if member else MPI.UNDEFINED, ranks.index(self.rank) if member else 0)
        return MPIEngine(sub) if member else None

    def free(self):
        try:
            self.comm.Free()
        except Exception:  # NOTE: MPI may already be finalized at interpreter exit
            pass

    def abort(self, code=1):
        _mpi().COMM_WORLD.Abort(code)


def _offsets(counts):
    out, total = [], 0
    for c in counts:
        out.append(total)
        total += c
    return out


# --- the lifeline: a rank that exits tells the others ------------------------------------------------------
# NOTE: MPI_Finalize waits for every rank, so a rank that exits (sys.exit, end of script) while a peer waits
# in a collective for it would leave both waiting: the peer until its timeout. At exit each rank sends a
# notice on a private communicator and waits for the others' (a barrier that cannot hang anyone who is still
# working); a rank waiting in a collective polls for notices from its group's ranks and raises instead of
# waiting for a rank that is gone. Created once per process (it outlives destroy_process_group).
_LIFELINE = {"comm": None, "left": set()}
_LEAVING = 0x1EF7


def start_lifeline():
    if _LIFELINE["comm"] is None:
        import atexit
        _LIFELINE["comm"] = _mpi().COMM_WORLD.Dup()
        atexit.register(_leave)


def departed():
    """The world ranks that have exited (their notices drained so far)."""
    comm = _LIFELINE["comm"]
    if comm is None:
        return _LIFELINE["left"]
    MPI = _mpi()
    status = MPI.Status()
    while comm.Iprobe(MPI.ANY_SOURCE, _LEAVING, status):
        comm.Recv(bytearray(1), status.Get_source(), _LEAVING)
        _LIFELINE["left"].add(status.Get_source())
    return _LIFELINE["left"]


def _leave():
    comm = _LIFELINE["comm"]
    if comm is None:
        return
    _LIFELINE["comm"] = None
    me, size = comm.Get_rank(), comm.Get_size()
    sends = [comm.Isend(bytearray(1), r, _LEAVING) for r in range(size) if r != me]
    done = comm.Ibarrier()
    while not done.Test():
        pass
    left = _LIFELINE["left"]
    # NOTE: drain the others' notices so that no message is left unmatched. Each from its own rank: with
    # MPICH's UCX netmod (ranks on different machines) a blocking ANY_SOURCE receive of a message that has
    # already arrived never completes (MPICH 5.0.2), and every rank would hang at exit.
    for r in range(size):
        if r != me and r not in left:
            comm.Recv(bytearray(1), r, _LEAVING)
            left.add(r)
    _mpi().Request.Waitall(sends)
    comm.Free()
