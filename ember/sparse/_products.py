"""Matrix products with sparse operands through torch.mm / matmul / mv / addmm and `@`, and the legacy names
PyTorch keeps for them (torch.smm, hsmm, sspaddmm, dsmm, saddmm, spmm, hspmm).

torch.sparse.mm gives a sparse operand a gradient at its own positions only; torch.mm (MmBackward0) gives it
the whole dense product, as PyTorch does. A product of two sparse matrices is sparse.
"""
import functools

from . import _autograd


def _is_sparse(t):
    return getattr(t, "_sparse", False)  # NOTE: True for COO and the compressed layouts alike


def _coo(t):
    """A compressed-layout (CSR, ...) operand as COO, which the products compute with."""
    return t.to_sparse_coo() if getattr(t, "_compressed", False) else t


def mm(mat1, mat2):
    """mat1 @ mat2 with either (or both) sparse: dense unless both are sparse."""
    from . import mm as sparse_mm
    a, b = _coo(mat1), _coo(mat2)
    if a._sparse and b._sparse:
        product = sparse_mm(a, b)
        if getattr(mat1, "_compressed", False) or getattr(mat2, "_compressed", False):
            from ._compressed_build import from_coo  # NOTE: compressed @ compressed is CSR, as PyTorch's
            return from_coo(product.coalesce(), "sparse_csr", None)
        return product
    if b._sparse:
        return mm(b.t(), a.t()).t()
    if _autograd.tracking(a):
        return _autograd.DenseGradMm.apply(a, b)
    return sparse_mm(a, b)


def matmul(input, other):
    """matmul with a sparse operand: a 2-D sparse matrix times a matrix or a vector (or the reverse)."""
    if other.dim() == 1:
        return mm(input, other.unsqueeze(1)).squeeze(1)
    if input.dim() == 1:
        return mm(input.unsqueeze(0), other).squeeze(0)
    return mm(input, other)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2) with a sparse mat1 or mat2 (sparse when input is)."""
    product = mm(mat1, mat2)
    result = (input * beta if beta != 1 else input) + (product * alpha if alpha != 1 else product)
    return result if out is None else out.copy_(result)


def _routed(dense_fn, sparse_fn):
    """dense_fn, except that sparse operands go to sparse_fn."""
    def fn(*args, **kwargs):
        for a in args:  # NOTE: a plain loop: this wraps every matrix product, sparse or not
            if getattr(a, "_sparse", False):
                return sparse_fn(*args, **kwargs)
        return dense_fn(*args, **kwargs)
    return functools.wraps(dense_fn)(fn)


# --- PyTorch's legacy names ---------------------------------------------------------------------------
def _row_product(mat1, mat2, name):
    """The rows of mat1 @ mat2 where sparse mat1 has entries: (rows, their product rows)."""
    if not _is_sparse(mat1):
        if name == "hspmm":
            from ._surface import not_implemented
            raise not_implemented("hspmm", mat1)
        raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
    a = _coo(mat1)
    rows = a._idx[0].unique() if a._nnz() else a._idx[0]
    return rows, mm(a, mat2).index_select(0, rows)


def hspmm(mat1, mat2):
    """torch.hspmm: sparse @ dense as a tensor sparse in its rows (sparse_dim 1): the rows where mat1 has
    entries, each a dense row of the product."""
    from .._sparse import _make
    rows, values = _row_product(mat1, mat2, "hspmm")
    return _autograd.from_values(values, rows.unsqueeze(0), (mat1.shape[0], mat2.shape[1]), True) \
        if _autograd.tracking(values) else _make(rows.unsqueeze(0), values, (mat1.shape[0], mat2.shape[1]), True)


def hsmm(mat1, mat2):
    """torch.hsmm: the same as hspmm."""
    return hspmm(mat1, mat2)


def _entries(mat1, mat2, name):
    """mat1 @ mat2 as a 2-D sparse tensor holding every column of each row where mat1 has entries."""
    rows, values = _row_product(mat1, mat2, name)
    p = mat2.shape[1]
    indices = _stack_rows_cols(rows, p)
    return _autograd.from_values(values.reshape(-1), indices, (mat1.shape[0], p), True)


def _stack_rows_cols(rows, p):
    from .._ops.shape.join import stack
    cols = rows.new_zeros(p) + rows.new_ones(p).cumsum(0) - 1
    return stack((rows.repeat_interleave(p), cols.repeat(rows.shape[0])))


def smm(input, mat):
    """torch.smm: sparse input @ dense mat as a sparse tensor (every column of each row input has entries in)."""
    return _entries(input, mat, "smm")


def dsmm(mat1, mat2):
    """torch.dsmm: sparse @ dense -> dense."""
    return mm(mat1, mat2)


def spmm(mat1, mat2):
    """torch.spmm: sparse @ dense -> dense."""
    return mm(mat1, mat2)


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """torch.sspaddmm: beta * input + alpha * (mat1 @ mat2) with sparse input and mat1: a sparse result whose
    entries are input's and then the product's (uncoalesced, as PyTorch's)."""
    if not _is_sparse(input):
        raise RuntimeError("sspaddmm: expected 'self' to be a sparse tensor")
    if _autograd.tracking(input, mat1, mat2):
        # NOTE: refused rather than recording a graph that would give no gradient
        raise NotImplementedError("ember's sspaddmm does not record gradients; call it under no_grad()")
    from .._sparse import _cat_entries
    result = _cat_entries(input._raw_scale(beta), _entries(mat1, mat2, "sspaddmm"), alpha)
    result._coalesced = False
    return result if out is None else out.copy_(result)


def saddmm(input, mat1, mat2, *, beta=1, alpha=1):
    """torch.saddmm: the same as sspaddmm."""
    return sspaddmm(input, mat1, mat2, beta=beta, alpha=alpha)


def _bind():
    from .._ops._registry import FUNCTIONS, bind, rewrap
    from .._tensor import Tensor
    dense = {name: FUNCTIONS[name] for name in ("mm", "matmul", "mv", "addmm")}
    sparse = {"mm": mm, "matmul": matmul, "mv": matmul, "addmm": addmm}
    for name in dense:
        rewrap(name, lambda f, n=name: _routed(f, sparse[n]), function=True)
        rewrap(name, lambda f, n=name: _routed(f, sparse[n]), method=True)
    rewrap("__matmul__", lambda f: _routed(f, matmul), method=True)
    for fn in (smm, hsmm, dsmm, spmm, hspmm, saddmm, sspaddmm):
        bind(fn.__name__, fn)
    for fn in (smm, sspaddmm):
        from .._ops._registry import bind_method
        bind_method(fn.__name__, fn)
    del Tensor


_bind()
