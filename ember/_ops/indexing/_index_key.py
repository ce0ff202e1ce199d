"""Reading an indexing key the way PyTorch does (for `tensor[key]` and `tensor[key] = value`).

A key becomes basic steps, applied in order (an integer selects and removes its dim, a slice
narrows, None inserts a dim), and then an advanced part: integer or bool index arrays by the
position of the dim they index in the result of the basic steps. A Python bool (or 0-d bool
tensor) inserts a dim that a one-element mask then keeps (True) or empties (False), as in PyTorch.
"""
import warnings

from ... import _dtype
from ..._tensor import Tensor

_VALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
          "(got {})")
_ZERO_DIM = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
             "convert a 0-dim tensor to a number")


def _type_name(obj):
    t = type(obj)
    module = t.__module__
    return t.__name__ if module == "builtins" else f"{module.split('.')[0]}.{t.__name__}"


def _is_array(k):
    """A NumPy (or CuPy) array, not a scalar."""
    return type(k).__name__ == "ndarray"


def _is_int_scalar(k):
    """Python ints and NumPy integer scalars (a select, not an advanced index)."""
    if isinstance(k, int):
        return not isinstance(k, bool)
    kind = getattr(getattr(k, "dtype", None), "kind", None)
    return kind in ("i", "u") and getattr(k, "ndim", 1) == 0 and not isinstance(k, Tensor) and not _is_array(k)


def _is_bool_scalar(k):
    return isinstance(k, bool) or (getattr(getattr(k, "dtype", None), "kind", None) == "b"
                                   and getattr(k, "ndim", 1) == 0 and not isinstance(k, Tensor))


def _as_tuple(key):
    """PyTorch's rule: a short list holding a sequence, slice, None or ... means a tuple (with a warning)."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, list) and len(key) < 32:
        for k in key:
            if k is None or k is Ellipsis or isinstance(k, (list, tuple, slice, str, Tensor)) or _is_array(k):
                warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
                              "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will "
                              "be interpreted as tensor index, x[torch.tensor(seq)], which will result either in an "
                              "error or a different result", UserWarning, stacklevel=4)
                return tuple(key)
    return (key,)


def _classify(k, xp):
    """One key item as (kind, payload): none, ellipsis, flag (bool), select, slice, index, mask."""
    if k is None:
        return "none", None
    if k is Ellipsis:
        return "ellipsis", None
    if isinstance(k, slice):
        return "slice", k
    if _is_bool_scalar(k):
        return "flag", bool(k)
    if _is_int_scalar(k):
        return "select", int(k)
    if isinstance(k, Tensor):
        cat = k._dtype.category
        if cat == _dtype.INT and k._dtype is not _dtype.uint8:
            if k._data.ndim == 0:
                return "select", int(k.item())
            return "index", _host(k, xp)
        if k._dtype is _dtype.uint8 or cat == _dtype.BOOL:
            if k._dtype is _dtype.uint8:
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                              "instead.", UserWarning, stacklevel=4)
            arr = _host(k, xp).astype(bool)
            return ("flag", bool(arr)) if arr.ndim == 0 else ("mask", arr)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(k, (list, tuple, range, str)) or _is_array(k):
        # NOTE: PyTorch reads a sequence as an index tensor: bools stay a mask, anything else is
        # converted to int64 (so x[[0.5]] is x[[0]]).
        from ..._creation import _tensor_array
        arr, dt = _tensor_array(k, None)
        arr = xp.asarray(arr)
        if dt is _dtype.bool:
            return ("flag", bool(arr)) if arr.ndim == 0 else ("mask", arr)
        arr = arr.astype(xp.int64)
        return ("select", int(arr)) if arr.ndim == 0 else ("index", arr)
    raise IndexError(_VALID.format(_type_name(k)))


def _host(k, xp):
    """k's array on the indexed tensor's device (a CPU index for a GPU tensor moves there, as in PyTorch)."""
    arr = k._data
    if not isinstance(arr, xp.ndarray):
        arr = xp.asarray(k._device.backend.to_host(arr))
    return arr


def _consumes(kind, payload):
    if kind in ("select", "slice", "index"):
        return 1
    if kind == "mask":
        return payload.ndim
    return 0


def parse(key, ndim, xp):
    """(steps, advanced): basic steps in order, then {dim: index or mask array} for the advanced part."""
    items = [_classify(k, xp) for k in _as_tuple(key)]
    consumed = sum(_consumes(kind, p) for kind, p in items)
    if consumed > ndim:
        # NOTE: PyTorch words a bare int or slice key on a 0-d tensor its own way; in a tuple (or as a
        # tensor) it is "too many indices".
        if ndim == 0 and _is_int_scalar(key):
            raise IndexError(_ZERO_DIM)
        if ndim == 0 and isinstance(key, slice):
            if key.step is not None and key.step <= 0:  # NOTE: PyTorch checks the step first
                raise ValueError("slice step cannot be zero" if key.step == 0 else "step must be greater than zero")
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    steps, advanced = [], {}
    d = 0          # the dim in the result of the basic steps so far
    shown = 0      # the dim PyTorch's messages count: original dims consumed plus dims inserted
    for kind, p in items:
        if kind == "ellipsis":
            skip = ndim - consumed
            d += skip
            shown += skip
            consumed = ndim  # NOTE: a second ... skips nothing more, as in PyTorch
        elif kind == "none":
            steps.append(("unsqueeze", d))
            d += 1
            shown += 1
        elif kind == "flag":
            steps.append(("unsqueeze", d))
            advanced[d] = xp.asarray([p])
            d += 1
            shown += 1
        elif kind == "select":
            steps.append(("select", d, p, shown))
            shown += 1
        elif kind == "slice":
            steps.append(("slice", d, p))
            d += 1
            shown += 1
        elif kind == "index":
            advanced[d] = p
            d += 1
            shown += 1
        else:  # mask
            advanced[d] = p
            d += p.ndim
            shown += p.ndim
    return steps, advanced


def run_steps(x, steps, on_tensor):
    """Apply the basic steps to a Tensor (tracked, as views) or to a raw array."""
    from ..shape.views import Select, Slice, Unsqueeze
    for step in steps:
        kind, d = step[0], step[1]
        if kind == "select":
            size = x.shape[d]
            i = step[2]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {step[3]} with size {size}")
            # NOTE: the trailing Ellipsis keeps a 0-d result a view of the array.
            x = Select.apply(x, d, i) if on_tensor else x[(slice(None),) * d + (i, Ellipsis)]
        elif kind == "slice":
            sl = step[2]
            if sl.step is not None and sl.step <= 0:
                raise ValueError("slice step cannot be zero" if sl.step == 0 else "step must be greater than zero")
            size = x.shape[d]
            start, stop, stride = sl.indices(size)
            if start == 0 and stop == size and stride == 1:
                continue
            stop = max(stop, start)
            x = Slice.apply(x, d, start, stop, stride) if on_tensor else \
                x[(slice(None),) * d + (slice(start, stop, stride),)]
        else:  # unsqueeze
            x = Unsqueeze.apply(x, d) if on_tensor else x.reshape(x.shape[:d] + (1,) + x.shape[d:])
    return x


def advanced_key(shape, advanced, xp):
    """The array key for the advanced part: masks become their nonzero() index arrays; PyTorch's
    errors for mask shapes, mismatched index shapes and out-of-range indices."""
    key = []
    d = 0
    for pos in sorted(advanced):
        while d < pos:
            key.append(slice(None))
            d += 1
        arr = advanced[pos]
        if arr.dtype.kind == "b":
            for i, s in enumerate(arr.shape):
                if d + i >= len(shape) or shape[d + i] != s:
                    raise IndexError(f"The shape of the mask [{', '.join(map(str, arr.shape))}] at index {i} does "
                                     f"not match the shape of the indexed tensor [{', '.join(map(str, shape))}] at "
                                     f"index {d + i}")
            key.extend(xp.nonzero(arr))
            d += arr.ndim
        else:
            key.append(arr)
            d += 1
    arrays = [k for k in key if not isinstance(k, slice)]
    try:
        xp.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(f"[{', '.join(map(str, a.shape))}]" for a in arrays)
        raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}") \
            from None
    n = 0
    for i, k in enumerate(key):
        if isinstance(k, slice):
            continue
        if k.size:
            size = shape[i]
            lo, hi = int(k.min()), int(k.max())
            if hi >= size or lo < -size:
                raise IndexError(f"index {hi if hi >= size else lo} is out of bounds for dimension {n} with size "
                                 f"{size}")
        n += 1
    return tuple(key)
