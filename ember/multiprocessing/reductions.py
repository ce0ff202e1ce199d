"""torch.multiprocessing.reductions: how tensors cross processes through multiprocessing's pickler (Queue, Pipe,
Pool, the arguments of a spawned Process): a tensor in shared memory travels as a handle to its block and
arrives as a tensor over the same memory; any other tensor travels by value.

NOTE: PyTorch moves a tensor that is not shared into shared memory when it is sent; ember sends a copy, so only
share_memory_() (or Module.share_memory()) makes memory common to the processes. CUDA tensors: PyTorch shares
them through CUDA IPC; ember has none, so a CUDA tensor is sent by value (a copy through host memory) with a
warning that writes to it will not be seen across processes."""
import pickle
import warnings
from multiprocessing import reduction

from .. import _dtype
from .._device import device as _device_cls
from .._storage import UntypedStorage, shared_block
from .._tensor import Tensor, _wrap
from . import _shm


def _strategy():
    from . import get_sharing_strategy
    return get_sharing_strategy()


def _block_handle(block):
    """What identifies `block` to the receiving process: its name (file_system) or a descriptor it receives."""
    if block.name is not None and _strategy() == "file_system":
        return ("name", block.name)
    return ("fd", reduction.DupFd(block.fd))


def _open_block(key, size, handle):
    kind, value = handle
    if kind == "name":
        return _shm.open_name(value, size, key)
    return _shm.open_fd(value.detach(), size, key)


def _geometry(t):
    """(shape, byte strides, byte offset in its block, dtype name) of t's array."""
    backend = t._device.backend
    data = t._data
    low = backend.storage(data)[0]
    return tuple(data.shape), tuple(data.strides), backend.data_ptr(data) - low, str(t._dtype).split(".")[-1]


def _check_leaf(t):
    if t.requires_grad and not t.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
                           "not support crossing process boundaries.  If you just want to transfer the data, call "
                           "detach() on the tensor before serializing (e.g., putting it on the queue).")


def reduce_tensor(t):
    """The ForkingPickler reduction of an ember Tensor (or Parameter, or Buffer)."""
    _check_leaf(t)
    block = shared_block(t)
    if block is None:
        if t._device.type == "cuda":
            warnings.warn("ember cannot share CUDA memory between processes (no CUDA IPC): the CUDA tensor is sent "
                          "as a copy, and in-place writes to it are not seen by the other process.", UserWarning,
                          stacklevel=2)
        return t.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    from ..nn.parameter import Buffer, Parameter
    extra = {}
    if isinstance(t, Parameter):
        extra["parameter"] = True
    elif isinstance(t, Buffer):
        extra["buffer"] = t.persistent
    return (rebuild_shared_tensor,
            (block.key, block.size, _block_handle(block), _geometry(t), t._requires_grad, extra))


def rebuild_shared_tensor(key, size, handle, geometry, requires_grad, extra):
    """The receiving end of reduce_tensor: a tensor over the same shared block."""
    block = _open_block(key, size, handle)
    shape, strides, offset, dtype_name = geometry
    dtype = getattr(_dtype, dtype_name)
    cpu = _device_cls("cpu")
    backend = cpu.backend
    data = backend.strided_view(block.array(backend.xp), shape, strides, offset, dtype.np)
    t = _wrap(data, cpu, dtype)
    if "parameter" in extra:
        from ..nn.parameter import Parameter
        return Parameter(t, requires_grad)
    if "buffer" in extra:
        from ..nn.parameter import Buffer
        t = Buffer(t, persistent=extra["buffer"])
    t._requires_grad = requires_grad
    return t


def reduce_storage(storage):
    """The ForkingPickler reduction of an UntypedStorage: its tensor's whole storage, shared or by value."""
    t = storage._tensor
    block = shared_block(t)
    if block is None:
        return storage.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    return (rebuild_shared_storage, (block.key, block.size, _block_handle(block), _geometry(t)))


def rebuild_shared_storage(key, size, handle, geometry):
    block = _open_block(key, size, handle)
    backend = _device_cls("cpu").backend
    shape, strides, offset, dtype_name = geometry
    data = backend.strided_view(block.array(backend.xp), shape, strides, offset, getattr(_dtype, dtype_name).np)
    return UntypedStorage(_wrap(data, _device_cls("cpu"), getattr(_dtype, dtype_name)))


def init_reductions():
    """Register the reductions with multiprocessing's ForkingPickler (once, at import)."""
    from ..nn.parameter import Buffer, Parameter
    for cls in (Tensor, Parameter, Buffer):
        reduction.ForkingPickler.register(cls, reduce_tensor)
    reduction.ForkingPickler.register(UntypedStorage, reduce_storage)


__all__ = ["init_reductions", "reduce_tensor", "rebuild_shared_tensor", "reduce_storage"]
