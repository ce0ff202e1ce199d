"""torch.save / torch.load in PyTorch's own zip format (the files real torch writes and reads).

A checkpoint is a zip whose entries sit under one top folder: `data.pkl` (the object, pickled with a
persistent id for each tensor storage), `data/<key>` (each storage's raw little-endian bytes, aligned
to 64 bytes), `version`, `byteorder`, `.format_version`, `.storage_alignment`, `.data/serialization_id`.
Saving to a path is atomic: a temporary file beside it, fsynced, then renamed over it.
Loading is safe by default: `weights_only=True` allows only the globals PyTorch's weights-only loader
allows (plus add_safe_globals; os/sys never), every record's declared size is checked against the file
before it is read, and every storage's size, offset and stride are bounds-checked before a view is built.
`weights_only=False` trusts the file (its pickle can run any code). Reading lives in
_serialization_read.py, the legacy (non-zip) format in _serialization_legacy.py, the allowlist API and
archive checks in _serialization_safety.py. mmap=True maps stored records (copy-on-write by default).
"""
import collections
import contextlib
import io
import os
import pickle
import struct
import sys
import types
import zlib

import numpy as np

from . import _dtype
from ._device import device as _device_cls
from ._serialization_legacy import legacy_load
from ._serialization_read import (_STORAGE_NAMES, _Unpickler, _allowed_globals, _is_zip,
                                  _open_archive, _seekable, _weights_only_error)
from ._serialization_safety import (add_safe_globals, clear_safe_globals, get_default_mmap_options,
                                    get_safe_globals, globals_in_pickle, safe_globals, set_default_mmap_options,
                                    user_allowed_globals)
from ._tensor import Size, Tensor, _is_param

__all__ = ["save", "load", "add_safe_globals", "safe_globals", "get_safe_globals", "clear_safe_globals",
           "get_unsafe_globals_in_checkpoint", "get_default_mmap_options", "set_default_mmap_options"]

DEFAULT_PROTOCOL = 2
_ALIGNMENT = 64
_RECORD_VERSION = b"3\n"



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

    def _write_global(self, module, name):
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + module.encode("utf-8") + b"\n" + name.encode("utf-8") + b"\n")

    def _save_global_name(self, obj):
        self._write_global(obj.module, obj.name)
        self.memoize(obj)

    def save_global(self, obj, name=None):
        """Classes and functions by name; ember's own under torch's names (ember.nn.modules.rnn.LSTM is written
        torch.nn.modules.rnn.LSTM), so real torch loads a whole pickled model ember saved."""
        module = getattr(obj, "__module__", None)
        if isinstance(module, str) and module.partition(".")[0] == "ember":
            self._write_global("torch" + module[len("ember"):], name or obj.__qualname__)
            self.memoize(obj)
            return
        super().save_global(obj, name)

    dispatch[types.FunctionType] = save_global  # NOTE: the base table holds the base class's save_global

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
        data = t._device.backend.to_host(t._data)
        location = str(t._device)
        root = _root_array(data)
        shared = _view_into(data, root)
        if shared is not None and data is t._data:  # NOTE: a device tensor's host copy shares nothing
            ref = self.storages.get(id(root))
            if ref is None:
                ref = self.storages[id(root)] = self._new_ref(root.reshape(-1), t._dtype, location)
            if ref.dtype is t._dtype:
                return (ref, *shared)
        # NOTE: a tensor whose storage cannot be shared as is (an empty tensor, a GPU array, a root of
        # another dtype, negative strides) is written as its own contiguous storage.
        own = np.array(data, order="C", copy=None)  # NOTE: not ascontiguousarray, which makes a 0-d array 1-d
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


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by torch.save or ember.save; `weights_only=True` (the default) refuses any global
    outside PyTorch's weights-only allowlist (plus add_safe_globals); `weights_only=False` trusts the file:
    its pickle may run arbitrary code, so use it only on files from a trusted source."""
    weights_only = _weights_only_mode(weights_only, pickle_module)
    is_path = isinstance(f, (str, os.PathLike))
    if mmap and not is_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    if map_location is not None and not isinstance(map_location, (str, dict, _device_cls)) \
            and not callable(map_location):
        raise ValueError(f"map_location should be a string, torch.device, dict or callable, not "
                         f"{type(map_location).__name__}")
    pickle_load_args.setdefault("encoding", "utf-8")
    with _seekable(f) as fh:
        is_zip, head = _is_zip(fh)
        if not is_zip:
            if mmap:
                name = "" if not isinstance(f, str) else f"{f}, "
                raise RuntimeError("mmap can only be used with files saved with "
                                   f"`torch.save({name}_use_new_zipfile_serialization=True), please torch.save "
                                   "your checkpoint with this option in order to use mmap.")
            if not head:
                raise EOFError("Ran out of input")
            return _unpickle(lambda: legacy_load(fh, map_location, weights_only, pickle_load_args), weights_only)
        with _open_archive(fh, os.fspath(f) if mmap else None) as archive:
            unpickler = _Unpickler(io.BytesIO(archive.record("data.pkl")), archive, weights_only, map_location,
                                   **pickle_load_args)
            return _unpickle(unpickler.load, weights_only)


def _weights_only_mode(weights_only, pickle_module):
    """torch.load's rule: weights_only unless a pickle_module is given; the TORCH_FORCE_* variables override."""
    truthy = ("1", "y", "yes", "true")
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in truthy
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in truthy
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` "
                           "should be set, but both were set.")
    if force:
        weights_only = True
    elif weights_only is None:
        weights_only = not force_no and pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    return bool(weights_only)


def _unpickle(run, weights_only):
    try:
        return run()
    except pickle.UnpicklingError:
        raise
    except (RuntimeError, TypeError, ValueError, AttributeError, KeyError, IndexError, EOFError) as e:
        if weights_only and not isinstance(e, RuntimeError):
            raise _weights_only_error(str(e)) from e
        raise
