"""The LDL^T (LDL^H) factorisation of symmetric (Hermitian) matrices with Bunch-Kaufman pivoting:
torch.linalg.ldl_factor, ldl_factor_ex, ldl_solve. Neither has a gradient in PyTorch: their outputs carry
PyTorch's NotImplemented node, whose backward raises."""
import math

from ... import _dtype
from ...autograd.function import Primitive
from .._linalg_util import check_float, check_matrix, type_name
from .._registry import OpSpec, spec, write_out, write_outs
from ..reduction.reduce import _return_type

LdlFactorResult = _return_type("linalg_ldl_factor", ("LD", "pivots"))
LdlFactorExResult = _return_type("linalg_ldl_factor_ex", ("LD", "pivots", "info"))
_ALPHA = (1 + math.sqrt(17)) / 8  # NOTE: Bunch-Kaufman's threshold, minimising element growth


# --- the factorisation of one matrix (LAPACK's sytf2 / hetf2, lower storage) -------------------------------------
def _cabs1(v):
    """LAPACK's |re| + |im| (the plain absolute value for reals)."""
    return abs(v.real) + abs(v.imag)


def _div(x, y):
    """x / y with IEEE results for a zero divisor (inf, nan), as LAPACK's arithmetic gives on singular D."""
    try:
        return x / y
    except ZeroDivisionError:
        if isinstance(x, complex) or isinstance(y, complex):
            return complex(math.nan, math.nan)
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * (math.copysign(1, y))


class _Matrix:
    """One matrix as nested Python lists: Bunch-Kaufman's choices are per element and sequential, so
    the loop runs on host scalars. NOTE: the factorisation is O(n^3) Python operations; fine for the
    matrix sizes this routine sees in practice, slow for large n."""

    def __init__(self, rows, hermitian):
        self.a = rows
        self.n = len(rows)
        self.herm = hermitian

    def conj(self, v):
        return v.conjugate() if self.herm else v

    def diag_abs(self, k):
        v = self.a[k][k]
        return abs(v.real) if self.herm else _cabs1(v)


def _sytf2(rows, hermitian):
    """Factor the lower triangle in place; returns (rows, 1-based pivots, info)."""
    M = _Matrix(rows, hermitian)
    a, n = M.a, M.n
    ipiv = [0] * n
    info = 0
    k = 0
    while k < n:
        kstep = 1
        absakk = M.diag_abs(k)
        if k + 1 < n:
            imax = max(range(k + 1, n), key=lambda i: (_cabs1(a[i][k]), -i))
            colmax = _cabs1(a[imax][k])
        else:
            imax, colmax = k, 0.0
        if max(absakk, colmax) == 0 or math.isnan(absakk):
            if info == 0:
                info = k + 1
            kp = k
            if hermitian:
                a[k][k] = complex(a[k][k].real, 0) if isinstance(a[k][k], complex) else a[k][k]
        else:
            if absakk >= _ALPHA * colmax:
                kp = k
            else:
                rowmax = max((_cabs1(a[imax][j]) for j in range(k, imax)), default=0.0)
                if imax + 1 < n:
                    rowmax = max(rowmax, max(_cabs1(a[j][imax]) for j in range(imax + 1, n)))
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    kp = k
                elif M.diag_abs(imax) >= _ALPHA * rowmax:
                    kp = imax
                else:
                    kp, kstep = imax, 2
            kk = k + kstep - 1
            if kp != kk:
                _interchange(M, k, kk, kp, kstep)
            if kstep == 1:
                _update_one(M, k)
            else:
                _update_two(M, k)
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return a, ipiv, info


def _interchange(M, k, kk, kp, kstep):
    """Swap rows and columns kk and kp of the trailing lower triangle."""
    a, n = M.a, M.n
    for i in range(kp + 1, n):
        a[i][kk], a[i][kp] = a[i][kp], a[i][kk]
    for j in range(kk + 1, kp):
        a[j][kk], a[kp][j] = M.conj(a[kp][j]), M.conj(a[j][kk])
    if M.herm:
        a[kp][kk] = M.conj(a[kp][kk])
        a[kk][kk], a[kp][kp] = _real(a[kp][kp]), _real(a[kk][kk])
    else:
        a[kk][kk], a[kp][kp] = a[kp][kp], a[kk][kk]
    if kstep == 2:
        if M.herm:
            a[k][k] = _real(a[k][k])
        a[k + 1][k], a[kp][k] = a[kp][k], a[k + 1][k]


def _real(v):
    return complex(v.real, 0) if isinstance(v, complex) else v


def _update_one(M, k):
    """A 1x1 pivot: A22 -= x x^T / d (x x^H for Hermitian), then x /= d."""
    a, n = M.a, M.n
    d = _div(1, a[k][k].real if M.herm else a[k][k])
    col = [a[i][k] for i in range(k + 1, n)]
    for jj, j in enumerate(range(k + 1, n)):
        cj = M.conj(col[jj])
        for ii in range(jj, n - k - 1):
            a[k + 1 + ii][j] -= d * col[ii] * cj
        if M.herm:
            a[j][j] = _real(a[j][j])
    for i in range(k + 1, n):
        a[i][k] *= d


def _update_two(M, k):
    """A 2x2 pivot block D on rows k, k+1: A22 -= W D^{-1} W^T, then W := W D^{-1}."""
    a, n = M.a, M.n
    if k + 2 >= n:
        return
    if M.herm:
        d = abs(a[k + 1][k])
        d11 = _div(a[k + 1][k + 1].real, d)
        d22 = _div(a[k][k].real, d)
        tt = _div(1, d11 * d22 - 1)
        d21 = _div(a[k + 1][k], d)
        d = _div(tt, d)
        for j in range(k + 2, n):
            wk = d * (d11 * a[j][k] - d21 * a[j][k + 1])
            wkp1 = d * (d22 * a[j][k + 1] - d21.conjugate() * a[j][k])
            for i in range(j, n):
                a[i][j] -= a[i][k] * wk.conjugate() + a[i][k + 1] * wkp1.conjugate()
            a[j][k], a[j][k + 1] = wk, wkp1
            a[j][j] = _real(a[j][j])
        return
    d21 = a[k + 1][k]
    d11 = _div(a[k + 1][k + 1], d21)
    d22 = _div(a[k][k], d21)
    t = _div(1, d11 * d22 - 1)
    d21 = _div(t, d21)
    for j in range(k + 2, n):
        wk = d21 * (d11 * a[j][k] - a[j][k + 1])
        wkp1 = d21 * (d22 * a[j][k + 1] - a[j][k])
        for i in range(j, n):
            a[i][j] -= a[i][k] * wk + a[i][k + 1] * wkp1
        a[j][k], a[j][k + 1] = wk, wkp1


# --- the solve of one matrix's factors (LAPACK's sytrs / hetrs, lower storage) -----------------------------------
def _sytrs(a, ipiv, b, hermitian):
    """X with A X = B from the factors; b is a list of rows (each a list over the right-hand sides)."""
    n = len(a)
    conj = (lambda v: v.conjugate()) if hermitian else (lambda v: v)
    k = 0
    while k < n:  # NOTE: L D Y = P^T B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            b[k], b[kp] = b[kp], b[k]
            for i in range(k + 1, n):
                b[i] = [bi - a[i][k] * bk for bi, bk in zip(b[i], b[k])]
            d = a[k][k].real if hermitian else a[k][k]
            b[k] = [_div(v, d) for v in b[k]]
            k += 1
        else:
            kp = -ipiv[k] - 1
            b[k + 1], b[kp] = b[kp], b[k + 1]
            for i in range(k + 2, n):
                b[i] = [bi - a[i][k] * x - a[i][k + 1] * y for bi, x, y in zip(b[i], b[k], b[k + 1])]
            off = a[k + 1][k]
            akm1 = _div(a[k][k], conj(off))
            ak = _div(a[k + 1][k + 1], off)
            denom = akm1 * ak - 1
            rows_k, rows_k1 = [], []
            for x, y in zip(b[k], b[k + 1]):
                bkm1, bk = _div(x, conj(off)), _div(y, off)
                rows_k.append(_div(ak * bkm1 - bk, denom))
                rows_k1.append(_div(akm1 * bk - bkm1, denom))
            b[k], b[k + 1] = rows_k, rows_k1
            k += 2
    k = n - 1
    while k >= 0:  # NOTE: L^T X = Y (L^H for Hermitian), then undo the interchanges
        if ipiv[k] > 0:
            for i in range(k + 1, n):
                b[k] = [bk - conj(a[i][k]) * bi for bk, bi in zip(b[k], b[i])]
            kp = ipiv[k] - 1
            b[k], b[kp] = b[kp], b[k]
            k -= 1
        else:
            for i in range(k + 1, n):
                b[k] = [bk - conj(a[i][k]) * bi for bk, bi in zip(b[k], b[i])]
                b[k - 1] = [bk - conj(a[i][k - 1]) * bi for bk, bi in zip(b[k - 1], b[i])]
            kp = -ipiv[k] - 1
            b[k], b[kp] = b[kp], b[k]
            k -= 2
    return b


# --- primitives ------------------------------------------------------------------------------------------------
class LdlFactor(Primitive):
    """(LD, pivots, info) of a symmetric or Hermitian matrix (lower triangle read)."""
    node_name = "NotImplemented"
    batch_rule = None

    @staticmethod
    def forward(ctx, a, hermitian=False):
        xp = ctx.xp
        batch, n = a.shape[:-2], a.shape[-1]
        host = _to_host_lists(xp, a)
        lds, pivots, infos = [], [], []
        herm = hermitian and a.dtype.kind == "c"
        for m in host:
            rows, ipiv, info = _sytf2(m, herm)
            lds.append([[rows[i][j] if j <= i else 0 for j in range(n)] for i in range(n)])
            pivots.append(ipiv)
            infos.append(info)
        ld = xp.asarray(lds, dtype=a.dtype).reshape(a.shape)
        piv = xp.asarray(pivots, dtype=xp.int32).reshape(batch + (n,))
        info = xp.asarray(infos, dtype=xp.int32).reshape(batch)
        ctx.mark_non_differentiable(piv, info)
        return ld, piv, info

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def _to_host_lists(xp, a):
    """The matrices of a batch as nested lists of Python numbers (the factorisation loops on the host)."""
    n = a.shape[-1]
    count = 1
    for size in a.shape[:-2]:
        count *= size
    flat = a.reshape((count, n, n))
    return flat.tolist() if hasattr(flat, "tolist") else [[list(r) for r in m] for m in flat]


class LdlSolve(Primitive):
    """X with A X = B from ldl_factor's LD and pivots (batch dims broadcast)."""
    inputs = 2
    node_name = "NotImplemented"
    batch_rule = None

    @staticmethod
    def forward(ctx, ld, b, pivots, hermitian=False):
        xp = ctx.xp
        batch = xp.broadcast_shapes(ld.shape[:-2], b.shape[:-2], pivots.shape[:-1])
        n, k = b.shape[-2:]
        lds = _to_host_lists(xp, xp.broadcast_to(ld, batch + ld.shape[-2:]))
        bs = _to_host_lists_rect(xp.broadcast_to(b, batch + b.shape[-2:]))
        pivs = xp.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape((-1, n)).tolist() if n else \
            [[] for _ in lds]
        herm = hermitian and ld.dtype.kind == "c"
        out = [_sytrs(m, p, rows, herm) for m, p, rows in zip(lds, pivs, bs)]
        return xp.asarray(out, dtype=b.dtype).reshape(batch + (n, k))

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def _to_host_lists_rect(b):
    n, k = b.shape[-2:]
    count = 1
    for size in b.shape[:-2]:
        count *= size
    return b.reshape((count, n, k)).tolist()


# --- public functions ------------------------------------------------------------------------------------------
def _factor(name, A, hermitian, check_errors):
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    check_matrix(name, A)
    from .triangular import refuse_low_precision
    refuse_low_precision("ldl_factor_kernel_cpu", A)
    check_float(name, A)
    LD, pivots, info = LdlFactor.apply(A, bool(hermitian))
    if check_errors and bool(info._data.any()):
        # NOTE: PyTorch 2.13 fails an internal assert here ("Unknown error code"); ember says what happened
        first = int(info._data.reshape(-1)[info._data.reshape(-1) != 0][0])
        raise RuntimeError(f"{name}: The factorization could not be completed because the block diagonal matrix D "
                           f"is singular (D[{first},{first}] is zero).")
    return LD, pivots, info


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """(LD, pivots, info): the Bunch-Kaufman LDL^T factorisation (LDL^H when hermitian) as LAPACK's sytrf
    returns it; info > 0 where D is singular."""
    result = LdlFactorExResult(*_factor("torch.linalg.ldl_factor_ex", A, hermitian, check_errors))
    return write_outs(out, result, "linalg_ldl_factor_ex")


def ldl_factor(A, *, hermitian=False, out=None):
    """(LD, pivots) of the Bunch-Kaufman LDL^T factorisation; raises where D is singular."""
    # NOTE: PyTorch names ldl_factor_ex in ldl_factor's errors too (it calls it)
    LD, pivots, _ = _factor("torch.linalg.ldl_factor_ex", A, hermitian, True)
    return write_outs(out, LdlFactorResult(LD, pivots), "linalg_ldl_factor")


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """X with A X = B from A's LDL factorisation (ldl_factor's LD and pivots)."""
    name = "torch.linalg.ldl_solve"
    if LD._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor LD must have at least 2 dimensions.")
    check_matrix(name, LD, what="LD")
    if B._data.ndim < 2:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    if B._dtype is not LD._dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {type_name(B)} and A of "
                           f"type {type_name(LD)} instead.")
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but each b matrix is "
                           f"{B.shape[-2]} by {B.shape[-1]}")
    if pivots._dtype.category >= _dtype.FLOAT or pivots._dtype is _dtype.bool:
        raise RuntimeError(f"{name}: Expected pivots to be integers. Got {type_name(pivots)}")
    from .triangular import refuse_low_precision
    refuse_low_precision("ldl_solve_kernel_cpu", LD)
    X = LdlSolve.apply(LD, B, pivots._data, bool(hermitian))
    return X if out is None else write_out(out, X, "linalg.ldl_solve")


# --- specs -----------------------------------------------------------------------------------------------------
def _symmetric(g):
    from .decomp import _maybe_complex
    n = g.integers(1, 5)
    a = _maybe_complex(g, g.values((2,) * g.integers(0, 1) + (n, n), domain=(-2, 2)))
    return a + a.swapaxes(-1, -2)


def _ldl_solve_call(torch, A, B):
    LD, pivots = torch.linalg.ldl_factor(A.detach())
    return torch.linalg.ldl_solve(LD, pivots, B.detach())


spec(OpSpec("linalg.ldl_factor", sample=lambda g: ((_symmetric(g),), {}), grad=False, large=False,
            dtypes=("float32", "float64", "complex64"), call=lambda torch, A: tuple(torch.linalg.ldl_factor(A.detach()))),
     OpSpec("linalg.ldl_factor_ex", sample=lambda g: ((_symmetric(g),), {}), grad=False, large=False,
            dtypes=("float64",), call=lambda torch, A: tuple(torch.linalg.ldl_factor_ex(A.detach()))),
     OpSpec("linalg.ldl_solve", arity=2, grad=False, large=False, dtypes=("float32", "float64"), call=_ldl_solve_call,
            sample=lambda g: (lambda a: ((a, g.values(a.shape[:-1] + (g.integers(1, 3),))), {}))(_symmetric(g))))
