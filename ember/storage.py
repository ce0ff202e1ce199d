"""torch.storage: UntypedStorage, TypedStorage and the legacy typed storages (FloatStorage, LongStorage, ...).

The legacy classes are constructors and isinstance checks, as in PyTorch: FloatStorage(3) and FloatStorage([1, 2])
make a TypedStorage of float32, and a TypedStorage of float32 on the CPU is an instance of FloatStorage."""
from . import _dtype, _storage
from ._storage import TypedStorage, UntypedStorage

__all__ = ["TypedStorage", "UntypedStorage"]


class _LegacyStorageMeta(type):
    def __instancecheck__(cls, instance):
        if type(instance) is TypedStorage:
            return instance.dtype == cls.dtype and instance.device.type == "cpu"
        return type.__instancecheck__(cls, instance)


class _LegacyStorage(TypedStorage, metaclass=_LegacyStorageMeta):
    """The base of FloatStorage, LongStorage, ...: calling one makes a TypedStorage of its dtype."""
    dtype = None

    def __new__(cls, *args, device=None):
        # NOTE: the legacy classes are CPU storages whatever the default device (torch.cuda.FloatStorage is CUDA's)
        from ._creation import tensor, zeros
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}(): expected at most one argument (a size or a sequence), "
                            f"got {len(args)}")
        if not args or isinstance(args[0], int):
            # NOTE: PyTorch leaves a new storage uninitialised; ember's holds zeros
            data = zeros(args[0] if args else 0, dtype=cls.dtype, device=device or "cpu")
        else:
            data = tensor(list(args[0]), dtype=cls.dtype, device=device or "cpu")
        return TypedStorage(data)

    @classmethod
    def _new_shared(cls, size):
        return cls(size).share_memory_()


def _legacy_class(dtype):
    name = dtype._legacy.replace("Tensor", "Storage")
    cls = _LegacyStorageMeta(name, (_LegacyStorage,), {"__module__": "torch", "dtype": dtype,
                                                       "__doc__": f"Legacy storage of {dtype}."})
    # NOTE: Tensor.storage_type() hands out the same class (ember/_storage.py makes its classes on demand)
    _storage._STORAGE_TYPES[dtype] = cls
    return cls


LEGACY_STORAGES = {cls.__name__: cls for cls in (_legacy_class(d) for d in _dtype.ALL if d not in _dtype.LIMITED)}
