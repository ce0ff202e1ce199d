"""torch.save / torch.load in PyTorch's own zip format (the files real torch writes and reads).

A checkpoint is a zip whose entries sit under one top folder: `data.pkl` (the object, pickled with a
persistent id for each tensor storage), `data/<key>` (each storage's raw little-endian bytes, aligned
to 64 bytes), `version`, `byteorder`, `.format_version`, `.storage_alignment`, `.data/serialization_id`.
Saving to a path is atomic: a temporary file beside it, fsynced, then renamed over it.
Loading is safe by default: `weights_only=True` allows only the globals PyTorch's weights-only loader
allows, and every storage's size, offset and stride are bounds-checked before a view is built.
"""
import collections
import contextlib
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import numpy as np

from . import _dtype
from ._device import CPU, device as _device_cls
from ._serialization_safety import (add_safe_globals, check_record, clear_safe_globals, get_safe_globals,
                                    globals_in_pickle, safe_globals, user_allowed_globals)
from ._tensor import Size, Tensor, _is_param, _wrap

__all__ = ["save", "load", "add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals",
           "get_unsafe_globals_in_checkpoint"]

DEFAULT_PROTOCOL = 2
_ALIGNMENT = 64
_RECORD_VERSION = b"3\n"

# The legacy typed storage of each dtype, as torch names it in the persistent id. The wider unsigned
# dtypes have none: torch writes them as an UntypedStorage (numel in bytes) and `_rebuild_tensor_v3`.
_STORAGE_NAMES = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
    "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
    "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage",
}
_STORAGE_DTYPES = {name: getattr(_dtype, d) for d, name in _STORAGE_NAMES.items()}


# --- names written into the pickle ------------------------------------------------------------
class _Global:
    """A placeholder for a torch global (`torch._utils._rebuild_tensor_v2`): pickled by name only,
    so ember writes torch's names without importing torch."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires a reduce's function to be callable
        raise TypeError(f"{self.module}.{self.name} is a placeholder for pickling")


_REBUILD_V2 = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_V3 = _Global("torch._utils", "_rebuild_tensor_v3")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_TORCH_SIZE = _Global("torch", "Size")
_TORCH_DEVICE = _Global("torch", "device")
_UNTYPED_STORAGE = _Global("torch.storage", "UntypedStorage")
_STORAGE_GLOBALS = {d: _Global("torch", name) for d, name in _STORAGE_NAMES.items()}
_DTYPE_GLOBALS = {d.name: _Global("torch", d.name) for d in _dtype.ALL}


class _StorageRef:
    """One storage to write: its key in the archive and the array holding its elements."""

    __slots__ = ("key", "array", "dtype", "location")

    def __init__(self, key, array, dtype, location):
        self.key, self.array, self.dtype, self.location = key, array, dtype, location


class _TorchPickler(pickle._Pickler):
    # NOTE: the pure-Python pickler, because the C one verifies every global by importing it and
    # ember must write torch's names (torch._utils._rebuild_tensor_v2, torch.FloatStorage) without torch.
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = {}  # id(root array) -> _StorageRef; the roots are kept alive by the refs
        self.order = []

    def _save_global_name(self, obj):
        if self.proto >= 4:
            self.save(obj.module)
            self.save(obj.name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + obj.module.encode("utf-8") + b"\n" + obj.name.encode("utf-8") + b"\n")
        self.memoize(obj)

    dispatch[_Global] = _save_global_name

    def _save_dtype(self, obj):
        self.save(_DTYPE_GLOBALS[obj.name])

    dispatch[_dtype.dtype] = _save_dtype

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if isinstance(obj, Size):
            return (_TORCH_SIZE, (tuple(obj),))
        if isinstance(obj, _device_cls):
            return (_TORCH_DEVICE, (str(obj),))
        return NotImplemented

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRef):
            if obj.dtype.name in _STORAGE_GLOBALS:
                return ("storage", _STORAGE_GLOBALS[obj.dtype.name], obj.key, obj.location,
                        int(obj.array.size))
            return ("storage", _UNTYPED_STORAGE, obj.key, obj.location, int(obj.array.nbytes))
        return None

    def _reduce_tensor(self, t):
        hooks = collections.OrderedDict()
        if _is_param(t):
            return (_REBUILD_PARAMETER, (t.detach(), t._requires_grad, hooks))
        ref, offset, strides = self._storage_of(t)
        args = (ref, offset, tuple(t.shape), strides, t.requires_grad, hooks)
        if t._dtype.name in _STORAGE_GLOBALS:
            return (_REBUILD_V2, args)
        return (_REBUILD_V3, args + (t._dtype,))

    def _storage_of(self, t):
        """The storage a tensor views, with its element offset and strides into it."""
        data = t._data if t._device.type == "cpu" else t._data.get()
        location = "cpu" if t._device.type == "cpu" else f"cuda:{t._device.index or 0}"
        root = _root_array(data)
        shared = _view_into(data, root)
        if shared is not None and t._device.type == "cpu":
            ref = self.storages.get(id(root))
            if ref is None:
                ref = self.storages[id(root)] = self._new_ref(root.reshape(-1), t._dtype, location)
            if ref.dtype is t._dtype:
                return (ref, *shared)
        # NOTE: a tensor whose storage cannot be shared as is (an empty tensor, a GPU array, a root of
        # another dtype, negative strides) is written as its own contiguous storage.
        own = np.ascontiguousarray(data)
        ref = self._new_ref(own.reshape(-1), t._dtype, location)
        return ref, 0, tuple(t.stride()) if own.size == 0 else _contiguous_strides(own.shape)

    def _new_ref(self, array, dtype, location):
        ref = _StorageRef(str(len(self.order)), array, dtype, location)
        self.order.append(ref)
        return ref


def _root_array(data):
    """The array owning `data`'s memory (through as_strided's DummyArray wrappers too)."""
    root = data
    while True:
        nxt = root.base
        if isinstance(nxt, np.ndarray):
            root = nxt
        elif nxt is not None and isinstance(getattr(nxt, "base", None), np.ndarray):
            root = nxt.base
        else:
            return root


def _contiguous_strides(shape):
    strides, acc = [], 1
    for size in reversed(shape):
        strides.append(acc)
        acc *= max(size, 1)
    return tuple(reversed(strides))


def _view_into(data, root):
    """(element offset, element strides) of `data` inside the C-contiguous `root`, or None."""
    if root.dtype != data.dtype or not root.flags.c_contiguous or data.size == 0:
        return None
    item = data.itemsize
    start = data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    if start % item or any(s % item or s < 0 for s in data.strides):
        return None
    return start // item, tuple(s // item for s in data.strides)


# --- writing the zip --------------------------------------------------------------------------
class _ZipWriter:
    """A stored (uncompressed) zip with every record's data aligned to 64 bytes, as torch writes."""

    def __init__(self, out):
        self.out, self.pos, self.entries = out, 0, []

    def write_record(self, name, payload):
        payload = bytes(payload)
        name_b = name.encode("utf-8")
        crc = zlib.crc32(payload) & 0xFFFFFFFF
        if len(payload) >= 0xFFFFFFFF or self.pos >= 0xFFFFFFFF:
            raise RuntimeError("ember.save: checkpoints over 4 GiB (zip64) are not supported")
        pad = -(self.pos + 30 + len(name_b) + 4) % _ALIGNMENT
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, 0, 0, 0x21, crc, len(payload),
                             len(payload), len(name_b), len(extra))
        self.entries.append((name_b, crc, len(payload), self.pos))
        self._emit(header + name_b + extra)
        self._emit(payload)

    def finish(self):
        start = self.pos
        for name_b, crc, size, offset in self.entries:
            self._emit(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x0800, 0, 0, 0x21, crc, size,
                                   size, len(name_b), 0, 0, 0, 0, 0, offset) + name_b)
        n = len(self.entries)
        self._emit(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, self.pos - start, start, 0))

    def _emit(self, b):
        self.out.write(b)
        self.pos += len(b)


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        return os.path.splitext(os.path.basename(os.fspath(f)))[0]
    return "archive"


def _serialization_id():
    return str(int.from_bytes(os.urandom(16), "little")).rjust(40, "0")[:40]


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save `obj` to a path or binary file in PyTorch's zip format (real torch.load reads it)."""
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save: the legacy (non-zip) format is not supported")
    buf = io.BytesIO()
    pickler = _TorchPickler(buf, pickle_protocol)
    pickler.dump(obj)
    prefix = _archive_name(f) + "/"
    if isinstance(f, (str, os.PathLike)):
        with _atomic_file(os.fspath(f)) as out:
            _write_archive(out, prefix, buf.getvalue(), pickler.order, _disable_byteorder_record)
    else:
        _write_archive(f, prefix, buf.getvalue(), pickler.order, _disable_byteorder_record)


@contextlib.contextmanager
def _atomic_file(path):
    """A binary file that replaces `path` only once it is completely written and on disk.

    NOTE: the archive goes to a temporary file beside `path` (same file system), which is flushed,
    fsynced and renamed over `path` (an atomic replace); the folder is fsynced so the rename itself
    survives a crash. A process killed mid-save leaves the previous checkpoint intact (and at most a
    stray `.<name>.<random>.tmp`); an error removes the temporary file and leaves `path` as it was."""
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # NOTE: not every platform lets a folder be opened and fsynced
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _write_archive(out, prefix, pickled, storages, no_byteorder):
    z = _ZipWriter(out)
    z.write_record(prefix + "data.pkl", pickled)
    z.write_record(prefix + ".format_version", b"1")
    z.write_record(prefix + ".storage_alignment", str(_ALIGNMENT).encode())
    if not no_byteorder:
        z.write_record(prefix + "byteorder", b"little")
    for ref in storages:
        arr = ref.array
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.byteswap()
        z.write_record(prefix + "data/" + ref.key, arr.tobytes())
    z.write_record(prefix + "version", _RECORD_VERSION)
    z.write_record(prefix + ".data/serialization_id", _serialization_id().encode())
    z.finish()


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
    arr = storage.array
    if not isinstance(storage, _LoadedStorage):
        raise RuntimeError("ember.load: malformed tensor metadata in checkpoint")
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
        raw = self.archive.read(key)
        arr = np.frombuffer(bytearray(raw[:nbytes]), dtype=np.dtype(dtype.np).newbyteorder("<"))
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.byteswap().view(arr.dtype.newbyteorder("="))
        return _LoadedStorage(arr, _map_location(self.map_location, location))


def _map_location(map_location, location):
    if map_location is None:
        return location
    if isinstance(map_location, dict):
        return str(map_location.get(location, location))
    if isinstance(map_location, (str, _device_cls)):
        return str(_device_cls(map_location))
    if callable(map_location):
        # NOTE: torch calls map_location(storage, location); ember passes None for the storage and
        # accepts a returned location string or device (returning the storage itself keeps it).
        result = map_location(None, location)
        return location if result is None else str(result)
    raise ValueError(f"map_location should be a string, torch.device, dict or callable, not "
                     f"{type(map_location).__name__}")


_CORRUPT = ("PytorchStreamReader failed reading zip archive: failed finding central directory. ember.load: "
            "the checkpoint is truncated or corrupt")


class _Archive:
    """The records of a checkpoint zip under its (any-named) top folder; every read is size-checked."""

    def __init__(self, zf, size):
        self.zf, self.size = zf, size
        pkl = [n for n in zf.namelist() if n == "data.pkl" or n.endswith("/data.pkl")]
        pkl = [n for n in pkl if n.count("/") <= 1]
        if not pkl:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        self.prefix = pkl[0][:-len("data.pkl")]

    def read(self, key):
        return self.record("data/" + key)

    def info(self, key):
        return self.zf.getinfo(self.prefix + "data/" + key)

    def record(self, name):
        info = self.zf.getinfo(self.prefix + name)
        check_record(info, self.size)
        try:
            return self.zf.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise RuntimeError(f"ember.load: record {info.filename} of the checkpoint is corrupt ({e})") from None


@contextlib.contextmanager
def _open_archive(fh):
    """The checkpoint zip in `fh` (seekable), or PyTorch's RuntimeError for a truncated/corrupt one."""
    start = fh.tell()
    fh.seek(0, os.SEEK_END)
    size = fh.seek(0, os.SEEK_END) - start
    fh.seek(start)
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, struct.error):
        raise RuntimeError(_CORRUPT) from None
    with zf:
        yield _Archive(zf, size + start)


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


def get_unsafe_globals_in_checkpoint(f):
    """The "module.name" globals a checkpoint's pickle names that weights_only loading would refuse
    (read statically: nothing in the file runs)."""
    with _seekable(f) as fh:
        if not _is_zip(fh)[0]:
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        with _open_archive(fh) as archive:
            found = globals_in_pickle(archive.record("data.pkl"))
    safe = {f"{m}.{n}" for m, n in _allowed_globals()} | set(user_allowed_globals())
    return list(found - safe)


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved by torch.save or ember.save; `weights_only=True` (the default) refuses any global
    outside PyTorch's weights-only allowlist (plus add_safe_globals); `weights_only=False` trusts the file:
    its pickle may run arbitrary code, so use it only on files from a trusted source."""
    if weights_only is None:
        weights_only = True
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as fh:
            return _load_from(fh, map_location, weights_only, pickle_load_args)
    return _load_from(f, map_location, weights_only, pickle_load_args)


def _load_from(fh, map_location, weights_only, pickle_load_args):
    if not fh.seekable():
        fh = io.BytesIO(fh.read())
    is_zip, head = _is_zip(fh)
    if not is_zip:
        raise pickle.UnpicklingError(f"invalid load key, {head.decode('latin1')!r}." if head else
                                     "ember.load: the legacy (non-zip) torch.save format is not supported")
    with _open_archive(fh) as archive:
        pickle_load_args.setdefault("encoding", "utf-8")
        unpickler = _Unpickler(io.BytesIO(archive.record("data.pkl")), archive, weights_only, map_location,
                               **pickle_load_args)
        try:
            return unpickler.load()
        except pickle.UnpicklingError:
            raise
        except (RuntimeError, TypeError, ValueError, AttributeError, KeyError, IndexError, EOFError) as e:
            if weights_only and not isinstance(e, RuntimeError):
                raise _weights_only_error(str(e)) from e
            raise
