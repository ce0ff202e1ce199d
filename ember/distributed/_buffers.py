"""Tensors <-> the contiguous 1-D arrays an engine moves, and the reduction plan per dtype and op.

NOTE: float16 and bfloat16 are reduced in float32 and rounded once when written back (neither MPI nor a
correct multi-rank sum has a 16-bit accumulator): the sum of N ranks is the float32 sum rounded once,
not N-1 roundings. bool reduces as uint8 with the logical op that matches PyTorch's (SUM is OR, PRODUCT
is AND)."""
from .. import _dtype
from .._ops._registry import writable
from .._tensor import Tensor
from ._types import ReduceOp

_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
_BOOL_OPS = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN, ReduceOp.MIN: ReduceOp.MIN,
             ReduceOp.MAX: ReduceOp.MAX, ReduceOp.BAND: ReduceOp.BAND, ReduceOp.BOR: ReduceOp.BOR,
             ReduceOp.BXOR: ReduceOp.BXOR}
_BITWISE = (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)


def check_tensor(t, param):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def check_tensor_list(ts, param):
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{param}` of type List[torch.Tensor]\n"
                        f"             but got {type(ts)} with elements of type "
                        f"{[type(t) for t in ts] if isinstance(ts, (list, tuple)) else type(ts)}.")


class Plan:
    """How one dtype reduces with one op on an engine: the working dtype, the engine's op, AVG's division."""

    __slots__ = ("work", "op", "avg", "view")

    def __init__(self, work, op, avg, view):
        self.work, self.op, self.avg, self.view = work, op, avg, view

    def finish(self, array, size):
        """AVG: divide the sum by the group's size (truncating for integers, as NCCL's integer average)."""
        if not self.avg:
            return
        if array.dtype.kind in "fc":
            array /= size
        elif array.dtype.kind == "u":
            array //= size
        else:
            negative = array < 0
            array[...] = abs(array) // size
            array[negative] *= -1


def reduction_plan(tensor, op, name):
    """The Plan for reducing `tensor` with `op`; PyTorch's errors for op/dtype pairs it refuses."""
    dt = tensor._dtype
    if op == ReduceOp.PREMUL_SUM:
        raise RuntimeError(f"{name}: ReduceOp.PREMUL_SUM is not supported by ember's engines")
    if dt.is_complex and op in (ReduceOp.MIN, ReduceOp.MAX):
        raise ValueError(f"{name} does not support {op} on complex tensors")
    if op in _BITWISE and dt.category >= _dtype.FLOAT:
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    avg = op == ReduceOp.AVG
    if avg and dt is _dtype.bool:
        raise RuntimeError(f"{name}: ReduceOp.AVG is not defined for bool tensors")
    engine_op = ReduceOp.SUM if avg else op
    if dt is _dtype.bool:
        return Plan(None, _BOOL_OPS[engine_op], False, "uint8")
    if dt in (_dtype.float16, _dtype.bfloat16):
        return Plan("float32", engine_op, avg, None)
    return Plan(None, engine_op, avg, None)


class Buffer:
    """One tensor's part in a collective: `array`, a C-contiguous 1-D array the engine reads or writes, and
    store() to put a result back into the tensor's own storage (so views and parameters see it).

    The tensor's memory is used directly where it already has the engine's layout (same device side,
    contiguous, same dtype); otherwise the array is a copy (non-contiguous, widened, or staged through the
    host for an MPI transfer of a CUDA tensor)."""

    __slots__ = ("tensor", "array", "direct", "host")

    def __init__(self, tensor, engine, work=None, view=None, read=True, write=False):
        data = tensor._data
        if write and not writable(data):
            raise RuntimeError(_OVERLAP)
        backend = tensor._device.backend
        self.tensor = tensor
        self.host = engine.on_host and backend.name != "cpu"
        self.direct = not self.host and work is None and data.flags.c_contiguous
        if self.direct:
            array = data.reshape(-1)
        elif self.host:
            array = backend.to_host(data).reshape(-1) if read else None
            if array is None:
                import numpy  # NOTE: a receive buffer on the host for a CUDA tensor that MPI fills
                array = numpy.empty(data.size, dtype=work or data.dtype)
            elif work is not None or not array.flags.c_contiguous:
                array = array.astype(work or array.dtype, order="C")
        elif read:
            array = data.astype(work or data.dtype, order="C", copy=True).reshape(-1)
        else:
            array = backend.xp.empty(data.size, dtype=work or data.dtype)
        self.array = array.view(view) if view is not None else array

    def store(self, result=None):
        """Write `result` (default: the array) into the tensor, cast to its dtype, and bump its version."""
        tensor = self.tensor
        if result is None:
            if not self.direct:
                write(tensor, self.array)
            else:
                tensor._vc[0] += 1
            return
        write(tensor, result)


def write(tensor, flat):
    """tensor's values := flat (a 1-D array with tensor.numel() elements), in its storage; bumps the version."""
    data = tensor._data
    if flat.dtype != data.dtype and flat.dtype.itemsize == data.dtype.itemsize and flat.dtype.kind == "u" \
            and data.dtype.kind == "b":
        flat = flat.view(data.dtype)
    flat = flat.reshape(data.shape)
    backend = tensor._device.backend
    if backend.name != "cpu" and not isinstance(flat, backend.array_type):
        flat = backend.asarray(flat, index=tensor._device.index)
    if not writable(data):
        raise RuntimeError(_OVERLAP)
    data[...] = flat
    tensor._vc[0] += 1


def empty_like_flat(engine, tensor, count, work=None):
    """A contiguous 1-D receive array of `count` elements of tensor's (or the working) dtype, on the engine's
    side (the host for MPI, the tensor's device for NCCL)."""
    dt = work or tensor._data.dtype
    if engine.on_host:
        import numpy
        return numpy.empty(count, dtype=dt)
    return tensor._device.backend.xp.empty(count, dtype=dt)


def concat(engine, tensors, work=None):
    """The tensors' values end to end in one contiguous 1-D array on the engine's side."""
    arrays = [Buffer(t, engine, work).array for t in tensors]
    if not arrays:
        return empty_like_flat(engine, tensors[0], 0, work) if tensors else None
    total = sum(a.size for a in arrays)
    out = empty_like_flat(engine, tensors[0], total, work)
    start = 0
    for a in arrays:
        out[start:start + a.size] = a
        start += a.size
    return out
