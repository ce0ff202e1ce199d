"""Spectral decompositions: torch.linalg.svd, svdvals, eigh, eigvalsh, eig, eigvals and qr."""
from ... import _dtype
from ...autograd.function import Primitive
from ..._tensor import _wrap
from .._linalg_util import EigResult, EighResult, QRResult, SVDResult, check_float, check_matrix, mH
from .._registry import OpSpec, spec, write_outs


def _eye(n, like):
    from ..._creation import eye
    return eye(n, dtype=like.dtype, device=like.device)


def _real_dtype(t):
    return t.real.dtype if t.is_complex() else t.dtype


# --- svd -------------------------------------------------------------------------------------------------------
class Svd(Primitive):
    """U, S, Vh with A = U diag(S) Vh; S real and descending."""
    complex_grad = True
    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a, full_matrices=True):
        xp = ctx.xp
        k = min(a.shape[-2:])
        if a.size == 0:
            m, n = a.shape[-2:]
            batch = a.shape[:-2]
            eye = xp.eye
            u = xp.broadcast_to(eye(m, m if full_matrices else k, dtype=a.dtype), batch + (m, m if full_matrices else k))
            vh = xp.broadcast_to(eye(n if full_matrices else k, n, dtype=a.dtype), batch + (n if full_matrices else k, n))
            s = xp.zeros(batch + (k,), dtype=xp.zeros((), a.dtype).real.dtype)
            u, vh = u.copy(), vh.copy()
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        ctx.full = full_matrices
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        if ctx.full:  # NOTE: only the first k singular vectors are determined by A
            U, Vh = U[..., :, :k], Vh[..., :k, :]
            gU, gVh = gU[..., :, :k], gVh[..., :k, :]
        return svd_backward(gU, gS, gVh, U, S, Vh)


def svd_backward(gU, gS, gVh, U, S, Vh):
    """Gradient of A = U diag(S) Vh (thin factors) for distinct, nonzero singular values."""
    m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
    V, gV = mH(Vh), mH(gVh)
    UhgU = mH(U) @ gU
    VhgV = Vh @ gV
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye(k, S2)  # E[j, k] = s_k^2 - s_j^2, 1 on the diagonal
    skew_u = (UhgU - mH(UhgU)) / E
    skew_v = (VhgV - mH(VhgV)) / E
    Sc = S.to(U.dtype)
    inner = skew_u * Sc.unsqueeze(-2) + Sc.unsqueeze(-1) * skew_v + gS.to(U.dtype).diag_embed()
    if U.is_complex():  # NOTE: the phase gauge: only Im diag(U^H gU) is determined, shared with V
        inner = inner + (1j * (UhgU.diagonal(0, -2, -1).imag / S)).to(U.dtype).diag_embed()
    gA = U @ inner @ Vh
    if m > k:
        gA = gA + ((gU - U @ UhgU) / Sc.unsqueeze(-2)) @ Vh
    if n > k:
        gA = gA + U @ ((gVh - (gVh @ V) @ Vh) / Sc.unsqueeze(-1))
    return gA


def svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition as the named tuple (U, S, Vh)."""
    check_matrix("linalg.svd", A, square=False)
    check_float("linalg.svd", A)
    U, S, Vh = Svd.apply(A, bool(full_matrices))
    return write_outs(out, SVDResult(U, S, Vh), "linalg_svd")


class Svdvals(Primitive):
    """Singular values only; the gradient is U diag(g) Vh."""
    complex_grad = True
    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        if a.size == 0:
            return xp.zeros(a.shape[:-2] + (min(a.shape[-2:]),), dtype=xp.zeros((), a.dtype).real.dtype)
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx, g):
        u, vh = ctx.saved_tensors
        return (u * g.to(u.dtype).unsqueeze(-2)) @ vh


def svdvals(A, *, driver=None, out=None):
    """Singular values of A (batched), in descending order."""
    check_matrix("linalg.svdvals", A, square=False)
    check_float("linalg.svdvals", A)
    return Svdvals.apply(A)


# --- eigh ------------------------------------------------------------------------------------------------------
class Eigh(Primitive):
    """Eigenvalues (ascending, real) and orthonormal eigenvectors of a Hermitian matrix."""
    complex_grad = True
    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, a, UPLO="L"):
        w, v = ctx.xp.linalg.eigh(a, UPLO=UPLO)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gL, gV):
        w, V = ctx.saved_tensors
        n = w.shape[-1]
        E = w.unsqueeze(-2) - w.unsqueeze(-1) + _eye(n, w)  # E[i, j] = w_j - w_i
        VhgV = mH(V) @ gV
        inner = (VhgV - mH(VhgV)) * 0.5 / E.to(V.dtype)
        inner = inner * (1 - _eye(n, inner)) + gL.to(V.dtype).diag_embed()
        return V @ inner @ mH(V)


def _check_uplo(name, UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L", *, out=None):
    """Eigen-decomposition of a Hermitian matrix: (eigenvalues ascending, eigenvectors as columns)."""
    check_matrix("linalg.eigh", A)
    check_float("linalg.eigh", A)
    _check_uplo("linalg.eigh", UPLO)
    w, v = Eigh.apply(A, UPLO)
    return write_outs(out, EighResult(w, v), "linalg_eigh")


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues of a Hermitian matrix, ascending."""
    check_matrix("linalg.eigvalsh", A)
    check_float("linalg.eigvalsh", A)
    _check_uplo("linalg.eigvalsh", UPLO)
    return Eigh.apply(A, UPLO)[0]


# --- eig -------------------------------------------------------------------------------------------------------
class Eig(Primitive):
    """Eigenvalues and eigenvectors of a general square matrix, always complex."""
    complex_grad = True
    node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        ctype = (xp.zeros((), a.dtype) + 0j).dtype
        w, v = xp.linalg.eig(a)  # NOTE: NumPy returns real arrays when every eigenvalue is real
        w, v = w.astype(ctype), v.astype(ctype)
        ctx.save_for_backward(w, v)
        ctx.real_input = not xp.iscomplexobj(a)
        return w, v

    @staticmethod
    def backward(ctx, gL, gV):
        w, V = ctx.saved_tensors
        n = w.shape[-1]
        Vh = mH(V)
        VhgV = Vh @ gV
        # NOTE: eigenvectors are normalised to unit norm; remove the part of VhgV along that gauge
        VhgV = VhgV - (Vh @ V) * VhgV.diagonal(0, -2, -1).real.to(V.dtype).unsqueeze(-2)
        E = w.conj().unsqueeze(-2) - w.conj().unsqueeze(-1)
        E = E + _eye(n, E)
        inner = VhgV / E * (1 - _eye(n, E)) + gL.diag_embed()
        from .decomp import solve
        gA = solve(Vh, inner @ Vh)
        return gA.real if ctx.real_input else gA


def eig(A, *, out=None):
    """Eigenvalues and eigenvectors of a square matrix (complex), as a named tuple."""
    check_matrix("linalg.eig", A)
    check_float("linalg.eig", A)
    w, v = Eig.apply(A)
    return write_outs(out, EigResult(w, v), "linalg_eig")


def eigvals(A, *, out=None):
    """Eigenvalues of a square matrix (complex)."""
    check_matrix("linalg.eigvals", A)
    check_float("linalg.eigvals", A)
    return Eig.apply(A)[0]


# --- qr --------------------------------------------------------------------------------------------------------
class Qr(Primitive):
    """Householder QR: A = Q R with Q orthonormal columns and R upper triangular."""
    complex_grad = True
    node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, a, mode="reduced"):
        xp = ctx.xp
        m, n = a.shape[-2:]
        if a.size == 0:
            q, r = _empty_qr(xp, a, mode)
        elif mode == "r":
            r = xp.linalg.qr(a, mode="r")
            q = xp.zeros((0,), dtype=a.dtype)
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.mode, ctx.shape = mode, (m, n)
        ctx.save_for_backward(q, r)
        return q, r

    @staticmethod
    def backward(ctx, gQ, gR):
        m, n = ctx.shape
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                               "through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        Q, R = ctx.saved_tensors
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R)
        from ..shape.join import cat
        gW = gR[..., :, m:]
        gQ2 = gQ + (Q @ R[..., :, m:]) @ mH(gW)  # NOTE: A's columns past m are Q W: W's grad reaches Q
        gX = _qr_backward_tall(gQ2, gR[..., :, :m], Q, R[..., :, :m])
        return cat([gX, Q @ gW], -1)


def _qr_backward_tall(gQ, gR, Q, R):
    """Gradient of A = Q R for m >= n (Q is m x n, R is n x n, invertible)."""
    M = mH(Q) @ gQ - gR @ mH(R)
    # NOTE: R's diagonal is real (LAPACK's gauge), so only Re diag(M) survives for complex input
    diag = M.diagonal(0, -2, -1)
    diag = diag.real.to(M.dtype) if M.is_complex() else diag
    copied = M.triu(1) + mH(M.triu(1)) + diag.diag_embed()
    B = gQ - Q @ copied
    from .decomp import solve
    return mH(solve(R, mH(B)))  # B R^{-H}


def _empty_qr(xp, a, mode):
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    k = min(m, n)
    qcols = m if mode == "complete" else k
    q = xp.broadcast_to(xp.eye(m, qcols, dtype=a.dtype), batch + (m, qcols)).copy()
    rrows = m if mode == "complete" else k
    r = xp.zeros(batch + (rrows, n), dtype=a.dtype)
    return (xp.zeros((0,), dtype=a.dtype) if mode == "r" else q), r


def qr(A, mode="reduced", *, out=None):
    """QR decomposition as the named tuple (Q, R); mode is 'reduced', 'complete' or 'r'."""
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    check_matrix("linalg.qr", A, square=False)
    check_float("linalg.qr", A)
    Q, R = Qr.apply(A, mode)
    return write_outs(out, QRResult(Q, R), "linalg_qr")


# --- specs -----------------------------------------------------------------------------------------------------
def _matrix(g, square=False):
    m = g.integers(1, 4)
    n = m if square else g.integers(1, 4)
    batch = (2,) * g.integers(0, 1)
    return g.values(batch + (m, n), domain=(-2, 2))


def _distinct_sym(g):
    """A symmetric matrix with well-separated eigenvalues."""
    a = _matrix(g, square=True)
    n = a.shape[-1]
    q = _orthonormal(a)
    lam = _ramp(n, a)
    return (q * lam[..., None, :]) @ q.swapaxes(-1, -2)


def _ramp(n, like):
    r = like[..., 0, :] * 0
    for i in range(n):
        r[..., i] = 1.5 * i - 1
    return r


def _orthonormal(a):
    """Gram-Schmidt on a + (n+1) I: an orthogonal matrix drawn from the sample."""
    n = a.shape[-1]
    b = a.copy()
    for i in range(n):
        b[..., i, i] += n + 1
    for i in range(n):
        for j in range(i):
            proj = (b[..., :, i] * b[..., :, j]).sum(-1, keepdims=True)
            b[..., :, i] = b[..., :, i] - proj * b[..., :, j]
        b[..., :, i] = b[..., :, i] / (b[..., :, i] ** 2).sum(-1, keepdims=True) ** 0.5
    return b


def _distinct_sv(g):
    """A matrix with well-separated nonzero singular values."""
    m, n = g.integers(1, 4), g.integers(1, 4)
    k = min(m, n)
    u = _orthonormal(g.values((m, m), domain=(-1, 1)))[:, :k]
    v = _orthonormal(g.values((n, n), domain=(-1, 1)))[:, :k]
    s = _ramp(k, u) + 2.5
    return (u * s) @ v.T


def _svd_invariants(torch, A, **kw):
    """Gauge-invariant pieces of the SVD: U @ Vh (thin) and S."""
    U, S, Vh = torch.linalg.svd(A, **kw)
    k = S.shape[-1]
    return U[..., :, :k] @ Vh[..., :k, :], S


def _eigh_invariants(torch, A, **kw):
    """Eigenvalues and V diag(1..n) V^H, which does not depend on eigenvector signs."""
    L, V = torch.linalg.eigh(A, **kw)
    w = torch.arange(1, L.shape[-1] + 1, dtype=L.dtype, device=L.device)
    return L, (V * w) @ V.mT


def _in_order(torch, L, V=None):
    """Eigenvalues sorted by real, then imaginary part (eigenvectors alike): the order LAPACK's geev
    returns differs between builds (NumPy's and PyTorch's), and no order is promised."""
    first = torch.sort(L.imag, dim=-1, stable=True).indices
    L = L.gather(-1, first)
    then = torch.sort(L.real, dim=-1, stable=True).indices
    order = first.gather(-1, then)
    L = L.gather(-1, then)
    if V is None:
        return (L,)
    return L, V.gather(-1, order.unsqueeze(-2).expand(V.shape))


spec(OpSpec("linalg.svd", sample=lambda g: ((_maybe_complex(g, _distinct_sv(g)),), {"full_matrices": g.boolean()}),
            call=_svd_invariants, dtypes=("float32", "float64", "complex128")),
     OpSpec("linalg.svdvals", sample=lambda g: ((_distinct_sv(g),), {}),
            call=lambda torch, A: torch.linalg.svdvals(A)),
     OpSpec("linalg.eigh", sample=lambda g: ((_distinct_sym(g),), {"UPLO": g.choice("LU")}),
            call=lambda torch, A, **kw: _eigh_invariants(torch, A + A.mT, **kw)),
     OpSpec("linalg.eigvalsh", dtypes=("float64",), sample=lambda g: ((_distinct_sym(g),), {"UPLO": g.choice("LU")}),
            call=lambda torch, A, **kw: torch.linalg.eigvalsh(A + A.mT, **kw)),
     # NOTE: large=False: _matrix draws small sizes itself (and the known-gap seeds assume it).
     OpSpec("linalg.eig", sample=lambda g: ((_matrix(g, square=True),), {}), grad=False, large=False,
            call=lambda torch, A: (lambda L, V: (L, V.abs()))(*_in_order(torch, *torch.linalg.eig(A)))),
     OpSpec("linalg.eigvals", sample=lambda g: ((_matrix(g, square=True),), {}), grad=False, large=False,
            call=lambda torch, A: _in_order(torch, torch.linalg.eigvals(A))[0]),
     OpSpec("linalg.qr", sample=lambda g: ((_matrix(g) + 0,), {"mode": g.choice(["reduced", "complete", "r"])}),
            call=lambda torch, A, **kw: tuple(torch.linalg.qr(A, **kw))[::-1], grad=False),
     OpSpec("linalg.qr_grad", dtypes=("float64",), sample=lambda g: ((_qr_matrix(g),), {}),
            call=lambda torch, A: (lambda q, r: torch.cat([q.flatten(), r.flatten()]))(*torch.linalg.qr(A))))


def _qr_matrix(g):
    """Full-rank (well-conditioned) tall, square or wide matrices."""
    m, n = g.integers(1, 4), g.integers(1, 4)
    a = g.values((m, n), domain=(-1, 1))
    k = min(m, n)
    for i in range(k):
        a[i, i] += 3
    return a


def _maybe_complex(g, a):
    if g.dtype.startswith("complex"):
        return a + 0.1j * g.values(a.shape, "float64", (-1, 1))
    return a
