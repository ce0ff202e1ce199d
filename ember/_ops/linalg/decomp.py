"""Inverses, determinants, linear solves and the Cholesky factorisation (torch.linalg.inv, det,
slogdet, solve, cholesky and their torch.* forms)."""
from ... import _dtype, _state
from ...autograd.function import Primitive
from ..._tensor import Tensor, _wrap, sum_to
from .._linalg_util import (CholeskyExResult, InvExResult, LinAlgError, SlogdetResult, batch_prefix, check_float,
                           check_matrix, check_square_float, mH, type_name)
from .._registry import OpSpec, public, spec, write_out, write_outs
from ..reduction.reduce import _return_type


# --- LAPACK's info, recomputed on the error path ------------------------------------------------------------
def _lu_info(xp, m):
    """getrf's info for one square matrix: the 1-based index of the first exactly-zero pivot, or 0."""
    u = m.copy()
    n = u.shape[0]
    for k in range(n):
        p = k + int(xp.argmax(xp.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        if p != k:
            u[[k, p]] = u[[p, k]]
        u[k + 1:, k:] -= (u[k + 1:, k] / u[k, k])[:, None] * u[k, k:][None, :]
    return 0


def _chol_info(xp, m):
    """potrf's info: the order of the first leading minor that is not positive-definite, or 0."""
    for k in range(1, m.shape[0] + 1):
        try:
            xp.linalg.cholesky(m[:k, :k])
        except xp.linalg.LinAlgError:
            return k
    return 0


def _infos(xp, a, one):
    """`one` applied to every matrix of a batch: an int32 array of the batch shape."""
    batch = a.shape[:-2]
    flat = a.reshape((-1,) + a.shape[-2:])
    return xp.asarray([one(xp, m) for m in flat], dtype=xp.int32).reshape(batch)


def _first_failure(infos):
    flat = infos.reshape(-1)
    for i, v in enumerate(flat.tolist()):
        if v:
            return i, v
    return None, 0


def _singular_error(name, xp, a):
    infos = _infos(xp, a, _lu_info)
    i, info = _first_failure(infos)
    if i is None:  # NOTE: LAPACK found a zero pivot our elimination did not; blame the last one
        i, info = 0, a.shape[-1]
    return LinAlgError(f"{name}: {batch_prefix(a.shape[:-2], i)}The diagonal element {info} is zero, the "
                       "inversion could not be completed because the input matrix is singular.")


# --- inv -------------------------------------------------------------------------------------------------------
class Inv(Primitive):
    """Inverse of square matrices (batched)."""
    complex_grad = True
    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        try:
            out = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise _singular_error("linalg.inv", xp, a) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (inv,) = ctx.saved_tensors
        h = mH(inv)
        return -(h @ g @ h)


def inv(A, *, out=None):
    """Inverse of a square matrix (or batch); raises LinAlgError when singular."""
    check_square_float("linalg.inv", A)
    result = Inv.apply(A)
    return result if out is None else write_out(out, result, "linalg.inv")


def inv_ex(A, *, check_errors=False, out=None):
    """Inverse and LAPACK's info (0 where the matrix was invertible), without raising unless asked."""
    check_square_float("linalg.inv_ex", A)
    xp = A._device.backend.xp
    info = _infos(xp, A._data, _lu_info)
    if not info.any():
        inverse = Inv.apply(A)
    elif check_errors:
        raise _singular_error("linalg.inv_ex", xp, A._data)
    else:  # NOTE: PyTorch leaves partial factors in the singular matrices; we give NaN there
        data = xp.full(A._data.shape, xp.nan, dtype=A._data.dtype)
        ok = info == 0
        if ok.any():
            data[ok] = xp.linalg.inv(A._data[ok])
        inverse = _wrap(data, A._device, A._dtype)
    return write_outs(out, InvExResult(inverse, _wrap(info, A._device, _dtype.int32)), "linalg_inv_ex")


@public(method=True)
def inverse(input, *, out=None):
    """Alias of torch.linalg.inv."""
    return inv(input, out=out)


# --- det, slogdet, logdet --------------------------------------------------------------------------------------
class Det(Primitive):
    """Determinant of square matrices (batched)."""
    complex_grad = True
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.linalg.det(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, det = ctx.saved_tensors
        singular = det._data == 0
        if singular.any():
            # NOTE: PyTorch's own split: with create_graph it differentiates through the SVD (the true
            # cofactor); otherwise its LU solve scales by det = 0 and singular matrices get 0.
            if _state.local.grad_enabled:
                return g.unsqueeze(-1).unsqueeze(-1) * _conj_cofactor(a)
            a = _regularised(a, singular)
        return (g * det.conj()).unsqueeze(-1).unsqueeze(-1) * mH(Inv.apply(a))


def _regularised(a, singular):
    """a with its singular matrices replaced by the identity (their gradient is scaled by 0 anyway)."""
    xp = a._device.backend.xp
    data = a._data.copy()
    eye = xp.eye(data.shape[-1], dtype=data.dtype)
    if data.ndim == 2:
        data = eye
    else:
        data[singular] = eye
    return _wrap(data, a._device, a._dtype)


def _conj_cofactor(a):
    """conj(cofactor matrix of A), for singular A too, through the SVD A = U S Vh.

    NOTE: cofactor(A) = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh (conjugated factors when complex);
    this is PyTorch's route for singular inputs, where A^{-H} does not exist. Not differentiable again."""
    from .svd import svd
    from ..shape.join import stack
    U, S, Vh = svd(a.detach(), full_matrices=False)
    n = S.shape[-1]
    prods = stack([S[..., [j for j in range(n) if j != i]].prod(-1) for i in range(n)], -1)
    sign = Det.apply(U) * Det.apply(Vh)
    return (U * prods.unsqueeze(-2).to(U.dtype)) @ Vh * sign.conj().unsqueeze(-1).unsqueeze(-1)


def det(A, *, out=None):
    """Determinant of a square matrix (or batch)."""
    check_matrix("linalg.det", A)
    check_float("linalg.det", A)
    result = Det.apply(A)
    return result if out is None else write_out(out, result, "linalg.det")


class Slogdet(Primitive):
    """Sign (or phase) and log of the absolute value of the determinant."""
    complex_grad = True
    node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, a):
        sign, logabs = ctx.xp.linalg.slogdet(a)
        ctx.save_for_backward(a, sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        # NOTE: a real determinant's sign is locally constant; a complex one's phase moves with
        # Im tr(A^{-1} dA), which adds i Im(conj(sign) g_sign) to the log-modulus cotangent.
        a, sign = ctx.saved_tensors
        g = g_logabs
        if a.is_complex():
            g = g.to(a.dtype) + 1j * (sign.conj() * g_sign).imag
        return g.unsqueeze(-1).unsqueeze(-1) * mH(Inv.apply(a))


def slogdet(A, *, out=None):
    """(sign, logabsdet) of a square matrix (or batch), as a named tuple."""
    check_matrix("linalg.slogdet", A)
    check_float("linalg.slogdet", A)
    sign, logabs = Slogdet.apply(A)
    if A.is_complex():
        logabs = logabs.real if logabs.is_complex() else logabs
    return write_outs(out, SlogdetResult(sign, logabs), "linalg_slogdet")


@public(method=True, name="det")
def _det(input):
    """torch.det: alias of torch.linalg.det."""
    return det(input)


@public(method=True, name="slogdet")
def _slogdet(input):
    """torch.slogdet: alias of torch.linalg.slogdet."""
    s = slogdet(input)
    return _TorchSlogdet(s.sign, s.logabsdet)


_TorchSlogdet = _return_type("slogdet", ("sign", "logabsdet"))


@public(method=True)
def logdet(input):
    """log(det(A)): NaN where the determinant is negative, -inf where it is zero."""
    check_matrix("logdet", input)
    check_float("logdet", input)
    sign, logabs = Slogdet.apply(input)
    if input.is_complex():
        return logabs + sign.log()
    nan = logabs.new_full((), float("nan"))
    return logabs.where(sign >= 0, nan)


# --- solve -----------------------------------------------------------------------------------------------------
class Solve(Primitive):
    """X with A X = B for square A and matrix right-hand sides B (batch dims broadcast)."""
    complex_grad = True
    inputs = 2
    node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        try:
            x = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError:
            infos = _infos(xp, xp.broadcast_to(a, b.shape[:-2] + a.shape[-2:]), _lu_info)
            i, _ = _first_failure(infos)
            raise LinAlgError(f"torch.linalg.solve: {batch_prefix(infos.shape, i or 0)}The solver failed because "
                              "the input matrix is singular.") from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.apply(mH(a), g)
        ga = -(gb @ mH(x)) if ctx.needs_input_grad[0] else None
        return (sum_to(ga, a.shape) if ga is not None else None), sum_to(gb, ctx._in_meta[1][0])


def _solve_vector_case(A, B):
    nb, na = B._data.ndim, A._data.ndim
    return nb == 1 or (nb == na - 1 and B.shape == A.shape[:-1])


def solve(A, B, *, left=True, out=None):
    """X with A X = B (left) or X A = B; B may be a vector or a batch of vectors."""
    check_square_float("linalg.solve", A)
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{type_name(A)} and B of type {type_name(B)} instead")
    vector = _solve_vector_case(A, B)
    Bm = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    rows = Bm.shape[-2] if left else Bm.shape[-1]
    if rows != n:
        eq = "AX = B" if left else "XA = B"
        shape = f"{Bm.shape[-2]}x{Bm.shape[-1]}"
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and {shape})")
    if left:
        X = _broadcast_solve(A, Bm)
    else:
        X = _broadcast_solve(A.mT, Bm.mT).mT
    X = X.squeeze(-1) if vector else X
    return X if out is None else write_out(out, X, "linalg.solve")


def _broadcast_solve(A, B):
    from ..._tensor import broadcast_shapes
    batch = broadcast_shapes(A.shape[:-2], B.shape[:-2])
    if tuple(B.shape[:-2]) != tuple(batch):
        B = B.expand(*batch, *B.shape[-2:])
    return Solve.apply(A, B)


# --- cholesky --------------------------------------------------------------------------------------------------
class Cholesky(Primitive):
    """Lower Cholesky factor L with A = L L^H, from A's lower triangle."""
    complex_grad = True
    node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, name="linalg.cholesky", upper=False):
        xp = ctx.xp
        ctx.upper = upper
        try:
            L = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise _not_pd_error(name, xp, a) from None
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, g):
        (L,) = ctx.saved_tensors
        P = (mH(L) @ g).tril()
        # NOTE: PyTorch's 0.5 (P + tril(P, -1)^H) keeps P's whole (complex) diagonal: for complex inputs
        # its gradient is not Hermitian; for real ones it equals the symmetrised form.
        P = 0.5 * (P + mH(P.tril(-1)))
        if ctx.upper:  # NOTE: ember factors A^H for upper=True; PyTorch's formula is for A itself
            P = mH(P)
        Linv = Inv.apply(L)
        return mH(Linv) @ P @ Linv


def _not_pd_error(name, xp, a):
    i, info = _first_failure(_infos(xp, a, _chol_info))
    return LinAlgError(f"{name}: {batch_prefix(a.shape[:-2], i or 0)}The factorization could not be completed "
                       f"because the input is not positive-definite (the leading minor of order {info} is not "
                       "positive-definite).")


def cholesky(A, *, upper=False, out=None):
    """Cholesky factor of a Hermitian positive-definite matrix: lower L (A = L L^H) or upper L^H."""
    check_square_float("linalg.cholesky", A)
    L = Cholesky.apply(_lower_source(A, upper), "linalg.cholesky", upper)
    result = mH(L) if upper else L
    return result if out is None else write_out(out, result, "linalg.cholesky")


def _lower_source(A, upper):
    # NOTE: with upper=True LAPACK reads the upper triangle; hand it over as the lower one of A^H.
    return mH(A) if upper else A


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): the Cholesky factor and LAPACK's info, raising only when check_errors."""
    check_square_float("linalg.cholesky_ex", A)
    xp = A._device.backend.xp
    src = _lower_source(A, upper)
    info = _infos(xp, src._data, _chol_info)
    if not info.any():
        L = Cholesky.apply(src, "linalg.cholesky", upper)
        L = mH(L) if upper else L
    elif check_errors:
        raise _not_pd_error("linalg.cholesky_ex", xp, src._data)
    else:
        L = _wrap(xp.full(A._data.shape, xp.nan, dtype=A._data.dtype), A._device, A._dtype)
    return write_outs(out, CholeskyExResult(L, _wrap(info, A._device, _dtype.int32)), "linalg_cholesky_ex")


@public(method=True, name="cholesky")
def _cholesky(input, upper=False, *, out=None):
    """torch.cholesky (deprecated in PyTorch): the factor of a positive-definite matrix."""
    import warnings
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return cholesky(input, upper=upper, out=out)


class CholeskyInverse(Primitive):
    """(L L^H)^{-1} from the triangle of a Cholesky factor (lower, or upper U with A = U^H U)."""
    complex_grad = True

    @staticmethod
    def forward(ctx, f, upper=False):
        xp = ctx.xp
        t = xp.triu(f) if upper else xp.tril(f)
        t_h = xp.conj(xp.swapaxes(t, -1, -2))
        out = xp.linalg.inv(t_h @ t if upper else t @ t_h)
        ctx.upper = upper
        ctx.save_for_backward(f, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # NOTE: PyTorch's formula multiplies by the whole input, not just the triangle LAPACK read
        f, inv = ctx.saved_tensors
        common = inv @ (g + mH(g)) @ inv
        return -(f @ common) if ctx.upper else -(common @ f)


@public(method=True)
def cholesky_inverse(input, upper=False, *, out=None):
    """Inverse of A from its Cholesky factor (lower L, or upper U with upper=True)."""
    check_matrix("cholesky_inverse", input)
    result = CholeskyInverse.apply(input, bool(upper))
    return result if out is None else write_out(out, result, "cholesky_inverse")


# --- specs -----------------------------------------------------------------------------------------------------
def _invertible(g, batch=True, complex_ok=False):
    """A well-conditioned square matrix (or batch): random values plus n*I."""
    n = g.integers(1, 4)
    shape = (g.integers(0, 2),) * g.integers(0, 1) + (n, n) if batch else (n, n)
    a = g.values(shape, domain=(-1, 1))
    return a + (n + 1) * _eye_like(a)


def _eye_like(a):
    eye = a[..., :, :] * 0
    idx = range(a.shape[-1])
    eye[..., idx, idx] = 1
    return eye


def _spd(g):
    a = g.values((g.integers(0, 2),) * g.integers(0, 1) + (g.integers(1, 4),) * 2, domain=(-1, 1))
    return a @ a.swapaxes(-1, -2) + a.shape[-1] * _eye_like(a)


def _maybe_complex(g, a):
    if g.dtype.startswith("complex"):
        imag = g.values(a.shape, "float64", (-1, 1)).astype(a.dtype)
        return a + 1j * imag
    return a


def _square_sample(g):
    return ((_maybe_complex(g, _invertible(g)),), {})


def _solve_sample(g):
    a = _maybe_complex(g, _invertible(g))
    n = a.shape[-1]
    kind = g.integers(0, 3)
    if kind == 0:
        b = g.values((n,))
    elif kind == 1:
        b = g.values(a.shape[:-1])
    else:
        b = g.values((2,) * g.integers(0, 1) + a.shape[:-2] + (n, g.integers(1, 3)))
    return (a, _maybe_complex(g, b)), {}


def _solve_right_sample(g):
    a = _invertible(g, batch=False)
    return (a, g.values((g.integers(1, 3), a.shape[-1]))), {"left": False}


_C = ("float32", "float64", "complex64")
spec(OpSpec("linalg.inv", sample=_square_sample, dtypes=_C, call=lambda torch, A: torch.linalg.inv(A)),
     OpSpec("linalg.inv_ex", dtypes=("float64",), sample=_square_sample, call=lambda torch, A: torch.linalg.inv_ex(A)),
     OpSpec("inverse", dtypes=("float64",), sample=_square_sample),
     OpSpec("linalg.det", sample=_square_sample, dtypes=_C, call=lambda torch, A: torch.linalg.det(A)),
     OpSpec("det", dtypes=("float64",), sample=_square_sample),
     OpSpec("linalg.slogdet", sample=_square_sample,
            call=lambda torch, A: tuple(torch.linalg.slogdet(A))[::-1]),
     OpSpec("slogdet", dtypes=("float64",), sample=_square_sample, call=lambda torch, A: tuple(torch.slogdet(A))[::-1]),
     OpSpec("logdet", dtypes=("float64",), sample=lambda g: ((_spd(g),), {})),
     OpSpec("linalg.solve", arity=2, sample=_solve_sample, dtypes=_C,
            call=lambda torch, A, B, **kw: torch.linalg.solve(A, B, **kw)),
     OpSpec("linalg.solve_left_false", dtypes=("float64",), arity=2, sample=_solve_right_sample,
            call=lambda torch, A, B, **kw: torch.linalg.solve(A, B, **kw)),
     OpSpec("linalg.cholesky", sample=lambda g: ((_spd(g),), {"upper": g.boolean()}), gradcheck=False,
            call=lambda torch, A, **kw: torch.linalg.cholesky(A, **kw)),
     OpSpec("linalg.cholesky_sym", dtypes=("float64",), sample=lambda g: ((_spd(g),), {"upper": g.boolean()}),
            call=lambda torch, A, **kw: torch.linalg.cholesky((A + A.mT) / 2, **kw)),
     OpSpec("linalg.cholesky_ex", dtypes=("float64",), sample=lambda g: ((_spd(g),), {}), gradcheck=False,
            call=lambda torch, A, **kw: torch.linalg.cholesky_ex(A, **kw)),
     OpSpec("cholesky", dtypes=("float64",), sample=lambda g: ((_spd(g),), {"upper": g.boolean()}), gradcheck=False),
     # NOTE: no gradcheck: like PyTorch, the gradient reaches the triangle the forward never reads
     OpSpec("cholesky_inverse", sample=lambda g: ((_chol_factor(g),), {"upper": g.boolean()}), gradcheck=False))


def _chol_factor(g):
    """A triangular factor with a dominant positive diagonal (works for upper and lower)."""
    n = g.integers(1, 4)
    a = g.values((n, n), domain=(-1, 1))
    a = a * 0.3 + (n + 1) * _eye_like(a)
    return a.copy() * (_eye_like(a) + _tri(a, g.boolean()))


def _tri(a, upper):
    """0/1 mask of the strict upper (or lower) triangle, same dtype as a."""
    n = a.shape[-1]
    mask = a * 0
    for i in range(n):
        for j in range(n):
            mask[..., i, j] = 1 if (j > i) == upper and i != j else 0
    return mask
