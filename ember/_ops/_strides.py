"""The strides PyTorch gives views and new results, for NumPy/CuPy arrays (which lay out size-1
and empty dims, and fancy-indexing results, their own way). Arrays are re-strided with
`xp.lib.stride_tricks.as_strided`, which never copies.
"""


def restride(xp, arr, shape, strides, writeable=None):
    """`arr`'s memory seen with `shape` and byte `strides` (no copy). A read-only result (expand)
    exists on NumPy only; CuPy's as_strided has no `writeable`, and its arrays are always writeable."""
    if xp.__name__ == "numpy":
        if writeable is None:
            writeable = arr.flags.writeable
        return xp.lib.stride_tricks.as_strided(arr, shape, strides, writeable=writeable)
    return xp.lib.stride_tricks.as_strided(arr, shape, strides)


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
