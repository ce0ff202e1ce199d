"""The LU factorisation with partial pivoting: torch.linalg.lu_factor, lu_factor_ex, lu, lu_solve and the
older torch.lu, lu_unpack, lu_solve. One primitive (the factorisation); unpacking and solving are
compositions of triangular solves, so their gradients come from linalg.solve_triangular's."""
import warnings

from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import Tensor, _wrap
from .._linalg_util import batch_prefix, check_float, mH, type_name
from .._registry import OpSpec, public, spec, write_out, write_outs
from ..reduction.reduce import _return_type

LuFactorResult = _return_type("linalg_lu_factor", ("LU", "pivots"))
LuFactorExResult = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
LuResult = _return_type("linalg_lu", ("P", "L", "U"))
LuUnpackResult = _return_type("lu_unpack", ("P", "L", "U"))
LuWithInfoResult = _return_type("_lu_with_info", ("LU", "pivots", "info"))


# --- the factorisation on arrays -------------------------------------------------------------------------------
def _getrf(xp, a, pivot=True):
    """LAPACK getrf's result for a batch of (m, n) matrices: the packed LU, 1-based int32 pivots, int32 info.

    NOTE: the pivot is the first entry of largest |re| + |im| in the column (LAPACK's i?amax), so the
    row exchanges, and with them the factors, are PyTorch's."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    count = 1
    for size in batch:
        count *= size
    lu = a.reshape((count, m, n)).copy()
    pivots = xp.zeros((count, k), dtype=xp.int32)
    info = xp.zeros((count,), dtype=xp.int32)
    rows = xp.arange(count)
    for j in range(k):
        col = lu[:, j:, j]
        size = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
        p = (xp.argmax(size, axis=1) + j) if pivot else xp.full((count,), j)
        pivots[:, j] = p + 1
        top = lu[rows, j, :].copy()
        lu[rows, j, :] = lu[rows, p, :]
        lu[rows, p, :] = top
        head = lu[:, j, j]
        zero = head == 0
        info = xp.where(zero & (info == 0), j + 1, info).astype(xp.int32)
        # NOTE: a zero pivot leaves its column unscaled, as LAPACK does (info reports it)
        scale = xp.where(zero, 1, head)
        lu[:, j + 1:, j] = lu[:, j + 1:, j] / scale[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), pivots.reshape(batch + (k,)), info.reshape(batch)


def _permutation(xp, pivots, m):
    """perm with (P^T A)[i] = A[perm[i]], from LAPACK's sequence of row exchanges."""
    batch = pivots.shape[:-1]
    count = 1
    for size in batch:
        count *= size
    flat = pivots.reshape((count, pivots.shape[-1])).astype(xp.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    rows = xp.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(batch + (m,))


def _permutation_matrix(xp, pivots, m, dtype):
    """P with A = P L U: P[perm[i], i] = 1."""
    perm = _permutation(xp, pivots, m)
    return xp.swapaxes(xp.eye(m, dtype=dtype)[perm], -1, -2)


# --- the primitive ---------------------------------------------------------------------------------------------
class LuFactor(Primitive):
    """(LU, pivots, info) of A = P L U, with L unit lower-triangular packed below U's diagonal."""
    complex_grad = True
    node_name = "LinalgLuFactorExBackward0"
    batch_rule = None

    @staticmethod
    def forward(ctx, a, pivot=True):
        xp = ctx.xp
        lu, pivots, info = _getrf(xp, a, pivot)
        ctx.mark_non_differentiable(pivots, info)
        ctx.save_for_backward(lu, pivots)
        return lu, pivots, info

    @staticmethod
    def backward(ctx, g, _pivots, _info):
        lu, pivots = ctx.saved_tensors
        m, n = lu.shape[-2:]
        xp = lu._device.backend.xp
        P = _wrap(_permutation_matrix(xp, pivots._data, m, lu._data.dtype), lu._device, lu._dtype)
        return P @ _lu_backward(lu, g)


def _lu_backward(lu, g):
    """The gradient of P^T A for the packed factors: the square formula, plus its extension to the
    extra columns of U (wide A) or the extra rows of L (tall A)."""
    from ..shape.join import cat
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = _unit_lower(lu[..., :, :k])
    U = lu[..., :k, :].triu()
    gL, gU = g[..., :, :k].tril(-1), g[..., :k, :].triu()
    if m == n:
        return _square_backward(L, U, gL, gU)
    if m < n:
        # NOTE: U2 = L^{-1} P^T A2, so A2 gets L^{-H} gU2 and L picks up -L^{-H} gU2 U2^H
        U1, U2, gU1, gU2 = U[..., :, :m], U[..., :, m:], gU[..., :, :m], gU[..., :, m:]
        gA2 = _solve(mH(L), gU2, upper=True, unit=True)
        return cat([_square_backward(L, U1, gL - gA2 @ mH(U2), gU1), gA2], -1)
    # NOTE: L2 = A2 U^{-1}, so A2 gets gL2 U^{-H} and U picks up -L2^H gL2 U^{-H}
    L1, L2, gL1, gL2 = L[..., :n, :], L[..., n:, :], gL[..., :n, :], gL[..., n:, :]
    gA2 = _solve(mH(U), gL2, upper=False, left=False)
    return cat([_square_backward(L1, U, gL1, gU - mH(L2) @ gA2), gA2], -2)


def _square_backward(L, U, gL, gU):
    """gA = L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H} for A = L U (square)."""
    inner = (mH(L) @ gL).tril(-1) + (gU @ mH(U)).triu()
    return _solve(mH(U), _solve(mH(L), inner, upper=True, unit=True), upper=False, left=False)


def _solve(A, B, *, upper, unit=False, left=True):
    from .solvers import solve_triangular
    return solve_triangular(A, B, upper=upper, unitriangular=unit, left=left)


def _unit_lower(t):
    """The strict lower triangle of t with ones on the diagonal (L of a packed LU)."""
    from ..._creation import eye
    m, k = t.shape[-2:]
    return t.tril(-1) + eye(m, k, dtype=t.dtype, device=t.device)


# --- public functions ------------------------------------------------------------------------------------------
def _check_lu_input(name, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    if A._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{type_name(A)}'")
    from .triangular import refuse_low_precision
    refuse_low_precision("lu_cpu", A)
    check_float(name, A)


def _singular(name, info):
    flat = info.reshape(-1).tolist()
    i = next(i for i, v in enumerate(flat) if v)
    # NOTE: a RuntimeError, not torch.linalg.LinAlgError: PyTorch raises this one from a plain TORCH_CHECK
    return RuntimeError(f"{name}: {batch_prefix(info.shape, i)}U[{flat[i]},{flat[i]}] is zero and using it on "
                       "lu_solve would result in a division by zero. If you still want to perform the factorization, "
                       "consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): the packed LU factorisation, LAPACK's 1-based pivots and info (0 when U has no
    zero on its diagonal). pivot=False factors without row exchanges (PyTorch does so only on CUDA)."""
    _check_lu_input("torch.lu_factor_ex", A)
    LU, pivots, info = LuFactor.apply(A, bool(pivot))
    if check_errors and bool(info._data.any()):
        raise _singular("torch.linalg.lu_factor_ex", info._data)
    return write_outs(out, LuFactorExResult(LU, pivots, info), "linalg_lu_factor_ex")


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) of A = P L U; raises when U has a zero on its diagonal."""
    _check_lu_input("torch.lu_factor", A)
    LU, pivots, info = LuFactor.apply(A, bool(pivot))
    if bool(info._data.any()):
        raise _singular("torch.linalg.lu_factor", info._data)
    return write_outs(out, LuFactorResult(LU, pivots), "linalg_lu_factor")


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: L unit lower-triangular (m, k), U upper-triangular (k, n)."""
    _check_lu_input("linalg.lu", A)
    LU, pivots, _ = LuFactor.apply(A, bool(pivot))
    return write_outs(out, LuResult(*lu_unpack(LU, pivots)), "linalg_lu")


@public
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) from lu_factor's packed LU and pivots; an empty tensor for each part not asked for."""
    if LU_pivots._dtype is not _dtype.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
                           "Note: this function is intended to be used with the output produced by "
                           "torch.linalg.lu_factor")
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    xp = LU_data._device.backend.xp
    piv = LU_pivots._data
    if piv.size and (int(piv.min()) < 1 or int(piv.max()) > m):
        raise RuntimeError("pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you properly "
                           "pass the result of lu_factor?")
    empty = LU_data.new_empty((0,))
    if unpack_data:
        L, U = _unit_lower(LU_data[..., :, :k]), LU_data[..., :k, :].triu()
    else:
        L, U = empty, empty
    if unpack_pivots:
        P = _wrap(_permutation_matrix(xp, piv, m, LU_data._data.dtype), LU_data._device, LU_data._dtype)
    else:
        P = empty
    return write_outs(out, LuUnpackResult(P, L, U), "lu_unpack")


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (A^H X = B when adjoint; X A = B when not left) from A's packed LU factorisation."""
    _check_solve(LU, B, left)
    if not left:  # NOTE: X A = B is A^H X^H = B^H
        X = mH(_lu_solve_left(LU, pivots, mH(B), not adjoint))
    else:
        X = _lu_solve_left(LU, pivots, B, adjoint)
    return X if out is None else write_out(out, X, "linalg.lu_solve")


def _check_solve(LU, B, left):
    if LU._data.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor LU must have at least 2 dimensions.")
    m, n = LU.shape[-2:]
    if m != n:
        raise RuntimeError(f"torch.linalg.lu_solve: A must be batches of square matrices, but they are {m} by {n} "
                           "matrices")
    if B._data.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if LU._dtype is not B._dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
                           f"{type_name(LU)} and B of type {type_name(B)} instead")
    from .triangular import refuse_low_precision
    refuse_low_precision("linalg.lu_solve_cpu", LU)
    rows = B.shape[-2] if left else B.shape[-1]
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")


def _lu_solve_left(LU, pivots, B, adjoint):
    xp = LU._device.backend.xp
    P = _wrap(_permutation_matrix(xp, pivots._data, LU.shape[-1], LU._data.dtype), LU._device, LU._dtype)
    if not adjoint:  # NOTE: A = P L U, so X = U^{-1} L^{-1} P^T B
        Y = _solve(LU, P.mT @ B, upper=False, unit=True)
        return _solve(LU, Y, upper=True)
    Y = _solve(mH(LU), B, upper=False)   # NOTE: A^H = U^H L^H P^T, so X = P L^{-H} U^{-H} B
    return P @ _solve(mH(LU), Y, upper=True, unit=True)


@public(method=True, name="lu_solve")
def _torch_lu_solve(input, LU_data, LU_pivots, *, out=None):
    """torch.lu_solve (deprecated in PyTorch): linalg.lu_solve(LU_data, LU_pivots, input)."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future "
                  "PyTorch release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = "
                  "torch.lu_solve(B, LU, pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
                  UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, input, out=out)


@public(method=True, name="lu")
def _torch_lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated in PyTorch): (LU, pivots), and infos when get_infos; never raises for singular A."""
    _check_lu_input("torch.lu_factor", A)
    LU, pivots, info = LuFactor.apply(A, bool(pivot))
    if get_infos:
        return LuWithInfoResult(LU, pivots, info)
    return LU, pivots


# --- specs -----------------------------------------------------------------------------------------------------
def _lu_matrix(g, square=False):
    m = g.integers(1, 4)
    n = m if square else g.integers(1, 4)
    shape = (2,) * g.integers(0, 1) + (m, n)
    a = g.values(shape, domain=(-1, 1))
    for i in range(min(m, n)):
        a[..., i, i] += 3 * (1 if g.boolean() else -1)   # NOTE: a clear pivot: no near-ties between rows
    return a


def _lu_solve_sample(g):
    from .decomp import _maybe_complex
    a = _maybe_complex(g, _lu_matrix(g, square=True))
    n = a.shape[-1]
    kw = {"left": g.boolean(), "adjoint": g.boolean()}
    b = g.values(a.shape[:-2] + ((n, g.integers(1, 3)) if kw["left"] else (g.integers(1, 3), n)))
    return (a, _maybe_complex(g, b)), kw


def _complex_lu_matrix(g):
    from .decomp import _maybe_complex
    return _maybe_complex(g, _lu_matrix(g))


def _lu_solve_call(torch, A, B, **kw):
    LU, pivots = torch.linalg.lu_factor(A)
    return torch.linalg.lu_solve(LU, pivots, B, **kw)


def _torch_lu_solve_call(torch, A, B):
    import warnings as w
    with w.catch_warnings():
        w.simplefilter("ignore")
        LU, pivots = torch.lu(A)
        return torch.lu_solve(B, LU, pivots)


spec(OpSpec("linalg.lu_factor", sample=lambda g: ((_complex_lu_matrix(g),), {}),
            dtypes=("float32", "float64", "complex64"),
            call=lambda torch, A: tuple(torch.linalg.lu_factor(A))),
     OpSpec("linalg.lu_factor_ex", sample=lambda g: ((_lu_matrix(g),), {}), dtypes=("float64",),
            call=lambda torch, A: tuple(torch.linalg.lu_factor_ex(A))),
     OpSpec("linalg.lu", sample=lambda g: ((_lu_matrix(g),), {}), call=lambda torch, A: tuple(torch.linalg.lu(A))[::-1]),  # NOTE: P (no gradient) last for gradcheck
     OpSpec("lu_unpack", sample=lambda g: ((_lu_matrix(g),), {}), dtypes=("float64",),
            call=lambda torch, A: tuple(torch.lu_unpack(*torch.linalg.lu_factor(A)))[::-1]),
     OpSpec("linalg.lu_solve", arity=2, sample=_lu_solve_sample, call=_lu_solve_call,
            dtypes=("float32", "float64", "complex64")),
     OpSpec("lu_solve", arity=2, dtypes=("float64",), call=_torch_lu_solve_call,
            sample=lambda g: (lambda a: ((a, g.values(a.shape[:-1] + (2,))), {}))(_lu_matrix(g, square=True))))
