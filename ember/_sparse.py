"""Sparse COO tensors: torch.sparse_coo_tensor and the operations that sparse gradients need.

A sparse COO tensor of shape (s_1, ..., s_k, d_1, ..., d_m) stores only its nonzero "rows": `indices`, an
int64 (k, nnz) tensor whose columns are positions in the k sparse dims, and `values`, a (nnz, d_1, ..., d_m)
tensor of what stands there (m dense dims; an embedding's gradient is sparse in its row dim and dense in
its feature dim). A position may appear more than once (uncoalesced): its values then add up. `coalesce()`
sorts the positions and sums the repeats.

SparseTensor is a Tensor (isinstance holds, dtype/device/shape/requires_grad read as on any tensor) with no
dense array: `_data` refuses with NotImplementedError, as PyTorch's sparse backend refuses ops it lacks,
so no dense op can read a sparse tensor by mistake. What it supports is written here: conversion
(`to_dense`, `Tensor.to_sparse`), `coalesce`, `+` with sparse or dense tensors, `*`/`/` by a number,
`neg`, `clone`/`detach`, `zero_`, `sparse_mask`, `torch.sparse.mm`/`addmm`/`sum`, printing as PyTorch
prints, and autograd's use of sparse gradients (nn.Embedding(sparse=True), the optimizers that take them,
clip_grad_norm_). A sparse tensor may require grad itself: ember/sparse/_autograd.py records the ops above
that PyTorch differentiates, with PyTorch's (masked) sparse gradients.
"""
from . import _dtype, _state
from ._tensor import Size, Tensor, _wrap


class SparseShape:
    """What a sparse tensor of any layout answers about its shape, from `_sparse_shape` (a tuple of ints)."""

    # NOTE: no slots of its own, so that it can stand beside Tensor (which has slots) as a base class.
    __slots__ = ()

    # NOTE: a sparse tensor is built field by field by its module's _make, never through Tensor's constructor.
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    @property
    def shape(self):
        return Size(self._sparse_shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._sparse_shape)
        from ._tensor import norm_dim
        return self._sparse_shape[norm_dim(dim, len(self._sparse_shape))]

    @property
    def ndim(self):
        return len(self._sparse_shape)

    def dim(self):
        return len(self._sparse_shape)

    def numel(self):
        n = 1
        for s in self._sparse_shape:
            n *= s
        return n


class SparseTensor(SparseShape, Tensor):
    """A sparse COO tensor (see the module docstring)."""

    __slots__ = ("_idx", "_vals", "_sparse_shape", "_coalesced")
    _sparse = True

    @property
    def _data(self):
        raise NotImplementedError("Could not run this operation with arguments from the 'SparseCPU' backend: ember "
                                  "supports sparse COO tensors in conversions, coalesce(), +, -, *, pow, the "
                                  "zero-preserving unary ops, sum, matrix products, torch.sparse.* and optimizer "
                                  "steps; call .to_dense() first")

    @property
    def layout(self):
        from ._types import LAYOUTS
        return LAYOUTS["sparse_coo"]

    @property
    def is_sparse(self):
        return True

    def is_contiguous(self, memory_format=None):
        return False  # NOTE: as PyTorch answers for a sparse COO tensor

    # --- the COO structure --------------------------------------------------------------------------
    def sparse_dim(self):
        return self._idx.shape[0]

    def dense_dim(self):
        return len(self._sparse_shape) - self._idx.shape[0]

    def _nnz(self):
        return self._idx.shape[1]

    def is_coalesced(self):
        return self._coalesced

    def _indices(self):
        """The (sparse_dim, nnz) positions as stored (repeats and all), as PyTorch's _indices()."""
        return self._idx

    def _values(self):
        """The (nnz, *dense dims) values as stored, as PyTorch's _values()."""
        return self._vals

    def indices(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._idx

    def values(self):
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        if _tracking(self):
            return _ag().Values.apply(self)
        return self._vals

    def coalesce(self):
        """Positions sorted (row-major) and unique, repeats summed; self if already coalesced."""
        if self._coalesced:
            return self
        if _tracking(self):
            return _ag().Coalesce.apply(self)
        return self._raw_coalesce()

    def _raw_coalesce(self):
        xp = self._device.backend.xp
        idx = self._idx._data
        sparse_shape = self._sparse_shape[:idx.shape[0]]
        if idx.shape[1] == 0:
            return _make(self._idx, self._vals, self._sparse_shape, True)
        flat = xp.ravel_multi_index(tuple(idx), sparse_shape) if idx.shape[0] else xp.zeros(idx.shape[1], xp.int64)
        keys, inverse = xp.unique(flat, return_inverse=True)
        values = self._vals._data
        summed = xp.zeros((keys.shape[0],) + values.shape[1:], dtype=values.dtype)
        self._device.backend.add_at(summed, inverse.reshape(-1), values)
        new_idx = xp.stack(xp.unravel_index(keys, sparse_shape)).astype(xp.int64) if idx.shape[0] else \
            xp.zeros((0, keys.shape[0]), xp.int64)
        return _make(_wrap(new_idx, self._device, _dtype.int64), _wrap(summed, self._device, self._dtype),
                     self._sparse_shape, True)

    # --- conversions --------------------------------------------------------------------------------
    def to_dense(self, dtype=None, *, masked_grad=None):
        """The dense tensor: zeros with the values added at their positions (repeats add up)."""
        if _tracking(self):
            result = _ag().ToDense.apply(self, masked_grad is None or bool(masked_grad))
        else:
            result = self._raw_dense()
        return result if dtype is None else result.to(dtype)

    def _raw_dense(self):
        xp = self._device.backend.xp
        k = self._idx.shape[0]
        out = xp.zeros(self._sparse_shape, dtype=self._dtype.np)
        if self._idx.shape[1]:
            if k:
                flat = xp.ravel_multi_index(tuple(self._idx._data), self._sparse_shape[:k])
                view = out.reshape((-1,) + self._sparse_shape[k:])
                self._device.backend.add_at(view, flat, self._vals._data)
            else:
                out += self._vals._data.sum(axis=0)
        return _wrap(out, self._device, self._dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout is not None and str.__str__(layout) != "sparse_coo":
            from .sparse._compressed_build import convert
            return convert(self, str.__str__(layout), blocksize, dense_dim)
        return self

    def to_sparse_coo(self):
        return self

    def clone(self, *, memory_format=None):
        if _tracking(self):
            return _ag().Identity.apply(self)
        return _make(self._idx.clone(), self._vals.clone(), self._sparse_shape, self._coalesced)

    def detach(self):
        return _make(self._idx, self._vals.detach(), self._sparse_shape, self._coalesced)

    def to(self, *args, **kwargs):
        values = self._vals.to(*args, **kwargs)
        if values is self._vals:
            return self
        if _tracking(self):
            return _ag().Cast.apply(self, args, kwargs)
        return _make(self._idx.to(values.device), values, self._sparse_shape, self._coalesced)

    def double(self):
        return self.to(_dtype.float64)

    def float(self):
        return self.to(_dtype.float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else device)

    # --- arithmetic ---------------------------------------------------------------------------------
    def _same_shape(self, other, op="add"):
        if tuple(other.shape) != self._sparse_shape:
            raise RuntimeError(f"{op}: expected 'self' and 'other' to have same size, but self has size "
                               f"{list(self._sparse_shape)} while other has size {list(other.shape)} (FYI: op2-sparse "
                               "addition does not currently support broadcasting)")

    def add(self, other, *, alpha=1):
        """sparse + sparse: sparse (the values added where both have the same indices, a sorted union when
        both are coalesced, else the entries side by side); sparse + dense: dense."""
        if not other._sparse:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        self._same_shape(other)
        if _tracking(self, other):
            kind = _ag().SubSparse if alpha == -1 else _ag().AddSparse
            return kind.apply(self, other, alpha, lambda a, b: a._raw_add(b, alpha))
        return self._raw_add(other, alpha)

    def _raw_add(self, other, alpha):
        if other._idx is self._idx:
            return _make(self._idx, self._vals + other._vals * alpha, self._sparse_shape, self._coalesced)
        cat = _cat_entries(self, other, alpha)
        return cat.coalesce() if self._coalesced and other._coalesced else cat

    def __add__(self, other):
        return self.add(other)

    def __radd__(self, other):
        """dense + sparse: a new dense tensor."""
        if isinstance(other, Tensor) and not other._sparse:
            self._same_shape(other)
            dtype = _dtype.promote_types(other.dtype, self.dtype)
            if _tracking(self, other):
                return _ag().AddSparse.apply(other, self, 1, lambda a, b: add_into(a.to(dtype, copy=True), b))
            return add_into(other.to(dtype, copy=True), self)
        return NotImplemented

    def sub(self, other, *, alpha=1):
        return self.add(other, alpha=-alpha)

    def __sub__(self, other):
        return self.sub(other)

    def add_(self, other, *, alpha=1):
        """In place: sparse += sparse concatenates the entries (uncoalesced, as PyTorch's)."""
        _check_leaf(self)
        self._same_shape(other, "add_")
        if not getattr(other, "_sparse", False):
            raise RuntimeError("add_: sparse tensor += dense tensor is not supported; use dense += sparse")
        cat = _cat_entries(self, other, alpha)
        self._idx, self._vals, self._coalesced = cat._idx, cat._vals, cat._coalesced
        return self

    def _scalar_mul(self, other):
        """self * a number or a 0-d dense tensor (mul itself, also by tensors, is ember/sparse/_pointwise.py's)."""
        return _ag().scale(self, other, "mul")

    def _raw_scale(self, factor, divide=False):
        values = self._vals / factor if divide else self._vals * factor
        return _make(self._idx, values, self._sparse_shape, self._coalesced)

    def mul_(self, other):
        _check_leaf(self)
        self._vals = self._vals * other
        return self

    def div(self, other):
        return _ag().scale(self, other, "div")

    __truediv__ = div

    def div_(self, other):
        _check_leaf(self)
        self._vals = self._vals / other
        return self

    def neg(self):
        return _ag().scale(self, -1, "neg")

    __neg__ = neg

    def zero_(self):
        _check_leaf(self)
        self._idx = self._idx[:, :0]
        self._vals = self._vals[:0]
        self._coalesced = True
        return self

    def t(self):
        """The transpose of a 2-D sparse matrix (its two sparse dims swapped)."""
        if self.dim() != 2 or self.sparse_dim() != 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got "
                               f"{self.sparse_dim()} sparse and {self.dense_dim()} dense dimensions")
        if _tracking(self):
            return _ag().Transpose.apply(self)
        return self._raw_t()

    def _raw_t(self):
        return _make(self._idx.flip(0), self._vals, self._sparse_shape[::-1], False)

    def transpose(self, dim0, dim1):
        from ._tensor import norm_dim
        if sorted((norm_dim(dim0, self.dim()), norm_dim(dim1, self.dim()))) == [0, 1] and self.dim() == 2:
            return self.t()
        if norm_dim(dim0, self.dim()) == norm_dim(dim1, self.dim()):
            return self
        raise NotImplementedError("ember transposes 2-D sparse matrices only")

    def __matmul__(self, other):
        from .sparse._products import matmul
        return matmul(self, other)

    def __rmatmul__(self, other):
        from .sparse._products import matmul
        return matmul(other, self)

    def mm(self, mat2):
        from .sparse._products import mm
        return mm(self, mat2)

    def matmul(self, other):
        from .sparse._products import matmul
        return matmul(self, other)

    def __repr__(self):
        return _repr(self)

    __str__ = __repr__


def _ag():
    from .sparse import _autograd  # NOTE: ember.sparse imports this module
    return _autograd


def _tracking(*tensors):
    return _state.local.grad_enabled and any(t.requires_grad for t in tensors if isinstance(t, Tensor))


def _check_leaf(t):
    """PyTorch's refusal of an in-place op on a leaf that requires grad (under grad mode)."""
    if t._requires_grad and t._grad_fn is None and _state.local.grad_enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _make(indices, values, shape, coalesced):
    t = object.__new__(SparseTensor)
    t._idx, t._vals, t._sparse_shape, t._coalesced = indices, values, tuple(shape), coalesced
    t._device, t._dtype = values._device, values._dtype
    t._requires_grad = False
    t._grad = t._grad_fn = t._base = t._view_chain = t._accum = None
    t._retains_grad = False
    t._output_nr = 0
    t._vc = [0]
    return t


def _cat_entries(a, b, alpha=1):
    """a + alpha * b with the entries side by side (uncoalesced)."""
    from ._ops.shape.join import cat
    values = b._vals if alpha == 1 else b._vals * alpha
    return _make(cat((a._idx, b._idx), 1), cat((a._vals, values.to(a._dtype)), 0), a._sparse_shape,
                 a._nnz() == 0 and b._coalesced or b._nnz() == 0 and a._coalesced)


def sparse_mask(dense, mask):
    """dense's entries at the positions of the sparse `mask` (coalesced), as a sparse tensor."""
    k = mask.sparse_dim()
    rows = dense[tuple(mask._idx[i] for i in range(k))] if k else dense.unsqueeze(0)
    return _ag().from_values(rows, mask._idx, mask._sparse_shape, mask._coalesced)


def add_into(dense, sparse, alpha=1):
    """dense += alpha * sparse, in place (repeated positions add up)."""
    if getattr(sparse, "_compressed", False):
        sparse = sparse.to_sparse_coo()
    k = sparse.sparse_dim()
    if not sparse._nnz():
        return dense
    values = sparse._vals if alpha == 1 else sparse._vals * alpha
    xp = dense._device.backend.xp
    flat = xp.ravel_multi_index(tuple(sparse._idx._data), sparse._sparse_shape[:k])
    view = dense._data.reshape((-1,) + sparse._sparse_shape[k:])
    dense._device.backend.add_at(view, flat, values._data.astype(dense._dtype.np, copy=False))
    dense._vc[0] += 1
    return dense


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with `values` at the positions in the columns of `indices` (see the module
    docstring); size defaults to the smallest that holds every position."""
    from ._creation import tensor
    if not isinstance(indices, Tensor):
        indices = tensor(indices, device=device)
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    if dtype is not None:
        values = values.to(dtype)
    if device is not None:
        values, indices = values.to(device), indices.to(device)
    if indices.dtype is not _dtype.int64:
        if indices.dtype.category > _dtype.INT:
            raise RuntimeError(f"indices must be an int64 tensor, got {indices.dtype}")
        indices = indices.to(_dtype.int64)
    if indices.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    k, nnz = indices.shape
    if values.dim() == 0 or values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from values: "
                           f"{values.shape[0] if values.dim() else 1}")
    dense_shape = tuple(values.shape[1:])
    if size is None:
        bound = indices.max(1).values + 1 if nnz else indices.new_zeros(k)
        size = tuple(int(b) for b in bound.tolist()) + dense_shape
    size = tuple(int(s) for s in size)
    if len(size) != k + len(dense_shape):
        raise RuntimeError(f"number of dimensions must be sparse_dim ({k}) + dense_dim ({len(dense_shape)}), but got "
                           f"{len(size)}")
    if size[k:] != dense_shape:
        raise RuntimeError(f"values has incorrect size, expected {list((nnz,) + size[k:])}, got "
                           f"{list(values.shape)}")
    if nnz and k:
        high = indices.max(1).values.tolist()
        low = indices.min(1).values.tolist()
        for d in range(k):
            if low[d] < 0:
                raise RuntimeError(f"found negative index {low[d]} for dim {d}")
            if high[d] >= size[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found "
                                   f"index {high[d]}")
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    t = _ag().from_values(values, indices.detach(), size, coalesced)
    if requires_grad:
        t.requires_grad_()
    return t


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """Tensor.to_sparse(): the nonzero entries of a dense tensor (over its first sparse_dim dims, default all)."""
    if layout is not None and str.__str__(layout) != "sparse_coo":
        from .sparse._compressed_build import convert
        return convert(self, str.__str__(layout), blocksize, dense_dim)
    k = self.dim() if sparse_dim is None else sparse_dim
    if _tracking(self):
        return _ag().ToSparse.apply(self, k)
    return _raw_to_sparse(self, k)


def _raw_to_sparse(self, k):
    xp = self._device.backend.xp
    data = self._data
    nonzero = data != 0
    if k < data.ndim:
        nonzero = nonzero.reshape(data.shape[:k] + (-1,)).any(axis=-1)
    positions = xp.stack(xp.nonzero(nonzero)).astype(xp.int64) if k else xp.zeros((0, int(nonzero.any())), xp.int64)
    if k:
        values = self[tuple(_wrap(p, self._device, _dtype.int64) for p in positions)]
    else:
        values = self.unsqueeze(0)[:positions.shape[1]]
    return _make(_wrap(positions.reshape(k, -1), self._device, _dtype.int64), values.detach(), self.shape, True)


def _repr(t):
    from .sparse._printing import sparse_repr  # NOTE: ember.sparse imports this module
    size = "(" + ", ".join(str(s) for s in t._sparse_shape) + ("," if len(t._sparse_shape) == 1 else "") + ")"
    return sparse_repr(t, (("indices", t._idx), ("values", t._vals)), size, True)


def _dense_to_dense(self, dtype=None, *, masked_grad=None):
    """Tensor.to_dense() of a dense tensor: itself (another dtype if asked)."""
    return self if dtype is None else self.to(dtype)


def _dense_sparse_mask(self, mask):
    """Tensor.sparse_mask(mask): self's entries at the sparse mask's positions."""
    if not mask._sparse:
        raise RuntimeError("sparse_mask: expected mask to be a sparse COO tensor")
    return sparse_mask(self, mask)


def _dense_add_(add_):
    """Tensor.add_ taking a sparse `other` too: its entries added into the dense tensor."""
    def method(self, other, *args, alpha=1, **kwargs):
        if isinstance(other, Tensor) and other._sparse and not self._sparse:
            if args or kwargs:
                raise TypeError("add_(): with a sparse other, only alpha= may be given")
            if _tracking(self, other):  # NOTE: recorded: the sum out of place, copied in (an in-place op)
                return self.copy_((other if alpha == 1 else other * alpha).__radd__(self))
            return add_into(self, other, alpha)
        return add_(self, other, *args, alpha=alpha, **kwargs)
    method.__name__, method.__doc__ = add_.__name__, add_.__doc__
    return method


def _bind():
    from ._ops._registry import bind, bind_method, rewrap
    bind("sparse_coo_tensor", sparse_coo_tensor)
    rewrap("add_", _dense_add_, method=True)
    bind_method("to_sparse", to_sparse)
    bind_method("to_sparse_coo", lambda self: to_sparse(self))
    bind_method("to_dense", _dense_to_dense)
    bind_method("sparse_mask", _dense_sparse_mask)


_bind()
