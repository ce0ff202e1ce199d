"""Making sparse compressed tensors (CSR, CSC, BSR, BSC; the class is ember/_sparse_compressed.py): the
torch.sparse_*_tensor constructors, and the conversions from dense, COO and other compressed layouts
(Tensor.to_sparse_csr & co., to_sparse(layout=))."""
import builtins

from .. import _dtype
from .._sparse_compressed import BLOCK_LAYOUTS, ROW_LAYOUTS, _NAMES, Build, CompressedTensor, _make, _tracking
from .._tensor import Tensor, _wrap


# --- construction and conversion ---------------------------------------------------------------------
def _block_of(layout, values, blocksize):
    if layout not in BLOCK_LAYOUTS:
        return (1, 1)
    if values.dim() < 3:
        raise RuntimeError(f"values must be a (nnz, blocksize[0], blocksize[1]) tensor for {layout}, got "
                           f"{list(values.shape)}")
    return tuple(int(s) for s in values.shape[1:3])


def from_coo(coo, layout, blocksize):
    """A coalesced 2-D COO tensor (sparse_dim 2) as a compressed one; for BSR/BSC, its dense dims (R, C) are
    the blocks and its shape counts blocks."""
    xp = coo._device.backend.xp
    values = coo.values() if _tracking(coo) else coo._vals
    idx = coo._idx._data
    rows, cols = idx[0], idx[1]
    if layout in ROW_LAYOUTS:
        major, plain, order = rows, cols, None
    else:  # NOTE: column-major order for CSC/BSC
        order = xp.argsort(cols * builtins.max(coo.shape[0], 1) + rows, kind="stable")
        major, plain = cols[order], rows[order]
        values = values.index_select(0, _wrap(order.astype(xp.int64), coo._device, _dtype.int64))
    n_major = coo.shape[0] if layout in ROW_LAYOUTS else coo.shape[1]
    compressed = xp.searchsorted(major, xp.arange(n_major + 1, dtype=xp.int64)).astype(xp.int64)
    block = (1, 1) if blocksize is None else tuple(blocksize)
    shape = (coo.shape[0] * block[0], coo.shape[1] * block[1]) + tuple(coo.shape[2 + (2 if blocksize else 0):])
    c, p = (_wrap(a, coo._device, _dtype.int64) for a in (compressed, plain.astype(xp.int64)))
    if _tracking(values):
        return Build.apply(values, c, p, shape, layout, block)
    return _make(c, p, values, shape, layout, block)


def convert(x, layout, blocksize=None, dense_dim=None):
    """Any tensor (dense, COO or compressed) in a compressed layout."""
    from ._surface import layout_name
    if layout not in _NAMES:
        raise RuntimeError(f"to_sparse: unsupported layout {layout}")
    if isinstance(x, CompressedTensor):
        if x._lay == layout and (blocksize is None or tuple(blocksize) == x._block):
            return x
        if layout in ("sparse_csr", "sparse_csc") and x._lay in BLOCK_LAYOUTS:
            raise RuntimeError(f"sparse_compressed_to_{layout}: expected SparseCsr or SparseCsc layout but got "
                               f"{layout_name(x)}")
    if layout in BLOCK_LAYOUTS:
        if blocksize is None:
            raise RuntimeError(f"dense_to_sparse: conversion from {layout_name(x)} to {layout_name_of(layout)} "
                               "without blocksize argument given is not supported")
        blocksize = tuple(int(b) for b in blocksize)
    dense = x.to_dense() if x._sparse else x
    if dense.dim() < 2:
        raise RuntimeError(f"to_sparse: expected at least 2 dims for layout {layout}, got {dense.dim()}")
    extra = dense.dim() - 2
    if dense_dim is not None and int(dense_dim) != extra or (dense_dim is None and extra):
        raise NotImplementedError("ember's compressed sparse tensors are 2-D matrices (no batch dims); "
                                  "give dense_dim=ndim-2 for dense dims")
    if layout in BLOCK_LAYOUTS:
        if extra:
            raise NotImplementedError("ember's BSR/BSC tensors have no dense dims")
        n, m = dense.shape
        r, c = blocksize
        if n % r or m % c:
            raise RuntimeError(f"dense_to_sparse_{layout[7:]}: tensor sparse size ({n},{m}) must be divisible by "
                               f"given blocksize ({r},{c})")
        dense = dense.reshape(n // r, r, m // c, c).permute(0, 2, 1, 3)
    return from_coo(dense.to_sparse(2).coalesce(), layout, blocksize)


def layout_name_of(layout):
    from ._surface import _LAYOUT_NAMES
    return _LAYOUT_NAMES[layout]


def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *, dtype=None, layout=None,
                             device=None, pin_memory=False, requires_grad=False, check_invariants=None):
    """A sparse compressed tensor (CSR, CSC, BSR or BSC, as `layout` says) from its index and value arrays."""
    from .._creation import tensor
    if layout is None:
        raise RuntimeError("sparse_compressed_tensor expected sparse compressed tensor layout but got none")
    layout = str.__str__(layout)
    if layout not in _NAMES:
        raise RuntimeError(f"sparse_compressed_tensor expected sparse compressed tensor layout but got "
                           f"{layout_name_of(layout) if layout in ('strided', 'sparse_coo') else layout}")
    compressed = compressed_indices if isinstance(compressed_indices, Tensor) else tensor(compressed_indices,
                                                                                          device=device)
    plain = plain_indices if isinstance(plain_indices, Tensor) else tensor(plain_indices, device=device)
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    if dtype is not None:
        values = values.to(dtype)
    if device is not None:
        values, compressed, plain = values.to(device), compressed.to(device), plain.to(device)
    # NOTE: ember always checks the structure; PyTorch does with check_invariants=True (same messages)
    first, second = _NAMES[layout]
    for name, idx in zip(_NAMES[layout], (compressed, plain)):
        if idx.dtype.category > _dtype.INT:
            raise RuntimeError(f"{name} must be an int32 or int64 tensor, but got {idx.dtype}")
    if compressed.dim() != 1 or plain.dim() != 1:
        raise NotImplementedError("ember's compressed sparse tensors are 2-D matrices (no batch dims)")
    if values.dim() == 0 or values.shape[0] != plain.shape[0]:
        raise RuntimeError(f"{second}.shape[-1] must be equal to nnz (={values.shape[0] if values.dim() else 1}) as "
                           f"defined by values.shape[0], but got {plain.shape[0]}")
    block = _block_of(layout, values, None)
    dense_dims = tuple(values.shape[3:] if layout in BLOCK_LAYOUTS else values.shape[1:])
    if size is None:
        n_major = compressed.shape[0] - 1
        n_plain = int(plain.max()) + 1 if plain.shape[0] else 0
        sizes = (n_major, n_plain) if layout in ROW_LAYOUTS else (n_plain, n_major)
        size = (sizes[0] * block[0], sizes[1] * block[1]) + dense_dims
    size = tuple(int(s) for s in size)
    if len(size) != 2 + len(dense_dims):
        raise NotImplementedError("ember's compressed sparse tensors are 2-D matrices (no batch dims)")
    major = size[0] // block[0] if layout in ROW_LAYOUTS else size[1] // block[1]
    if compressed.shape[0] != major + 1:
        what = "rows" if layout in ROW_LAYOUTS else "columns"
        raise RuntimeError(f"{first}.shape[-1] must be equal to the number of {what} + 1 (={major + 1}), but got "
                           f"{compressed.shape[0]}")
    out = _make(compressed, plain, values.detach(), size, layout, block)
    if _tracking(values):
        out = Build.apply(values, compressed, plain, size, layout, block)
    if requires_grad:
        out.requires_grad_()
    return out


def _constructor(layout):
    names = _NAMES[layout]

    def fn(compressed_indices, plain_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
           requires_grad=False, check_invariants=None):
        return sparse_compressed_tensor(compressed_indices, plain_indices, values, size, dtype=dtype,
                                        layout=layout, device=device, requires_grad=requires_grad)
    fn.__name__ = f"sparse_{layout[7:]}_tensor"
    fn.__doc__ = f"torch.{fn.__name__}({names[0]}, {names[1]}, values, size=None): a {layout[7:].upper()} tensor."
    return fn


# --- binding -------------------------------------------------------------------------------------------
def _dense_to(layout):
    def method(self, *args, **kwargs):
        if layout in BLOCK_LAYOUTS:
            def parse(blocksize, dense_dim=None):
                return convert(self, layout, blocksize, dense_dim)
        else:
            def parse(dense_dim=None):
                return convert(self, layout, None, dense_dim)
        return parse(*args, **kwargs)
    method.__name__ = "to_" + layout
    method.__doc__ = f"Tensor.to_{layout}(): the tensor in the {layout[7:].upper()} layout."
    return method


def _bind():
    from .._ops._registry import bind, bind_method
    bind("sparse_compressed_tensor", sparse_compressed_tensor)
    for layout in _NAMES:
        bind(f"sparse_{layout[7:]}_tensor", _constructor(layout))
        bind_method("to_" + layout, _dense_to(layout))


_bind()
