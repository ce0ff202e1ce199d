"""Sparse compressed tensors: the CSR, CSC, BSR and BSC layouts (torch.sparse_csr_tensor & co.).

A compressed matrix of shape (n, m, *dense dims) stores, for each row (CSR/BSR) or column (CSC/BSC), the range
of its entries: `compressed` indices (crow_indices / ccol_indices, length rows + 1, or blocks + 1), `plain`
indices (col_indices / row_indices, one per entry) and `values` (one per entry: a number, a dense row for
the dense dims, or an R x C block for BSR/BSC). Only 2-D matrices (with dense dims for CSR/CSC) are
supported; PyTorch's batched compressed tensors are not.

The COO layout (ember/_sparse.py) is the hub: to_dense, products and sums convert to COO first, so what
autograd does through COO holds here too. Three autograd Functions join the layouts: building from values
(the values' gradient read at each entry), values() (a gradient with the same structure) and the conversion
to COO (a sparse gradient masked back to this structure; a dense one passes as PyTorch's torch.mm gives it).
"""
from . import _dtype, _state
from ._sparse import SparseShape, _make as _make_coo
from ._tensor import Tensor, _wrap
from .autograd.function import Function

ROW_LAYOUTS = ("sparse_csr", "sparse_bsr")
BLOCK_LAYOUTS = ("sparse_bsr", "sparse_bsc")
_NAMES = {"sparse_csr": ("crow_indices", "col_indices"), "sparse_bsr": ("crow_indices", "col_indices"),
          "sparse_csc": ("ccol_indices", "row_indices"), "sparse_bsc": ("ccol_indices", "row_indices")}


def _tracking(*tensors):
    return _state.local.grad_enabled and any(getattr(t, "requires_grad", False) for t in tensors)


class CompressedTensor(SparseShape, Tensor):
    """A sparse CSR / CSC / BSR / BSC matrix (see the module docstring)."""

    __slots__ = ("_cidx", "_pidx", "_vals", "_sparse_shape", "_lay", "_block")
    _sparse = True  # NOTE: no dense array: the engine and optimizers take the sparse paths
    _compressed = True

    @property
    def _data(self):
        from .sparse._surface import layout_name
        raise RuntimeError(f"unsupported tensor layout: {layout_name(self)} (ember supports compressed sparse "
                           "tensors in to_dense(), conversions, +, * by a number, sum and matrix products)")

    @property
    def layout(self):
        from ._types import LAYOUTS
        return LAYOUTS[self._lay]

    @property
    def is_sparse(self):
        return False

    def is_contiguous(self, memory_format=None):
        raise RuntimeError("Sparse CSR tensors do not have is_contiguous")

    # --- the structure ------------------------------------------------------------------------------
    def sparse_dim(self):
        return 2

    def dense_dim(self):
        return len(self._sparse_shape) - 2

    def _nnz(self):
        return self._pidx.shape[0]

    def _index(self, name):
        if name not in _NAMES[self._lay]:
            from .sparse._surface import METHODS
            return METHODS[name](self)  # NOTE: PyTorch's error naming this layout
        return self._cidx if name == _NAMES[self._lay][0] else self._pidx

    def crow_indices(self):
        return self._index("crow_indices")

    def col_indices(self):
        return self._index("col_indices")

    def ccol_indices(self):
        return self._index("ccol_indices")

    def row_indices(self):
        return self._index("row_indices")

    def values(self):
        if _tracking(self):
            return Values.apply(self)
        return self._vals

    def _structure(self, values, node=None):
        """A tensor with this structure and other values (recorded when they require grad; `node` names the
        op in grad_fn, as PyTorch's)."""
        if _tracking(values):
            return _build(node).apply(values, self._cidx, self._pidx, self._sparse_shape, self._lay, self._block)
        return _make(self._cidx, self._pidx, values, self._sparse_shape, self._lay, self._block)

    def _entry_positions(self):
        """(rows, cols) of each stored entry (block) in storage order, as int64 arrays."""
        xp = self._device.backend.xp
        compressed = self._cidx._data.astype(xp.int64)
        counts = compressed[1:] - compressed[:-1]
        major = xp.repeat(xp.arange(counts.shape[0], dtype=xp.int64), counts)
        plain = self._pidx._data.astype(xp.int64)
        return (major, plain) if self._lay in ROW_LAYOUTS else (plain, major)

    # --- conversions --------------------------------------------------------------------------------
    def to_sparse_coo(self):
        """The same matrix as a COO tensor (entries in this tensor's order; BSR/BSC blocks spelled out)."""
        if _tracking(self):
            return ToCoo.apply(self)
        return self._raw_coo()

    def _raw_coo(self):
        xp = self._device.backend.xp
        rows, cols = self._entry_positions()
        values = self._vals
        coalesced = self._lay == "sparse_csr"
        if self._lay in BLOCK_LAYOUTS:
            r, c = self._block
            rows = (rows[:, None, None] * r + xp.arange(r)[None, :, None] + xp.zeros((1, 1, c), xp.int64)).reshape(-1)
            cols = (cols[:, None, None] * c + xp.arange(c)[None, None, :] + xp.zeros((1, r, 1), xp.int64)).reshape(-1)
            values = values.reshape((-1,) + tuple(values.shape[3:]))
            coalesced = False
        indices = _wrap(xp.stack((rows, cols)).reshape(2, -1), self._device, _dtype.int64)
        return _make_coo(indices, values, self._sparse_shape, coalesced or self._nnz() <= 1)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout is None or str.__str__(layout) == "sparse_coo":
            return self.to_sparse_coo()
        return _convert(self, str.__str__(layout), blocksize, dense_dim)

    def to_sparse_csr(self, dense_dim=None):
        return _convert(self, "sparse_csr", None, dense_dim)

    def to_sparse_csc(self, dense_dim=None):
        return _convert(self, "sparse_csc", None, dense_dim)

    def to_sparse_bsr(self, blocksize, dense_dim=None):
        return _convert(self, "sparse_bsr", blocksize, dense_dim)

    def to_sparse_bsc(self, blocksize, dense_dim=None):
        return _convert(self, "sparse_bsc", blocksize, dense_dim)

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The dense matrix."""
        if dtype is not None:
            raise RuntimeError(f"dtype argument is not supported by {self._lay}_to_dense")
        return self.to_sparse_coo().to_dense(masked_grad=masked_grad)

    def clone(self, *, memory_format=None):
        return self._structure(self.values().clone(), "CloneBackward0")

    def detach(self):
        return _make(self._cidx, self._pidx, self._vals.detach(), self._sparse_shape, self._lay, self._block)

    def to(self, *args, **kwargs):
        values = self.values().to(*args, **kwargs)
        if values is self._vals:
            return self
        device = values.device
        return (self._structure(values, "ToCopyBackward0") if device == self.device else
                _restructure(self, self._cidx.to(device), self._pidx.to(device), values))

    def double(self):
        return self.to(_dtype.float64)

    def float(self):
        return self.to(_dtype.float32)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else device)

    # --- arithmetic ---------------------------------------------------------------------------------
    def _scalar_mul(self, other):
        """self * a number or a 0-d dense tensor (mul itself is ember/sparse/_pointwise.py's)."""
        return self._structure(self.values() * other, "MulBackward0")

    def neg(self):
        return self._structure(-self.values(), "NegBackward0")

    __neg__ = neg

    def _unsupported(self, *args, **kwargs):
        from .sparse._surface import layout_name
        raise RuntimeError(f"unsupported tensor layout: {layout_name(self)}")

    div = __truediv__ = sub = __sub__ = _unsupported  # NOTE: PyTorch refuses these for compressed layouts

    def add(self, other, *, alpha=1):
        """CSR + CSR: CSR (the union of the entries); CSR + dense: dense."""
        if isinstance(other, CompressedTensor):
            if self._lay != "sparse_csr" or other._lay != "sparse_csr":
                from .sparse._surface import layout_name
                raise RuntimeError("crow_indices expected sparse row compressed tensor layout but got "
                                   f"{layout_name(other if self._lay == 'sparse_csr' else self)}")
            total = (self.to_sparse_coo() + other.to_sparse_coo() * alpha).coalesce()
            from .sparse._compressed_build import from_coo
            return from_coo(total, "sparse_csr", None)
        if isinstance(other, Tensor) and not other._sparse:
            return self.__radd__(other if alpha == 1 else other * alpha)
        raise NotImplementedError("ember adds a compressed sparse tensor to one of its layout or a dense tensor")

    __add__ = add

    def add_(self, other, *, alpha=1):
        """In place: self + alpha * other (CSR + CSR), as gradient accumulation needs."""
        total = self.add(other, alpha=alpha)
        self._cidx, self._pidx, self._vals = total._cidx, total._pidx, total._vals
        self._vc[0] += 1
        return self

    def __radd__(self, other):
        if isinstance(other, Tensor) and not other._sparse:
            return other + self.to_sparse_coo()  # NOTE: through COO, so that the gradient stays dense as PyTorch's
        return NotImplemented

    def _sum(self, dim=None, keepdim=False, dtype=None):
        if dim is not None and not keepdim:
            raise RuntimeError("reduction operations on CSR tensors with keepdim=False is unsupported")
        dense = self.__radd__(self._vals.new_zeros(self._sparse_shape))  # NOTE: PyTorch's gradient is dense
        if dim is None:
            return dense.sum(dtype=dtype)
        return dense.sum(dim, keepdim, dtype=dtype).to_sparse_csr()

    def t(self):
        """The transpose: CSR <-> CSC (BSR <-> BSC) with the same arrays."""
        swapped = {"sparse_csr": "sparse_csc", "sparse_csc": "sparse_csr", "sparse_bsr": "sparse_bsc",
                   "sparse_bsc": "sparse_bsr"}[self._lay]
        values = self.values()
        if self._lay in BLOCK_LAYOUTS:
            values = values.transpose(1, 2)
        shape = (self._sparse_shape[1], self._sparse_shape[0]) + self._sparse_shape[2:]
        block = self._block[::-1]
        if _tracking(values):
            return Build.apply(values, self._cidx, self._pidx, shape, swapped, block)
        return _make(self._cidx, self._pidx, values, shape, swapped, block)

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


def _convert(x, layout, blocksize, dense_dim):
    from .sparse._compressed_build import convert  # NOTE: ember.sparse imports this module
    return convert(x, layout, blocksize, dense_dim)


def _make(compressed, plain, values, shape, layout, block=(1, 1)):
    t = object.__new__(CompressedTensor)
    t._cidx, t._pidx, t._vals, t._sparse_shape = compressed, plain, values, tuple(shape)
    t._lay, t._block = layout, tuple(block)
    t._device, t._dtype = values._device, values._dtype
    t._requires_grad = False
    t._grad = t._grad_fn = t._base = t._view_chain = t._accum = None
    t._retains_grad = False
    t._output_nr = 0
    t._vc = [0]
    return t


def _restructure(like, compressed, plain, values):
    return _make(compressed, plain, values, like._sparse_shape, like._lay, like._block)


def _gather_blocks(g, like):
    """The dense-space gradient g read at each stored entry (block) of `like`."""
    from .sparse._autograd import dense_of
    dense = dense_of(g)
    rows, cols = like._entry_positions()
    rows, cols = (_wrap(a, like._device, _dtype.int64) for a in (rows, cols))
    if like._lay in BLOCK_LAYOUTS:
        r, c = like._block
        n, m = like._sparse_shape[:2]
        dense = dense.reshape(n // r, r, m // c, c).permute(0, 2, 1, 3)
    return dense[rows, cols]


class Build(Function):
    """A compressed tensor from values: their gradient is the incoming one read at each entry."""
    node_name = "SparseCompressedTensorBackward0"

    @staticmethod
    def forward(ctx, values, compressed, plain, shape, layout, block):
        out = _make(compressed, plain, values.detach(), shape, layout, block)
        ctx.like = out
        return out

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, CompressedTensor) and g._pidx is ctx.like._pidx and g._lay == ctx.like._lay:
            values = g.values()
        else:
            values = _gather_blocks(g.to_dense() if isinstance(g, CompressedTensor) else g, ctx.like)
        return values, None, None, None, None, None


_BUILDS = {}


def _build(node):
    """Build, under the grad_fn name `node` (the op that made the values)."""
    if node is None:
        return Build
    if node not in _BUILDS:
        _BUILDS[node] = type(node, (Build,), {"node_name": node})
    return _BUILDS[node]


class Values(Function):
    """values(): the gradient is a compressed tensor of the same structure."""
    node_name = "ValuesBackward0"

    @staticmethod
    def forward(ctx, c):
        ctx.like = c.detach()
        return c._vals.detach()

    @staticmethod
    def backward(ctx, g):
        return ctx.like._structure(g)


class ToCoo(Function):
    """to_sparse_coo(): a sparse gradient masked back to this structure; a dense one passes through."""
    node_name = "ToSparseBackward1"

    @staticmethod
    def forward(ctx, c):
        ctx.like = c.detach()
        return ctx.like._raw_coo()

    @staticmethod
    def backward(ctx, g):
        if not g._sparse:
            return g
        return ctx.like._structure(_gather_blocks(g, ctx.like))


# --- printing ------------------------------------------------------------------------------------------
def _repr(t):
    from .sparse._printing import sparse_repr  # NOTE: ember.sparse imports this module
    first, second = _NAMES[t._lay]
    size = "(" + ", ".join(str(s) for s in t._sparse_shape) + ")"
    return sparse_repr(t, ((first, t._cidx), (second, t._pidx), ("values", t._vals)), size, False)
