"""torch.sparse: products, sums, softmax and the rest over sparse tensors (ember/_sparse.py holds the COO tensor,
ember/_sparse_compressed.py the CSR/CSC/BSR/BSC one)."""
from .._sparse import SparseTensor as _SparseTensor
from .._tensor import norm_dim
# NOTE: these bind Tensor methods and torch functions as they are imported
from . import _autograd, _compressed_build, _products, _surface  # noqa: F401

__all__ = ["mm", "addmm", "sum", "softmax", "log_softmax", "spdiags", "sampled_addmm", "as_sparse_gradcheck",
           "spsolve"]


def _read(s):
    """(s, its values) to compute from; when s requires grad, s coalesced and its recorded values(), so that
    s's gradient is PyTorch's: masked to s's (coalesced) positions."""
    if _autograd.tracking(s):
        s = s.coalesce()
        return s, s.values()
    return s, s._vals


def mm(mat1, mat2):
    """sparse (n, m) @ dense (m, p) -> dense (n, p): each stored entry (i, j, v) adds v * mat2[j] to row i;
    a dense mat1 is an ordinary product. Differentiable in both (mat1's gradient at its own positions)."""
    if getattr(mat2, "_compressed", False):
        from ._products import mm as product
        return product(mat1, mat2)
    if getattr(mat1, "_compressed", False):  # NOTE: CSR & co. compute as COO (its gradient masked back)
        mat1 = mat1.to_sparse_coo()
    if not isinstance(mat1, _SparseTensor):
        return mat1.mm(mat2)
    if isinstance(mat2, _SparseTensor):  # NOTE: sparse @ sparse is sparse: the product's nonzeros
        return mm(mat1, mat2.to_dense()).to_sparse()
    if mat1.sparse_dim() != 2 or mat1.dense_dim() != 0:
        raise RuntimeError(f"mm: expected a 2-D sparse matrix with no dense dims, got sparse_dim "
                           f"{mat1.sparse_dim()} and dense_dim {mat1.dense_dim()}")
    if mat2.dim() != 2 or mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{'x'.join(str(s) for s in mat2.shape)})")
    mat1, values = _read(mat1)
    rows, cols = mat1._idx[0], mat1._idx[1]
    contributions = mat2.index_select(0, cols) * values.to(mat2.dtype).unsqueeze(1)
    out = mat2.new_zeros(mat1.shape[0], mat2.shape[1])
    return out.index_add(0, rows, contributions)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """beta * mat + alpha * (mat1 @ mat2), mat1 sparse."""
    return mat * beta + mm(mat1, mat2) * alpha


def sum(input, dim=None, dtype=None):  # noqa: A001 - PyTorch's name
    """The sum of a sparse tensor: over everything (a 0-d dense tensor), or over `dim` (sparse while sparse
    dims remain, dense when only dense dims are left)."""
    if getattr(input, "_compressed", False):
        return input.coalesce()  # NOTE: PyTorch's error: torch.sparse.sum takes COO tensors only
    if not isinstance(input, _SparseTensor):
        return input.sum() if dim is None else input.sum(dim)
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        return _read(input)[1].sum()
    dims = [norm_dim(d, input.dim()) for d in ((dim,) if isinstance(dim, int) else dim)]
    dense = input.to_dense().sum(dims)
    kept = len([d for d in range(input.sparse_dim()) if d not in dims])  # NOTE: the sparse dims not summed
    return dense.to_sparse(kept) if kept else dense


# NOTE: last, since they use mm & co. above
from ._functions import as_sparse_gradcheck, log_softmax, sampled_addmm, softmax, spdiags, spsolve  # noqa: E402
from . import _pointwise  # noqa: E402,F401
