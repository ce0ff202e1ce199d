"""The sparse structure methods on every Tensor, whatever its layout (indices, values, coalesce, sparse_dim,
crow_indices, ...), and torch.indices_copy & co.

Each sparse layout's class answers what it has (ember/_sparse.py for COO, ember/_sparse_compressed.py for
CSR/CSC/BSR/BSC); what it lacks falls through to the methods here, which give PyTorch's error naming the
layout that was expected and the one found ("crow_indices expected sparse row compressed tensor layout but
got Strided"). A dense tensor has sparse_dim() 0 and dense_dim() ndim, as in PyTorch.
"""
# NOTE: the names PyTorch's messages give the layouts (its c10::Layout printing)
_LAYOUT_NAMES = {"strided": "Strided", "sparse_coo": "Sparse", "sparse_csr": "SparseCsr", "sparse_csc": "SparseCsc",
                 "sparse_bsr": "SparseBsr", "sparse_bsc": "SparseBsc"}
_EXPECTED = {"coo": "sparse coordinate tensor layout", "any": "sparse tensor layout",
             "row": "sparse row compressed tensor layout", "col": "sparse column compressed tensor layout"}


def layout_name(t):
    """The layout as PyTorch's error messages name it (Strided, Sparse, SparseCsr, ...)."""
    return _LAYOUT_NAMES[str.__str__(t.layout)]


def dispatch_key(t):
    """The dispatch key PyTorch names in "Could not run ... from the 'SparseCPU' backend"."""
    prefix = {"strided": "", "sparse_coo": "Sparse"}.get(str.__str__(t.layout), "SparseCsr")
    return prefix + t._device.type.upper()


def not_implemented(op, t):
    """PyTorch's NotImplementedError for an operator that has no kernel for t's layout."""
    return NotImplementedError(f"Could not run 'aten::{op}' with arguments from the '{dispatch_key(t)}' backend. "
                               f"This could be because the operator doesn't exist for this backend")


def _expects(name, kind):
    def method(self):
        raise RuntimeError(f"{name} expected {_EXPECTED[kind]} but got {layout_name(self)}")
    method.__name__ = name
    method.__doc__ = f"Tensor.{name}(): PyTorch's error on a layout that has no {name}."
    return method


def _private(name):
    def method(self):
        raise not_implemented(name, self)
    method.__name__ = name
    method.__doc__ = f"Tensor.{name}(): sparse tensors only (NotImplementedError otherwise, as PyTorch)."
    return method


def sparse_dim(self):
    """The number of sparse dims: 0 for a dense tensor."""
    return 0


def dense_dim(self):
    """The number of dense dims: every dim of a dense tensor."""
    return self.dim()


def _copy(name):
    def fn(input, *, out=None):
        if str.__str__(input.layout) == "sparse_coo":
            # NOTE: PyTorch registers the *_copy ops for strided and compressed layouts only
            raise not_implemented(name + "_copy", input)
        result = getattr(input, name)().clone()
        return result if out is None else out.copy_(result)
    fn.__name__ = name + "_copy"
    fn.__doc__ = f"torch.{name}_copy: a copy of input.{name}() (compressed sparse layouts; COO refuses, as PyTorch)."
    return fn


METHODS = {
    "indices": _expects("indices", "coo"), "coalesce": _expects("coalesce", "coo"),
    "is_coalesced": _expects("is_coalesced", "coo"), "values": _expects("values", "any"),
    "crow_indices": _expects("crow_indices", "row"), "col_indices": _expects("col_indices", "row"),
    "ccol_indices": _expects("ccol_indices", "col"), "row_indices": _expects("row_indices", "col"),
    "_indices": _private("_indices"), "_values": _private("_values"), "_nnz": _private("_nnz"),
    "sparse_dim": sparse_dim, "dense_dim": dense_dim,
}
COPIES = ("indices", "values", "crow_indices", "col_indices", "ccol_indices", "row_indices")


def _is_sparse_csr(self):
    """True for a sparse CSR tensor."""
    return str.__str__(self.layout) == "sparse_csr"


def _bind():
    from .._ops._registry import bind, bind_method
    for name, method in METHODS.items():
        bind_method(name, method)
    for name in COPIES:
        bind(name + "_copy", _copy(name))
    bind_method("is_sparse_csr", property(_is_sparse_csr))


_bind()
