"""Reading torch.save(_use_new_zipfile_serialization=False) files: PyTorch's legacy pickle stream.

The stream is five pickles and raw bytes: the magic number, the protocol version (1001), a sys-info dict,
the object (storages as persistent ids ("storage", type, key, location, numel, view)), the list of storage
keys, then for each key an int64 element count and that many elements. The object pickle is first skipped
without running it (pickletools), the storages read (bounded by the file's size), then the object
unpickled with the same weights-only rules as the zip format.
"""
import pickle
import pickletools
import struct

import numpy as np

from ._serialization_read import _LoadedStorage, _map_location, _StorageType, _Unpickler

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001


class _LegacyUnpickler(_Unpickler):
    def __init__(self, file, storages, weights_only, map_location, **kwargs):
        super().__init__(file, None, weights_only, map_location, **kwargs)
        self.storages, self.views = storages, {}

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) != 6 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"ember.load: unsupported persistent id {pid!r}")
        _, storage_type, key, location, numel, view = pid
        if not isinstance(storage_type, _StorageType) or key not in self.storages:
            raise pickle.UnpicklingError(f"ember.load: malformed storage record {pid!r}")
        arr = self.storages[key]
        if arr.dtype != np.dtype(storage_type.dtype.np).newbyteorder("<") or arr.size < numel:
            raise RuntimeError(f"ember.load: storage {key} does not match its record {pid!r}")
        loc = _map_location(self.map_location, str(location))
        if view is None:
            return _LoadedStorage(arr, loc)
        view_key, offset, size = view
        if not all(isinstance(v, int) for v in (offset, size)) or offset < 0 or size < 0 or offset + size > arr.size:
            raise RuntimeError(f"ember.load: storage view {view!r} is out of bounds")
        if view_key not in self.views:
            self.views[view_key] = _LoadedStorage(arr[offset:offset + size], loc)
        return self.views[view_key]


def _read_pickle(fh, weights_only, kwargs):
    return _Unpickler(fh, None, weights_only, None, **kwargs).load()


def legacy_load(fh, map_location, weights_only, pickle_load_args):
    """The object in a legacy-format torch.save stream (fh seekable, at its start)."""
    start = fh.tell()
    size = fh.seek(0, 2) - start
    fh.seek(start)
    try:
        magic = _read_pickle(fh, weights_only, pickle_load_args)
    except Exception:  # noqa: BLE001 - not a pickle at all
        fh.seek(start)
        head = fh.read(1)
        raise pickle.UnpicklingError(f"invalid load key, {head.decode('latin1')!r}.") from None
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = _read_pickle(fh, weights_only, pickle_load_args)
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    info = _read_pickle(fh, weights_only, pickle_load_args)
    little = not isinstance(info, dict) or info.get("little_endian", True)
    obj_at = fh.tell()
    try:  # NOTE: the object pickle is skipped statically (nothing runs), its storages' dtypes noted
        dtypes = _storage_dtypes(fh)
    except ValueError as e:
        raise pickle.UnpicklingError(f"ember.load: malformed pickle in checkpoint: {e}") from None
    keys = _read_pickle(fh, weights_only, pickle_load_args)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise RuntimeError("ember.load: malformed storage key list in legacy checkpoint")
    storages = {}
    for key in keys:
        head = fh.read(8)
        if len(head) != 8:
            raise RuntimeError(f"ember.load: legacy checkpoint truncated before storage {key}")
        numel = struct.unpack("<q" if little else ">q", head)[0]
        if numel < 0 or numel > size:
            raise RuntimeError(f"ember.load: storage {key} claims {numel} elements in a {size}-byte file")
        if key not in dtypes:
            raise RuntimeError(f"ember.load: storage {key} is not named by the checkpoint's object")
        dt = np.dtype(dtypes[key].np).newbyteorder("<" if little else ">")
        nbytes = numel * dt.itemsize
        if fh.tell() + nbytes > start + size:
            raise RuntimeError(f"ember.load: storage {key} runs past the end of the legacy checkpoint")
        arr = np.frombuffer(bytearray(fh.read(nbytes)), dtype=dt)
        if not little:
            arr = arr.byteswap().view(arr.dtype.newbyteorder("<"))
        storages[key] = arr
    end = fh.tell()
    fh.seek(obj_at)
    result = _LegacyUnpickler(fh, storages, weights_only, map_location, **pickle_load_args).load()
    fh.seek(end)
    return result


_STRING_OPS = ("BINUNICODE", "SHORT_BINUNICODE", "UNICODE", "BINSTRING", "SHORT_BINSTRING", "STRING",
               "BINUNICODE8")


def _storage_dtypes(fh):
    """{storage key: dtype} read statically from the object pickle's persistent-id tuples."""
    from ._serialization_read import _allowed_globals
    allowed = _allowed_globals()
    found, stack, memo = {}, [], {}
    for op, arg, _ in pickletools.genops(fh):
        if op.name in ("GLOBAL", "INST"):
            module, _, name = arg.partition(" ")
            stack.append(allowed.get((module, name)))
        elif op.name in _STRING_OPS:
            stack.append(arg)
        elif op.name in ("BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"):
            if stack:
                memo[len(memo) if op.name == "MEMOIZE" else arg] = stack[-1]
            continue
        elif op.name in ("BINGET", "LONG_BINGET", "GET"):
            stack.append(memo.get(arg))
        else:
            stack.append(op.name)
        if len(stack) >= 3 and isinstance(stack[-2], _StorageType) and stack[-3] == "storage" \
                and isinstance(stack[-1], str):
            found.setdefault(stack[-1], stack[-2].dtype)
        del stack[:-3]
    return found
