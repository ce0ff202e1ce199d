"""Pseudo-inverses and matrix functions: torch.linalg.pinv, lstsq, matrix_rank, matrix_power,
matrix_exp, multi_dot, vecdot, diagonal, and torch.pinverse / matrix_power / matrix_exp."""
import math

from ... import _dtype
from ...autograd.function import Primitive
from ..reduction.reduce import _quiet
from ..._tensor import _wrap
from .._linalg_util import LstsqResult, check_float, check_matrix, mH, type_name, zero_path
from .._registry import OpSpec, public, spec, write_out
from ..reduction.reduce import _return_type


def _out(result, out, name):
    return result if out is None else write_out(out, result, name)


def _tolerance(xp, s, shape, dtype, atol, rtol):
    """PyTorch's cutoff: max(atol, rtol * largest singular value); rtol defaults to eps * max(m, n)."""
    if rtol is None:
        rtol = float(xp.finfo(dtype).eps) * max(shape[-2:]) if atol is None or atol <= 0 else 0.0
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    return xp.maximum(atol or 0.0, rtol * smax)


# --- pinv ------------------------------------------------------------------------------------------------------
class Pinv(Primitive):
    """Moore-Penrose pseudo-inverse through the SVD (or eigh for Hermitian input)."""
    complex_grad = True
    node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, a, atol=None, rtol=None, hermitian=False):
        xp = ctx.xp
        if a.size == 0:
            out = xp.zeros(a.shape[:-2] + (a.shape[-1], a.shape[-2]), dtype=a.dtype)
        elif hermitian:
            w, v = xp.linalg.eigh(a)
            cut = _tolerance(xp, xp.abs(w), a.shape, a.dtype, atol, rtol)
            winv = xp.where(xp.abs(w) > cut, 1 / xp.where(w == 0, 1, w), 0)
            out = (v * winv[..., None, :]) @ xp.conj(xp.swapaxes(v, -1, -2))
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            cut = _tolerance(xp, s, a.shape, a.dtype, atol, rtol)
            sinv = xp.where(s > cut, 1 / xp.where(s == 0, 1, s), 0).astype(a.dtype)
            out = (xp.conj(xp.swapaxes(vh, -1, -2)) * sinv[..., None, :]) @ xp.conj(xp.swapaxes(u, -1, -2))
        out = out.astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # NOTE: differentiating P = A^+ for constant rank: -P^H g P^H plus the two projections
        a, P = ctx.saved_tensors
        Ph, gh = mH(P), mH(g)
        m, n = a.shape[-2], a.shape[-1]
        eye_m = _eye(m, a)
        eye_n = _eye(n, a)
        first = -(Ph @ g @ Ph)
        second = (eye_m - a @ P) @ gh @ P @ Ph
        third = Ph @ P @ gh @ (eye_n - P @ a)
        return first + second + third


def _eye(n, like):
    from ..._creation import eye
    return eye(n, dtype=like.dtype, device=like.device)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Pseudo-inverse of A (batched); singular values at or below the tolerance count as zero."""
    check_matrix("linalg.pinv", A, square=False)
    check_float("linalg.pinv", A)
    atol, rtol = _scalar(atol), _scalar(rtol)
    return _out(Pinv.apply(A, atol, rtol, bool(hermitian)), out, "linalg.pinv")


def _scalar(v):
    return v.item() if hasattr(v, "item") else v


@public(method=True)
def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


# --- lstsq -----------------------------------------------------------------------------------------------------
def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B: (solution, residuals, rank, singular_values)."""
    check_float("linalg.lstsq", A)
    if A._dtype is not B._dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {type_name(A)} and other's dtype {type_name(B)}")
    vector = B._data.ndim == A._data.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if A.shape[-2] != Bm.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    driver = driver or "gelsy"
    X = Pinv.apply(A, None, rcond if rcond is not None else None, False) @ Bm
    rank, svals = _rank_and_values(A, rcond, driver)
    residuals = _residuals(A, Bm, X, rank, driver)
    X = X.squeeze(-1) if vector else X
    return LstsqResult(X, residuals, rank, svals)


def _rank_and_values(A, rcond, driver):
    xp = A._device.backend.xp
    real = A.real.dtype if A.is_complex() else A.dtype
    s = xp.linalg.svd(A._data, compute_uv=False) if A.numel() else xp.zeros(A.shape[:-2] + (0,), real.np)
    cut = _tolerance(xp, s, A.shape, A._data.dtype, None, rcond)
    rank = _wrap((s > cut).sum(-1).astype(xp.int64), A._device, _dtype.int64)
    if driver in ("gelsd", "gelss"):
        return rank, _wrap(s.astype(real.np), A._device, real)
    empty = _wrap(xp.zeros((0,), real.np), A._device, real)
    if driver == "gels":
        rank = _wrap(xp.zeros((0,), xp.int64), A._device, _dtype.int64)
    return rank, empty


def _residuals(A, B, X, rank, driver):
    """Squared residual norms, computed (as LAPACK does) only for tall, full-rank A and driver != gelsy."""
    m, n = A.shape[-2:]
    real = A.real.dtype if A.is_complex() else A.dtype
    full = rank.numel() == 0 or bool((rank == n).all())
    if driver == "gelsy" or m <= n or not full:
        # NOTE: still an output of the solve (requires_grad as in PyTorch), though empty.
        return X.reshape(-1)[:0].abs().to(real)
    r = A @ X - B
    return (r.abs() ** 2).sum(-2)


# --- rank, power, exp ------------------------------------------------------------------------------------------
def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Number of singular values above max(atol, rtol * largest)."""
    check_matrix("linalg.matrix_rank", A, square=False)
    check_float("linalg.matrix_rank", A)
    xp = A._device.backend.xp
    atol, rtol = _scalar(atol), _scalar(rtol)
    if hermitian:
        s = xp.abs(xp.linalg.eigvalsh(A._data))
    else:
        s = xp.linalg.svd(A._data, compute_uv=False) if A.numel() else xp.zeros(A.shape[:-2] + (0,))
    cut = _tolerance(xp, s, A.shape, A._data.dtype, atol, rtol)
    return _out(_wrap((s > cut).sum(-1).astype(xp.int64), A._device, _dtype.int64), out, "linalg.matrix_rank")


def matrix_power(A, n, *, out=None):
    """A raised to the integer power n (negative n through the inverse; 0 gives the identity)."""
    check_matrix("linalg.matrix_power", A)
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        # NOTE: PyTorch's identity result still carries a (zero) gradient back to A
        return _out(_eye(A.shape[-1], A) + zero_path(A), out, "linalg.matrix_power")
    if n < 0:
        from .decomp import inv
        A, n = inv(A), -n
    result = None
    base = A
    while n:  # NOTE: square-and-multiply: log2(n) products
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _out(result, out, "linalg.matrix_power")


@public(method=True, name="matrix_power")
def _torch_matrix_power(input, n, *, out=None):
    """torch.matrix_power: alias of torch.linalg.matrix_power."""
    return matrix_power(input, n, out=out)


class MatrixExp(Primitive):
    """exp(A) by scaling and squaring a Taylor series."""
    complex_grad = True
    node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(ctx.xp, a)

    @staticmethod
    def backward(ctx, g):
        # NOTE: the gradient is the top-right block of exp([[A^H, G], [0, A^H]]) (Najfeld & Havel)
        (a,) = ctx.saved_tensors
        n = a.shape[-1]
        from ..shape.join import cat
        ah = mH(a)
        top = cat([ah, g], -1)
        bottom = cat([g * 0, ah], -1)
        return MatrixExp.apply(cat([top, bottom], -2))[..., :n, n:]


def _expm(xp, a):
    if a.size == 0:
        return a.copy()
    norm = float(xp.abs(a).sum(axis=-2).max()) if a.size else 0.0
    squarings = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    x = a / (2.0 ** squarings)
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    result = eye.copy()
    term = eye.copy()
    for k in range(1, 20):
        term = term @ x / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result.astype(a.dtype, copy=False)


def matrix_exp(A):
    """The matrix exponential of square matrices (batched)."""
    check_matrix("linalg.matrix_exp", A)
    check_float("linalg.matrix_exp", A)
    return MatrixExp.apply(A)


@public(method=True, name="matrix_exp")
def _torch_matrix_exp(input):
    """torch.matrix_exp: alias of torch.linalg.matrix_exp."""
    return matrix_exp(input)


# --- small compositions ----------------------------------------------------------------------------------------
def multi_dot(tensors, *, out=None):
    """Chained matrix product; the first may be a row vector and the last a column vector (1-D)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if (0 < i < len(tensors) - 1 and nd != 2) or nd not in (1, 2):
            which = "first" if i == 0 else ("last" if i == len(tensors) - 1 else None)
            if which:
                raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got {nd}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
    result = tensors[0]
    for t in tensors[1:]:
        result = result @ t
    return _out(result, out, "linalg.multi_dot")


def vecdot(x, y, *, dim=-1, out=None):
    """sum(conj(x) * y) along dim, with broadcasting."""
    if x._dtype is not y._dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{type_name(x)} and y of type {type_name(y)} instead")
    xc = x.conj() if x.is_complex() else x
    return _out((xc * y).sum(dim), out, "linalg.vecdot")


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: the diagonal of the last two dims by default (a view)."""
    return A.diagonal(offset, dim1, dim2)


# --- specs -----------------------------------------------------------------------------------------------------
def _full_rank(g, square=False):
    from .svd import _distinct_sv
    return _distinct_sv(g) if not square else _square(g)


def _square(g):
    from .decomp import _invertible
    return _invertible(g)


def _lstsq_sample(g):
    n = g.integers(1, 3)
    m = n + g.integers(0, 2)
    a = g.values((m, n), domain=(-1, 1))
    for i in range(n):
        a[i, i] += 3
    b = g.values((m,) if g.boolean() else (m, g.integers(1, 2)))
    return (a, b), {"driver": g.choice([None, "gelsd", "gelss", "gelsy"])}


def _power_sample(g):
    return (_square(g),), {"n": g.choice([0, 1, 2, 3, -1, -2])}


def _multi_sample(g):
    k = g.integers(2, 4)
    sizes = [g.integers(1, 3) for _ in range(k + 1)]
    mats = [g.values((sizes[i], sizes[i + 1])) for i in range(k)]
    if g.boolean():
        mats[0] = mats[0][0]
    if g.boolean():
        mats[-1] = mats[-1][:, 0] if mats[-1].ndim == 2 else mats[-1]
    return (mats,), {}


def _exp_sample(g):
    n = g.integers(1, 3)
    return (g.values((2,) * g.integers(0, 1) + (n, n), domain=(-1.5, 1.5)),), {}


spec(OpSpec("linalg.pinv", sample=lambda g: ((_full_rank(g),), g.choice([{}, {"hermitian": False, "rtol": 1e-6}])),
            call=lambda torch, A, **kw: torch.linalg.pinv(A, **kw)),
     OpSpec("linalg.pinv_hermitian", dtypes=("float64",), sample=lambda g: ((_herm(g),), {"hermitian": True}), gradcheck=False,
            call=lambda torch, A, **kw: torch.linalg.pinv(A, **kw)),
     OpSpec("pinverse", dtypes=("float64",), sample=lambda g: ((_full_rank(g),), {})),
     OpSpec("linalg.lstsq", arity=2, sample=_lstsq_sample, call=lambda torch, A, B, **kw: torch.linalg.lstsq(A, B, **kw)),
     OpSpec("linalg.matrix_rank", sample=lambda g: ((_low_rank(g),), g.choice([{}, {"hermitian": False, "atol": 0.5}])),
            grad=False, call=lambda torch, A, **kw: torch.linalg.matrix_rank(A, **kw)),
     OpSpec("linalg.matrix_power", sample=_power_sample, call=lambda torch, A, **kw: torch.linalg.matrix_power(A, **kw)),
     OpSpec("matrix_power", dtypes=("float64",), sample=_power_sample),
     # NOTE: PyTorch's own float32 backward is off by ~1e-4 relative for some small matrices (exp(0.4266) of a
     # 1x1 input: torch 1.08e-4 from the float64 value, ember 1e-7), so float32 is compared at 3e-4.
     OpSpec("linalg.matrix_exp", sample=_exp_sample, call=lambda torch, A: torch.linalg.matrix_exp(A), rtol=3e-4),
     OpSpec("matrix_exp", dtypes=("float64",), sample=_exp_sample),
     OpSpec("linalg.multi_dot", sample=_multi_sample, call=lambda torch, ts: torch.linalg.multi_dot(ts)),
     OpSpec("linalg.vecdot", arity=2, sample=lambda g: ((g.values((2, 3)), g.values((3,))), {"dim": g.choice([-1, 1])}),
            dtypes=("float32", "float64", "complex64"), call=lambda torch, x, y, **kw: torch.linalg.vecdot(x, y, **kw)),
     OpSpec("linalg.diagonal", sample=lambda g: ((g.values(g.shape(2, 3, 0, 4)),), {"offset": g.integers(-1, 1)}),
            call=lambda torch, A, **kw: torch.linalg.diagonal(A, **kw)))


def _herm(g):
    from .svd import _distinct_sym
    return _distinct_sym(g) + 0


def _low_rank(g):
    m, n, r = g.integers(1, 4), g.integers(1, 4), g.integers(0, 2)
    return g.values((m, r), domain=(-2, 2)) @ g.values((r, n), domain=(-2, 2)) + 0 * g.values((m, n))


# --- triangular systems and aliases ------------------------------------------------------------------------------
class SolveTriangular(Primitive):
    """X with T X = B for the upper or lower triangle T of A (unit diagonal if unitriangular)."""
    complex_grad = True
    inputs = 2
    node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        xp = ctx.xp
        t = _triangle(xp, a, upper, unitriangular)
        diag = xp.diagonal(t, axis1=-2, axis2=-1)
        if (diag == 0).any():
            x = _substitute(xp, t, b, upper)  # NOTE: LAPACK's trtrs gives inf/nan here, not an error
        else:
            x = xp.linalg.solve(t, b) if t.size else xp.zeros(b.shape, b.dtype)
        ctx.args = (upper, unitriangular)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        from ..._tensor import sum_to
        a, x = ctx.saved_tensors
        upper, unit = ctx.args
        gb = SolveTriangular.apply(mH(a), g, not upper, unit)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -(gb @ mH(x))
            ga = ga.triu(1 if unit else 0) if upper else ga.tril(-1 if unit else 0)
            ga = sum_to(ga, a.shape)
        return ga, sum_to(gb, ctx._in_meta[1][0])


def _triangle(xp, a, upper, unit):
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        t = t.copy()
        idx = range(t.shape[-1])
        t[..., idx, idx] = 1
    return t


def _substitute(xp, t, b, upper):
    n = t.shape[-1]
    x = xp.zeros(xp.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + b.shape[-2:], dtype=b.dtype)
    rows = range(n - 1, -1, -1) if upper else range(n)
    with _quiet(xp):
        for i in rows:
            acc = b[..., i, :] - (t[..., i, :, None] * x).sum(-2)
            x[..., i, :] = acc / t[..., i, i, None]
    return x


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (or X A = B) for triangular A; only the named triangle of A is read."""
    check_float("linalg.solve_triangular", A)
    for what, t in (("A", A), ("B", B)):
        if t._data.ndim < 2:
            raise RuntimeError(f"linalg.solve_triangular: The input tensor {what} must have at least 2 dimensions.")
    check_matrix("linalg.solve_triangular", A)
    if left:
        X = SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))
    else:
        X = SolveTriangular.apply(A.mT, B.mT, not upper, bool(unitriangular)).mT
    return _out(X, out, "linalg.solve_triangular")


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info): linalg.solve that reports singular matrices in info instead of raising."""
    from .decomp import _infos, _lu_info, _regularised, solve
    from .._linalg_util import SolveExResult
    check_matrix("linalg.solve_ex", A)
    xp = A._device.backend.xp
    info = _infos(xp, A._data, _lu_info)
    singular = info != 0
    if not singular.any() or check_errors:
        return SolveExResult(solve(A, B, left=left), _wrap(info, A._device, _dtype.int32))
    # NOTE: PyTorch returns whatever the LU solve left for singular matrices; we give NaN there
    result = solve(_regularised(A.detach(), singular), B.detach(), left=left)
    if tuple(result.shape[:A._data.ndim - 2]) == tuple(A.shape[:-2]):
        result._data[singular] = xp.nan
    else:
        result._data[...] = xp.nan
    return SolveExResult(result, _wrap(info, A._device, _dtype.int32))


def matmul(input, other, *, out=None):
    """torch.linalg.matmul: alias of torch.matmul."""
    from .matmul import matmul as _matmul
    return _matmul(input, other, out=out)


_SvdResult = _return_type("svd", ("U", "S", "V"))
_QrResult = _return_type("qr", ("Q", "R"))


@public(method=True, name="svd")
def _torch_svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd (deprecated in PyTorch): (U, S, V) with V, not Vh; thin factors unless some=False."""
    from .svd import svd, svdvals
    if not compute_uv:  # NOTE: PyTorch still returns U and V, as square zero matrices
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return _SvdResult(input.new_zeros(batch + (m, m)), svdvals(input), input.new_zeros(batch + (n, n)))
    U, S, Vh = svd(input, full_matrices=not some)
    return _SvdResult(U, S, mH(Vh))


@public(method=True, name="qr")
def _torch_qr(input, some=True, *, out=None):
    """torch.qr (deprecated in PyTorch): reduced QR unless some=False."""
    from .svd import qr
    Q, R = qr(input, "reduced" if some else "complete")
    return _QrResult(Q, R)


def _triangular_sample(g):
    n = g.integers(1, 3)
    a = g.values((n, n), domain=(-1, 1))
    for i in range(n):
        a[i, i] += 3 if g.boolean() else -3
    kw = {"upper": g.boolean(), "left": g.boolean(), "unitriangular": g.integers(0, 3) == 0}
    b = g.values((g.integers(1, 2), n) if not kw["left"] else (n, g.integers(1, 2)))
    if g.boolean():
        b = g.values((2,) + b.shape)
    return (a, b), kw


spec(OpSpec("linalg.solve_triangular", arity=2, sample=_triangular_sample,
            call=lambda torch, A, B, **kw: torch.linalg.solve_triangular(A, B, **kw)),
     OpSpec("linalg.solve_ex", dtypes=("float64",), arity=2, sample=lambda g: _solve_ex_sample(g), call=lambda torch, A, B: torch.linalg.solve_ex(A, B)),
     OpSpec("linalg.matmul", dtypes=("float64",), arity=2, sample=lambda g: ((g.values((2, 3)), g.values((3,))), {}),
            call=lambda torch, a, b: torch.linalg.matmul(a, b)),
     OpSpec("svd", dtypes=("float64",), sample=lambda g: ((_full_rank(g),), {"some": g.boolean()}),
            call=lambda torch, A, **kw: (lambda U, S, V: (U[..., :S.shape[-1]] @ V[..., :S.shape[-1]].mT, S))(
                *torch.svd(A, **kw))),
     OpSpec("qr", dtypes=("float64",), sample=lambda g: ((_full_rank(g),), {"some": g.boolean()}), grad=False))


def _solve_ex_sample(g):
    a = _square(g)
    return (a, g.values(a.shape[:-1])), {}
