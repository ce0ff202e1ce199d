"""torch.UntypedStorage and torch.TypedStorage, as far as programs read them: a tensor's storage is the
memory block its array lives in (the backend's `storage`), so views of one tensor share one storage and
`t.untyped_storage().data_ptr()` is equal for all of them. Read-only: ember never resizes a storage."""
import warnings

from . import _dtype
from ._ops._registry import bind_method
from ._tensor import Tensor

_TYPED_WARNED = []


def _block(t):
    """(low address, nbytes, owner) of the memory t's array lives in."""
    return t._device.backend.storage(t._data)


def same_storage(a, b):
    """Whether tensors a and b live in one storage."""
    return a._device == b._device and _block(a)[2] is _block(b)[2]


def _bytes_of(t):
    """The whole storage of t as a 1-D uint8 array (a view)."""
    low, nbytes, _ = _block(t)
    backend = t._device.backend
    return backend.strided_view(t._data, (nbytes,), (1,), low - backend.data_ptr(t._data), _dtype.uint8.np)


class UntypedStorage:
    """The bytes a tensor's data lives in (made by Tensor.untyped_storage(), or UntypedStorage(n) for n
    zero bytes)."""

    def __init__(self, size=0, *, device=None):
        if isinstance(size, Tensor):  # NOTE: internal: the storage of this tensor
            self._tensor = size
            return
        from ._creation import zeros
        self._tensor = zeros(int(size), dtype=_dtype.uint8, device=device)

    def _array(self):
        return _bytes_of(self._tensor)

    @property
    def device(self):
        return self._tensor._device

    @property
    def is_cuda(self):
        return self._tensor._device.type == "cuda"

    def size(self):
        return _block(self._tensor)[1]

    nbytes = size
    __len__ = size

    def element_size(self):
        return 1

    def data_ptr(self):
        return _block(self._tensor)[0]

    def tolist(self):
        return [int(v) for v in self._tensor._device.backend.to_host(self._array()).tolist()]

    def __getitem__(self, i):
        return self.tolist()[i]

    def type(self):
        return "torch.storage.UntypedStorage"

    def is_shared(self):
        return _is_shared_block(self._tensor)

    def share_memory_(self):
        _share(self._tensor)
        return self

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[torch.storage.UntypedStorage(device={self.device}) of size {self.size()}]"


class TypedStorage:
    """Deprecated in PyTorch (it warns once): a storage read as elements of the tensor's dtype."""

    def __init__(self, tensor):
        self._tensor = tensor
        self.dtype = tensor._dtype

    @property
    def device(self):
        return self._tensor._device

    @property
    def is_cuda(self):
        return self._tensor._device.type == "cuda"

    def untyped(self):
        return UntypedStorage(self._tensor)

    _untyped_storage = property(untyped)

    def size(self):
        return _block(self._tensor)[1] // self.dtype.itemsize

    __len__ = size

    def nbytes(self):
        return _block(self._tensor)[1]

    def element_size(self):
        return self.dtype.itemsize

    def data_ptr(self):
        return _block(self._tensor)[0]

    def tolist(self):
        raw = _bytes_of(self._tensor)
        n = self.size() * self.dtype.itemsize
        return self._tensor._device.backend.to_host(raw[:n].view(self.dtype.np)).tolist()

    def __getitem__(self, i):
        return self.tolist()[i]

    def type(self):
        return "torch." + self.dtype._legacy.replace("Tensor", "Storage")

    def is_shared(self):
        return _is_shared_block(self._tensor)

    def share_memory_(self):
        _share(self._tensor)
        return self

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of size {self.size()}]"


_STORAGE_TYPES = {}


def storage_type_of(dtype):
    """The legacy storage class of a dtype (torch.FloatStorage for float32), made once."""
    cls = _STORAGE_TYPES.get(dtype)
    if cls is None:
        name = dtype._legacy.replace("Tensor", "Storage")
        cls = _STORAGE_TYPES[dtype] = type(name, (TypedStorage,), {"__module__": "torch", "dtype": dtype})
    return cls


def _storage(self):
    """Deprecated in PyTorch: self's storage as a TypedStorage (warns once, as PyTorch)."""
    if not _TYPED_WARNED:
        _TYPED_WARNED.append(True)
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the "
                      "only storage class. This should only matter to you if you are using storages directly.  To "
                      "access UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()",
                      UserWarning, stacklevel=2)
    return TypedStorage(self)


bind_method("storage", _storage)
bind_method("untyped_storage", lambda self: UntypedStorage(self))
bind_method("storage_type", lambda self: storage_type_of(self._dtype))


# --- shared memory -------------------------------------------------------------------------------------------
# NOTE: share_memory_ moves a CPU storage into a block of shared memory (ember/multiprocessing/_shm.py) and
# rebinds the tensor's array (and its view base's) to the same geometry there, so forked children write the
# parent's memory and ember.multiprocessing's pickler sends the block, not the values. PyTorch moves the storage
# itself, so every tensor viewing it follows; ember's arrays cannot be found from their storage, so other views
# of the old storage (apart from the tensor's own view base) keep the old, private memory. CUDA memory counts as
# shared, as PyTorch's does (ember has no CUDA IPC: see ember/multiprocessing/reductions.py).
def shared_block(t):
    """The shared-memory block (ember.multiprocessing._shm.Block) t's CPU storage lives in, or None."""
    if t._device.type != "cpu":
        return None
    from .multiprocessing import _shm
    return _shm.block_of(getattr(_block(t)[2], "base", None))


def _is_shared_block(t):
    if t._device.type == "cuda":
        return True
    return shared_block(t) is not None


def _share(t):
    if t._device.type != "cpu" or shared_block(t) is not None:
        return
    from .multiprocessing import _shm, get_sharing_strategy
    backend = t._device.backend
    low, nbytes, owner = _block(t)
    block = _shm.create(nbytes, get_sharing_strategy())
    raw = block.array(backend.xp)
    raw[:nbytes] = _bytes_of(t)
    # NOTE: the tensor and the chain of view bases it was made from all live in the old storage: rebind each.
    x = t
    while x is not None:
        if _block(x)[2] is owner:
            data = x._data
            x._data = backend.strided_view(raw, data.shape, data.strides, backend.data_ptr(data) - low, data.dtype,
                                           writeable=data.flags.writeable)
        x = x._base


def _share_memory_(self):
    """Move self's storage into shared memory (a no-op if it is there already, or on CUDA) and return self."""
    _share(self)
    return self


bind_method("share_memory_", _share_memory_)
bind_method("is_shared", lambda self: _is_shared_block(self))
