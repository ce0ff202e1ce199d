"""Elementwise ops on sparse tensors, as PyTorch has them: the unary ops that keep zero at zero (abs, sqrt,
sin, relu, ...: applied to the stored values of the coalesced tensor, so the unstored entries stay
unstored), pow by a number, sum as a method and through torch.sum, and the product with a dense or sparse
tensor of the same shape (the entries where both can be nonzero). Differentiable through the values.
"""
import builtins
import functools

from .. import _dtype
from .._sparse import SparseTensor
from .._sparse_compressed import CompressedTensor
from .._tensor import Tensor, _wrap
from . import _autograd

# NOTE: f(0) == 0 for each, so that applying f to the stored values alone is applying it everywhere
ZERO_PRESERVING = ("abs", "sqrt", "relu", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh", "atanh", "expm1",
                   "log1p", "sign", "sgn", "trunc", "floor", "ceil", "round", "erf", "erfinv", "deg2rad", "rad2deg",
                   "frac", "signbit", "isnan", "isinf", "isposinf", "isneginf")
COO_ONLY = ("square",)


def _coo_values(s):
    """(s coalesced, its values: recorded when s requires grad)."""
    s = s.coalesce()
    return s, (s.values() if _autograd.tracking(s) else s._vals)


def _unary(name):
    def op(self, *args, **kwargs):
        if isinstance(self, CompressedTensor):
            if name in COO_ONLY:
                return self._unsupported()
            return self._structure(getattr(self.values(), name)(*args, **kwargs))
        s, values = _coo_values(self)
        return _autograd.from_values(getattr(values, name)(*args, **kwargs), s._idx, s.shape, True)
    op.__name__ = name
    op.__doc__ = f"{name} of a sparse tensor: applied to its stored values (f(0) is 0), unstored entries stay unstored."
    return op


def pow(self, exponent):  # noqa: A001 - PyTorch's name
    """A sparse tensor to a (nonzero) number's power, entry by entry (coalesced first)."""
    if isinstance(self, CompressedTensor):
        return self._unsupported()
    if isinstance(exponent, Tensor):
        raise NotImplementedError("ember raises a sparse tensor to a number's power only")
    if exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make the result tensor dense")
    s, values = _coo_values(self)
    return _autograd.from_values(values ** exponent, s._idx, s.shape, True)


def sum(self, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - PyTorch's name
    """Tensor.sum of a sparse COO tensor: a 0-d dense tensor over everything, else torch.sparse.sum's sparse
    result; a compressed tensor sums to a dense one."""
    from . import sum as sparse_sum
    if isinstance(self, CompressedTensor):
        return self._sum(dim, keepdim, dtype)
    if keepdim:
        raise NotImplementedError("ember's sparse sum does not keep dims")
    if dim is None:  # NOTE: through dense + sparse, so that the gradient is dense, as PyTorch's SumBackward0
        return self.__radd__(self._vals.new_zeros(self.shape)).sum(dtype=dtype)
    return sparse_sum(self, dim, dtype)


def mul(self, other):
    """sparse * number, * dense or * sparse of the same shape: sparse, at the entries where both can be
    nonzero."""
    if isinstance(other, (builtins.int, builtins.float)) or (isinstance(other, Tensor) and not other._sparse and
                                                              other.dim() == 0):
        return self._scalar_mul(other)
    if not isinstance(other, Tensor):
        return NotImplemented
    if tuple(other.shape) != tuple(self.shape):
        raise RuntimeError(f"mul: expected 'self' and 'other' to have the same size, but self has size "
                           f"{list(self.shape)} while other has size {list(other.shape)}")
    if isinstance(self, CompressedTensor):
        from ._compressed_build import from_coo
        return from_coo(mul(self.to_sparse_coo(), other.to_sparse_coo() if other._sparse else other).coalesce(),
                        self._lay, None)
    if other._sparse:
        s, values = _coo_values(self)
        o = other.to_sparse_coo() if isinstance(other, CompressedTensor) else other
        s, values = _intersect(s, values, o)
        dense = o.to_dense()
    else:  # NOTE: linear in self: each stored entry (repeats too) times the dense value at its position
        s, values, dense = self, self._vals, other
        if _autograd.tracking(self):
            s, values = _coo_values(self)  # NOTE: recorded values need the coalesced tensor
    k = s.sparse_dim()
    at = dense[tuple(s._idx[d] for d in range(k))] if k else dense.unsqueeze(0)
    dtype = _dtype.promote_types(self.dtype, other.dtype)
    return _autograd.from_values(values.to(dtype) * at.to(dtype), s._idx, s.shape, True)


def _intersect(s, values, other):
    """s's entries (and values) at the positions `other` stores."""
    xp = s._device.backend.xp
    o = other.coalesce()
    k = s.sparse_dim()
    shape = tuple(s.shape[:k])
    mine = xp.ravel_multi_index(tuple(s._idx._data), shape) if k else xp.zeros(s._nnz(), xp.int64)
    theirs = xp.ravel_multi_index(tuple(o._idx._data), shape) if k else xp.zeros(o._nnz(), xp.int64)
    keep = _wrap(xp.nonzero(xp.isin(mine, theirs))[0].astype(xp.int64), s._device, _dtype.int64)
    from .._sparse import _make
    kept = _make(s._idx.index_select(1, keep), s._vals.index_select(0, keep), s.shape, True)
    return kept, values.index_select(0, keep)


def _routed(sparse_fn):
    """dense_fn -> the same, except that a sparse input goes to sparse_fn."""
    def wrap(dense_fn):
        @functools.wraps(dense_fn)
        def fn(input, *args, **kwargs):
            if getattr(input, "_sparse", False):
                return sparse_fn(input, *args, **kwargs)
            return dense_fn(input, *args, **kwargs)
        return fn
    return wrap


def _routed_mul(dense_fn):
    """torch.mul / Tensor.mul: a sparse operand on either side makes a sparse product."""
    @functools.wraps(dense_fn)
    def fn(input, other, *args, **kwargs):
        if getattr(input, "_sparse", False):
            return mul(input, other, *args, **kwargs)
        if getattr(other, "_sparse", False):
            return mul(other, input, *args, **kwargs)
        return dense_fn(input, other, *args, **kwargs)
    return fn


def _rsub(self, other):
    """dense - sparse: a dense tensor."""
    if isinstance(other, Tensor) and not other._sparse:
        return (-self).__radd__(other)
    return NotImplemented


def _bind():
    from .._ops._registry import FUNCTIONS, rewrap
    ops = {name: _unary(name) for name in ZERO_PRESERVING + COO_ONLY if name in FUNCTIONS}
    ops.update(pow=pow, sum=sum)
    for name, op in ops.items():
        # NOTE: the sparse classes' own methods (Tensor's stay as they are); torch.<name> routes sparse inputs
        for cls in (SparseTensor, CompressedTensor):
            setattr(cls, name, op)
        rewrap(name, _routed(op), function=True)
    for cls in (SparseTensor, CompressedTensor):
        cls.__pow__ = pow
        cls.mul = cls.__mul__ = cls.__rmul__ = mul
    # NOTE: Python tries a subclass's reflected operator first, so dense - sparse reaches __rsub__
    SparseTensor.__rsub__ = _rsub
    CompressedTensor.__rsub__ = CompressedTensor._unsupported  # NOTE: PyTorch refuses dense - CSR
    rewrap("mul", _routed_mul, function=True)
    rewrap("mul", _routed_mul, method=True)


_bind()
