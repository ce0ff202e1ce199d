"""torch.distributed's small public types: ReduceOp, Backend, the error classes and the default timeout."""
import datetime
import enum

default_pg_timeout = datetime.timedelta(minutes=30)


class DistError(RuntimeError):
    """Base class for errors raised by torch.distributed."""


class DistBackendError(DistError):
    """An error in a communication engine (a timed-out or failed collective)."""


class DistNetworkError(DistError):
    """A network error."""


class DistStoreError(DistError):
    """An error in a key-value store."""


class _RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"

    def __str__(self):
        return f"RedOpType.{self.name}"


_RedOpType.__name__ = _RedOpType.__qualname__ = "RedOpType"


class ReduceOp:
    """How a reduction combines the ranks' values: ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR.

    PREMUL_SUM (NCCL's scaled sum) is named but refused by every collective here."""

    RedOpType = _RedOpType
    SUM, AVG, PRODUCT, MIN, MAX = _RedOpType.SUM, _RedOpType.AVG, _RedOpType.PRODUCT, _RedOpType.MIN, _RedOpType.MAX
    BAND, BOR, BXOR, PREMUL_SUM = _RedOpType.BAND, _RedOpType.BOR, _RedOpType.BXOR, _RedOpType.PREMUL_SUM

    def __init__(self, op):
        self.op = _RedOpType(int(op))

    def __eq__(self, other):
        if isinstance(other, ReduceOp):
            return self.op == other.op
        return isinstance(other, _RedOpType) and self.op == other

    def __hash__(self):
        return hash(self.op)

    def __repr__(self):
        return f"<ReduceOp.{self.op.name}>"


def red_op_type(op, name):
    """The RedOpType of `op` (a RedOpType or a ReduceOp); TypeError for anything else, as PyTorch's binding."""
    if isinstance(op, ReduceOp):
        return op.op
    if isinstance(op, _RedOpType):
        return op
    raise TypeError(f"{name}(): incompatible function arguments: op must be a torch.distributed.ReduceOp, "
                    f"not {type(op).__name__}")


class Backend(str):
    """A backend's name as a lower-case str: Backend('GLOO') == 'gloo'. ember runs 'gloo' and 'mpi' on MPI
    (mpi4py) and 'nccl' on NCCL through CuPy."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    backend_list = ["undefined", "gloo", "nccl", "xccl", "ucc", "mpi"]
    default_device_backend_map = {"cpu": "gloo", "cuda": "nccl"}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return str.__new__(cls, value)
