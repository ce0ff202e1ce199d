"""The strides PyTorch gives views and new results, for NumPy/CuPy arrays (which lay out size-1
and empty dims, and fancy-indexing results, their own way), and the one door to views with explicit
geometry: the backend's `strided_view`, which never copies and refuses to reach outside the storage
(NumPy's as_strided checks nothing: a bad view reads or corrupts foreign memory).
"""
from .. import _backends

_INT64_MAX = 2 ** 63 - 1
_UINT64 = 2 ** 64


backend_of = _backends.of_array


def _fmt(values):
    return f"[{', '.join(str(v) for v in values)}]"


def storage_nbytes(size, stride, itemsize, offset):
    """The bytes a storage needs to hold a view (0 when it is empty), computed as PyTorch does
    (computeStorageNbytes: unsigned 64-bit arithmetic, so negative sizes and strides overflow)."""
    need, overflow = offset + 1, False
    for s, st in zip(size, stride):
        if s == 0:
            return 0
        span = (st % _UINT64) * ((s - 1) % _UINT64)
        need += span
        overflow |= span >= _UINT64 or need >= _UINT64
    need *= itemsize
    if overflow or need > _INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={_fmt(size)} and strides={_fmt(stride)}")
    return need


def check_numel(size):
    """PyTorch's refusal of a shape whose element count overflows int64."""
    n = 1
    for s in size:
        n *= s
        if n > _INT64_MAX or n < -_INT64_MAX:
            raise RuntimeError("numel: integer multiplication overflow")
    return n


def storage_view(arr, size, stride, offset, dtype=None, writeable=None):
    """arr's storage seen with `size`, `stride` and storage `offset` (in elements of `dtype`): a view, or
    PyTorch's RuntimeError when the offset is negative or the view does not fit in the storage."""
    backend = backend_of(arr)
    itemsize = arr.itemsize if dtype is None else dtype.itemsize
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    need = storage_nbytes(size, stride, itemsize, offset)
    lo, nbytes, _ = backend.storage(arr)
    if need > nbytes:
        raise RuntimeError(f"setStorage: sizes {_fmt(size)}, strides {_fmt(stride)}, storage offset {offset}, and "
                           f"itemsize {itemsize} requiring a storage size of {need} are out of bounds for storage "
                           f"of size {nbytes}")
    check_numel(size)
    for s in size:
        if s < 0:  # NOTE: PyTorch builds such a tensor when a zero size comes first; NumPy cannot
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {_fmt(size)}")
    if overlaps(size, stride):
        writeable = False  # NOTE: PyTorch refuses writes where elements share memory (its internal-overlap check)
    start = lo + offset * itemsize - backend.data_ptr(arr)
    return backend.strided_view(arr, tuple(size), tuple(st * itemsize for st in stride), start, dtype,
                                writeable=writeable)


def storage_offset(arr):
    """arr's offset in its storage, in elements."""
    backend = backend_of(arr)
    return (backend.data_ptr(arr) - backend.storage(arr)[0]) // arr.itemsize


def overlaps(shape, strides):
    """PyTorch's internal-overlap test: a non-empty view with a stride-0 dim of size > 1 (expand).

    NOTE: an empty view whose strides are all 0 also counts: NumPy gives every new empty array zero
    strides, and Tensor.stride() reads a read-only one's zeros as PyTorch's own (an expanded view's)."""
    if 0 not in strides:
        return False
    if 0 in shape:
        return not any(strides)
    return any(st == 0 and s > 1 for s, st in zip(shape, strides))


def writable_alias(arr, force=False):
    """`arr`, writeable where PyTorch lets a write through: NumPy marks every view of an expanded array
    read-only, but PyTorch refuses only a write whose own elements overlap (t.expand(4, 3)[0] = 1 writes
    all rows). `force` (index_put_ on an expanded tensor, which PyTorch allows with a warning) writes
    even then. Arrays without a read-only flag (CuPy) and writeable ones come back as they are."""
    if getattr(arr.flags, "writeable", True) or not (force or not overlaps(arr.shape, arr.strides)):
        return arr
    return backend_of(arr).strided_view(arr, arr.shape, arr.strides, writeable=True)


def restride(xp, arr, shape, strides, writeable=None):
    """`arr`'s memory seen with `shape` and byte `strides` from its first element (no copy). The view is
    read-only (on NumPy) when its elements overlap, as PyTorch refuses writes into it, and writeable
    otherwise if its storage is. RuntimeError (PyTorch's) if the view leaves the storage."""
    if writeable is None:
        # NOTE: zero strides copied from a new empty NumPy array are NumPy's, not an expand's
        writeable = not overlaps(shape, strides) or (
            arr.size == 0 and not any(arr.strides) and getattr(arr.flags, "writeable", True))
    try:
        return backend_of(arr).strided_view(arr, tuple(shape), tuple(strides), 0, writeable=writeable)
    except ValueError:
        storage_view(arr, shape, [st // arr.itemsize for st in strides], storage_offset(arr))  # PyTorch's error
        raise RuntimeError(f"sizes {_fmt(shape)} and byte strides {_fmt(strides)} reach outside the storage") \
            from None


def settle(xp, x):
    """`x` with PyTorch's strides when it is a new empty array (NumPy gives those zero strides, which
    Tensor.stride() reads as contiguous): views of it then get the strides PyTorch's views would."""
    if x.size or not x.ndim or any(x.strides) or not getattr(x.flags, "writeable", True):
        return x
    strides, acc = [], x.itemsize
    for s in reversed(x.shape):
        strides.append(acc)
        acc *= max(s, 1)
    return restride(xp, x, x.shape, tuple(reversed(strides)), writeable=True)


def writeable_view(xp, out):
    """A view NumPy made read-only because its source was (a slice of an expanded array), made writeable
    again when its own elements do not overlap: PyTorch judges each view by its own geometry."""
    if getattr(out.flags, "writeable", True) or overlaps(out.shape, out.strides):
        return out
    return restride(xp, out, out.shape, out.strides)


def _elem_strides(arr):
    return tuple(st // arr.itemsize for st in arr.strides)


def view_strides(old_shape, old_strides, new_shape):
    """The strides (in elements) that show data of `old_shape`/`old_strides` as `new_shape`
    without copying, or None when no such strides exist.

    Dims of the old shape are grouped into chunks that are contiguous with each other; each chunk
    must be covered exactly by consecutive new dims, which then get strides inside the chunk.
    NOTE: size-1 dims get the stride PyTorch gives them, which NumPy's reshape does not always do."""
    numel = 1
    for s in old_shape:
        numel *= s
    if numel == 0 or not old_shape:
        if tuple(old_shape) == tuple(new_shape):
            return tuple(old_strides)
        strides, acc = [], 1
        for s in reversed(new_shape):
            strides.append(acc)
            acc *= s if s else 1
        return tuple(reversed(strides))
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base_stride = old_strides[-1]
    chunk_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        chunk_numel *= old_shape[d]
        chunk_ends = d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != chunk_numel * base_stride)
        if not chunk_ends:
            continue
        while view_d >= 0 and (view_numel < chunk_numel or new_shape[view_d] == 1):
            new_strides[view_d] = view_numel * base_stride
            view_numel *= new_shape[view_d]
            view_d -= 1
        if view_numel != chunk_numel:
            return None
        if d > 0:
            base_stride = old_strides[d - 1]
            chunk_numel = view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def view_array(xp, x, shape):
    """`x` seen with `shape` (PyTorch's strides), or None when its strides do not allow a view."""
    # NOTE: the common cases in one NumPy call each: the same shape (a view as writeable as the array,
    # which an expanded one is not), and a C-contiguous array reshaped without size-1 dims (whose
    # strides NumPy may set otherwise than PyTorch does)
    writeable = getattr(x.flags, "writeable", True)
    if shape == x.shape and (writeable or overlaps(x.shape, x.strides)):
        return x.view()
    if writeable and x.flags.c_contiguous and 1 not in shape and x.size:
        return x.reshape(shape)
    strides = view_strides(x.shape, _elem_strides(x), shape)
    if strides is None:
        return None
    return restride(xp, x, shape, tuple(st * x.itemsize for st in strides))


def contiguous_strides(xp, arr):
    """`arr` with PyTorch's contiguous strides (a new array's layout; a copy only if not C-contiguous).

    NOTE: NumPy lays out a fancy-indexing result in the index's order (x[:, [0, 1]] is not
    C-contiguous), and gives size-1 dims any stride; PyTorch's results are contiguous, so that
    x[:, idx].view(-1) works."""
    if not arr.flags.c_contiguous:
        return xp.ascontiguousarray(arr)
    expected, acc = [], arr.itemsize
    for size in reversed(arr.shape):
        expected.append(acc)
        acc *= size if size else 1
    expected = tuple(reversed(expected))
    if arr.strides != expected and arr.size:
        arr = restride(xp, arr, arr.shape, expected)
    return arr
