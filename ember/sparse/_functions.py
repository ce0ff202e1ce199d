"""torch.sparse.softmax / log_softmax, torch.sparse.spdiags, and the sparse resizes (sparse_resize_,
sparse_resize_and_clear_, resize_as_sparse_)."""
from .. import _dtype
from .._sparse import SparseTensor
from .._tensor import norm_dim
from . import _autograd
from ._surface import not_implemented


def _softmax(input, dim, dtype, log):
    name = "log_softmax" if log else "softmax"
    if not isinstance(input, SparseTensor):
        raise not_implemented("_sparse_" + name, input)
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f"\"{name}\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    dim = norm_dim(dim, input.dim())
    s = input.coalesce()
    values = s.values() if _autograd.tracking(s) else s._vals
    k = s.sparse_dim()
    if dim >= k:  # NOTE: a dense dim: each stored entry's values on their own
        out = values.log_softmax(dim - k + 1) if log else values.softmax(dim - k + 1)
        return _autograd.from_values(out, s._idx, s.shape, True)
    # NOTE: a sparse dim: the entries that share every other sparse index form one group; the positions
    # that are not stored count as -inf (they take no share and stay unstored)
    others = [d for d in range(k) if d != dim]
    xp = s._device.backend.xp
    if others:
        keys = xp.ravel_multi_index(tuple(s._idx._data[d] for d in others), tuple(s.shape[d] for d in others))
    else:
        keys = xp.zeros(s._nnz(), dtype=xp.int64)
    uniq, groups = xp.unique(keys, return_inverse=True)
    from .._tensor import _wrap
    groups = _wrap(groups.reshape(-1).astype(xp.int64), s._device, _dtype.int64)
    shape = (int(uniq.shape[0]),) + tuple(values.shape[1:])
    peak = values.detach().new_zeros(shape).scatter_reduce(
        0, groups.reshape((-1,) + (1,) * (values.dim() - 1)).expand(values.shape), values.detach(), "amax",
        include_self=False)
    shifted = values - peak.index_select(0, groups)
    total = shifted.exp().new_zeros(shape).index_add(0, groups, shifted.exp())
    if log:
        out = shifted - total.log().index_select(0, groups)
    else:
        out = shifted.exp() / total.index_select(0, groups)
    return _autograd.from_values(out, s._idx, s.shape, True)


def softmax(input, dim, *, dtype=None):
    """Softmax over `dim` of a sparse COO tensor, the unstored positions counting as -inf (so they stay
    unstored); a coalesced sparse result."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax over `dim` of a sparse COO tensor, the unstored positions counting as -inf."""
    return _softmax(input, dim, dtype, True)


def spdiags(diagonals, offsets, shape, layout=None):
    """A 2-D sparse matrix of `shape` with row j of `diagonals` on the diagonal offsets[j] (element (i, i + k)
    takes diagonals[j, i + k], the column's entry, as scipy.sparse.spdiags)."""
    from .._ops.shape.join import cat, stack
    if diagonals.dim() == 1:
        diagonals = diagonals.unsqueeze(0)
    if offsets.dim() == 0:
        offsets = offsets.unsqueeze(0)
    if diagonals.dim() != 2:
        raise RuntimeError(f"Diagonals must be vector or matrix, got {diagonals.dim()}-d")
    if offsets.dim() != 1 or offsets.shape[0] != diagonals.shape[0]:
        raise RuntimeError("Number of diagonals (" + str(diagonals.shape[0]) + ") does not match the number of "
                           "offsets (" + str(offsets.numel()) + ")")
    listed = [int(o) for o in offsets.tolist()]
    if len(set(listed)) != len(listed):
        raise RuntimeError("Offset tensor contains duplicate values")
    rows_n, cols_n = (int(s) for s in shape)
    rows, cols, values = [], [], []
    for j, k in enumerate(listed):
        first, last = max(0, -k), min(rows_n, cols_n - k, diagonals.shape[1] - k)  # NOTE: rows i with i+k in range
        if last <= first:
            continue
        i = offsets.new_ones(last - first).cumsum(0) + (first - 1)
        rows.append(i)
        cols.append(i + k)
        values.append(diagonals[j, first + k:last + k])
    if rows:
        indices, vals = stack((cat(rows), cat(cols))), cat(values)
    else:
        indices, vals = offsets.new_zeros(2, 0), diagonals.new_zeros(0)
    result = _autograd.from_values(vals, indices.to(_dtype.int64), (rows_n, cols_n), vals.shape[0] <= 1)
    if layout is None or str.__str__(layout) == "sparse_coo":
        return result
    return result.to_sparse(layout=layout)


# --- resizing ---------------------------------------------------------------------------------------------
def _check_inplace_leaf(self):
    if self.requires_grad and self.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def sparse_resize_(self, size, sparse_dim, dense_dim):
    """Resize a sparse COO tensor in place: any size while it is empty; else only growing its sparse sizes
    (its indices stay valid), as PyTorch."""
    if not isinstance(self, SparseTensor):
        raise not_implemented("sparse_resize_", self)
    _check_inplace_leaf(self)
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(f"number of dimensions must be sparse_dim ({sparse_dim}) + dense_dim ({dense_dim}), "
                           f"but got {len(size)}")
    if self._nnz():
        old = self.shape
        k = self.sparse_dim()
        if sparse_dim != k:
            raise RuntimeError(f"changing the number of sparse dimensions (from {k} to {sparse_dim}) on a "
                               "non-empty sparse tensor is not supported.")
        if dense_dim != self.dense_dim():
            raise RuntimeError(f"changing the number of dense dimensions (from {self.dense_dim()} to {dense_dim}) "
                               "on a non-empty sparse tensor is not supported.")
        if any(new < was for new, was in zip(size[:k], old[:k])):
            raise RuntimeError(f"shrinking the size of sparse dimensions (from {list(old[:k])} to {list(size[:k])}) "
                               "on a non-empty sparse tensor is not supported.")
        if size[k:] != tuple(old[k:]):
            raise RuntimeError(f"shrinking or expanding the size of dense dimensions (from {list(old[k:])} to "
                               f"{list(size[k:])}) on a non-empty sparse tensor is not supported.")
    else:
        self._idx = self._idx.new_zeros(sparse_dim, 0)
        self._vals = self._vals.new_zeros((0,) + size[sparse_dim:])
        self._coalesced = True
    self._sparse_shape = size
    self._vc[0] += 1
    return self


def sparse_resize_and_clear_(self, size, sparse_dim, dense_dim):
    """Empty a sparse COO tensor (no entries) and give it any size."""
    if not isinstance(self, SparseTensor):
        raise not_implemented("sparse_resize_and_clear_", self)
    _check_inplace_leaf(self)
    self._idx = self._idx[:, :0]
    self._vals = self._vals[:0]
    return sparse_resize_(self, size, sparse_dim, dense_dim)


def resize_as_sparse_(self, the_template):
    """Resize a sparse COO tensor in place to the_template's size, sparse_dim and dense_dim."""
    if not isinstance(self, SparseTensor):
        raise RuntimeError("resize_as_sparse_: expected self to be a sparse tensor")
    return sparse_resize_(self, the_template.shape, the_template.sparse_dim(), the_template.dense_dim())


def _bind():
    from .._ops._registry import bind, bind_method
    for fn in (sparse_resize_, sparse_resize_and_clear_, resize_as_sparse_):
        bind_method(fn.__name__, fn)
    bind("resize_as_sparse_", resize_as_sparse_)


_bind()


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    """beta * input + alpha * (mat1 @ mat2) computed only at the entries of the CSR `input`: a CSR result
    with input's structure (differentiable in input's values, mat1 and mat2)."""
    from .._tensor import _wrap
    if str.__str__(input.layout) != "sparse_csr":
        raise not_implemented("sparse_sampled_addmm", input)
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and mat2 to have the same dtype, but got "
                           f"{_dtype.scalar_type_name(mat1.dtype)} and {_dtype.scalar_type_name(mat2.dtype)}")
    if mat1.dim() != 2 or mat2.dim() != 2 or mat1.shape[1] != mat2.shape[0] or \
            (mat1.shape[0], mat2.shape[1]) != tuple(input.shape):
        raise RuntimeError(f"sampled_addmm: mat1 and mat2 shapes cannot be multiplied "
                           f"({'x'.join(map(str, mat1.shape))} and {'x'.join(map(str, mat2.shape))})")
    rows, cols = (_wrap(a, input._device, _dtype.int64) for a in input._entry_positions())
    sampled = (mat1.index_select(0, rows) * mat2.t().index_select(0, cols)).sum(1)
    values = input.values() * beta + sampled * alpha
    result = input._structure(values, "SparseSampledAddmmBackward0")
    return result if out is None else out.copy_(result)


def as_sparse_gradcheck(gradcheck):
    """Wrap `gradcheck` (or gradgradcheck) so that it takes sparse inputs: each sparse input that requires
    grad is checked through its stored values (rebuilt into a tensor of the same structure inside the
    function), and sparse outputs are compared densely. NOTE: ember checks the stored values in both
    masked=True and masked=False modes (PyTorch also perturbs unstored entries when masked=False)."""
    def gradcheck_with_sparse_support(func, inputs, **kwargs):
        kwargs.pop("masked", None)
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        rebuilds, flat = [], []
        for x in inputs:
            if isinstance(x, SparseTensor) and x.requires_grad:
                like = x.detach().coalesce()
                flat.append(like._vals.clone().requires_grad_())
                rebuilds.append(lambda v, like=like: _autograd.from_values(v, like._idx, like.shape, True))
            elif getattr(x, "_compressed", False) and x.requires_grad:
                like = x.detach()
                flat.append(like._vals.clone().requires_grad_())
                rebuilds.append(like._structure)
            else:
                flat.append(x)
                rebuilds.append(None)

        def dense_func(*args):
            rebuilt = [a if r is None else r(a) for r, a in zip(rebuilds, args)]
            outputs = func(*rebuilt)
            if isinstance(outputs, tuple):
                return tuple(o.to_dense() if getattr(o, "_sparse", False) else o for o in outputs)
            return outputs.to_dense() if getattr(outputs, "_sparse", False) else outputs
        return gradcheck(dense_func, tuple(flat), **kwargs)
    gradcheck_with_sparse_support.__name__ = "gradcheck_with_sparse_support"
    return gradcheck_with_sparse_support


def spsolve(input, other, *, left=True):
    """The solution of input @ out = other for a square sparse CSR `input`. NOTE: ember solves through the
    dense matrix (PyTorch's CPU build has no kernel for this at all)."""
    from .. import linalg
    if str.__str__(input.layout) != "sparse_csr":
        raise not_implemented("_spsolve", input)
    if not left:
        raise RuntimeError("spsolve: only left=True is supported")
    if input.dim() != 2 or input.shape[0] != input.shape[1]:
        raise RuntimeError(f"spsolve: expected a square matrix, got {list(input.shape)}")
    return linalg.solve(input.to_dense(), other)
