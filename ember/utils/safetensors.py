"""safetensors.torch's API for ember tensors: save/load, save_file/load_file and safe_open.

NOTE: the format is written and read here (8-byte little-endian header length, a JSON header padded
with spaces to 8 bytes, then the raw little-endian bytes of each tensor), so ember's runtime does not
need the `safetensors` package; that package is only the tests' oracle. Files are read without mmap.
"""
import json
import math
import os
import struct
import sys

import numpy as np

from .. import _dtype
from .._device import CPU, device as _device_cls
from .._tensor import Tensor, _wrap

__all__ = ["SafetensorError", "save", "save_file", "load", "load_file", "safe_open", "save_model", "load_model"]

# NOTE: safetensors refuses headers over 100 MB: a corrupt length must not make us allocate gigabytes.
MAX_HEADER_SIZE = 100_000_000

# The format's dtype codes that ember stores, both ways.
_CODE = {_dtype.float64: "F64", _dtype.float32: "F32", _dtype.float16: "F16", _dtype.bfloat16: "BF16",
         _dtype.int64: "I64", _dtype.int32: "I32", _dtype.int16: "I16", _dtype.int8: "I8",
         _dtype.uint8: "U8", _dtype.bool: "BOOL", _dtype.complex64: "C64",
         _dtype.uint16: "U16", _dtype.uint32: "U32", _dtype.uint64: "U64"}
_DTYPE = {code: d for d, code in _CODE.items()}
# Width in bits of every code the format knows, ember's or not (F4/F6/F8 have no ember dtype).
_BITS = {code: d.itemsize * 8 for code, d in _DTYPE.items()}
_BITS.update({"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
              "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8})
_FRAMEWORKS = {"pt": "pt", "torch": "pt", "pytorch": "pt", "np": "np", "numpy": "np"}


class SafetensorError(Exception):
    """safetensors' error for malformed files, missing tensors and bad arguments."""


# --- writing ---------------------------------------------------------------------------------

def _byte_span(t):
    """[low, high) addresses of the bytes tensor `t` touches on its device."""
    arr = t._data
    low = high = t.device.backend.data_ptr(arr)
    for size, stride in zip(arr.shape, arr.strides):
        reach = (size - 1) * stride
        low, high = (low + reach, high) if reach < 0 else (low, high + reach)
    return low, high + arr.itemsize


def _find_shared(tensors):
    """Groups (sets of names) of tensors whose memory overlaps, as safetensors.torch finds them."""
    areas = sorted((str(t.device), *_byte_span(t), name) for name, t in tensors.items() if t.numel())
    groups, last_device, last_stop = [], None, None
    for device, start, stop, name in areas:
        if device == last_device and start < last_stop:
            groups[-1].add(name)
            last_stop = max(last_stop, stop)
        else:
            groups.append({name})
            last_device, last_stop = device, stop
    return [g for g in groups if len(g) > 1]


def _check_for_save(tensors):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, torch.Tensor] but received {type(tensors)}")
    for k, v in tensors.items():
        if not isinstance(v, Tensor):
            raise ValueError(f"Key `{k}` is invalid, expected torch.Tensor but received {type(v)}")
    failing = _find_shared(tensors)
    if failing:
        raise RuntimeError(
            f"""
            Some tensors share memory, this will lead to duplicate memory on disk and potential differences when loading them again: {failing}.
            A potential way to correctly save your model is to use `save_model`.
            More information at https://huggingface.co/docs/safetensors/torch_shared_tensors
            """)
    for k, v in tensors.items():
        if not v.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{k}` which is not allowed. It either means you"
                " are trying to save tensors which are reference of each other in which case it's recommended to "
                "save only the full tensors, and reslice at load time, or simply call `.contiguous()` on your "
                "tensor to pack it before saving.")
        if v.dtype not in _CODE:
            raise KeyError(v.dtype)  # NOTE: what safetensors.torch raises for e.g. complex128
        if not isinstance(k, str):
            raise TypeError(f"argument 'tensor_dict': '{type(k).__name__}' object is not an instance of 'str'")


def _check_metadata(metadata):
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise TypeError(f"argument 'metadata': '{type(metadata).__name__}' object is not an instance of 'dict'")
    for k, v in metadata.items():
        for item in (k, v):
            if not isinstance(item, str):
                raise TypeError(f"argument 'metadata': '{type(item).__name__}' object is not an instance of 'str'")


def _serialize(tensors, metadata):
    """(header bytes with its length prefix, [raw tensor bytes]) in safetensors' layout."""
    _check_for_save(tensors)
    _check_metadata(metadata)
    # NOTE: safetensors orders tensors by alignment (widest dtype first), then by name; so do we, so
    # that the same dict gives byte-identical files.
    names = sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n))
    header = {"__metadata__": metadata} if metadata is not None else {}
    blobs, offset = [], 0
    for name in names:
        t = tensors[name]
        raw = t.detach().cpu()._data
        if sys.byteorder == "big":
            raw = raw.byteswap()
        # NOTE: a byte view, not tobytes(): save_file writes the tensor's memory without a copy.
        blob = memoryview(raw.reshape(-1).view(np.uint8))
        header[name] = {"dtype": _CODE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, blobs


def save(tensors, metadata=None):
    """The safetensors file of `tensors` (a dict of contiguous tensors that share no memory), as bytes."""
    head, blobs = _serialize(tensors, metadata)
    return b"".join([head, *blobs])


def save_file(tensors, filename, metadata=None):
    """Write `tensors` (a dict of contiguous tensors that share no memory) to `filename` in safetensors format."""
    head, blobs = _serialize(tensors, metadata)
    with open(filename, "wb") as f:
        f.write(head)
        for blob in blobs:
            f.write(blob)


def _is_complete(t):
    """Whether `t` covers the whole of its storage (so keeping it loses nothing of a shared group)."""
    backend = t.device.backend
    low, nbytes, _ = backend.storage(t._data)
    return backend.data_ptr(t._data) == low and t.numel() * t.dtype.itemsize == nbytes


def _remove_duplicate_names(state_dict, *, preferred_names=None, discard_names=None):
    """{kept name: [names to drop]} for each group of tensors sharing memory, as safetensors.torch picks."""
    preferred_names, discard_names = set(preferred_names or ()), set(discard_names or ())
    to_remove = {}
    for shared in _find_shared(state_dict):
        complete = {name for name in shared if _is_complete(state_dict[name])}
        if not complete:
            raise RuntimeError(
                "Error while trying to find names to remove to save state dict, but found no suitable name to keep"
                f" for saving amongst: {shared}. None is covering the entire storage.Refusing to save/load the model"
                " since you could be storing much more memory than needed. Please refer to"
                " https://huggingface.co/docs/safetensors/torch_shared_tensors for more information. Or open an"
                " issue.")
        keep = min(complete - discard_names or complete)
        keep = min(preferred_names & complete or {keep})
        to_remove[keep] = [name for name in sorted(shared) if name != keep]
    return to_remove


def save_model(model, filename, metadata=None, force_contiguous=True):
    """Save `model`'s state_dict to `filename`, each group of shared tensors (tied weights) stored once.

    Each dropped name is recorded in the metadata as `{dropped: kept}` (user entries win)."""
    state_dict = model.state_dict()
    for kept, dropped in _remove_duplicate_names(state_dict).items():
        for name in dropped:
            metadata = {} if metadata is None else metadata
            metadata.setdefault(name, kept)
            del state_dict[name]
    if force_contiguous:
        state_dict = {k: v.contiguous() for k, v in state_dict.items()}
    try:
        save_file(state_dict, filename, metadata=metadata)
    except ValueError as e:
        raise ValueError(f"{e} Or use save_model(..., force_contiguous=True), read the docs for potential "
                         "caveats.") from None


def load_model(model, filename, strict=True, device="cpu", *, backend="mmap"):
    """Load a file written by save_model into `model`; returns (missing, unexpected) names.

    Names dropped from a shared group are neither missing nor unexpected: loading the kept one fills them."""
    state_dict = load_file(filename, device=device, backend=backend)
    to_remove = _remove_duplicate_names(model.state_dict(), preferred_names=state_dict.keys())
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    missing, unexpected = set(missing), list(unexpected)
    for dropped in to_remove.values():
        for name in dropped:
            if name in missing:
                missing.remove(name)
            else:
                unexpected.append(name)
    if strict and (missing or unexpected):
        error = f"Error(s) in loading state_dict for {model.__class__.__name__}:"
        if missing:
            error += "\n    Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(missing))
        if unexpected:
            error += "\n    Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in sorted(unexpected))
        raise RuntimeError(error)
    return missing, unexpected


# --- reading ---------------------------------------------------------------------------------

def _error(message):
    return SafetensorError(f"Error while deserializing: {message}")


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _error("invalid JSON in header: duplicate key")
    return dict(pairs)


def _is_index(x):
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _parse_entry(name, info):
    if not isinstance(info, dict):
        raise _error(f"invalid JSON in header: tensor `{name}` is not an object")
    for field in ("dtype", "shape", "data_offsets"):
        if field not in info:
            raise _error(f"invalid JSON in header: missing field `{field}` for tensor `{name}`")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code not in _BITS:
        raise _error(f"invalid JSON in header: unknown dtype `{code}` for tensor `{name}`")
    if not isinstance(shape, list) or not all(_is_index(s) for s in shape):
        raise _error(f"invalid JSON in header: invalid shape {shape!r} for tensor `{name}`")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_index(o) for o in offsets)):
        raise _error(f"invalid JSON in header: invalid data_offsets {offsets!r} for tensor `{name}`")
    return code, tuple(shape), tuple(offsets)


def _parse_header(head, data_size):
    """(entries {name: (code, shape, (begin, end))}, metadata) of a header; refuses malformed ones.

    `head` is the bytes after the 8-byte length, `data_size` the number of bytes after the header."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _error(f"invalid UTF-8 in header: {e}") from None
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as e:
        raise _error(f"invalid JSON in header: {e}") from None
    if not isinstance(raw, dict):
        raise _error("invalid JSON in header: the header is not an object")
    metadata = raw.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict)
                                     and all(isinstance(v, str) for v in metadata.values())):
        raise _error("invalid JSON in header: __metadata__ must map strings to strings")
    entries = {name: _parse_entry(name, info) for name, info in raw.items()}
    # NOTE: the data section must be tiled exactly: sorted by start, each tensor begins where the last
    # ended (no overlap, no gap) and the last ends at the end of the file.
    end = 0
    for name, (code, shape, (begin, stop)) in sorted(entries.items(), key=lambda kv: kv[1][2]):
        if begin != end or stop < begin:
            raise _error(f"invalid offset for tensor `{name}`")
        bits = math.prod(shape) * _BITS[code]
        if bits % 8 or bits // 8 != stop - begin:
            raise _error("invalid shape, data type, or offset for tensor")
        end = stop
    if end != data_size:
        raise _error("incomplete metadata, file not fully covered")
    return entries, metadata


def _read_header(prefix, total_size):
    """The header length from the 8-byte `prefix` of a file of `total_size` bytes, checked."""
    if total_size < 8:
        raise _error("header too small")
    (n,) = struct.unpack("<Q", prefix)
    if n > MAX_HEADER_SIZE:
        raise _error("header too large")
    if 8 + n > total_size:
        raise _error("invalid header length")
    return n


def _to_array(name, code, shape, blob):
    """A writable native-order NumPy array over `blob` (a bytearray)."""
    d = _DTYPE.get(code)
    if d is None:
        raise SafetensorError(f"ember has no dtype for {code} (tensor `{name}`)")
    if d is _dtype.bool:
        # NOTE: any nonzero byte is True, as torch reads it; NumPy would keep the raw byte.
        return np.frombuffer(blob, dtype=np.uint8).reshape(shape) != 0
    arr = np.frombuffer(blob, dtype=d.np.newbyteorder("<")).reshape(shape)
    return arr.astype(d.np) if sys.byteorder == "big" else arr


def _to_tensor(arr, device):
    t = _wrap(arr, CPU, _dtype.from_numpy_dtype(arr.dtype))
    return t if device.type == "cpu" else t.to(device)


def _parse_device(device):
    if isinstance(device, int) and not isinstance(device, bool):
        device = f"cuda:{device}"
    try:
        return _device_cls(device)
    except (RuntimeError, ValueError, TypeError):
        raise SafetensorError(f"device {device} is invalid") from None


def load(data):
    """The dict of tensors (on the CPU) in `data`, the bytes of a safetensors file."""
    data = memoryview(data).cast("B")
    n = _read_header(data[:8], len(data))
    entries, _ = _parse_header(bytes(data[8:8 + n]), len(data) - 8 - n)
    view = memoryview(bytearray(data[8 + n:]))  # NOTE: one writable copy; each tensor views its own range
    return {name: _to_tensor(_to_array(name, code, shape, view[begin:end]), CPU)
            for name, (code, shape, (begin, end)) in entries.items()}


def load_file(filename, device="cpu", *, backend="mmap"):
    """The dict of tensors stored in the safetensors file `filename`, placed on `device`.

    `backend` is checked as safetensors checks it; either way the file is read without mmap."""
    with safe_open(filename, framework="pt", device=device, backend=backend) as f:
        return f.get_tensors()


class _Slice:
    """A tensor of an open file to index before reading (safetensors' PySafeSlice)."""

    def __init__(self, handle, name):
        self._handle, self._name = handle, name

    def get_shape(self):
        return list(self._handle._entry(self._name)[1])

    def get_dtype(self):
        return self._handle._entry(self._name)[0]

    def __getitem__(self, index):
        code, shape, _ = self._handle._entry(self._name)
        index = index if isinstance(index, tuple) else (index,)
        rows = _leading_rows(index[0], shape[0]) if shape and index else None
        if rows is None:
            # NOTE: the whole tensor is read, then indexed; the result owns its memory.
            whole = self._handle.get_tensor(self._name)
            return whole[index].copy() if self._handle._framework == "np" else whole[index].clone()
        # NOTE: a range of rows is read alone: sharding a large weight must not read all of it.
        start, stop, rest = rows
        part = self._handle._read(self._name, start, stop)
        return part[(slice(None), *index[1:])] if rest is None else part[(rest, *index[1:])]


def _leading_rows(first, size):
    """(start, stop, index into the rows read) when `first` picks a contiguous range of rows, else None."""
    if isinstance(first, slice) and first.step in (None, 1):
        start, stop, _ = first.indices(size)
        return start, max(start, stop), None
    if isinstance(first, int) and not isinstance(first, bool) and -size <= first < size:
        first %= size
        return first, first + 1, 0
    return None


class safe_open:
    """An open safetensors file: keys(), metadata(), get_tensor(name), get_slice(name); a context manager."""

    def __init__(self, filename, framework, device="cpu", backend="mmap"):
        if backend not in ("mmap", "pread"):
            raise SafetensorError(f'backend "{backend}" is invalid (expected one of: "mmap", "pread")')
        if framework not in _FRAMEWORKS:
            raise SafetensorError(f"framework {framework} is invalid")
        self._framework = _FRAMEWORKS[framework]
        self._device = _parse_device(device)
        filename = os.fspath(filename)
        try:
            self._file = open(filename, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(f"No such file or directory: {filename}") from None
        try:
            size = os.fstat(self._file.fileno()).st_size
            n = _read_header(self._file.read(8), size)
            self._entries, self._metadata = _parse_header(self._file.read(n), size - 8 - n)
            self._data_start = 8 + n
        except BaseException:
            self._file.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()

    def _open_file(self):
        if self._file.closed:
            raise SafetensorError("File is closed")
        return self._file

    def _entry(self, name):
        self._open_file()
        if name not in self._entries:
            raise SafetensorError(f"File does not contain tensor {name}")
        return self._entries[name]

    def keys(self):
        """The tensors' names, sorted."""
        self._open_file()
        return sorted(self._entries)

    def offset_keys(self):
        """The tensors' names in the order their bytes lie in the file."""
        self._open_file()
        return sorted(self._entries, key=lambda k: self._entries[k][2])

    def metadata(self):
        """The header's `__metadata__` dict of strings, or None."""
        self._open_file()
        return self._metadata

    def get_tensor(self, name):
        """The tensor `name`, read from the file."""
        shape = self._entry(name)[1]
        return self._read(name, 0, shape[0]) if shape else self._read(name, 0, None)

    def _read(self, name, start, stop):
        """Rows [start, stop) of tensor `name` (the whole 0-d tensor when stop is None), read from the file."""
        code, shape, (begin, end) = self._entry(name)
        if stop is None:
            first, last, shape = begin, end, ()
        else:
            row = math.prod(shape[1:]) * _BITS[code] // 8
            first, last, shape = begin + start * row, begin + stop * row, (stop - start, *shape[1:])
        f = self._open_file()
        f.seek(self._data_start + first)
        blob = bytearray(last - first)
        if f.readinto(blob) != len(blob):
            raise _error("incomplete metadata, file not fully covered")  # the file shrank since it was opened
        arr = _to_array(name, code, shape, blob)
        return arr if self._framework == "np" else _to_tensor(arr, self._device)

    def get_tensors(self):
        """Every tensor of the file, as a dict in file order."""
        return {name: self.get_tensor(name) for name in self.offset_keys()}

    def get_slice(self, name):
        """A lazy handle on tensor `name`: get_shape(), get_dtype(), and indexing reads it."""
        self._entry(name)
        return _Slice(self, name)
