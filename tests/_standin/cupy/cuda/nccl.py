"""cupy.cuda.nccl for the stand-in: a communicator of ONE rank (what a single process can model).

Each collective of one rank copies its send buffer into its receive buffer (through the addresses NCCL is
given, as the real library does); point-to-point calls need a peer and raise. Enough to run ember's NCCL
engine end to end on the CPU; multi-rank NCCL is tested only on machines with GPUs."""
import ctypes

available = True
NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_UINT32, NCCL_INT64, NCCL_UINT64 = 0, 1, 2, 3, 4, 5
NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = 6, 7, 8
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4
_SIZES = {0: 1, 1: 1, 2: 4, 3: 4, 4: 8, 5: 8, 6: 2, 7: 4, 8: 8, 9: 2}
calls = []  # NOTE: (method, count, datatype) of every call, for the tests to see what the engine asked for


class NcclError(RuntimeError):
    pass


def get_unique_id():
    return tuple(range(128))


def groupStart():
    calls.append(("groupStart",))


def groupEnd():
    calls.append(("groupEnd",))


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):
        if ndev != 1 or rank != 0:
            raise NcclError("the stand-in's NCCL has one rank only")
        if len(commId) != 128:
            raise NcclError("invalid unique id")

    def _copy(self, name, send, recv, count, datatype):
        calls.append((name, count, datatype))
        if send != recv:
            ctypes.memmove(recv, send, count * _SIZES[datatype])

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        self._copy("allReduce", sendbuf, recvbuf, count, datatype)

    def reduce(self, sendbuf, recvbuf, count, datatype, op, root, stream):
        self._copy("reduce", sendbuf, recvbuf, count, datatype)

    def bcast(self, buff, count, datatype, root, stream):
        calls.append(("bcast", count, datatype))

    def allGather(self, sendbuf, recvbuf, count, datatype, stream):
        self._copy("allGather", sendbuf, recvbuf, count, datatype)

    def reduceScatter(self, sendbuf, recvbuf, recvcount, datatype, op, stream):
        self._copy("reduceScatter", sendbuf, recvbuf, recvcount, datatype)

    def send(self, sendbuf, count, datatype, peer, stream):
        raise NcclError("the stand-in's NCCL has no peer to send to")

    def recv(self, recvbuf, count, datatype, peer, stream):
        raise NcclError("the stand-in's NCCL has no peer to receive from")

    def destroy(self):
        calls.append(("destroy",))
