"""torch.linalg functions on tensors seen as matrices: tensorinv, tensorsolve, and vander."""
from .._registry import OpSpec, spec


def _prod(shape):
    p = 1
    for s in shape:
        p *= s
    return p


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A seen as a matrix with rows shape[:ind] and columns shape[ind:]."""
    from .decomp import inv
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    if _prod(rows) != _prod(cols):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {_prod(cols)} != {_prod(rows)}")
    result = inv(A.reshape(_prod(rows), _prod(cols))).reshape(tuple(cols) + tuple(rows))
    return result if out is None else out.copy_(result)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) == B; `dims` are moved to the end of A first."""
    from .decomp import solve
    if dims is not None:
        nd = A._data.ndim
        dims = [d % nd for d in dims]
        A = A.permute([d for d in range(nd) if d not in dims] + dims)
    rows = _prod(B.shape)
    x_shape = tuple(A.shape[B._data.ndim:])
    result = solve(A.reshape(rows, _prod(x_shape)), B.reshape(rows)).reshape(x_shape)
    return result if out is None else out.copy_(result)


def vander(x, *, N=None):
    """Vandermonde matrix: column j holds x ** j, for j < N (default: x.shape[-1])."""
    from ..._creation import arange
    n = (x.shape[-1] if x._data.ndim else 1) if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    # NOTE: a cumulative product keeps the gradient finite at x = 0 (pow would give 0 * inf)
    cols = [x.unsqueeze(-1) * 0 + 1]
    for _ in range(1, n):
        cols.append(cols[-1] * x.unsqueeze(-1))
    from ..shape.join import cat
    return cat(cols, -1)


def _tensorinv_sample(g):
    from .decomp import _invertible
    a = _invertible(g, batch=False)
    n = a.shape[-1]
    if n == 2 and g.boolean():
        a4 = a.reshape(1, 2, 2, 1)
        return (a4,), {"ind": 2}
    return (a,), {"ind": 1}


def _tensorsolve_sample(g):
    from .decomp import _invertible
    a = _invertible(g, batch=False)
    n = a.shape[-1]
    return (a.reshape(n, 1, n) if g.boolean() else a, g.values((n,))), {}


spec(OpSpec("linalg.tensorinv", dtypes=("float64",), sample=_tensorinv_sample, call=lambda torch, A, **kw: torch.linalg.tensorinv(A, **kw)),
     OpSpec("linalg.tensorsolve", dtypes=("float64",), arity=2, sample=_tensorsolve_sample,
            call=lambda torch, A, B: torch.linalg.tensorsolve(A, B)),
     OpSpec("linalg.vander", sample=lambda g: ((g.values(g.shape(1, 2, 2, 4)),), {"N": g.choice([None, 2, 3])}),
            dtypes=("float32", "float64", "int64"), large=False,  # NOTE: n -> n x n powers, overflowing
            call=lambda torch, x, **kw: torch.linalg.vander(x, **kw)))
