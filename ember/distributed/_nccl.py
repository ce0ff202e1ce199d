"""The NCCL engine (CuPy's cupy.cuda.nccl): collectives on contiguous 1-D CUDA arrays, one GPU per rank.

Same methods as the MPI engine (_mpi.py), so the process-group layer does not know which it holds. The
communicator is set up through the group's MPI engine (rank 0's NCCL id is broadcast over MPI) and every
operation is queued on the current CuPy stream; its request is a CUDA event recorded after it."""
from .. import _backends
from ._types import ReduceOp

# NOTE: NCCL's enums (nccl.h), by value: CuPy's module names only some of them (bfloat16 is missing).
_DTYPES = {"int8": 0, "uint8": 1, "int32": 2, "uint32": 3, "int64": 4, "uint64": 5, "float16": 6, "float32": 7,
           "float64": 8, "bfloat16": 9}
_OPS = {ReduceOp.SUM: 0, ReduceOp.PRODUCT: 1, ReduceOp.MAX: 2, ReduceOp.MIN: 3}
_BYTE = 1  # ncclUint8: data movement goes as bytes


def _backend():
    return _backends.get("cuda")


def available():
    """Whether CuPy with NCCL is installed and sees a GPU."""
    backend = _backend()
    return backend.is_available() and backend.nccl() is not None


class _Request:
    __slots__ = ("event", "keep", "nbytes", "peer")

    def __init__(self, event, keep, nbytes=0, peer=-1):
        self.event, self.keep, self.nbytes, self.peer = event, keep, nbytes, peer

    def test(self):
        return self.event.done

    def source(self):
        return self.peer

    def count(self):
        return self.nbytes


def _ptr(array):
    return array.data.ptr


class NCCLEngine:
    """Collectives over one NCCL communicator on this rank's GPU."""

    on_host = False
    name = "nccl"

    def __init__(self, comm, control, index):
        self.comm = comm
        self.control = control
        self.rank, self.size = control.rank, control.size
        self.index = index
        self._xp = _backend().xp
        self._nccl = _backend().nccl()

    @classmethod
    def create(cls, control, device_id=None):
        """The NCCL communicator of the ranks of `control` (an MPI engine), on this rank's GPU: device_id,
        else LOCAL_RANK, else the rank modulo the GPUs."""
        import os
        backend = _backend()
        nccl = backend.nccl()
        if nccl is None or not backend.is_available():
            raise RuntimeError("The 'nccl' backend needs CuPy with NCCL and a GPU (pip install ember[cuda])")
        if device_id is not None:
            index = device_id if isinstance(device_id, int) else (device_id.index or 0)
        else:
            local = os.environ.get("LOCAL_RANK")
            index = int(local) if local not in (None, "") else control.rank % backend.device_count()
        uid = control.objects("bcast", nccl.get_unique_id() if control.rank == 0 else None, 0)
        with backend.activate(index):
            comm = nccl.NcclCommunicator(control.size, uid, control.rank)
        return cls(comm, control, index)

    def _done(self, keep, nbytes=0, peer=-1):
        event = self._xp.cuda.Event(disable_timing=True)
        event.record(self._xp.cuda.get_current_stream())
        return _Request(event, keep, nbytes, peer)

    def _stream(self):
        return self._xp.cuda.get_current_stream().ptr

    @staticmethod
    def _typed(array, op):
        """(array, NCCL dtype, NCCL op) for a reduction; complex sums as pairs of reals."""
        if array.dtype.kind == "c":
            if op != ReduceOp.SUM:
                raise RuntimeError(f"NCCL cannot reduce complex tensors with {op}")
            array = array.view("float32" if array.dtype.itemsize == 8 else "float64")
        name = str(array.dtype)
        if name not in _DTYPES:
            raise RuntimeError(f"NCCL has no reduction for {name} tensors")
        if op not in _OPS:
            raise RuntimeError(f"Cannot use ReduceOp.{op.name} with NCCL")
        return array, _DTYPES[name], _OPS[op]

    # --- reductions ---------------------------------------------------------------------------------------
    def allreduce(self, buf, op):
        arr, dt, nop = self._typed(buf, op)
        self.comm.allReduce(_ptr(arr), _ptr(arr), arr.size, dt, nop, self._stream())
        return self._done(buf)

    def reduce(self, buf, op, root):
        arr, dt, nop = self._typed(buf, op)
        self.comm.reduce(_ptr(arr), _ptr(arr), arr.size, dt, nop, root, self._stream())
        return self._done(buf)

    def reduce_scatter(self, send, recv, op):
        s, dt, nop = self._typed(send, op)
        r, _, _ = self._typed(recv, op)
        self.comm.reduceScatter(_ptr(s), _ptr(r), r.size, dt, nop, self._stream())
        return self._done((send, recv))

    # --- data movement (bytes) ------------------------------------------------------------------------------
    def broadcast(self, buf, root):
        self.comm.bcast(_ptr(buf), buf.nbytes, _BYTE, root, self._stream())
        return self._done(buf)

    def allgather(self, send, recv):
        self.comm.allGather(_ptr(send), _ptr(recv), send.nbytes, _BYTE, self._stream())
        return self._done((send, recv))

    def _exchange(self, sends, recvs):
        """Point-to-point transfers as one NCCL group: sends/recvs are (array, byte offset, bytes, peer)."""
        stream = self._stream()
        self._nccl.groupStart()
        try:
            for array, offset, nbytes, peer in sends:
                if nbytes:
                    self.comm.send(_ptr(array) + offset, nbytes, _BYTE, peer, stream)
            for array, offset, nbytes, peer in recvs:
                if nbytes:
                    self.comm.recv(_ptr(array) + offset, nbytes, _BYTE, peer, stream)
        finally:
            self._nccl.groupEnd()

    def _local_copy(self, dst, dst_offset, src, src_offset, nbytes):
        if nbytes:
            dst.view("uint8")[dst_offset:dst_offset + nbytes] = src.view("uint8")[src_offset:src_offset + nbytes]

    def gather(self, send, recv, root):
        n = send.nbytes
        if self.rank == root:
            self._local_copy(recv, root * n, send, 0, n)
            self._exchange([], [(recv, r * n, n, r) for r in range(self.size) if r != root])
        else:
            self._exchange([(send, 0, n, root)], [])
        return self._done((send, recv))

    def scatter(self, send, recv, root):
        n = recv.nbytes
        if self.rank == root:
            self._local_copy(recv, 0, send, root * n, n)
            self._exchange([(send, r * n, n, r) for r in range(self.size) if r != root], [])
        else:
            self._exchange([], [(recv, 0, n, root)])
        return self._done((send, recv))

    def alltoall(self, send, send_counts, recv, recv_counts):
        item = send.itemsize
        so = _offsets([c * item for c in send_counts])
        ro = _offsets([c * item for c in recv_counts])
        me = self.rank
        self._local_copy(recv, ro[me], send, so[me], send_counts[me] * item)
        self._exchange([(send, so[r], send_counts[r] * item, r) for r in range(self.size) if r != me],
                       [(recv, ro[r], recv_counts[r] * item, r) for r in range(self.size) if r != me])
        return self._done((send, recv))

    def send(self, buf, peer, tag):
        self._exchange([(buf, 0, buf.nbytes, peer)], [])
        return self._done(buf)

    def recv(self, buf, peer, tag):
        if peer is None:
            raise RuntimeError("NCCL cannot receive from any source: pass src")
        self._exchange([], [(buf, 0, buf.nbytes, peer)])
        return self._done(buf, buf.nbytes, peer)

    def barrier(self):
        return self.control.barrier()

    def free(self):
        try:
            self.comm.destroy()
        except Exception:  # NOTE: already torn down at interpreter exit
            pass


def _offsets(counts):
    out, total = [], 0
    for c in counts:
        out.append(total)
        total += c
    return out
