"""Reading torch.save checkpoints: the weights-only unpickler, tensor rebuilds, size-checked zip records."""
import collections
import contextlib
import io
import mmap
import os
import pickle
import struct
import sys
import zipfile
import zlib

import numpy as np

from . import _dtype
from ._device import CPU, device as _device_cls
from ._serialization_safety import check_record, get_default_mmap_options, user_allowed_globals
from ._tensor import Size, Tensor, _wrap

# The legacy typed storage of each dtype, as torch names it in the persistent id. The wider unsigned
# dtypes have none: torch writes them as an UntypedStorage (numel in bytes) and `_rebuild_tensor_v3`.
_STORAGE_NAMES = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
    "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage",
}
_STORAGE_DTYPES = {name: getattr(_dtype, d) for d, name in _STORAGE_NAMES.items()}


# --- reading --------------------------------------------------------------------------------
class _StorageType:
    """A torch storage class named in a checkpoint (torch.FloatStorage, torch.storage.UntypedStorage)."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _LoadedStorage:
    __slots__ = ("array", "location")

    def __init__(self, array, location):
        self.array, self.location = array, location


def _check_view(storage, offset, size, stride):
    if not isinstance(storage, _LoadedStorage) or not isinstance(size, (tuple, list)) \
            or not isinstance(stride, (tuple, list)):
        raise RuntimeError("ember.load: malformed tensor metadata in checkpoint")
    numel = storage.array.size
    if not all(isinstance(v, int) for v in (offset, *size, *stride)) or len(size) != len(stride):
        raise RuntimeError("ember.load: malformed tensor metadata in checkpoint")
    if offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"ember.load: invalid storage offset {offset}, size {tuple(size)} or stride "
                           f"{tuple(stride)}")
    if any(s == 0 for s in size):
        if offset > numel:
            raise RuntimeError(f"ember.load: storage offset {offset} is out of bounds for a storage of "
                               f"{numel} elements")
        return
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= numel:
        raise RuntimeError(f"ember.load: tensor of size {tuple(size)}, stride {tuple(stride)} and storage "
                           f"offset {offset} is out of bounds for a storage of {numel} elements")


def _view(storage, offset, size, stride, dtype):
    if not isinstance(storage, _LoadedStorage):
        raise RuntimeError("ember.load: malformed tensor metadata in checkpoint")
    arr = storage.array
    if dtype is not None and not isinstance(dtype, _dtype.dtype):
        raise RuntimeError("ember.load: malformed tensor dtype in checkpoint")
    if dtype is not None and np.dtype(dtype.np) != arr.dtype:  # v3: untyped (byte) storage
        if arr.nbytes % dtype.itemsize:
            raise RuntimeError("ember.load: storage size is not a multiple of the element size")
        arr = arr.view(dtype.np)
        storage = _LoadedStorage(arr, storage.location)
    _check_view(storage, offset, size, stride)
    item = arr.itemsize
    if any(n == 0 for n in size):
        data = np.empty(tuple(size), dtype=arr.dtype)
    else:
        data = np.ndarray(tuple(size), dtype=arr.dtype, buffer=arr, offset=offset * item,
                          strides=tuple(s * item for s in stride))
    return _wrap(data, CPU, _dtype.from_numpy_dtype(arr.dtype))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    t = _view(storage, storage_offset, size, stride, None)
    t = _place(t, storage.location)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    t = _view(storage, storage_offset, size, stride, dtype)
    t = _place(t, storage.location)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from .nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise RuntimeError("ember.load: a Parameter in the checkpoint wraps a non-tensor")
    return Parameter(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    p = _rebuild_parameter(data, requires_grad, backward_hooks)
    for k, v in (state or {}).items():
        if not isinstance(k, str) or k.startswith("__"):  # NOTE: no __class__/__dict__ swaps from a file
            raise RuntimeError(f"ember.load: refused Parameter attribute {k!r} in checkpoint")
        setattr(p, k, v)
    return p


def _place(t, location):
    if location == "cpu":
        return t
    dev = _device_cls(location)
    if dev.type == "cuda":
        from . import cuda
        if not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
                "If you are running on a CPU-only machine, please use torch.load with "
                "map_location=torch.device('cpu') to map your storages to the CPU.")
    return t.to(dev)


def _encode(s, encoding="latin1"):
    return s.encode(encoding)


def _allowed_globals():
    from . import nn
    allowed = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "Counter"): collections.Counter,
        ("torch.nn.parameter", "Parameter"): nn.Parameter,
        ("torch", "Size"): Size,
        ("torch", "Tensor"): Tensor,
        ("torch", "device"): _device_cls,
        ("_codecs", "encode"): _encode,
        ("builtins", "bytearray"): bytearray,
        ("builtins", "set"): set,
        ("builtins", "frozenset"): frozenset,
        ("builtins", "complex"): complex,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch.storage", "UntypedStorage"): _StorageType("UntypedStorage", _dtype.uint8),
    }
    for name, d in _STORAGE_DTYPES.items():
        allowed[("torch", name)] = _StorageType(name, d)
    for d in _dtype.ALL:
        allowed[("torch", d.name)] = d
    for alias, d in _dtype.ALIASES.items():
        allowed[("torch", alias)] = d
    return allowed


_UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from "
    "`False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but "
    "it can result in arbitrary code execution. Do it only if you got the file from a trusted source.")


def _weights_only_error(message):
    return pickle.UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "
        f"\n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` please check the "
        "recommended steps in the following error message.\n\tWeightsUnpickler error: " + message + "\n\nCheck the "
        "documentation of torch.load to learn more about types accepted by default with weights_only "
        "https://pytorch.org/docs/stable/generated/torch.load.html.")


_BLOCKED_MODULES = ("sys", "os", "posix", "nt")


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, weights_only, map_location, **kwargs):
        super().__init__(file, **kwargs)
        self.archive, self.weights_only, self.map_location = archive, weights_only, map_location
        self.loaded = {}
        self.allowed = _allowed_globals()
        self.user_allowed = user_allowed_globals() if weights_only else {}

    def find_class(self, module, name):
        if self.weights_only and module in _BLOCKED_MODULES:  # NOTE: even add_safe_globals cannot allow these
            raise _weights_only_error(f"Trying to load unsupported GLOBAL {module}.{name} whose module {module} "
                                      f"is blocked.")
        found = self.allowed.get((module, name))
        if found is not None:
            return found
        if module == "__builtin__":  # protocol 2 names Python 2's module
            module = "builtins"
            found = self.allowed.get((module, name))
            if found is not None:
                return found
        if self.weights_only:
            found = self.user_allowed.get(f"{module}.{name}")
            if found is not None:
                return found
            full = name if module == "builtins" else f"{module}.{name}"
            raise _weights_only_error(
                f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
                f"`torch.serialization.add_safe_globals([{name}])` or the `torch.serialization.safe_globals"
                f"([{name}])` context manager to allowlist this global if you trust this class/function.")
        if module == "torch" or module.startswith("torch."):
            # NOTE: full pickles of torch objects (modules, optimizers) map onto ember's same-named ones.
            module = "ember" + module[len("torch"):]
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r}")
        _, storage_type, key, location, numel = pid
        if not isinstance(storage_type, _StorageType) or not isinstance(key, str) \
                or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"ember.load: malformed storage record {pid!r}")
        if key not in self.loaded:
            self.loaded[key] = self._read_storage(key, storage_type.dtype, numel, str(location))
        return self.loaded[key]

    def _read_storage(self, key, dtype, numel, location):
        nbytes = numel * dtype.itemsize
        try:
            info = self.archive.info(key)
        except KeyError:
            raise RuntimeError(f"ember.load: the checkpoint has no record data/{key}") from None
        if info.file_size < nbytes:
            raise RuntimeError(f"ember.load: storage data/{key} holds {info.file_size} bytes but {numel} "
                               f"elements of {dtype} need {nbytes}")
        np_dtype = np.dtype(dtype.np).newbyteorder("<")
        if self.archive.mmap_path is not None and info.compress_type == zipfile.ZIP_STORED:
            arr = self.archive.mapped(info, np_dtype, numel)
        else:
            arr = np.frombuffer(self.archive.read(key, nbytes), dtype=np_dtype)
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.byteswap().view(arr.dtype.newbyteorder("="))
        return _LoadedStorage(arr, _map_location(self.map_location, location))


class _StorageHandle:
    """What a callable map_location receives as `storage`: a CPU storage that can be moved elsewhere."""

    def __init__(self, location="cpu"):
        self.location = location

    @property
    def device(self):
        return _device_cls(self.location)

    def cpu(self):
        return _StorageHandle("cpu")

    def cuda(self, device=None):
        if device is None:
            return _StorageHandle("cuda")
        return _StorageHandle(str(_device_cls(device) if not isinstance(device, int) else f"cuda:{device}"))

    def to(self, device):
        return _StorageHandle(str(_device_cls(device)))


def _map_location(map_location, location):
    if map_location is None:
        return location
    if isinstance(map_location, dict):
        return str(map_location.get(location, location))
    if isinstance(map_location, (str, _device_cls)):
        return str(_device_cls(map_location))
    if callable(map_location):
        # NOTE: as in torch, map_location(storage, location) gets the storage deserialized on the CPU and
        # returns it (moved or not), or None for the default placement at `location`.
        result = map_location(_StorageHandle(), location)
        if result is None:
            return location
        if isinstance(result, _StorageHandle):
            return result.location
        if isinstance(result, (str, _device_cls)):
            return str(_device_cls(result))
        raise TypeError(f"map_location callable returned {type(result).__name__}, expected a storage or None")
    raise ValueError(f"map_location should be a string, torch.device, dict or callable, not "
                     f"{type(map_location).__name__}")


_CORRUPT = ("PytorchStreamReader failed reading zip archive: failed finding central directory. ember.load: "
            "the checkpoint is truncated or corrupt")


class _Archive:
    """The records of a checkpoint zip under its (any-named) top folder; every read is size-checked."""

    def __init__(self, zf, size, mmap_path=None):
        self.zf, self.size, self.mmap_path = zf, size, mmap_path
        pkl = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
        pkl = [n for n in pkl if n.count("/") <= 1]
        if not pkl:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        self.prefix = pkl[0][:-len("data.pkl")]

    def read(self, key, nbytes=-1):
        return self.record("data/" + key, nbytes)

    def info(self, key):
        return self.zf.getinfo(self.prefix + "data/" + key)

    def record(self, name, nbytes=-1):
        """The record's bytes (its first nbytes: a storage never inflates more than it needs)."""
        info = self.zf.getinfo(self.prefix + name)
        check_record(info, self.size)
        try:
            with self.zf.open(info) as r:
                return bytearray(r.read(nbytes))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise RuntimeError(f"ember.load: record {info.filename} of the checkpoint is corrupt ({e})") from None

    def mapped(self, info, np_dtype, numel):
        """A copy-on-write memory map of a stored record (torch's mmap=True: MAP_PRIVATE)."""
        check_record(info, self.size)
        self.zf.fp.seek(info.header_offset)
        local = self.zf.fp.read(30)
        if len(local) != 30 or local[:4] != b"PK\x03\x04":
            raise RuntimeError(f"ember.load: record {info.filename} of the checkpoint is corrupt (bad local header)")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if start + numel * np_dtype.itemsize > self.size:
            raise RuntimeError(f"ember.load: record {info.filename} runs past the end of the checkpoint")
        if numel == 0:
            return np.empty(0, np_dtype)
        shared = get_default_mmap_options() == getattr(mmap, "MAP_SHARED", None)
        return np.memmap(self.mmap_path, dtype=np_dtype, mode="r+" if shared else "c", offset=start,
                         shape=(numel,))


@contextlib.contextmanager
def _open_archive(fh, mmap_path=None):
    """The checkpoint zip in `fh` (seekable), or PyTorch's RuntimeError for a truncated/corrupt one."""
    start = fh.tell()
    end = fh.seek(0, os.SEEK_END)
    fh.seek(start)
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, struct.error):
        raise RuntimeError(_CORRUPT) from None
    with zf:
        yield _Archive(zf, end, mmap_path)


def _is_zip(fh):
    start = fh.tell()
    head = fh.read(4)
    fh.seek(start)
    return head == b"PK\x03\x04", head[:1]


def _seekable(f):
    if isinstance(f, (str, os.PathLike)):
        return open(os.fspath(f), "rb")
    if not f.seekable():
        return contextlib.nullcontext(io.BytesIO(f.read()))
    return contextlib.nullcontext(f)
